"""API benchmark: the desk under a real WSGI server, loaded over HTTP from separate client processes.

Run ``.venv/bin/python bench/api.py [--backend sqlite|postgresql|both] [--sizes 100000,1000000] [--quick]``.
It prints figures and a summary table; it never fails on timing (exit 1 only if something crashed).

The desk runs as ``frontdesk serve --host 127.0.0.1 --port <free> --threads 8`` (waitress) in a
subprocess on a bench database; the load comes from client processes (``multiprocessing`` spawn
context) speaking HTTP/1.1 with keep-alive through ``http.client`` to 127.0.0.1 only, as an agent
with a ``write`` API token. Every loop is bounded in requests and in time (``TIME_LIMIT`` seconds
per measurement); the server is stopped at the end whatever happens.

1. **Creates**: ``POST /api/v1/tickets`` (requester from a pool of 200, one of the 5 biggest groups,
   two tags) on the freshly set-up desk: 300 POSTs from one client, then 8 clients x 150 at once.
   Tickets created per second, p50/p95 per POST. Target: at least 500 creates/s with 8 clients on SQLite.
2. **Reads at scale**: tickets are bulk-loaded (``fixtures.BulkLoader``, with one search document
   per ticket whose text is drawn from a word list, so common and rare words exist) to each size
   of ``--sizes``; then one client sends 200 ``GET /api/v1/tickets?group=G&category=open&limit=25``
   (G among the 5 biggest groups) and 200 full-text searches ``GET /api/v1/tickets?q=W&limit=25``,
   for a word W in ~1 % of tickets and for a common word (~25 %), by the API's default sort
   (newest update first) and by relevance (the agent workspace's sort for searches).
   p50/p95/max in ms as the client sees them. Targets at 1,000,000 tickets: list p95 at most
   30 ms, search p95 at most 100 ms. At the largest size the same queries are run in-process
   (``queries.list_tickets`` and ``search.snippets``, as the endpoint calls them) and the plans
   of their statements are printed (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE).
3. A summary table with the targets, "meets" or "MISSES".

PostgreSQL (``--backend postgresql|both``) runs on ``--postgres-url`` in a throwaway database when
the server answers, and is skipped with a note otherwise.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import queue
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fixtures import (
    DEFAULT_POSTGRES_URL,
    BulkLoader,
    Summary,
    captured_sql,
    explain,
    fresh_database,
    migrated_desk,
    percentile,
    postgres_answers,
    print_summary,
)
from sqlalchemy import func, select

from frontdesk import search
from frontdesk.desk import Desk
from frontdesk.models import User
from frontdesk.permissions import SYSTEM
from frontdesk.queries import TicketFilter, list_tickets, with_extensions
from frontdesk.services import people, tokens

HOST = "127.0.0.1"  # the only address the clients talk to
THREADS = 8  # waitress request threads
TIME_LIMIT = 60.0  # seconds, at most, per measurement
WARMUP_LIMIT = 15.0  # seconds, at most, for the warm-up requests before it
STARTUP_TIMEOUT = 60.0  # seconds for the server to answer /health
SECRET_KEY = "bench-api-secret-key"  # noqa: S105 (a throwaway desk)

# 1. Creates
API_AGENT = "api-agent@bench.example"
BIG_GROUPS = 5  # the agent works in the 5 biggest groups; creates and lists use them
REQUESTER_POOL = 200
TAGS = [f"tag-{name}" for name in ("billing", "login", "printer", "vpn", "mail", "laptop", "refund", "bug", "urgent")]
SINGLE_CLIENT_POSTS = 300
CLIENTS = 8
POSTS_PER_CLIENT = 150
WARMUP_POSTS = 5  # per client, before the clock starts
CREATE_TARGET = 500.0  # creates/s with CLIENTS clients, SQLite

# 2. Reads
DEFAULT_SIZES = (100_000, 1_000_000)
QUICK_SIZES = (100_000,)
READ_REQUESTS = 200
READ_WARMUP = 10
PAGE_SIZE = 25
RARE_SHARE = 0.01  # the "rare" search word is in about this share of tickets
COMMON_SHARE = 0.25
TARGET_SIZE = 1_000_000  # the read targets hold at this many tickets
LIST_TARGET_MS = 30.0  # p95
SEARCH_TARGET_MS = 100.0  # p95
IN_PROCESS_RUNS = 5  # in-process repetitions of each read next to its plan (bounded by TIME_LIMIT too)


# --- the clients (these run in separate processes) ------------------------------------------------


@dataclass
class Request:
    """One HTTP request of a client."""

    method: str
    path: str
    body: bytes | None = None


@dataclass
class ClientJob:
    """What one client process sends: untimed warm-ups, then the timed requests (each list bounded)."""

    port: int
    secret: str
    warmup: list[Request]
    timed: list[Request]
    expect: int  # the status of a successful answer
    time_limit: float = TIME_LIMIT
    warmup_limit: float = WARMUP_LIMIT


@dataclass
class ClientResult:
    """What one client saw."""

    latencies: list[float] = field(default_factory=list)  # ms of each request answered with the expected status
    errors: int = 0
    first_error: str = ""
    finished: float = 0.0  # time.monotonic() after the last answer
    items: int | None = None  # items on the last page, for GET requests
    cut_short: bool = False  # the time limit ended the loop
    crashed: str = ""


def _send(conn: http.client.HTTPConnection, request: Request, headers: dict[str, str]) -> tuple[int, bytes]:
    """One request on the kept-alive connection; the whole answer is read."""
    conn.request(request.method, request.path, body=request.body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def client_main(index: int, job: ClientJob, go: Any, results: Any) -> None:
    """A client process: warm up, say "ready", wait for "go", send the timed requests, report."""
    result = ClientResult()
    conn = http.client.HTTPConnection(HOST, job.port, timeout=job.time_limit)
    headers = {
        "Authorization": f"Bearer {job.secret}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Connection": "keep-alive",
    }
    body = b""
    try:
        deadline = time.monotonic() + job.warmup_limit
        for request in job.warmup:
            if time.monotonic() > deadline:
                break
            _send(conn, request, headers)
        results.put(("ready", index, None))
        if not go.wait(timeout=2 * job.time_limit):
            raise TimeoutError("never told to start")
        deadline = time.monotonic() + job.time_limit
        for request in job.timed:
            if time.monotonic() > deadline:
                result.cut_short = True
                break
            start = time.perf_counter()
            try:
                status, body = _send(conn, request, headers)
            except (OSError, http.client.HTTPException) as exc:
                status, body = 0, repr(exc).encode()
                conn.close()  # the next request opens a new connection
            elapsed = 1000 * (time.perf_counter() - start)
            if status == job.expect:
                result.latencies.append(elapsed)
            else:
                result.errors += 1
                result.first_error = result.first_error or f"{status} {body[:300].decode(errors='replace').strip()}"
        result.finished = time.monotonic()
        if job.timed and job.timed[0].method == "GET" and body:
            result.items = len(json.loads(body).get("items", []))
    except Exception as exc:
        result.crashed = f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    results.put(("done", index, asdict(result)))  # plain data: this module is __mp_main__ here


def run_clients(jobs: list[ClientJob]) -> tuple[list[ClientResult], float]:
    """Run one process per job, start their timed parts together; their results and the start time."""
    context = multiprocessing.get_context("spawn")
    go, results = context.Event(), context.Queue()
    processes = [
        context.Process(target=client_main, args=(i, job, go, results), daemon=True) for i, job in enumerate(jobs)
    ]
    for process in processes:
        process.start()
    done: dict[int, ClientResult] = {}
    try:
        ready = 0
        limit = time.monotonic() + STARTUP_TIMEOUT + WARMUP_LIMIT + TIME_LIMIT  # imports and warm-ups
        while ready + len(done) < len(jobs):
            kind, index, payload = results.get(timeout=max(0.1, limit - time.monotonic()))
            if kind == "ready":
                ready += 1
            else:
                done[index] = ClientResult(**payload)
        started = time.monotonic()
        go.set()
        limit = started + TIME_LIMIT + 30
        while len(done) < len(jobs):
            _kind, index, payload = results.get(timeout=max(0.1, limit - time.monotonic()))
            done[index] = ClientResult(**payload)
    except queue.Empty:
        raise RuntimeError(f"{len(jobs) - len(done)} of {len(jobs)} clients did not report in time") from None
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()
    crashed = [r.crashed for r in done.values() if r.crashed]
    if crashed:
        raise RuntimeError(f"{len(crashed)} clients crashed, first: {crashed[0]}")
    return [done[i] for i in range(len(jobs))], started


# --- the server -----------------------------------------------------------------------------------------


@dataclass
class Server:
    """A running ``frontdesk serve``."""

    port: int
    log: Path
    process: subprocess.Popen[bytes]


def free_port() -> int:
    """A TCP port nobody listens on right now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _frontdesk_command() -> list[str]:
    script = Path(sys.executable).parent / "frontdesk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "frontdesk"]


def _wait_for_health(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"frontdesk serve exited with {server.process.returncode}: {_tail(server.log)}")
        conn = http.client.HTTPConnection(HOST, server.port, timeout=5)
        try:
            conn.request("GET", "/health")
            response = conn.getresponse()
            if response.status == 200 and json.loads(response.read()).get("status") == "ok":
                return
        except (OSError, http.client.HTTPException, ValueError):
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise RuntimeError(f"frontdesk serve did not answer /health in {STARTUP_TIMEOUT:.0f} s: {_tail(server.log)}")


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


@contextmanager
def served(url: str, workdir: Path, label: str, summary: Summary) -> Iterator[Server]:
    """``frontdesk serve`` on a free port of 127.0.0.1 for the block; always stopped afterwards."""
    port = free_port()
    log = workdir / f"serve-{label}.log"
    env = os.environ | {
        "FRONTDESK_INSTANCE": str(workdir / "instance-serve"),
        "FRONTDESK_DATABASE_URL": url,
        "FRONTDESK_SECRET_KEY": SECRET_KEY,
        # The web layer only: the bench database is migrated for the core (``migrated_desk``), and
        # other installed plugins would refuse to start on it (and are not what is measured).
        "FRONTDESK_LOAD_PLUGINS": "webui",
    }
    command = [*_frontdesk_command(), "serve", "--host", HOST, "--port", str(port), "--threads", str(THREADS)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    server = Server(port, log, process)
    try:
        _wait_for_health(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _report_log(log, label, summary)


def _report_log(log: Path, label: str, summary: Summary) -> None:
    """Print the first traceback the server logged (and note how many), and how often requests queued."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    if starts:
        end = next((i for i in range(starts[0] + 1, len(lines)) if not lines[i].startswith(" ")), len(lines) - 1)
        print(f"{label}: the server logged {len(starts)} tracebacks; the first:")
        for line in lines[max(0, starts[0] - 2) : end + 1]:
            print(f"{label}:   {line}")
        summary.notes.append(f"{label}: the server logged {len(starts)} tracebacks, the first ends: {lines[end]}")
    queued = sum("Task queue depth" in line for line in lines)
    if queued:
        print(f"{label}: waitress warned {queued} times that requests queued for a free thread")


# --- the desk -------------------------------------------------------------------------------------------


def make_agent(desk: Desk, groups: list[str]) -> tuple[User, str]:
    """The benchmark's agent (a member of ``groups``) and the secret of its ``write`` API token."""
    with desk.action(SYSTEM, source="bench") as uow:
        people.create_user(uow, {"email": API_AGENT, "name": "API agent", "role": "agent", "groups": groups})
        _token, secret = tokens.create_token(uow, {"user": API_AGENT, "name": "bench", "scope": "write"})
    with desk.reading(SYSTEM) as uow:
        agent = uow.session.scalars(select(User).where(User.email == API_AGENT)).one()
    return agent, secret


def _latencies(results: list[ClientResult]) -> list[float]:
    return [value for result in results for value in result.latencies]


def _spread(values: list[float]) -> str:
    if not values:
        return "no successful request"
    return f"p50 {percentile(values, 0.5):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, max {max(values):.1f} ms"


def _error_note(backend: str, what: str, results: list[ClientResult], summary: Summary) -> str:
    errors = sum(r.errors for r in results)
    cut = sum(r.cut_short for r in results)
    parts = []
    if errors:
        first = next(r.first_error for r in results if r.first_error)
        parts.append(f"{errors} failed")
        summary.notes.append(f"{backend} {what}: {errors} requests failed, first: {first}")
    if cut:
        parts.append(f"{cut} client(s) stopped by the {TIME_LIMIT:.0f} s limit")
    return f" ({'; '.join(parts)})" if parts else ""


# --- 1. creates -------------------------------------------------------------------------------------------


def post_requests(rng: random.Random, count: int, groups: list[str], client: int) -> list[Request]:
    """``count`` small tickets: a requester from the pool, one of ``groups``, two tags."""
    requests = []
    for i in range(count):
        ticket = {
            "subject": f"Printer on floor {rng.randrange(1, 9)} jams again ({client}-{i})",
            "body": "Hello,\n\nthe printer jams on every second page. Can you have a look?",
            "requester": f"requester{rng.randrange(REQUESTER_POOL)}@example.com",
            "group": rng.choice(groups),
            "tags": rng.sample(TAGS, 2),
        }
        requests.append(Request("POST", "/api/v1/tickets", json.dumps(ticket).encode()))
    return requests


def measure_creates(
    backend: str, server: Server, secret: str, groups: list[str], clients: int, per_client: int, summary: Summary
) -> None:
    """Tickets created per second by ``clients`` processes sending ``per_client`` POSTs each."""
    rng = random.Random(1000 + clients)
    jobs = [
        ClientJob(
            server.port,
            secret,
            post_requests(rng, WARMUP_POSTS, groups, 100 * clients + c),
            post_requests(rng, per_client, groups, c),
            expect=201,
        )
        for c in range(clients)
    ]
    results, started = run_clients(jobs)
    wall = max(r.finished for r in results) - started
    created = len(_latencies(results))
    rate = created / wall if wall > 0 else 0.0
    what = f"creates, {clients} client{'s' if clients > 1 else ''} ({clients}x{per_client} POSTs)"
    notes = _error_note(backend, what, results, summary)
    print(
        f"{backend}: {what}: {created} tickets in {wall:.2f} s = {rate:.0f} tickets/s{notes}; "
        f"per POST {_spread(_latencies(results))}",
        flush=True,
    )
    target = f">= {CREATE_TARGET:.0f}/s" if backend == "sqlite" and clients == CLIENTS else ""
    verdict = ("meets" if rate >= CREATE_TARGET else "MISSES") if target else ""
    summary.add(backend, what, f"{rate:.0f} tickets/s ({_spread(_latencies(results))}){notes}", target, verdict)


# --- 2. reads -------------------------------------------------------------------------------------------


@dataclass
class Read:
    """One kind of read request, measured at every size."""

    name: str
    filters: list[TicketFilter]  # the requests cycle through these
    sort: str = "updated"
    target_ms: float | None = None

    def path(self, filters: TicketFilter) -> str:
        query: list[tuple[str, str]] = []
        if filters.group:
            query.append(("group", filters.group))
        query += [("category", category) for category in filters.category]
        if filters.q:
            query.append(("q", filters.q))
        if self.sort != "updated":
            query.append(("sort", self.sort))
        query.append(("limit", str(PAGE_SIZE)))
        return f"/api/v1/tickets?{urlencode(query)}"

    def requests(self, count: int) -> list[Request]:
        return [Request("GET", self.path(self.filters[i % len(self.filters)])) for i in range(count)]


def reads(groups: list[str], rare: str, common: str) -> list[Read]:
    """The list page and the searches measured at each size."""
    return [
        Read(
            "list (group + open, 25)",
            [TicketFilter(group=g, category=["open"]) for g in groups],
            "updated",
            LIST_TARGET_MS,
        ),
        Read(f"search {rare!r} (~1 %)", [TicketFilter(q=rare)], "updated", SEARCH_TARGET_MS),
        Read(f"search {common!r} (common)", [TicketFilter(q=common)], "updated", SEARCH_TARGET_MS),
        Read(f"search {rare!r}, by relevance", [TicketFilter(q=rare)], "relevance"),
        Read(f"search {common!r}, by relevance", [TicketFilter(q=common)], "relevance"),
    ]


def measure_read(backend: str, server: Server, secret: str, size: int, read: Read, summary: Summary) -> None:
    """``READ_REQUESTS`` requests of one kind from one client process: p50/p95/max."""
    job = ClientJob(server.port, secret, read.requests(READ_WARMUP), read.requests(READ_REQUESTS), expect=200)
    results, _started = run_clients([job])
    values = _latencies(results)
    what = f"{read.name} at {size:,}"
    notes = _error_note(backend, what, results, summary)
    print(
        f"{backend}: {what}: {_spread(values)} ({len(values)} requests, {results[0].items} items on the last page)"
        f"{notes}",
        flush=True,
    )
    target = f"p95 <= {read.target_ms:.0f} ms" if read.target_ms is not None and size >= TARGET_SIZE else ""
    verdict = ""
    if target:
        verdict = "meets" if values and percentile(values, 0.95) <= (read.target_ms or 0) else "MISSES"
    summary.add(backend, what, f"{_spread(values)} (n={len(values)}){notes}", target, verdict)


def word_shares(desk: Desk, words: list[str], tickets: int) -> None:
    """How many tickets each search word really finds (the words were chosen by expected share)."""
    for word in words:
        with desk.reading(SYSTEM) as uow:
            found = uow.session.scalar(
                select(func.count()).select_from(search.matching_ticket_ids(uow, word).subquery())
            )
        print(f"  q={word!r} matches {found:,} of {tickets:,} tickets ({100 * (found or 0) / tickets:.2f} %)")


# --- plans ------------------------------------------------------------------------------------------------


def _endpoint_read(desk: Desk, agent: User, read: Read, filters: TicketFilter) -> int:
    """What ``GET /api/v1/tickets`` does in the database for one request (without JSON); the page length."""
    with desk.reading(agent) as uow:
        page = list_tickets(uow, filters, sort=read.sort, limit=PAGE_SIZE)
        items = [with_extensions(uow, ticket) for ticket in page.items]
        if filters.q:
            search.snippets(uow, filters.q, [ticket.id for ticket in items])
    return len(items)


def show_plans(backend: str, desk: Desk, agent: User, all_reads: list[Read]) -> None:
    """Each read once more in-process: its time there, its statements and the plan of the main ones."""
    print(f"{backend}: the reads in-process (queries.list_tickets + search.snippets as the endpoint calls them)")
    for read in all_reads:
        filters = read.filters[0]
        _endpoint_read(desk, agent, read, filters)  # warm
        timings: list[float] = []
        deadline = time.monotonic() + TIME_LIMIT
        while len(timings) < IN_PROCESS_RUNS and time.monotonic() < deadline:
            start = time.perf_counter()
            _endpoint_read(desk, agent, read, filters)
            timings.append(1000 * (time.perf_counter() - start))
        with captured_sql(desk.db.engine) as statements:
            _endpoint_read(desk, agent, read, filters)
        print(
            f"{backend}:   {read.name} ({read.path(filters)}): median {statistics.median(timings):.1f} ms in-process "
            f"({len(timings)} runs), {len(statements)} statements"
        )
        prelude = tuple(s for s, _p in statements if s.lstrip().upper().startswith("SET "))
        for label, statement, parameters in _main_statements(statements):
            alone = _statement_ms(desk, statement, parameters, prelude)
            print(f"{backend}:     {label} ({alone:.1f} ms on its own, rows fetched): {_one_line(statement)}")
            print(f"{backend}:       parameters: {parameters}")
            for line in explain(desk, statement, parameters, prelude):
                print(f"{backend}:       {line}")


def _statement_ms(desk: Desk, statement: str, parameters: Any, prelude: tuple[str, ...]) -> float:
    """The median of 3 runs of one captured statement through the driver, all rows fetched."""
    timings = []
    with desk.db.engine.connect() as conn:
        for setup in prelude:
            conn.exec_driver_sql(setup)
        for _ in range(3):
            start = time.perf_counter()
            conn.exec_driver_sql(statement, parameters).all()
            timings.append(1000 * (time.perf_counter() - start))
    return statistics.median(timings)


def _main_statements(statements: list[tuple[str, Any]]) -> list[tuple[str, str, Any]]:
    found = []
    for statement, parameters in statements:
        flat = statement.lstrip().upper()
        if flat.startswith("SELECT") and "FROM TICKETS" in flat and "TICKET_TAGS" not in flat and "CCS" not in flat:
            found.append(("page query", statement, parameters))
        elif "SNIPPET(" in flat or "TS_HEADLINE(" in flat:
            found.append(("snippet query", statement, parameters))
    return found


def _one_line(statement: str) -> str:
    """The statement on one line, its select list (the ORM's long column list) cut short."""
    flat = " ".join(statement.split())
    columns_end = flat.find(" FROM ")
    if flat.startswith("SELECT tickets.") and columns_end > 160:
        flat = f"{flat[:120]} ... ({flat[:columns_end].count(',') + 1} columns){flat[columns_end:]}"
    return flat


# --- main -------------------------------------------------------------------------------------------------


def bench_backend(backend: str, url: str, workdir: Path, sizes: list[int], summary: Summary) -> None:
    """Set a desk up on ``url``, measure creates, then grow it through ``sizes`` measuring reads at each."""
    with migrated_desk(url, workdir / "instance-bench") as desk:
        loader = BulkLoader(desk, max(sizes), backend, documents=True)
        groups = loader.group_names[:BIG_GROUPS]
        agent, secret = make_agent(desk, groups)
        print(f"{backend}: agent {API_AGENT} in {', '.join(groups)}, write token; {THREADS} server threads", flush=True)
        with served(url, workdir, f"{backend}-creates", summary) as server:
            measure_creates(backend, server, secret, groups, 1, SINGLE_CLIENT_POSTS, summary)
            measure_creates(backend, server, secret, groups, CLIENTS, POSTS_PER_CLIENT, summary)
        rare, common = loader.text.word_near(RARE_SHARE), loader.text.word_near(COMMON_SHARE)
        all_reads = reads(groups, rare, common)
        for size in sizes:
            print(f"{backend}: loading tickets with search documents up to {size:,}", flush=True)
            loader.load_until(size)
            loader.analyze()
            word_shares(desk, [rare, common], size)
            with served(url, workdir, f"{backend}-{size}", summary) as server:
                for read in all_reads:
                    measure_read(backend, server, secret, size, read, summary)
        show_plans(backend, desk, agent, all_reads)


def parse_sizes(raw: str) -> list[int]:
    sizes = sorted({int(part.replace("_", "")) for part in raw.split(",") if part.strip()})
    if not sizes or sizes[0] < 1000:
        raise argparse.ArgumentTypeError("give sizes of at least 1000, e.g. 100000,1000000")
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument(
        "--sizes", type=parse_sizes, default=list(DEFAULT_SIZES), help="ticket counts to measure reads at"
    )
    parser.add_argument("--quick", action="store_true", help=f"only {QUICK_SIZES[0]:,} tickets (overrides --sizes)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="maintenance database of the server")
    return parser.parse_args(argv)


def _stop_on_sigterm(signum: int, _frame: Any) -> None:
    """SIGTERM (``timeout``, ``kill``) unwinds like Ctrl+C, so the server and clients are still stopped."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sizes = list(QUICK_SIZES) if args.quick else args.sizes
    summary = Summary()
    failed = False
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Frontdesk API benchmark (python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load})")
    for backend in backends:
        if backend == "postgresql" and not postgres_answers(args.postgres_url):
            note = f"postgresql skipped: nothing answers at {args.postgres_url}"
            print(note)
            summary.notes.append(note)
            continue
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="frontdesk-bench-api-") as tmp:
            try:
                with fresh_database(backend, Path(tmp), "api", args.postgres_url) as url:
                    bench_backend(backend, url, Path(tmp), sizes, summary)
            except Exception as exc:  # report it and go on with the next backend
                traceback.print_exc()
                summary.notes.append(f"{backend} FAILED: {type(exc).__name__}: {exc}")
                failed = True
        print(f"{backend}: done in {time.monotonic() - start:.0f} s", flush=True)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    summary.notes.append(f"load average at the end: {load} ({os.cpu_count()} CPUs)")
    print_summary(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

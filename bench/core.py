"""Core benchmark: ticket intake through the service layer, and the agent queue at a million tickets.

Run ``.venv/bin/python bench/core.py [--backend sqlite|postgresql|both] [--tickets-per-second-n 2000]
[--big 1000000] [--pg-big N]``. It prints figures and never fails on timing.

1. **Intake**: tickets created per second through the services. Each ticket is one
   ``desk.action(SYSTEM, source="bench")`` calling ``services.tickets.create_ticket`` (requester
   e-mail from a pool of 200, a group, two tags) and ``services.comments.add_comment`` (a public
   staff reply), so one transaction writes the ticket, its comment, tags, history, events and
   search documents. Fresh database, 50 warm-up tickets, then N timed ones.
   Target: at least 1,000 tickets/s on SQLite.
2. **Queue page**: ``queries.list_tickets`` for the open tickets of one group, newest update first,
   25 per page, with ``--big`` tickets bulk-loaded by SQLAlchemy Core (a data fixture, not the
   services) and the tables analyzed. Timed from opening ``desk.reading()`` to the page in hand:
   3 warm-ups, then median and p95 of 50 runs, for the first page and the second (keyset cursor)
   as an admin (sees everything) and as an agent who is a member of the group. The SQL plan of each
   main query is printed, to show whether ``ix_tickets_queue (group_id, status_category,
   updated_at, id)`` is used. Target: first page at most 20 ms at 1,000,000 tickets. Then, for
   comparison with 1, ``BIG_INTAKE`` more tickets are created through the services on that database.
3. A summary table.

PostgreSQL runs on ``--postgres-url`` (the server ``scripts/postgres-server`` starts; started here
if it does not answer) in fresh databases dropped afterwards; it is skipped with a note if it
cannot be reached.
"""

from __future__ import annotations

import argparse
import glob
import itertools
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, text
from sqlalchemy.engine import make_url

from frontdesk import migrate
from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.models import (
    Comment,
    Event,
    Group,
    HistoryEntry,
    Priority,
    SearchDocument,
    Status,
    Ticket,
    TicketType,
    User,
    ticket_tags,
)
from frontdesk.permissions import SYSTEM, Actor
from frontdesk.queries import Page, TicketFilter, list_tickets
from frontdesk.services import comments, people, tickets

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:54329/postgres"
SEED = 20240601

# Intake
INTAKE_GROUP = "Support"
INTAKE_AGENT = "agent@bench.example"
REQUESTER_POOL = 200
WARMUP_TICKETS = 50
BREAKDOWN_TICKETS = 200  # more tickets, timed with per-statement hooks to split SQL from Python
TAGS = [f"tag-{name}" for name in ("billing", "login", "printer", "vpn", "mail", "laptop", "refund", "bug", "urgent")]
INTAKE_TARGET = 1000.0  # tickets/s on SQLite

# Queue fixture
GROUP_WEIGHTS = [20, 15, 12, 10, 8, 6, 5, 4, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1]  # 20 groups, a few big ones
NO_GROUP_SHARE = 0.03  # the triage queue
CATEGORY_WEIGHTS = {"new": 3, "open": 12, "pending": 8, "solved": 17, "closed": 60}
PRIORITY_WEIGHTS = {"low": 20, "normal": 60, "high": 15, "urgent": 5}
CHANNEL_WEIGHTS = {"web": 50, "mail": 40, "api": 10}
REQUESTERS = 3000
AGENTS = 40
CHUNK = 10_000
PROGRESS_EVERY = 100_000
QUEUE_GROUP = "Queue 00"  # the biggest group
QUEUE_AGENT = "queue-agent@bench.example"
WARMUP_RUNS = 3
TIMED_RUNS = 50
PAGE_SIZE = 25
PAGE_TARGET_MS = 20.0
BIG_INTAKE = 200  # tickets created through the services once the big table is loaded


@dataclass
class Row:
    """One line of the summary table."""

    backend: str
    measurement: str
    result: str
    target: str = ""
    verdict: str = ""


@dataclass
class Summary:
    """Everything worth repeating at the end."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args: str) -> None:
        self.rows.append(Row(*args))


# --- databases ---------------------------------------------------------------------------------


def _pg_isready(url: str) -> bool:
    """Whether the server answers: ``pg_isready`` when installed, else a plain connection attempt."""
    parsed = make_url(url)
    candidates = [shutil.which("pg_isready"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_isready"))]
    binary = next((c for c in candidates if c), None)
    if binary:
        host, port = parsed.host or "127.0.0.1", str(parsed.port or 5432)
        return subprocess.run([binary, "-q", "-h", host, "-p", port], check=False).returncode == 0
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def postgres_problem(url: str) -> str | None:
    """None when PostgreSQL answers at ``url`` (starting it with ``scripts/postgres-server`` if needed)."""
    if _pg_isready(url):
        return None
    parsed = make_url(url)
    if parsed.host not in ("127.0.0.1", "localhost"):
        return f"{parsed.host} does not answer (only a local server is started here)"
    port = str(parsed.port or 5432)
    folder = Path(tempfile.gettempdir()) / f"frontdesk-postgres-{port}"
    print(f"postgresql: not answering; starting scripts/postgres-server {folder} {port}", flush=True)
    done = subprocess.run(
        [str(ROOT / "scripts" / "postgres-server"), str(folder), port], check=False, capture_output=True, text=True
    )
    if done.returncode != 0:
        return f"scripts/postgres-server failed: {(done.stderr or done.stdout).strip()}"
    return None if _pg_isready(url) else "the server still does not accept connections"


def _autocommit(server_url: str, *statements: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


@contextmanager
def fresh_database(backend: str, workdir: Path, label: str, server_url: str) -> Iterator[str]:
    """The URL of a new, empty database (a SQLite file, or a PostgreSQL database dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / (label + '.db')}"
        return
    name = f"frontdesk_bench_{os.getpid()}_{label}"
    _autocommit(server_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _autocommit(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def migrated_desk(url: str, instance: Path) -> Iterator[Desk]:
    """A desk with no plugins on a database upgraded to the current schema."""
    config = Config(instance_path=instance, database_url=url, secret_key="bench")  # noqa: S106 (throwaway desk)
    desk = Desk(config, plugins=[])
    try:
        migrate.upgrade_all(desk)
        yield desk
    finally:
        desk.close()


@contextmanager
def captured_sql(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (with its parameters) the engine sends while the block runs."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


# --- 1. intake ----------------------------------------------------------------------------------


def create_ticket_with_reply(desk: Desk, rng: random.Random, i: int, group: str) -> None:
    """One action: a ticket (requester from the pool, group, two tags) and a public staff reply."""
    with desk.action(SYSTEM, source="bench") as uow:
        ticket = tickets.create_ticket(
            uow,
            {
                "subject": f"VPN drops every few minutes since the update ({i})",
                "body": "Hello,\n\nsince this morning the VPN disconnects every few minutes.\nCan you help?",
                "requester": f"requester{rng.randrange(REQUESTER_POOL)}@example.com",
                "group": group,
                "tags": rng.sample(TAGS, 2),
            },
        )
        comments.add_comment(uow, ticket.number, {"body": "Thanks, we are looking into it.", "public": True})


@dataclass
class Timing:
    """Wall-clock and this process's CPU seconds of a timed run."""

    wall: float
    cpu: float


def timed_intake(desk: Desk, n: int, group: str, seed: int = SEED) -> Timing:
    """Time creating ``n`` tickets with a reply each, after ``WARMUP_TICKETS`` untimed ones."""
    rng = random.Random(seed)
    for i in range(WARMUP_TICKETS):
        create_ticket_with_reply(desk, rng, i, group)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        create_ticket_with_reply(desk, rng, WARMUP_TICKETS + i, group)
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


class DriverClock:
    """Adds up the time spent inside the DB-API ``execute()`` calls of an engine while attached."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.seconds, self.statements, self._started = engine, 0.0, 0, 0.0

    def _before(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, *_: Any) -> None:
        self.seconds += time.perf_counter() - self._started
        self.statements += 1

    @contextmanager
    def attached(self) -> Iterator[DriverClock]:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._before)
            event.remove(self.engine, "after_cursor_execute", self._after)


def driver_share(desk: Desk, n: int, group: str) -> tuple[float, float, int]:
    """Per ticket over ``n`` more tickets: (ms in total, ms inside the driver's execute(), statements).

    The driver time is SQL execution (plus the round trip on PostgreSQL); the rest is Python:
    services, ORM unit of work, marshmallow, sanitizing, and COMMIT.
    """
    rng = random.Random(SEED + 2)
    with DriverClock(desk.db.engine).attached() as clock:
        start = time.perf_counter()
        for i in range(n):
            create_ticket_with_reply(desk, rng, 10**6 + i, group)
        total = time.perf_counter() - start
    return 1000 * total / n, 1000 * clock.seconds / n, round(clock.statements / n)


def _rows_per_ticket(desk: Desk) -> str:
    with desk.reading(SYSTEM) as uow:
        total = uow.session.scalar(select(func.count()).select_from(Ticket)) or 1
        tables = (
            ("comments", Comment),
            ("tag links", ticket_tags),
            ("history", HistoryEntry),
            ("events", Event),
            ("search documents", SearchDocument),
        )
        counts = {
            name: (uow.session.scalar(select(func.count()).select_from(table)) or 0) / total for name, table in tables
        }
    return ", ".join(f"{value:g} {name}" for name, value in counts.items())


def bench_intake(backend: str, url: str, workdir: Path, n: int, summary: Summary) -> None:
    """Measurement 1: tickets per second through the service layer, on a fresh database."""
    with migrated_desk(url, workdir / "instance-intake") as desk:
        with desk.action(SYSTEM, source="bench") as uow:
            people.create_group(uow, {"name": INTAKE_GROUP})
            people.create_user(uow, {"email": INTAKE_AGENT, "name": "Agent", "role": "agent", "groups": [INTAKE_GROUP]})
        timing = timed_intake(desk, n, INTAKE_GROUP)
        rate = n / timing.wall
        print(
            f"{backend}: created {n} tickets in {timing.wall:.2f} s = {rate:.0f} tickets/s "
            f"(ticket + reply + 2 tags + history + event per transaction), {1000 * timing.wall / n:.2f} ms per ticket, "
            f"{1000 * timing.cpu / n:.2f} ms of it CPU in this process"
        )
        total, driver, statements = driver_share(desk, BREAKDOWN_TICKETS, INTAKE_GROUP)
        print(
            f"{backend}:   where the time goes ({BREAKDOWN_TICKETS} more tickets, {total:.2f} ms each): "
            f"{driver:.2f} ms in the driver executing {statements} statements, "
            f"{total - driver:.2f} ms in Python (services, ORM, validation) and COMMIT"
        )
        print(f"{backend}:   rows per ticket: {_rows_per_ticket(desk)}")
    target = f">= {INTAKE_TARGET:.0f}/s" if backend == "sqlite" else ""
    verdict = ("meets" if rate >= INTAKE_TARGET else "MISSES") if target else ""
    result = f"{rate:.0f} tickets/s ({1000 / rate:.2f} ms each; {driver:.2f} ms per ticket in the driver)"
    summary.add(backend, f"intake, fresh db ({n} tickets)", result, target, verdict)


# --- 2. the queue at scale ------------------------------------------------------------------------


@dataclass
class Fixture:
    """What the bulk load made and the queue measurement needs."""

    tickets: int
    queue_rows: int
    agent: User


class TicketRows:
    """Realistic ticket rows for the bulk load: a year of tickets, ids in creation order.

    Groups are uneven (``GROUP_WEIGHTS``, a few tickets in no group), categories follow
    ``CATEGORY_WEIGHTS`` with a status of that category, most worked tickets have an assignee,
    and ``updated_at`` trails ``created_at`` by a few days on average.
    """

    def __init__(self, conn: Connection, n: int, rng: random.Random) -> None:
        self.n, self.rng = n, rng
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.start = self.now - timedelta(days=365)
        self.span = (self.now - self.start).total_seconds()
        self.group_ids = list(conn.scalars(select(Group.id).order_by(Group.name)))
        self.requester_ids = list(conn.scalars(select(User.id).where(User.role == "requester")))
        self.agent_ids = list(conn.scalars(select(User.id).where(User.role == "agent")))
        self.statuses: dict[str, list[int]] = {}
        for status_id, category in conn.execute(select(Status.id, Status.category).order_by(Status.id)):
            self.statuses.setdefault(category, []).append(status_id)
        self.priority_ids = dict(conn.execute(select(Priority.name, Priority.id)).all())
        self.type_ids = list(conn.scalars(select(TicketType.id)))
        self.group_weights = list(itertools.accumulate(GROUP_WEIGHTS))
        self.category = self._weighted(CATEGORY_WEIGHTS)
        self.priority = self._weighted(PRIORITY_WEIGHTS)
        self.channel = self._weighted(CHANNEL_WEIGHTS)
        self.queue_rows = 0  # open tickets of the measured group (the first one)

    def _weighted(self, weights: dict[str, int]) -> Callable[[], str]:
        keys, cumulative = list(weights), list(itertools.accumulate(weights.values()))
        return lambda: self.rng.choices(keys, cum_weights=cumulative)[0]

    def row(self, i: int) -> dict[str, Any]:
        rng = self.rng
        created = self.start + timedelta(seconds=self.span * i / self.n + rng.random() * 60)
        updated = min(self.now, created + timedelta(seconds=rng.expovariate(1 / (3 * 86400))))
        category = self.category()
        group = (
            None if rng.random() < NO_GROUP_SHARE else rng.choices(self.group_ids, cum_weights=self.group_weights)[0]
        )
        self.queue_rows += group == self.group_ids[0] and category == "open"
        worked = category != "new"
        return {
            "subject": f"Ticket {i}: cannot log in after the password reset",
            "description": "<p>Hello, I cannot log in since yesterday.</p>",
            "requester_id": rng.choice(self.requester_ids),
            "organization_id": None,
            "status_id": rng.choice(self.statuses[category]),
            "status_category": category,
            "priority_id": self.priority_ids[self.priority()],
            "type_id": rng.choice(self.type_ids) if rng.random() < 0.7 else None,
            "group_id": group,
            "assignee_id": rng.choice(self.agent_ids) if worked and rng.random() < 0.85 else None,
            "channel": self.channel(),
            "merged_into_id": None,
            "created_at": created,
            "updated_at": updated,
            "status_changed_at": updated,
            "first_response_at": created + timedelta(minutes=rng.randrange(5, 600)) if worked else None,
            "solved_at": updated if category in ("solved", "closed") else None,
            "closed_at": updated if category == "closed" else None,
            "version": 1,
        }


def _people_rows(when: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    groups = [{"name": f"Queue {g:02d}", "description": "", "created_at": when} for g in range(len(GROUP_WEIGHTS))]
    users = [
        {"email": f"customer{u}@example.com", "name": f"Customer {u}", "role": "requester", "created_at": when}
        for u in range(REQUESTERS)
    ] + [
        {"email": f"agent{a}@bench.example", "name": f"Agent {a}", "role": "agent", "created_at": when}
        for a in range(AGENTS)
    ]
    return groups, users


def load_fixture(desk: Desk, n: int, backend: str) -> Fixture:
    """Bulk-load groups, users and ``n`` tickets with Core ``insert()`` executemany, ``CHUNK`` rows a transaction."""
    groups, users = _people_rows(datetime.now(UTC) - timedelta(days=366))
    with desk.db.engine.begin() as conn:
        conn.execute(insert(Group.__table__), groups)
        conn.execute(insert(User.__table__), users)
        factory = TicketRows(conn, n, random.Random(SEED))
    with desk.action(SYSTEM, source="bench") as uow:
        agent = people.create_user(
            uow, {"email": QUEUE_AGENT, "name": "Queue agent", "role": "agent", "groups": [QUEUE_GROUP]}
        )
    generating = inserting = 0.0
    for first in range(0, n, CHUNK):
        start = time.perf_counter()
        rows = [factory.row(i) for i in range(first, min(first + CHUNK, n))]
        generating += time.perf_counter() - start
        start = time.perf_counter()
        with desk.db.engine.begin() as conn:
            conn.execute(insert(Ticket.__table__), rows)
        inserting += time.perf_counter() - start
        done = first + len(rows)
        if done % PROGRESS_EVERY == 0 or done == n:
            total = generating + inserting
            print(
                f"{backend}:   loaded {done:>9,} tickets in {total:6.1f} s ({done / total:,.0f} rows/s; "
                f"{inserting:.1f} s of it in insert())",
                flush=True,
            )
    start = time.perf_counter()
    with desk.db.engine.begin() as conn:
        conn.execute(text("ANALYZE" if backend == "sqlite" else "ANALYZE tickets"))
    print(f"{backend}:   ANALYZE took {time.perf_counter() - start:.1f} s", flush=True)
    return Fixture(tickets=n, queue_rows=factory.queue_rows, agent=agent)


def _explain(desk: Desk, statement: str, parameters: Any) -> list[str]:
    """The plan of one captured statement: SQLite's query plan tree, PostgreSQL's EXPLAIN ANALYZE."""
    with desk.db.engine.connect() as conn:
        if desk.db.backend == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * depth[node] + detail)
            return lines
        return [line for (line,) in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _page(desk: Desk, actor: Actor, cursor: str | None) -> Page:
    with desk.reading(actor) as uow:
        return list_tickets(uow, TicketFilter(group=QUEUE_GROUP, category=["open"]), cursor=cursor, limit=PAGE_SIZE)


def _plan_digest(plan: list[str]) -> list[str]:
    """A long PostgreSQL plan cut to how ``tickets`` is read and the timings (SQLite plans are short)."""
    if len(plan) <= 20:
        return plan
    keep, in_tickets = [], False
    for line in plan:
        node = line.lstrip().startswith("->")
        in_tickets = " on tickets " in line or "ix_tickets_" in line or (in_tickets and not node)
        if in_tickets or line.startswith(("Planning Time:", "Execution Time:")):
            keep.append(line)
    return keep


def time_page(
    desk: Desk, backend: str, who: str, actor: Actor, cursor: str | None, summary: Summary, *, full_plan: bool
) -> Page:
    """Warm up, time ``TIMED_RUNS`` runs of one page, print the figures and the plan of its main query."""
    for _ in range(WARMUP_RUNS):
        _page(desk, actor, cursor)
    timings = []
    for _ in range(TIMED_RUNS):
        start = time.perf_counter()
        _page(desk, actor, cursor)
        timings.append(1000 * (time.perf_counter() - start))
    median, p95 = statistics.median(timings), _percentile(timings, 0.95)
    what = f"queue page {'2' if cursor else '1'}, {who}"
    print(f"{backend}: {what}: median {median:.2f} ms, p95 {p95:.2f} ms, min {min(timings):.2f} ms ({TIMED_RUNS} runs)")
    with captured_sql(desk.db.engine) as statements:
        page = _page(desk, actor, cursor)
    main = next(s for s in statements if s[0].lstrip().upper().startswith("SELECT") and "FROM tickets" in s[0])
    plan = _explain(desk, *main)
    uses_index = any("ix_tickets_queue" in line for line in plan)
    sorts = any("TEMP B-TREE FOR ORDER BY" in line or line.lstrip().startswith("Sort") for line in plan)
    shown = plan if full_plan else _plan_digest(plan)
    abridged = "" if shown is plan else ", abridged"
    print(f"{backend}:   plan of the main query{abridged} ({len(statements)} statements per page):")
    for line in shown:
        print(f"{backend}:     {line}")
    notes = ["ix_tickets_queue" if uses_index else "NOT ix_tickets_queue", *(["sorts"] if sorts else [])]
    notes += [
        f"{line.split(':')[0].split()[0].lower()} {line.split(':')[1].strip()}"
        for line in plan
        if line.startswith(("Planning Time:", "Execution Time:"))
    ]
    summary.add(
        backend,
        what,
        f"median {median:.2f} ms, p95 {p95:.2f} ms ({', '.join(notes)})",
        f"median <= {PAGE_TARGET_MS:.0f} ms" if cursor is None else "",
        ("meets" if median <= PAGE_TARGET_MS else "MISSES") if cursor is None else "",
    )
    return page


def bench_queue(backend: str, url: str, workdir: Path, n: int, summary: Summary) -> None:
    """Measurement 2: first and second page of one group's open tickets at ``n`` tickets."""
    with migrated_desk(url, workdir / "instance-queue") as desk:
        print(f"{backend}: loading {n:,} tickets for the queue measurement", flush=True)
        fixture = load_fixture(desk, n, backend)
        print(
            f"{backend}: queue {QUEUE_GROUP!r} holds {fixture.queue_rows:,} open tickets of {fixture.tickets:,}; "
            f"{PAGE_SIZE} per page, timed from desk.reading() to the page in hand"
        )
        for who, actor in (("admin (SYSTEM)", SYSTEM), ("agent member of the group", fixture.agent)):
            first = time_page(desk, backend, who, actor, None, summary, full_plan=actor is SYSTEM)
            second = time_page(desk, backend, who, actor, first.next_cursor, summary, full_plan=False)
            _check_pages(backend, who, first.items, second.items, summary)
        rate = BIG_INTAKE / timed_intake(desk, BIG_INTAKE, QUEUE_GROUP, seed=SEED + 1).wall
        print(f"{backend}: created {BIG_INTAKE} more tickets on the {n:,}-ticket database: {rate:.0f} tickets/s")
        summary.add(
            backend, f"intake at {n:,} tickets ({BIG_INTAKE})", f"{rate:.0f} tickets/s ({1000 / rate:.2f} ms each)"
        )


def _check_pages(backend: str, who: str, first: list[Ticket], second: list[Ticket], summary: Summary) -> None:
    """Report (not assert) whether page 2 continues page 1 in order with no overlap."""
    keys = [(t.updated_at, t.id) for t in first + second]
    ok = len(first) == len(second) == PAGE_SIZE and keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    if not ok:
        note = f"{backend}: pages 1 and 2 for {who} do not line up (overlap, gap in order or short page)"
        print(note)
        summary.notes.append(note)


# --- main -------------------------------------------------------------------------------------------


def print_summary(summary: Summary) -> None:
    """The figures of every measurement as one table, then the notes."""
    print("\nSummary")
    if summary.rows:
        headers = ("backend", "measurement", "result", "target", "")
        rows = [headers, *((r.backend, r.measurement, r.result, r.target, r.verdict) for r in summary.rows)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(headers))]
        rows.insert(1, tuple("-" * width for width in widths))
        for row in rows:
            print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    else:
        print("  (no measurements)")
    for note in summary.notes:
        print(f"  note: {note}")


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"at least {minimum}")
        return value

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--tickets-per-second-n", type=_at_least(1), default=2000, help="timed tickets for the intake figure"
    )
    parser.add_argument("--big", type=_at_least(1000), default=1_000_000, help="tickets loaded for the queue figure")
    parser.add_argument(
        "--pg-big", type=_at_least(1000), default=None, help="tickets loaded on PostgreSQL (default: --big)"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="maintenance database of the server")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    summary = Summary()
    failed = False
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Frontdesk core benchmark (python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load})")
    for backend in backends:
        if backend == "postgresql":
            problem = postgres_problem(args.postgres_url)
            if problem:
                note = f"postgresql skipped: {problem}"
                print(note)
                summary.notes.append(note)
                continue
        big = args.big if backend == "sqlite" or args.pg_big is None else args.pg_big
        with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
            workdir = Path(tmp)
            for label, measure, size in (
                ("intake", bench_intake, args.tickets_per_second_n),
                ("queue", bench_queue, big),
            ):
                try:
                    with fresh_database(backend, workdir, label, args.postgres_url) as url:
                        measure(backend, url, workdir, size, summary)
                except Exception as exc:  # report it and go on with the other measurements
                    traceback.print_exc()
                    summary.notes.append(f"{backend} {label} FAILED: {type(exc).__name__}: {exc}")
                    failed = True
    print_summary(summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

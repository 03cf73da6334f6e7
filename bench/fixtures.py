"""Helpers shared by the benchmarks in this folder (``bench/core.py``, ``bench/api.py``).

Databases (a SQLite file or a throwaway PostgreSQL database, migrated), the bulk loader of a
realistic ticket table (optionally with one search document per ticket), SQL capture and plans,
percentiles and the summary table. The scripts run as ``.venv/bin/python bench/<name>.py``, so
``import fixtures`` finds this module next to them.
"""

from __future__ import annotations

import glob
import itertools
import math
import os
import random
import shutil
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

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text
from sqlalchemy.engine import make_url

from frontdesk import migrate
from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.models import Group, Priority, SearchDocument, Status, Ticket, TicketType, User
from frontdesk.permissions import SYSTEM
from frontdesk.search import fold
from frontdesk.services import people

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:54329/postgres"
SEED = 20240601

# The ticket table of the bulk load
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

# Ticket text of the search documents: words drawn with Zipf weights (rank r weighs r ** -ZIPF_EXPONENT), so a
# few words are in most tickets and the tail in well under 1 %.
ZIPF_EXPONENT = 1.5
SUBJECT_WORDS = 6
BODY_WORDS = 24
_WORD_LIST = """
    please error cannot account email login password access printer update laptop network screen
    install invoice server connection order shipping refund payment license meeting calendar phone
    mobile backup folder drive permission reset browser window report export import keyboard mouse
    monitor battery charger cable wireless router firewall certificate expired vendor contract budget
    approval manager request urgent broken slow crash freeze timeout upload download attachment
    signature template spreadsheet document presentation video audio headset camera microphone
    webcam desk chair badge parking office building elevator heating cooling lighting kitchen
    coffee cleaning delivery package tracking customs warehouse inventory supplier quote discount
    subscription renewal cancellation upgrade downgrade migration database query dashboard chart
    metric alert notification reminder schedule holiday vacation payroll salary benefits insurance
    pension training onboarding offboarding contractor visitor guest wifi hotspot tablet scanner
    toner cartridge paper jammed stapler projector whiteboard conference bandwidth latency outage
    maintenance patch vulnerability phishing spam quarantine antivirus encryption token mfa sso
    directory group mailbox alias forwarding distribution archive retention deletion recovery
    snapshot replica cluster container kubernetes pipeline deployment rollback staging sandbox
    compliance audit gdpr privacy consent cookie banner translation localization accessibility font
    layout stylesheet favicon sitemap redirect domain dns registrar nameserver ssl proxy gateway
    tunnel vpn latitude longitude geocoding mapbox shapefile raster tiles zoning parcel easement
    affidavit notary escrow lien subpoena deposition arbitration mediation tribunal ombudsman
"""
WORDS = _WORD_LIST.split()


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


def run_backends(
    title: str, backend: str, postgres_url: str, label: str, measure: Callable[[str, str, Path, Summary], None]
) -> int:
    """Run ``measure(backend, url, workdir, summary)`` on a fresh database of each backend asked for
    (``sqlite``, ``postgresql`` or ``both``), then print the summary; 1 if a measurement failed.

    PostgreSQL is skipped with a note when it cannot be reached; a failing measurement is reported
    and the other backend still runs.
    """
    summary = Summary()
    failed = False
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Frontdesk {title} (python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load})")
    for name in ["sqlite", "postgresql"] if backend == "both" else [backend]:
        if name == "postgresql" and (problem := postgres_problem(postgres_url)):
            summary.notes.append(f"postgresql skipped: {problem}")
            continue
        with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
            try:
                with fresh_database(name, Path(tmp), label, postgres_url) as url:
                    measure(name, url, Path(tmp), summary)
            except Exception as exc:  # report it and go on with the other backend
                traceback.print_exc()
                summary.notes.append(f"{name} FAILED: {type(exc).__name__}: {exc}")
                failed = True
    print_summary(summary)
    return 1 if failed else 0


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95 for p95) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# --- databases ---------------------------------------------------------------------------------


def postgres_answers(url: str) -> bool:
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
    if postgres_answers(url):
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
    return None if postgres_answers(url) else "the server still does not accept connections"


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


def explain(desk: Desk, statement: str, parameters: Any, prelude: tuple[str, ...] = ()) -> list[str]:
    """The plan of one captured statement: SQLite's query plan tree, PostgreSQL's EXPLAIN ANALYZE.

    ``prelude`` statements (e.g. a captured ``SET LOCAL``) run first in the same transaction.
    """
    with desk.db.engine.connect() as conn:
        for setup in prelude:
            conn.exec_driver_sql(setup)
        if desk.db.backend == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * depth[node] + detail)
            return lines
        return [line for (line,) in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)]


# --- the bulk loader ------------------------------------------------------------------------------


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


class TicketText:
    """Subjects and descriptions drawn from ``WORDS`` with Zipf weights, and how common each word is."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        weights = [rank**-ZIPF_EXPONENT for rank in range(1, len(WORDS) + 1)]
        self.cumulative = list(itertools.accumulate(weights))
        total = self.cumulative[-1]
        per_document = SUBJECT_WORDS + BODY_WORDS
        # Expected share of tickets whose subject or description holds the word at least once.
        self.share = {
            word: 1 - (1 - weight / total) ** per_document for word, weight in zip(WORDS, weights, strict=True)
        }

    def _words(self, k: int) -> list[str]:
        return self.rng.choices(WORDS, cum_weights=self.cumulative, k=k)

    def subject(self) -> str:
        return " ".join(self._words(SUBJECT_WORDS)).capitalize()

    def body(self) -> str:
        words = self._words(BODY_WORDS)
        half = BODY_WORDS // 2
        return f"{' '.join(words[:half]).capitalize()}. {' '.join(words[half:]).capitalize()}."

    def word_near(self, share: float) -> str:
        """The word whose expected ticket share is closest to ``share`` and that starts no other word.

        (The search makes the last word a prefix, so "print" would also find "printer".)
        """
        alone = [w for w in WORDS if not any(other != w and other.startswith(w) for other in WORDS)]
        return min(alone, key=lambda word: abs(math.log(self.share[word] / share)))


class BulkLoader:
    """Bulk-loads a realistic desk with Core ``insert()`` executemany, ``CHUNK`` rows a transaction.

    Groups and users first (on construction), then tickets in steps (:meth:`load_until`) up to
    ``total``, so a database can be measured at 100,000 tickets and then grown to 1,000,000.
    With ``documents`` each ticket gets a generated subject and description (:class:`TicketText`)
    and its search document (title, body, folded), whose insert the SQLite FTS triggers index as
    it goes; both inserts are timed and printed.
    """

    def __init__(self, desk: Desk, total: int, backend: str, *, documents: bool = False) -> None:
        self.desk, self.backend, self.documents = desk, backend, documents
        groups, users = _people_rows(datetime.now(UTC) - timedelta(days=366))
        with desk.db.engine.begin() as conn:
            conn.execute(insert(Group.__table__), groups)
            conn.execute(insert(User.__table__), users)
            self.factory = TicketRows(conn, total, random.Random(SEED))
        self.text = TicketText(random.Random(SEED + 7))
        self.loaded = 0
        self.generating = self.inserting = 0.0  # tickets
        self.doc_generating = self.doc_inserting = 0.0  # search documents

    @property
    def group_names(self) -> list[str]:
        """The groups by name, biggest first."""
        return [f"Queue {g:02d}" for g in sorted(range(len(GROUP_WEIGHTS)), key=lambda g: -GROUP_WEIGHTS[g])]

    def load_until(self, n: int) -> None:
        """Load tickets until ``n`` are loaded (with their search documents when asked)."""
        for first in range(self.loaded, n, CHUNK):
            start = time.perf_counter()
            rows = [self.factory.row(i) for i in range(first, min(first + CHUNK, n))]
            texts = [self._text(row) for row in rows] if self.documents else []
            self.generating += time.perf_counter() - start
            with self.desk.db.engine.begin() as conn:
                start = time.perf_counter()
                if self.documents:
                    returning = insert(Ticket.__table__).returning(Ticket.id, sort_by_parameter_order=True)
                    ids = list(conn.execute(returning, rows).scalars())
                else:
                    conn.execute(insert(Ticket.__table__), rows)
                self.inserting += time.perf_counter() - start
                if self.documents:
                    self._insert_documents(conn, ids, texts)
            self.loaded = first + len(rows)
            if self.loaded % PROGRESS_EVERY == 0 or self.loaded == n:
                self._progress()

    def _text(self, row: dict[str, Any]) -> tuple[str, str]:
        subject, body = self.text.subject(), self.text.body()
        row["subject"], row["description"] = subject, f"<p>{body}</p>"
        return subject, body

    def _insert_documents(self, conn: Connection, ids: list[int], texts: list[tuple[str, str]]) -> None:
        start = time.perf_counter()
        documents = [
            {"ticket_id": ticket_id, "comment_id": None, "internal": False, "title": title, "body": body}
            | {"folded": fold(f"{title} {body}")}
            for ticket_id, (title, body) in zip(ids, texts, strict=True)
        ]
        self.doc_generating += time.perf_counter() - start
        start = time.perf_counter()
        conn.execute(insert(SearchDocument.__table__), documents)
        self.doc_inserting += time.perf_counter() - start

    def _progress(self) -> None:
        done, total = self.loaded, self.generating + self.inserting
        print(
            f"{self.backend}:   loaded {done:>9,} tickets in {total:6.1f} s ({done / total:,.0f} rows/s; "
            f"{self.inserting:.1f} s of it in insert())",
            flush=True,
        )
        if self.documents:
            indexed = "with the FTS5 triggers" if self.backend == "sqlite" else "with the GIN index"
            documents = self.doc_generating + self.doc_inserting
            print(
                f"{self.backend}:   loaded {done:>9,} search documents in {documents:6.1f} s "
                f"({done / documents:,.0f} rows/s; insert() {indexed}: {self.doc_inserting:.1f} s = "
                f"{done / self.doc_inserting:,.0f} rows/s; fold() and rows {self.doc_generating:.1f} s; "
                f"the ticket text is in the ticket figures)",
                flush=True,
            )

    def analyze(self) -> None:
        start = time.perf_counter()
        statement = "ANALYZE" if self.backend == "sqlite" else "ANALYZE tickets"
        if self.documents and self.backend != "sqlite":
            statement += ", search_documents"
        with self.desk.db.engine.begin() as conn:
            conn.execute(text(statement))
        print(f"{self.backend}:   ANALYZE took {time.perf_counter() - start:.1f} s", flush=True)


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
    """Bulk-load groups, users, a queue agent and ``n`` tickets (no search documents), then analyze."""
    loader = BulkLoader(desk, n, backend)
    with desk.action(SYSTEM, source="bench") as uow:
        agent = people.create_user(
            uow, {"email": QUEUE_AGENT, "name": "Queue agent", "role": "agent", "groups": [QUEUE_GROUP]}
        )
    loader.load_until(n)
    loader.analyze()
    return Fixture(tickets=n, queue_rows=loader.factory.queue_rows, agent=agent)

"""Core benchmark: ticket intake through the service layer, and the agent queue at a million tickets.

Run ``.venv/bin/python bench/core.py [--backend sqlite|postgresql|both] [--tickets-per-second-n 2000]
[--big 1000000] [--pg-big N]``. It prints figures and never fails on timing.

1. **Intake**: tickets created per second through the services. Each ticket is one
   ``desk.action(SYSTEM, source="bench")`` calling ``services.tickets.create_ticket`` (requester
   e-mail from a pool of 200, a group, two tags) and ``services.comments.add_comment`` (a public
   staff reply), so one transaction writes the ticket, its comment, tags, history, events and
   search documents. Fresh database, 50 warm-up tickets, then N timed ones.
   Target: at least 1,000 tickets/s on SQLite. For scale, the same rows are then written N more
   times by cached SQLAlchemy Core statements and nothing else (``core_floor``): the ceiling of
   any service layer built on SQLAlchemy on this machine.
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
import os
import random
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixtures import (
    DEFAULT_POSTGRES_URL,
    QUEUE_GROUP,
    SEED,
    Summary,
    captured_sql,
    explain,
    fresh_database,
    load_fixture,
    migrated_desk,
    percentile,
    postgres_problem,
    print_summary,
)
from sqlalchemy import Engine, bindparam, event, func, insert, select, update

from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.models import Comment, Event, HistoryEntry, SearchDocument, Tag, Ticket, User, ticket_tags
from frontdesk.permissions import SYSTEM, Actor
from frontdesk.queries import Page, TicketFilter, list_tickets
from frontdesk.services import comments, people, tickets

# Intake
INTAKE_GROUP = "Support"
INTAKE_AGENT = "agent@bench.example"
REQUESTER_POOL = 200
WARMUP_TICKETS = 50
BREAKDOWN_TICKETS = 200  # more tickets, timed with per-statement hooks to split SQL from Python
TAGS = [f"tag-{name}" for name in ("billing", "login", "printer", "vpn", "mail", "laptop", "refund", "bug", "urgent")]
INTAKE_TARGET = 1000.0  # tickets/s on SQLite

# Queue page
WARMUP_RUNS = 3
TIMED_RUNS = 50
PAGE_SIZE = 25
PAGE_TARGET_MS = 20.0
BIG_INTAKE = 200  # tickets created through the services once the big table is loaded


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


def core_floor(desk: Desk, n: int) -> float:
    """Tickets per second when the rows of ``create_ticket_with_reply`` are written with nothing else.

    One transaction per ticket of cached SQLAlchemy Core statements: the requester and tag look-ups,
    then the ticket, its two tag links, four events, two history rows, the comment, the ticket's
    update and two search documents, which is what the services write. No validation, permission
    check, hook, sanitizing or ORM: the ceiling the service layer cannot pass on this machine with
    SQLAlchemy. The rows copy the last ticket the services made (so every reference is valid).
    """
    tickets_t, comments_t, events_t, history_t, documents_t = (
        model.__table__ for model in (Ticket, Comment, Event, HistoryEntry, SearchDocument)
    )
    tables = (tickets_t, comments_t, events_t, history_t, documents_t, ticket_tags)
    add = {table.name: insert(table) for table in tables}
    touch = (
        update(tickets_t)
        .where(tickets_t.c.id == bindparam("ticket"))
        .values(status_category="open", updated_at=bindparam("now"), version=tickets_t.c.version + 1)
    )
    requester = select(User.id).where(func.lower(User.email) == bindparam("address"))
    tags = select(Tag.id).where(Tag.name.in_(bindparam("names", expanding=True)))
    with desk.db.reading() as session:
        template = dict(session.execute(select(tickets_t).order_by(tickets_t.c.id.desc()).limit(1)).mappings().one())
        address = session.scalar(select(User.email).where(User.id == template["requester_id"]))
    del template["id"]
    writer = desk.db.engine.execution_options(frontdesk_write=True)
    start = time.perf_counter()
    for i in range(n):
        now = utcnow()
        with writer.begin() as connection:
            connection.execute(requester, {"address": address}).one()
            tag_ids = connection.scalars(tags, {"names": TAGS[:2]}).all()
            row = {**template, "created_at": now, "updated_at": now, "status_changed_at": now, "version": 1}
            ticket = connection.execute(add["tickets"], row).inserted_primary_key[0]
            connection.execute(add["ticket_tags"], [{"ticket_id": ticket, "tag_id": tag} for tag in tag_ids])
            event = {"ticket_id": ticket, "actor_id": None, "source": "bench", "payload": {"number": ticket}}
            event |= {"state": "delivered", "attempts": 0, "created_at": now, "delivered_at": now}
            history = {"ticket_id": ticket, "actor_id": None, "source": "bench", "created_at": now}
            created = connection.execute(add["events"], {**event, "name": "ticket.created"}).inserted_primary_key[0]
            connection.execute(add["ticket_history"], {**history, "event_id": created, "field": "created"})
            connection.execute(add["search_documents"], {"ticket_id": ticket, "internal": False, "title": f"VPN {i}"})
            comment = {"ticket_id": ticket, "body": "<p>Thanks</p>", "public": True, "channel": "bench"}
            reply = connection.execute(add["comments"], {**comment, "created_at": now}).inserted_primary_key[0]
            connection.execute(touch, {"ticket": ticket, "now": now})
            for name in ("ticket.commented", "ticket.updated", "ticket.status_changed"):
                updated = connection.execute(add["events"], {**event, "name": name}).inserted_primary_key[0]
            connection.execute(add["ticket_history"], {**history, "event_id": updated, "field": "status"})
            document = {"ticket_id": ticket, "comment_id": reply, "internal": False, "title": "", "body": "Thanks"}
            connection.execute(add["search_documents"], document)
    return n / (time.perf_counter() - start)


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
        floor = core_floor(desk, n)
        print(f"{backend}:   the same rows by SQLAlchemy Core statements alone: {floor:.0f} tickets/s")
    target = f">= {INTAKE_TARGET:.0f}/s" if backend == "sqlite" else ""
    verdict = ("meets" if rate >= INTAKE_TARGET else "MISSES") if target else ""
    result = f"{rate:.0f} tickets/s ({1000 / rate:.2f} ms each; {driver:.2f} ms per ticket in the driver)"
    summary.add(backend, f"intake, fresh db ({n} tickets)", result, target, verdict)
    floor_result = f"{floor:.0f} tickets/s ({1000 / floor:.2f} ms each)"
    summary.add(backend, "  the same rows, SQLAlchemy Core alone", floor_result)


# --- 2. the queue at scale ------------------------------------------------------------------------


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
    median, p95 = statistics.median(timings), percentile(timings, 0.95)
    what = f"queue page {'2' if cursor else '1'}, {who}"
    print(f"{backend}: {what}: median {median:.2f} ms, p95 {p95:.2f} ms, min {min(timings):.2f} ms ({TIMED_RUNS} runs)")
    with captured_sql(desk.db.engine) as statements:
        page = _page(desk, actor, cursor)
    main = next(s for s in statements if s[0].lstrip().upper().startswith("SELECT") and "FROM tickets" in s[0])
    plan = explain(desk, *main)
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
            if first.next_cursor is None:
                print(f"{backend}: the queue fits on one page for {who}; no second page to time")
                continue
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

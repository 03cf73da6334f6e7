"""SLA benchmark: due-time arithmetic per call, re-timing every open ticket's clocks, and the breach scan.

1. ``add`` for a 5-business-day span on a Bavarian office calendar (two intervals a day, holidays),
   from starts spread over a year: microseconds per call (target 50 us).
2. The state of the running clocks of ``--open`` open tickets now (read and classified), and
   re-timing them as after a calendar edit: due and warning times recomputed from each clock's
   start, target and pauses and written back (target 5 s for 100k).
3. The breach scan on a desk of ``--tickets`` tickets, each with a clock: most settled or due far
   ahead, a few hundred due in the last minute. Prints the plan of the scan's query and how many
   rows it read, to show it touches only the clocks whose time came.

Run: ``.venv/bin/python bench/sla.py [--backend sqlite|postgresql|both] [--tickets N] [--open N]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fixtures import (
    DEFAULT_POSTGRES_URL,
    Summary,
    captured_sql,
    explain,
    load_fixture,
    percentile,
    run_backends,
)
from frontdesk_sla import services, tracking
from frontdesk_sla.calendar import BusinessCalendar, CalendarSpec, parse_hours
from frontdesk_sla.models import SlaClock
from sqlalchemy import func, insert, select

from frontdesk import migrate
from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.models import Ticket
from frontdesk.permissions import SYSTEM

OFFICE = {
    "name": "Office",
    "timezone": "Europe/Berlin",
    "hours": ["mon-fri 08:00-12:00,13:00-17:00"],
    "holidays": ["DE-BY"],
}
FIVE_DAYS = 5 * 8 * 60  # business minutes
CHUNK = 20_000


def measure_add(summary: Summary, calls: int = 200_000) -> None:
    """Microseconds per ``add`` of five business days, warm per-date cache (the steady state) and cold."""
    rng = random.Random(8)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    starts = [base + timedelta(minutes=rng.randrange(365 * 24 * 60)) for _ in range(calls)]
    spec = CalendarSpec(OFFICE["timezone"], parse_hours(OFFICE["hours"]), tuple(OFFICE["holidays"]))
    cold = BusinessCalendar(spec)
    began = time.perf_counter()
    for start in starts[:2000]:
        cold.add(start, FIVE_DAYS)
    cold_us = (time.perf_counter() - began) / 2000 * 1e6
    warm = BusinessCalendar(spec)
    for start in starts:
        warm.add(start, FIVE_DAYS)
    samples = []
    for batch in range(20):
        chunk = starts[batch::20]
        began = time.perf_counter()
        for start in chunk:
            warm.add(start, FIVE_DAYS)
        samples.append((time.perf_counter() - began) / len(chunk) * 1e6)
    mean = sum(samples) / len(samples)
    print(
        f"add(5 business days): {mean:.2f} us/call warm (p95 of batches {percentile(samples, 0.95):.2f}), "
        f"{cold_us:.2f} us/call with a cold per-date cache"
    )
    summary.add("-", "add() 5-day span, warm", f"{mean:.2f} us", "<= 50 us", "ok" if mean <= 50 else "SLOW")
    summary.add("-", "add() 5-day span, cold cache", f"{cold_us:.2f} us", "", "")


@contextmanager
def sla_desk(url: str, instance: Path) -> Iterator[Desk]:
    """A desk with the SLA plugin on a migrated database."""
    config = Config(instance_path=instance, database_url=url, secret_key="bench", queue_url="memory://")  # noqa: S106
    desk = Desk(config, plugins=["sla"])
    try:
        migrate.upgrade_all(desk)
        yield desk
    finally:
        desk.close()


def clock_rows(
    ticket_ids: list[int], now: datetime, calendar_id: int, rng: random.Random, *, due_soon: set[int]
) -> Iterator[dict[str, Any]]:
    """One running first-response clock per ticket: settled, due far ahead, or (``due_soon``) due a moment ago."""
    for ticket_id in ticket_ids:
        started = now - timedelta(minutes=rng.randrange(1, 60 * 24 * 30))
        row: dict[str, Any] = {
            "ticket_id": ticket_id, "metric": "first_response", "episode": 1, "calendar_id": calendar_id,
            "calendar_version": 1, "priority": "normal", "target_minutes": 480.0, "business": True,
            "warn_percent": 80, "started_at": started, "pauses": [], "paused_minutes": 0.0,
            "elapsed_minutes": 0.0, "state": "ok", "computed_at": now, "due_at": None, "warn_at": None,
            "fulfilled_at": None, "breached_at": None, "warning_sent_at": None, "breach_sent_at": None,
            "next_check_at": None,
        }  # fmt: skip
        if ticket_id in due_soon:
            row.update(
                due_at=now - timedelta(seconds=30),
                warn_at=now - timedelta(hours=2),
                warning_sent_at=now - timedelta(hours=2),
            )
            row["next_check_at"] = row["due_at"]
        elif rng.random() < 0.6:  # settled long ago
            row.update(
                due_at=started + timedelta(hours=9), fulfilled_at=started + timedelta(hours=1), state="fulfilled"
            )
        else:  # due in the coming days
            due = now + timedelta(minutes=rng.randrange(10, 60 * 24 * 5))
            row.update(due_at=due, warn_at=due - timedelta(minutes=96), next_check_at=due - timedelta(minutes=96))
        if ticket_id % 7 == 0:
            pause = started + timedelta(minutes=30)
            row["pauses"] = [[pause.isoformat(), (pause + timedelta(hours=20)).isoformat()]]
        yield row


def load_clocks(desk: Desk, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    batch: list[dict[str, Any]] = []
    with desk.db.engine.begin() as conn:
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                conn.execute(insert(SlaClock.__table__), batch)
                count += len(batch)
                batch = []
        if batch:
            conn.execute(insert(SlaClock.__table__), batch)
            count += len(batch)
    return count


def measure_desk(backend: str, url: str, workdir: Path, summary: Summary, tickets: int, open_tickets: int) -> None:
    with sla_desk(url, workdir / "instance") as desk:
        began = time.perf_counter()
        load_fixture(desk, tickets, backend)
        print(f"[{backend}] loaded {tickets:,} tickets in {time.perf_counter() - began:.1f} s")
        with desk.action(SYSTEM, source="bench") as uow:
            calendar_id = services.save_calendar(uow, dict(OFFICE, name="Other")).id
            office_id = services.save_calendar(uow, OFFICE).id
        with desk.db.reading() as session:
            ids = list(session.scalars(select(Ticket.id).order_by(Ticket.id)))
        rng = random.Random(11)
        now = datetime.now(UTC)
        due_soon = set(rng.sample(ids, 300))
        began = time.perf_counter()
        loaded = load_clocks(desk, clock_rows(ids, now, calendar_id, rng, due_soon=due_soon))
        print(f"[{backend}] loaded {loaded:,} clocks in {time.perf_counter() - began:.1f} s")
        if backend == "postgresql":
            with desk.db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE sla_clocks")
        else:
            with desk.db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")

        # The breach scan: one pass over the clocks whose time came.
        warnings = breaches = read = passes = 0
        with captured_sql(desk.db.engine) as seen:
            began = time.perf_counter()
            while True:  # batches until no clock is due, as the periodic job does
                with desk.action(SYSTEM, source="bench") as uow:
                    sent_warnings, sent_breaches, batch = tracking.scan(uow, now=now)
                warnings, breaches, read, passes = (
                    warnings + sent_warnings,
                    breaches + sent_breaches,
                    read + batch,
                    passes + 1,
                )
                if batch < tracking.SCAN_BATCH:
                    break
            scan_s = time.perf_counter() - began
        select_sql, parameters = next(
            (s, p) for s, p in seen if "FROM sla_clocks" in s and s.lstrip().upper().startswith("SELECT")
        )
        sent = f"{breaches} breaches and {warnings} warnings sent"
        print(f"[{backend}] breach scan: {read} clocks read in {passes} batches, {sent} in {scan_s * 1000:.1f} ms")
        print(f"[{backend}] scan query plan:")
        for line in explain(desk, select_sql, parameters):
            print("    " + line)
        summary.add(
            backend,
            f"breach scan, {tickets:,} tickets",
            f"{scan_s * 1000:.0f} ms, {read} rows read",
            "rows read = events sent",
            "ok" if read == warnings + breaches else "CHECK",
        )
        with desk.db.reading() as session:
            left = session.scalar(select(func.count()).select_from(SlaClock).where(SlaClock.next_check_at <= now))
        print(f"[{backend}] clocks still due for a check after the scan: {left}")

        # The open tickets' resolution clocks run on the "Office" calendar, the one an admin edits.
        opened = ids[: min(open_tickets, len(ids))]
        more = [
            dict(r, metric="resolution", target_minutes=2400.0)
            for r in clock_rows(opened, now, office_id, random.Random(3), due_soon=set())
        ]
        for row in more:
            row.update(fulfilled_at=None, state="ok", due_at=now + timedelta(days=3))
        load_clocks(desk, iter(more))
        # The state of every running clock now, from the stored times (what lists and reports show).
        began = time.perf_counter()
        with desk.db.reading() as session:
            times = (SlaClock.due_at, SlaClock.warn_at, SlaClock.fulfilled_at, SlaClock.breached_at, SlaClock.pauses)
            running_rows = session.execute(
                select(*times).where(
                    SlaClock.calendar_id == office_id, SlaClock.fulfilled_at.is_(None), SlaClock.breached_at.is_(None)
                )
            ).all()
            states = Counter(tracking.live_state(row, now) for row in running_rows)
        state_s = time.perf_counter() - began
        print(f"[{backend}] state of {len(running_rows):,} running clocks in {state_s:.2f} s: {dict(states)}")
        summary.add(backend, f"state of {len(running_rows):,} running clocks", f"{state_s:.2f} s", "<= 5 s (100k)", "")

        began, cpu = time.perf_counter(), time.process_time()
        with desk.action(SYSTEM, source="bench") as uow:
            retimed = tracking.retime(uow, office_id, now=now)
        retime_s, cpu_s = time.perf_counter() - began, time.process_time() - cpu
        each = retime_s / max(retimed, 1) * 1e6
        print(
            f"[{backend}] re-timed {retimed:,} running clocks in {retime_s:.2f} s ({each:.1f} us each; "
            f"{cpu_s:.2f} s of CPU in this process)"
        )
        summary.add(
            backend,
            f"re-time {retimed:,} running clocks",
            f"{retime_s:.2f} s ({cpu_s:.2f} s CPU here)",
            "<= 5 s (100k)",
            "ok" if retime_s <= 5 * retimed / 100_000 else "SLOW",
        )

        # Recomputing tickets from their history (the path after each ticket event), sampled.
        sample = ids[:500]
        began = time.perf_counter()
        for ticket_id in sample:
            with desk.action(SYSTEM, source="bench") as uow:
                tracking.recompute_ticket(uow, ticket_id, now=now)
        per = (time.perf_counter() - began) / len(sample)
        print(f"[{backend}] recompute from history: {per * 1000:.2f} ms per ticket (one transaction each)")
        summary.add(backend, "recompute one ticket from history", f"{per * 1000:.2f} ms", "", "")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument(
        "--tickets", type=int, default=1_000_000, help="tickets (each with a clock) for the breach scan"
    )
    parser.add_argument("--open", type=int, default=100_000, help="running clocks re-timed")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="maintenance database of the server")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    summary_add = Summary()
    measure_add(summary_add)

    def measure(backend: str, url: str, workdir: Path, summary: Summary) -> None:
        summary.rows.extend(summary_add.rows)
        summary_add.rows.clear()
        measure_desk(backend, url, workdir, summary, args.tickets, args.open)

    return run_backends("SLA benchmark", args.backend, args.postgres_url, "sla", measure)


if __name__ == "__main__":
    sys.exit(main())

"""Automation benchmark: trigger events per second with 200 rules, and time rules over 100,000 open tickets.

Run ``.venv/bin/python bench/automation.py [--backend sqlite|postgresql|both] [--tickets 250000]
[--events 3000]``. It prints figures and never fails on timing.

1. **Triggers**: ``--tickets`` tickets are bulk-loaded (about 40 % of them not closed), 200 enabled
   triggers are created through the services (subject words, group and priority tests, tags,
   "changed to" tests), then ``--events`` pending ``ticket.updated`` events are written and
   delivered by ``dispatcher.dispatch_pending`` in passes of 1,000: each is evaluated against every
   listening rule, matched rules act through the services in one transaction with the log row, and
   the events their actions cause are delivered too. Measured twice: events no rule acts on
   (status changes of calm tickets), and the mix of a working queue (status, assignee, priority and
   tag changes; a few per cent make a rule act). Also the engine alone: ``Automation._plan`` for
   loaded tickets, no database. Target: at least 2,000 events/s on one core.
2. **Time rules**: five usual time rules (remind pending after 3 days, solve pending after 7, close
   solved after 4, flag new tickets nobody took within a day, flag month-old open tickets) over the
   same tickets. The tickets already due are marked as acted on (the steady state of a desk that
   runs them every five minutes), then one run is timed: it must check every candidate and act on
   none. Then 200 tickets become due and a second run acts on exactly those. Target: the
   steady-state run at most 2 s over 100,000 open tickets.
3. A summary table.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fixtures import (
    DEFAULT_POSTGRES_URL,
    SEED,
    WORDS,
    BulkLoader,
    Summary,
    run_backends,
)
from sqlalchemy import func, insert, select, update

from frontdesk import migrate
from frontdesk.automation.conditions import Context
from frontdesk.automation.engine import load_ticket
from frontdesk.automation.time_rules import candidates, chunks, due, run_time_rules
from frontdesk.config import Config
from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.models import (
    AutomationLogEntry,
    Event,
    EventState,
    Priority,
    RuleFiring,
    RuleKind,
    StatusCategory,
    Ticket,
)
from frontdesk.permissions import SYSTEM
from frontdesk.services import automation

RULES = 200
# Words the bulk-loaded subjects ("Ticket N: cannot log in after the password reset") never contain.
RARE = [word for word in WORDS if word not in {"cannot", "password", "reset", "login", "after"}]
EVENT_TARGET = 2000.0
TIME_TARGET = 2.0


def update_changes(rng: random.Random) -> dict[str, list[str | None]]:
    """What a ticket update changes, in the proportions of a working queue."""
    roll = rng.random()
    if roll < 0.6:
        return {"status": ["open", rng.choice(["pending", "solved", "on-hold"])]}
    if roll < 0.9:
        return {"assignee": [None, f"agent{rng.randrange(40)}@bench.example"]}
    if roll < 0.95:
        return {"priority": ["normal", rng.choice(["high", "urgent"])]}
    return {"tags": [[], ["billing"]]}


def trigger_rules(groups: list[str], rng: random.Random) -> list[dict[str, object]]:
    """200 triggers of the kinds desks write; a few per cent of the updates match one."""
    rules: list[dict[str, object]] = []
    for n in range(RULES):
        kind = n % 4
        if kind == 0:
            conditions = [{"field": "subject", "op": "contains", "value": rng.choice(RARE)}]
        elif kind == 1:
            conditions = [
                {"field": "group", "op": "is", "value": rng.choice(groups)},
                {"field": "priority", "op": "is", "value": "urgent"},
            ]
        elif kind == 2:
            conditions = [
                {"field": "priority", "op": "changed_to", "value": "urgent"},
                {"field": "group", "op": "is", "value": rng.choice(groups)},
            ]
        else:
            conditions = [
                {"field": "tags", "op": "contains", "value": f"vip-{n}"},
                {"field": "channel", "op": "is", "value": "mail"},
            ]
        rules.append(
            {
                "name": f"Rule {n:03}",
                "events": ["ticket.created", "ticket.updated"],
                "match": "all",
                "conditions": conditions,
                "actions": [{"type": "add_tags", "tags": [f"r{n}"]}],
            }
        )
    return rules


TIME_RULES = [
    {
        "name": "Remind pending",
        "conditions": [
            {"field": "status_category", "op": "is", "value": "pending"},
            {"field": "hours_since_status_changed", "op": "gt", "value": 72},
        ],
        "actions": [{"type": "add_tags", "tags": ["reminded"]}],
    },
    {
        "name": "Solve stale pending",
        "conditions": [
            {"field": "status_category", "op": "is", "value": "pending"},
            {"field": "hours_since_status_changed", "op": "gt", "value": 168},
        ],
        "actions": [{"type": "set", "field": "status", "value": "solved"}],
    },
    {
        "name": "Close solved",
        "conditions": [
            {"field": "status_category", "op": "is", "value": "solved"},
            {"field": "hours_since_status_changed", "op": "gt", "value": 96},
        ],
        "actions": [{"type": "set", "field": "status", "value": "closed"}],
    },
    {
        "name": "Nobody took it",
        "conditions": [
            {"field": "status_category", "op": "is", "value": "new"},
            {"field": "hours_since_created", "op": "gt", "value": 24},
            {"field": "assignee", "op": "absent"},
        ],
        "actions": [{"type": "add_tags", "tags": ["unattended"]}],
    },
    {
        "name": "Month-old open",
        "conditions": [
            {"field": "status_category", "op": "is", "value": "open"},
            {"field": "hours_since_created", "op": "gt", "value": 720},
        ],
        "actions": [{"type": "add_tags", "tags": ["old"]}],
    },
]


def make_desk(url: str, instance: Path) -> Desk:
    config = Config(instance_path=instance, database_url=url, secret_key="bench", queue_url="memory://")  # noqa: S106
    desk = Desk(config, plugins=[])
    migrate.upgrade_all(desk)
    return desk


def bench_triggers(backend: str, desk: Desk, loader: BulkLoader, n_events: int, summary: Summary) -> None:
    rng = random.Random(SEED + 1)
    with desk.action(SYSTEM, source="bench") as uow:
        for data in trigger_rules(loader.group_names, rng):
            automation.create_rule(uow, data)
    rules = desk.automation.rules(RuleKind.TRIGGER)
    with desk.db.reading() as session:
        open_ids = list(session.scalars(select(Ticket.id).where(Ticket.status_category != StatusCategory.CLOSED)))
    sample = [rng.choice(open_ids) for _ in range(n_events)]

    # The engine alone: the rules of one event against loaded tickets (the guard index screens most), no database.
    with desk.db.reading() as session:
        tickets = [load_ticket(session, ticket_id) for ticket_id in sample[:500]]
        start = time.perf_counter()
        for n, ticket in enumerate(tickets):
            event = Event(id=-n, name="ticket.updated", ticket_id=ticket.id, payload={"changes": update_changes(rng)})
            desk.automation._plan(event, Context(desk, ticket, utcnow(), event))
        pure = len(tickets) * len(rules) / (time.perf_counter() - start)
    print(f"{backend}: engine alone: {pure / RULES:,.0f} events/s of {RULES} rules ({pure:,.0f} rule outcomes/s)")

    with desk.db.reading() as session:
        calm = list(
            session.scalars(
                select(Ticket.id)
                .join(Priority, Priority.id == Ticket.priority_id)
                .where(Ticket.status_category != StatusCategory.CLOSED, Priority.name != "urgent")
            )
        )
    quiet = deliver(desk, [rng.choice(calm) for _ in range(n_events)], lambda: {"status": ["open", "pending"]})
    print(f"{backend}: {n_events:,} events no rule acts on, {RULES} rules: {quiet:,.0f} events/s")
    mixed = deliver(desk, sample, lambda: update_changes(rng))
    with desk.db.reading() as session:
        outcomes = session.scalars(select(AutomationLogEntry.outcomes)).all()
    acted = sum(any(isinstance(o, dict) and o.get("done") for o in row) for row in outcomes)
    print(
        f"{backend}: {n_events:,} events of a working queue (some rules act; the events their actions cause are "
        f"delivered too) with {RULES} rules: {mixed:,.0f} events/s; {len(outcomes):,} log rows, {acted:,} with actions"
    )
    target = f">= {EVENT_TARGET:,.0f}/s"
    summary.add(backend, "trigger events/s, no rule acts", f"{quiet:,.0f}/s", target, _verdict(quiet >= EVENT_TARGET))
    summary.add(backend, "trigger events/s, working queue", f"{mixed:,.0f}/s", target, _verdict(mixed >= EVENT_TARGET))
    summary.add(backend, "events/s, engine alone (no database)", f"{pure / RULES:,.0f}/s")


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def deliver(desk: Desk, ticket_ids: list[int], changes: Callable[[], dict[str, Any]]) -> float:
    """Write a pending ``ticket.updated`` event per ticket id, deliver them all; return events per second."""
    rows = [
        {
            "name": "ticket.updated",
            "ticket_id": ticket_id,
            "actor_id": None,
            "source": "bench",
            "payload": {"changes": changes()},
            "state": EventState.PENDING.value,
            "attempts": 0,
            "created_at": utcnow(),
        }
        for ticket_id in ticket_ids
    ]
    with desk.db.engine.begin() as conn:
        conn.execute(insert(Event.__table__), rows)
    start = time.perf_counter()
    while True:
        report = desk.dispatcher.dispatch_pending(limit=1000)
        if not report.delivered and not report.retrying:
            break
    return len(ticket_ids) / (time.perf_counter() - start)


def bench_time_rules(backend: str, desk: Desk, summary: Summary) -> None:
    with desk.action(SYSTEM, source="bench") as uow:
        for data in TIME_RULES:
            automation.create_rule(uow, {**data, "kind": "time"})
    now = utcnow()
    with desk.db.reading() as session:
        open_count = session.scalar(
            select(func.count(Ticket.id)).where(Ticket.status_category != StatusCategory.CLOSED)
        )
    start = time.perf_counter()
    firings = []
    for rule in desk.automation.rules(RuleKind.TIME):
        for chunk in chunks(candidates(desk, rule, now)):
            firings += [
                {"rule_id": rule.id, "ticket_id": t, "anchor": a, "fired_at": now}
                for t, a in due(desk, rule, chunk, now)
            ]
    with desk.db.engine.begin() as conn:
        if firings:
            conn.execute(insert(RuleFiring.__table__), firings)
    print(f"{backend}: {len(firings):,} tickets already due marked as acted on in {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    report = run_time_rules(desk, now)
    steady = time.perf_counter() - start
    checked = sum(report.checked.values())
    acted = sum(len(v) for v in report.acted.values())
    print(
        f"{backend}: steady-state run over {open_count:,} open tickets: {checked:,} candidates read, "
        f"{acted} acted on, {steady:.2f} s"
    )
    verdict = _verdict(steady <= TIME_TARGET)
    summary.add(
        backend, f"time rules, steady run ({open_count:,} open)", f"{steady:.2f} s", f"<= {TIME_TARGET:.0f} s", verdict
    )

    with desk.db.engine.begin() as conn:
        pending = list(conn.scalars(select(Ticket.id).where(Ticket.status_category == "pending").limit(200)))
        conn.execute(update(Ticket).where(Ticket.id.in_(pending)).values(status_changed_at=now - timedelta(hours=80)))
    start = time.perf_counter()
    report = run_time_rules(desk, now)
    acting = time.perf_counter() - start
    acted = len(report.acted["Remind pending"])
    print(f"{backend}: run with {len(pending)} newly due tickets: acted on {acted} in {acting:.2f} s")
    summary.add(backend, f"time rules, run acting on {acted}", f"{acting:.2f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--tickets", type=int, default=250_000, help="tickets bulk-loaded (about 40 %% not closed)")
    parser.add_argument("--events", type=int, default=3000, help="events delivered in the trigger measurement")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="maintenance database of the server")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> Callable[[str, str, Path, Summary], None]:
    def run(backend: str, url: str, workdir: Path, summary: Summary) -> None:
        desk = make_desk(url, workdir / "instance")
        try:
            loader = BulkLoader(desk, args.tickets, backend)
            loader.load_until(args.tickets)
            bench_triggers(backend, desk, loader, args.events, summary)
            bench_time_rules(backend, desk, summary)
        finally:
            desk.close()

    return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_backends("automation benchmark", args.backend, args.postgres_url, "automation", measure(args))


if __name__ == "__main__":
    sys.exit(main())

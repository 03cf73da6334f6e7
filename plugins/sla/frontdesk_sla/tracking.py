"""Keeping tickets' clock rows up to date: recomputing from history, re-timing after calendar edits, the breach scan."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Float, Integer, String, bindparam, column, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, selectinload

from frontdesk.db import utcnow
from frontdesk.models import Event, Status, StatusCategory, Ticket
from frontdesk.uow import UnitOfWork
from frontdesk_sla import services
from frontdesk_sla.calendar import ALWAYS_OPEN, US_PER_MINUTE, to_us
from frontdesk_sla.clocks import (
    AGENT_REPLY,
    CREATED,
    REQUESTER_REPLY,
    STATUS,
    Arithmetic,
    Clock,
    Fact,
    Target,
    compute,
    measure_us,
    state_of,
)
from frontdesk_sla.models import ClockState, SlaCalendar, SlaClock, SlaPolicy

HISTORY_EVENTS = ("ticket.commented", "ticket.updated")  # what clocks are computed from, after creation
SCAN_BATCH = 500


def choose_policy(uow: UnitOfWork, ticket: Ticket) -> SlaPolicy | None:
    """The policy for ``ticket``: the first answer of ``frontdesk_sla_policy_for``, else the first match in order."""
    policies = services.list_policies(uow, active_only=True)
    chosen = uow.desk.plugins.calls.first("frontdesk_sla_policy_for", ticket=ticket, policies=policies)
    if isinstance(chosen, str):
        return next((policy for policy in policies if policy.name == chosen), None)
    return chosen


def facts_of(uow: UnitOfWork, ticket: Ticket, pause_on: Iterable[str]) -> list[Fact]:
    """The SLA-relevant history of a ticket, read from its events (replies, status changes)."""
    pausing = {name.lower() for name in pause_on}
    categories = dict(uow.session.execute(select(Status.name, Status.category)).all())
    facts = [Fact(ticket.created_at, CREATED)]
    initial = None  # the status the ticket was created with
    rows = uow.session.execute(
        select(Event.name, Event.payload, Event.created_at)
        .where(Event.ticket_id == ticket.id, Event.name.in_(HISTORY_EVENTS))
        .order_by(Event.id)
    )
    for name, payload, at in rows:
        if name == "ticket.commented":
            if payload.get("public"):
                facts.append(Fact(at, AGENT_REPLY if payload.get("by_staff") else REQUESTER_REPLY))
        elif "status" in payload.get("changes", {}):
            old, status = payload["changes"]["status"]
            initial = old if initial is None else initial
            category = categories.get(status, "open")
            facts.append(Fact(at, STATUS, category, status.lower() in pausing or category in pausing))
    initial = ticket.status.name if initial is None else initial
    category = categories.get(initial, "new")
    if initial.lower() in pausing or category in pausing:  # created straight into a pausing status
        facts.insert(1, Fact(ticket.created_at, STATUS, category, True))
    return facts


def targets_for(policy: SlaPolicy, priority: str) -> dict[str, Target]:
    """The policy's targets at this priority, by metric."""
    return {
        target["metric"]: Target(target["minutes"], target["business"], target["warn_percent"])
        for target in policy.targets
        if target["priority"].lower() == priority.lower()
    }


def arithmetic_of(policy_calendar: SlaCalendar | None) -> dict[bool, Arithmetic]:
    """Business and calendar-minute arithmetic of a policy's calendar."""
    business = services.business_time(policy_calendar) if policy_calendar is not None else ALWAYS_OPEN
    return {True: business, False: ALWAYS_OPEN}


def recompute_ticket(uow: UnitOfWork, ticket_id: int, now: datetime | None = None) -> list[SlaClock]:
    """Bring a ticket's clock rows in line with its history, policy and priority; return them.

    Clocks fulfilled or breached keep their stored outcome (a fulfilled clock is never touched, a
    breached one only learns when it was finally fulfilled); running clocks get the targets of the
    ticket's current policy and priority, measured from the ticket's start.
    """
    now = now or utcnow()
    ticket = uow.session.scalar(select(Ticket).where(Ticket.id == ticket_id).options(selectinload(Ticket.tags)))
    if ticket is None:
        return []
    existing = {
        (row.metric, row.episode): row
        for row in uow.session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket_id))
    }
    policy = choose_policy(uow, ticket)
    computed: list[Clock] = []
    if policy is not None:
        targets = targets_for(policy, ticket.priority.name)
        facts = facts_of(uow, ticket, policy.pause_on)
        computed = compute(facts, targets, arithmetic_of(policy.calendar), now)
    kept: list[SlaClock] = []
    for clock in computed:
        row = existing.pop((clock.metric, clock.episode), None)
        if row is None:
            row = SlaClock(ticket_id=ticket_id, metric=clock.metric, episode=clock.episode)
            uow.session.add(row)
        _store(row, clock, policy, ticket.priority.name, now)  # type: ignore[arg-type]
        kept.append(row)
    for row in existing.values():
        if row.final:
            kept.append(row)
        else:
            uow.session.delete(row)
    return sorted(kept, key=lambda row: (row.started_at, row.metric, row.episode))


def _store(row: SlaClock, clock: Clock, policy: SlaPolicy, priority: str, now: datetime) -> None:
    """Copy a computed clock onto its row, unless the row's outcome is settled."""
    if row.fulfilled_at is not None:
        return
    if row.breached_at is not None:  # breached: the stored due time stands; only completion is news
        row.fulfilled_at = clock.fulfilled_at
        row.elapsed_minutes = clock.elapsed_minutes
        row.paused_minutes = clock.paused_minutes
        row.pauses = _pauses_json(clock.pauses)
        row.state = ClockState.BREACHED.value
        row.computed_at = now
        row.next_check_at = next_check(row)
        return
    target = next(
        t for t in policy.targets if t["metric"] == clock.metric and t["priority"].lower() == priority.lower()
    )
    row.policy_id = policy.id
    row.calendar_id = policy.calendar_id
    row.calendar_version = policy.calendar.version if policy.calendar is not None else None
    row.priority = priority
    row.target_minutes = target["minutes"]
    row.business = target["business"]
    row.warn_percent = target["warn_percent"]
    row.started_at = clock.started_at
    row.due_at = clock.due_at
    row.warn_at = clock.warn_at
    row.pauses = _pauses_json(clock.pauses)
    row.paused_minutes = clock.paused_minutes
    row.elapsed_minutes = clock.elapsed_minutes
    row.fulfilled_at = clock.fulfilled_at
    row.breached_at = clock.breached_at
    row.state = clock.state
    row.computed_at = now
    row.next_check_at = next_check(row)


def _pauses_json(pauses: Sequence[tuple[datetime, datetime | None]]) -> list[list[str | None]]:
    return [[start.isoformat(), None if end is None else end.isoformat()] for start, end in pauses]


def _pauses_us(pauses: Sequence[Sequence[str | None]]) -> list[tuple[int, int | None]]:
    return [
        (to_us(datetime.fromisoformat(start)), None if end is None else to_us(datetime.fromisoformat(end)))
        for start, end in pauses
        if start is not None
    ]


def next_check(row: SlaClock) -> datetime | None:
    """When the breach scan must look at this clock next: its unsent warning or breach, else never."""
    if row.fulfilled_at is not None:
        return row.breached_at if row.breached_at is not None and row.breach_sent_at is None else None
    moments = []
    if row.warn_at is not None and row.warning_sent_at is None:
        moments.append(row.warn_at)
    if row.due_at is not None and row.breach_sent_at is None:
        moments.append(row.due_at)
    return min(moments, default=None)


def live_state(row: SlaClock | Any, now: datetime) -> str:
    """The state at ``now`` of a stored clock (or a row of its times: due, warn, fulfilled, breached, pauses)."""
    paused = bool(row.pauses) and row.pauses[-1][1] is None
    if row.breached_at is not None:
        return ClockState.BREACHED.value
    return state_of(row.due_at, row.warn_at, row.fulfilled_at, paused, now)


def open_ticket_ids(uow: UnitOfWork, after: int, limit: int) -> list[int]:
    """The next ``limit`` tickets after id ``after`` that are neither solved nor closed, by id."""
    query = (
        select(Ticket.id)
        .where(Ticket.id > after, Ticket.status_category.not_in([StatusCategory.SOLVED, StatusCategory.CLOSED]))
        .order_by(Ticket.id)
        .limit(limit)
    )
    return list(uow.session.scalars(query))


# --- Re-timing after a calendar edit ---------------------------------------------------------------


def retime(uow: UnitOfWork, calendar_id: int, now: datetime | None = None, batch: int = 5000) -> int:
    """Recompute due and warning times of the running, unbreached business-hours clocks on a calendar; return how many.

    Works from the stored rows (start, target, pauses), not the tickets' history, so it is fast
    enough to run over every open ticket after a calendar edit; walks the calendar's running
    clocks in id order through their index. Settled clocks are left alone, and so are clocks
    counting calendar minutes, which no calendar edit can move.
    """
    now_us = to_us(now or utcnow())
    computed_at = _naive(now_us)
    calendar = uow.session.get(SlaCalendar, calendar_id)
    timing = (ALWAYS_OPEN, None) if calendar is None else (services.business_time(calendar), calendar.version)
    query = (
        select(
            SlaClock.id,
            SlaClock.target_minutes,
            SlaClock.warn_percent,
            SlaClock.started_at,
            SlaClock.pauses,
            SlaClock.warning_sent_at,
            SlaClock.breach_sent_at,
        )
        .where(
            SlaClock.calendar_id == calendar_id,
            SlaClock.business.is_(True),
            SlaClock.fulfilled_at.is_(None),
            SlaClock.breached_at.is_(None),
        )
        .order_by(SlaClock.id)
        .limit(batch)
    )
    count = after = 0
    while rows := uow.session.execute(query.where(SlaClock.id > after)).all():
        _write_retimed(uow, [_retimed(row, *timing, now_us, computed_at) for row in rows])
        count += len(rows)
        after = rows[-1].id
    return count


# The columns a re-timing writes (after the clock id), in the order :func:`_retimed` gives them. One
# statement per batch: an UPDATE ... FROM unnest(arrays) on PostgreSQL, a driver-level executemany
# on SQLite (datetimes in the text form SQLAlchemy stores there), because a calendar edit re-times
# every open ticket and per-row parameter processing would cost more than the arithmetic.
_RETIMED: dict[str, Any] = {
    "due_at": DateTime(),
    "warn_at": DateTime(),
    "breached_at": DateTime(),
    "computed_at": DateTime(),
    "next_check_at": DateTime(),
    "elapsed_minutes": Float(),
    "paused_minutes": Float(),
    "state": String(),
    "calendar_version": Integer(),
}
_TIMES = 5  # the first five are datetimes
_CLOCKS = SlaClock.__table__
_RETIMED_ARRAYS = (
    func.unnest(
        bindparam("clock_id", type_=ARRAY(Integer())), *(bindparam(n, type_=ARRAY(k)) for n, k in _RETIMED.items())
    )
    .table_valued(column("clock_id", Integer()), *(column(n, k) for n, k in _RETIMED.items()))
    .render_derived(name="retimed")
)
_RETIME_ALL = (
    update(_CLOCKS)
    .where(_CLOCKS.c.id == _RETIMED_ARRAYS.c.clock_id)
    .values({name: _RETIMED_ARRAYS.c[name] for name in _RETIMED})
)
_RETIME_EACH_SQLITE = f"UPDATE sla_clocks SET {', '.join(f'{name} = ?' for name in _RETIMED)} WHERE id = ?"  # noqa: S608 (fixed column names)
_NAIVE_EPOCH = datetime(1970, 1, 1)


def _write_retimed(uow: UnitOfWork, changes: list[tuple[Any, ...]]) -> None:
    if uow.desk.db.backend == "postgresql":
        columns = list(zip(*changes, strict=True))
        uow.session.execute(_RETIME_ALL, dict(zip(("clock_id", *_RETIMED), columns, strict=True)))
    else:
        rows = [
            (*(None if t is None else t.isoformat(" ", "microseconds") for t in change[1 : 1 + _TIMES]),
             *change[1 + _TIMES :], change[0])
            for change in changes
        ]  # fmt: skip
        uow.session.connection().exec_driver_sql(_RETIME_EACH_SQLITE, rows)


def _naive(us: int | None) -> datetime | None:
    return None if us is None else _NAIVE_EPOCH + timedelta(microseconds=us)


def _retimed(
    row: Any, arithmetic: Arithmetic, version: int | None, now: int, computed_at: datetime | None
) -> tuple[Any, ...]:
    """The new values of one running clock (a row of :func:`retime`'s query): its id, then ``_RETIMED``.

    ``now`` is the moment in microseconds since the epoch; ``computed_at`` the same as a stored time.
    """
    pauses = _pauses_us(row.pauses) if row.pauses else []
    found = measure_us(
        to_us(row.started_at), None, Target(row.target_minutes, True, row.warn_percent), arithmetic, pauses, now
    )
    moments = [m for m, sent in ((found.warn, row.warning_sent_at), (found.due, row.breach_sent_at)) if m and not sent]
    due = _naive(found.due)
    return (
        row.id,
        due,
        _naive(found.warn),
        due if found.state == ClockState.BREACHED else None,
        computed_at,
        _naive(min(moments, default=None)),
        found.elapsed / US_PER_MINUTE,
        found.paused / US_PER_MINUTE,
        found.state,
        version,
    )


# --- The breach scan -----------------------------------------------------------------------------


def scan(uow: UnitOfWork, now: datetime | None = None, limit: int = SCAN_BATCH) -> tuple[int, int, int]:
    """Send ``sla.warning`` and ``sla.breached`` for clocks whose time came; return (warnings, breaches, clocks read).

    Reads only clocks whose ``next_check_at`` has passed, through its index; each clock sends each
    event once (the sent time is stored with the row in the same transaction as the event).
    """
    now = now or utcnow()
    rows = uow.session.scalars(
        select(SlaClock)
        .where(SlaClock.next_check_at <= now)
        .order_by(SlaClock.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    warnings = breaches = 0
    for row in rows:
        payload = {
            "metric": row.metric,
            "episode": row.episode,
            "due_at": row.due_at.isoformat() if row.due_at else None,
            "policy_id": row.policy_id,
        }
        if row.due_at is not None and row.due_at <= now and row.breach_sent_at is None:
            row.breach_sent_at = now
            row.warning_sent_at = row.warning_sent_at or now  # a breach makes the warning moot
            row.breached_at = row.breached_at or row.due_at
            row.state = ClockState.BREACHED.value
            uow.emit("sla.breached", ticket_id=row.ticket_id, payload=payload)
            breaches += 1
        elif row.warn_at is not None and row.warn_at <= now and row.warning_sent_at is None:
            row.warning_sent_at = now
            row.state = ClockState.WARNING.value if row.fulfilled_at is None else row.state
            uow.emit("sla.warning", ticket_id=row.ticket_id, payload=payload)
            warnings += 1
        row.next_check_at = next_check(row)
    return warnings, breaches, len(rows)


def ticket_clocks(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[SlaClock]]:
    """The clock rows of these tickets (one query), oldest first."""
    found: dict[int, list[SlaClock]] = {ticket_id: [] for ticket_id in ticket_ids}
    if not ticket_ids:
        return found
    query = select(SlaClock).where(SlaClock.ticket_id.in_(ticket_ids)).order_by(SlaClock.started_at, SlaClock.id)
    for row in session.scalars(query):
        found[row.ticket_id].append(row)
    return found

"""Showing clocks: ticket API fields, the sidebar panel and the list column (time left, colour-coded)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from frontdesk.access import visible_tickets
from frontdesk.db import utcnow
from frontdesk.models import StatusCategory, Ticket, User
from frontdesk.plugins import ListColumn
from frontdesk_sla.models import ClockState, SlaClock, SlaPolicy
from frontdesk_sla.tracking import live_state, ticket_clocks

# Worst first: the state a ticket shows when its clocks disagree.
SEVERITY = (ClockState.BREACHED, ClockState.WARNING, ClockState.OK, ClockState.PAUSED, ClockState.FULFILLED)
COLOURS = {
    ClockState.BREACHED: "danger",
    ClockState.WARNING: "warning",
    ClockState.OK: "success",
    ClockState.PAUSED: "secondary",
    ClockState.FULFILLED: "light",
}


def _staff(user: User | None) -> bool:
    """SLA data is for agents and admins (the holders of ``sla.view``), never for requesters."""
    return bool(user is not None and getattr(user, "is_staff", False))


def clock_data(row: SlaClock, now: datetime) -> dict[str, Any]:
    """A clock row as JSON-friendly data, with its state at ``now``."""
    return {
        "metric": row.metric,
        "episode": row.episode,
        "state": live_state(row, now),
        "priority": row.priority,
        "target_minutes": row.target_minutes,
        "business": row.business,
        "started_at": row.started_at.isoformat(),
        "warn_at": row.warn_at.isoformat() if row.warn_at else None,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "fulfilled_at": row.fulfilled_at.isoformat() if row.fulfilled_at else None,
        "breached_at": row.breached_at.isoformat() if row.breached_at else None,
        "elapsed_minutes": round(row.elapsed_minutes, 2),  # as of computed_at for a running clock
        "paused_minutes": round(row.paused_minutes, 2),
        "computed_at": row.computed_at.isoformat(),
        "pauses": [list(pause) for pause in row.pauses],
        "policy_id": row.policy_id,
    }


def summary(rows: Sequence[SlaClock], now: datetime) -> dict[str, Any]:
    """A ticket's clocks with the worst state and the soonest due time of its running clocks."""
    clocks = [clock_data(row, now) for row in rows]
    running = [row.due_at for row in rows if row.fulfilled_at is None and row.due_at is not None]
    states = {clock["state"] for clock in clocks}
    worst = next((state.value for state in SEVERITY if state in states), None)
    return {"state": worst, "next_due_at": min(running).isoformat() if running else None, "clocks": clocks}


def clocks_of(session: Session, ticket_id: int) -> list[SlaClock]:
    """A ticket's clocks, loaded with those of every ticket in the session at the first call.

    The ticket-fields hook is called once per ticket; a list page has all its tickets in the
    session, so the first call loads the clocks of the whole page in one query and the others
    read them from ``session.info`` (which lives as long as the unit of work).
    """
    cache: dict[int, list[SlaClock]] = session.info.setdefault("sla_clocks", {})
    if ticket_id not in cache:
        present = {obj.id for obj in list(session.identity_map.values()) if isinstance(obj, Ticket)}
        cache.update(ticket_clocks(session, sorted((present - set(cache)) | {ticket_id})))
    return cache[ticket_id]


def ticket_fields(ticket: Ticket, user: User | None) -> dict[str, Any] | None:
    """The ``extensions.sla`` of a ticket for staff: its clocks and summary (one query per page of tickets)."""
    session = object_session(ticket)
    if session is None or not (user is None or _staff(user)):
        return None
    return summary(clocks_of(session, ticket.id), utcnow())


def time_left(due_at: datetime, now: datetime) -> str:
    """``2h 05m`` left, or ``-1d 3h`` overdue."""
    seconds = int((due_at - now).total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return f"{sign}{days}d {hours}h"
    return f"{sign}{hours}h {minutes:02d}m"


def badge(rows: Sequence[SlaClock], now: datetime) -> Markup | None:
    """The list cell of a ticket: its most urgent running clock's time left, coloured by state."""
    running = [row for row in rows if row.fulfilled_at is None]
    if not running:
        return None
    states = {live_state(row, now) for row in running}
    worst = next(state for state in SEVERITY if state in states)
    dated = [row for row in running if row.due_at is not None]
    text = time_left(min(row.due_at for row in dated), now) if dated else "paused"  # type: ignore[type-var]
    return Markup('<span class="badge text-bg-{}" data-sla-state="{}">{}</span>').format(
        COLOURS[worst], worst.value, text
    )


def list_columns(user: User) -> list[ListColumn]:
    """The "SLA" column of agents' ticket lists: one query per page."""
    if not _staff(user):
        return []

    def cells(tickets: Sequence[Ticket]) -> Mapping[int, Any]:
        session = object_session(tickets[0]) if tickets else None
        if session is None:
            return {}
        now = utcnow()
        found = ticket_clocks(session, [ticket.id for ticket in tickets])
        return {ticket_id: cell for ticket_id, rows in found.items() if (cell := badge(rows, now)) is not None}

    return [ListColumn("sla", "SLA", cells, weight=40, sort=next_due)]


def next_due() -> Any:
    """A ticket's next due time among its running clocks, for sorting lists "due soonest" (none: last)."""
    return (
        select(func.min(SlaClock.due_at))
        .where(SlaClock.ticket_id == Ticket.id, SlaClock.fulfilled_at.is_(None))
        .correlate(Ticket)
        .scalar_subquery()
    )


def sidebar(ticket: Ticket, user: User) -> Any:
    """The ticket page's SLA panel: each clock with due time, state, elapsed time and pauses."""
    session = object_session(ticket)
    if session is None or not _staff(user):
        return None
    from flask import render_template

    now = utcnow()
    rows = clocks_of(session, ticket.id)
    policy_ids = {row.policy_id for row in rows if row.policy_id is not None}
    policies = (
        dict(session.execute(select(SlaPolicy.id, SlaPolicy.name).where(SlaPolicy.id.in_(policy_ids))).all())
        if policy_ids
        else {}
    )
    clocks = [_sidebar_clock(row, now) for row in rows]
    page = render_template("sla/_sidebar.html", clocks=clocks, policies=policies)
    return (30, Markup(page))  # noqa: S704 (rendered by Jinja with autoescape)


def _sidebar_clock(row: SlaClock, now: datetime) -> dict[str, Any]:
    """One clock of the sidebar: its data with the colour of its state and the time left."""
    clock = clock_data(row, now)
    clock["colour"] = COLOURS[ClockState(clock["state"])]
    clock["left"] = time_left(row.due_at, now) if row.due_at is not None else None
    return clock


DUE_SOONEST = 10


def due_soonest(session: Session, user: User, now: datetime, limit: int = DUE_SOONEST) -> list[dict[str, Any]]:
    """The running clocks due soonest (overdue first) on tickets the user may see, through the due-time index."""
    query = (
        select(SlaClock, Ticket.subject)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(
            SlaClock.fulfilled_at.is_(None),
            SlaClock.due_at.is_not(None),
            Ticket.status_category.not_in([StatusCategory.SOLVED, StatusCategory.CLOSED]),
            visible_tickets(user),
        )
        .order_by(SlaClock.due_at, SlaClock.id)
        .limit(limit)
    )
    found = []
    for clock, subject in session.execute(query):
        state = ClockState(live_state(clock, now))
        found.append(
            {
                "number": clock.ticket_id,
                "subject": subject,
                "metric": clock.metric,
                "state": state.value,
                "colour": COLOURS[state],
                "left": time_left(clock.due_at, now),  # type: ignore[arg-type]
            }
        )
    return found


def dashboard_widget(user: User) -> Any:
    """The agent dashboard's "Due soonest" widget."""
    if not _staff(user):
        return None
    from flask import render_template

    from frontdesk_webui.context import desk

    with desk().reading(user) as uow:
        rows = due_soonest(uow.session, user, utcnow())
    page = render_template("sla/_due_soonest.html", rows=rows)
    return (20, Markup(page))  # noqa: S704 (rendered by Jinja with autoescape)

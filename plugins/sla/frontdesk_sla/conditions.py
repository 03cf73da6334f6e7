"""Ticket properties automation rules can test: the SLA state, minutes left, and the metric of an SLA event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import object_session

from frontdesk.automation import Context, Field
from frontdesk_sla.display import SEVERITY, clocks_of
from frontdesk_sla.models import Metric
from frontdesk_sla.tracking import live_state


def _running(ctx: Context) -> list[Any]:
    session = object_session(ctx.ticket)
    if session is None:
        return []
    return [row for row in clocks_of(session, ctx.ticket.id) if row.fulfilled_at is None]


def state(ctx: Context) -> str | None:
    """The worst state of the ticket's running clocks (breached, warning, ok, paused), or None."""
    states = {live_state(row, ctx.now) for row in _running(ctx)}
    return next((value.value for value in SEVERITY if value in states), None)


def minutes_left(ctx: Context) -> float | None:
    """Minutes to the soonest due time of a running clock (negative once overdue), or None."""
    due = [row.due_at for row in _running(ctx) if row.due_at is not None]
    return round((min(due) - ctx.now).total_seconds() / 60, 1) if due else None


def event_metric(ctx: Context) -> str | None:
    """The metric an ``sla.warning`` or ``sla.breached`` event is about."""
    if ctx.event is None or not ctx.event.name.startswith("sla."):
        return None
    return ctx.event.payload.get("metric")


FIELDS = [
    Field("sla.state", "SLA state", "text", state, choices=lambda desk: [s.value for s in SEVERITY]),
    Field("sla.minutes_left", "SLA minutes left", "number", minutes_left),
    Field("sla.metric", "SLA event metric", "text", event_metric, choices=lambda desk: [m.value for m in Metric]),
]

"""Housekeeping: rows that only matter for a while (delivered events, the automation log, read
notifications) are deleted once older than the desk's retention period, so tables stop growing.

Tickets, comments and their audit history are never pruned: they are the desk's record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, delete, select

from frontdesk.db import utcnow
from frontdesk.models import AutomationLogEntry, Event, Notification
from frontdesk.models.events import EventState

if TYPE_CHECKING:
    from frontdesk.desk import Desk

BATCH = 2000  # rows per transaction: short write locks, even on SQLite


@dataclass(frozen=True)
class Pruned:
    """How many rows each kind of pruning removed."""

    events: int
    automation_log: int
    notifications: int


def _delete_in_batches(desk: Desk, model: Any, condition: ColumnElement[bool]) -> int:
    removed = 0
    while True:
        with desk.db.transaction() as session:
            ids = session.scalars(select(model.id).where(condition).order_by(model.id).limit(BATCH)).all()
            if not ids:
                return removed
            session.execute(delete(model).where(model.id.in_(ids)))
            removed += len(ids)


def prune(desk: Desk, now: datetime | None = None) -> Pruned | None:
    """Delete what is older than ``config.retention_days``; None when retention is off (0 days)."""
    days = desk.config.retention_days
    if not days:
        return None
    cutoff = (now or utcnow()) - timedelta(days=days)
    return Pruned(
        events=_delete_in_batches(desk, Event, (Event.state == EventState.DELIVERED) & (Event.created_at < cutoff)),
        automation_log=_delete_in_batches(desk, AutomationLogEntry, AutomationLogEntry.created_at < cutoff),
        notifications=_delete_in_batches(
            desk, Notification, Notification.read_at.is_not(None) & (Notification.created_at < cutoff)
        ),
    )


def prune_job(desk: Desk) -> None:
    """The nightly job behind :func:`prune`."""
    prune(desk)

"""The transactional outbox: events written with the change that caused them, delivered after commit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.db import Base, UTCDateTime, utcnow


class EventState(StrEnum):
    """Delivery state of an event: pending until every consumer succeeded or gave up."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Event(Base):
    """Something that happened, e.g. ``ticket.created``; consumers get it at least once, in order per ticket."""

    __tablename__ = "events"
    __table_args__ = (
        Index(
            "ix_events_pending",
            "id",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_events_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=EventState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def hook_name(self) -> str:
        """The after-commit hook this event is delivered to: ``ticket.created`` -> ``frontdesk_ticket_created``."""
        return hook_name(self.name)


def hook_name(event_name: str) -> str:
    """The after-commit hook events called ``event_name`` are delivered to (see :attr:`Event.hook_name`)."""
    return "frontdesk_" + event_name.replace(".", "_").replace("-", "_")


class EventFailure(Base):
    """A consumer (plugin) that failed to handle an event: retried with backoff, given up after N tries."""

    __tablename__ = "event_failures"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    given_up: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

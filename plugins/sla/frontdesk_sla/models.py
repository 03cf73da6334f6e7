"""The SLA tables: calendars, ordered policies and each ticket's clocks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontdesk.db import Base, UTCDateTime, utcnow


class Metric(StrEnum):
    """What a clock measures."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class ClockState(StrEnum):
    """Where a clock stands; ``breached`` also marks a target met too late."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    FULFILLED = "fulfilled"
    PAUSED = "paused"


class SlaCalendar(Base):
    """Business hours in a time zone; ``version`` grows with every edit (clocks record the version they used)."""

    __tablename__ = "sla_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["mon-fri 08:00-17:00", ...]
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["DE-BY"]
    closed: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates
    exceptions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # ISO date -> "09:00-12:00" | "closed"
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaPolicy(Base):
    """Targets for tickets that match its conditions; the lowest ``position`` that matches applies.

    ``conditions`` maps ticket properties (priority, type, group, organization, tags, channel) to the
    names any of which must match; ``targets`` is a list of ``{priority, metric, minutes, business,
    warn_percent}``; ``pause_on`` names the status categories or statuses that stop the clocks.
    """

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("sla_calendars.id", ondelete="RESTRICT"))
    conditions: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pause_on: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    calendar: Mapped[SlaCalendar | None] = relationship()


class SlaClock(Base):
    """One clock episode of a ticket (first response; the n-th next response; resolution per reopening).

    A clock that is fulfilled or breached keeps its stored outcome: later calendar edits never rewrite
    it. ``next_check_at`` is when the breach scan must look at the clock next (its warning or due time
    until the matching event was sent); the scan walks its index and never the tickets.
    """

    __tablename__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "metric", "episode"),
        Index("ix_sla_clocks_next_check", "next_check_at"),
        Index("ix_sla_clocks_running_due", "fulfilled_at", "due_at"),  # running clocks, due soonest first
        Index("ix_sla_clocks_policy_started", "policy_id", "started_at"),
        # Re-timing after a calendar edit walks that calendar's running clocks in id order.
        Index("ix_sla_clocks_calendar_running", "calendar_id", "fulfilled_at", "breached_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(20))
    episode: Mapped[int] = mapped_column(Integer, default=1)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id", ondelete="SET NULL"))
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("sla_calendars.id", ondelete="SET NULL"))
    calendar_version: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[str] = mapped_column(String(50))
    target_minutes: Mapped[float] = mapped_column(Float)
    business: Mapped[bool] = mapped_column(Boolean, default=True)
    warn_percent: Mapped[int] = mapped_column(Integer, default=80)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pauses: Mapped[list[list[str | None]]] = mapped_column(JSON, default=list)  # [[start, end or None], ...]
    paused_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    elapsed_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    state: Mapped[str] = mapped_column(String(12), default=ClockState.OK.value)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warning_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breach_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def final(self) -> bool:
        """Whether the outcome is settled (met or breached) and stays as stored."""
        return self.fulfilled_at is not None or self.breached_at is not None

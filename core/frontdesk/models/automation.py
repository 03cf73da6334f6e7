"""Automation: rules (triggers and time rules), what they did to each ticket, and macros."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.db import Base, UTCDateTime, utcnow


class RuleKind(StrEnum):
    """Triggers react to events; time rules run on a schedule over tickets that have waited."""

    TRIGGER = "trigger"
    TIME = "time"


class Rule(Base):
    """An automation rule: when its conditions hold (all or any), its actions run, in ``position`` order.

    ``conditions`` is a list of ``{"field", "op", "value"}``; ``actions`` a list of ``{"type", ...}``;
    ``events`` the event names a trigger listens to (``ticket.created``, ``sla.breached``...).
    """

    __tablename__ = "automation_rules"
    __table_args__ = (Index("ix_automation_rules_kind", "kind", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    match: Mapped[str] = mapped_column(String(3), default="all")
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RuleFiring(Base):
    """A time rule acted on a ticket in one episode: for one value of the timestamp its clock runs from.

    ``anchor`` is that timestamp (e.g. when the ticket entered pending): the rule does not act again
    until the ticket's timestamp changes (it leaves pending and comes back).
    """

    __tablename__ = "automation_firings"

    rule_id: Mapped[int] = mapped_column(ForeignKey("automation_rules.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    anchor: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AutomationLogEntry(Base):
    """One evaluation of the rules for a ticket: which rules matched, which did not and why, what was done.

    ``outcomes`` has one item per rule evaluated: ``[rule id, index of the failed condition, its value]``
    for a rule that did not match (kept small), else ``{"rule", "matched", "done", "error", "skipped"}``;
    and one ``{"screened": [rule ids], "actual": value}`` per field whose value kept most rules from
    being evaluated at all (their first indexable condition failed on it).
    """

    __tablename__ = "automation_log"
    __table_args__ = (Index("ix_automation_log_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), unique=True)
    trigger: Mapped[str] = mapped_column(String(100))
    outcomes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Macro(Base):
    """A canned response with field changes, applied to a ticket in one step; personal (owner) or shared."""

    __tablename__ = "macros"
    __table_args__ = (Index("ix_macros_owner", "owner_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """An in-app notification for a user (the bell in the web UI); other channels deliver elsewhere."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationTemplate(Base):
    """An admin's wording of one notification kind (``ticket.received``...); defaults live in code."""

    __tablename__ = "notification_templates"

    kind: Mapped[str] = mapped_column(String(100), primary_key=True)
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

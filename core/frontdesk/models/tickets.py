"""Tickets and what hangs off them: workflow data, tags, comments, links and change history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontdesk.db import Base, UTCDateTime, utcnow
from frontdesk.models.events import Event
from frontdesk.models.people import Group, Organization, User


class StatusCategory(StrEnum):
    """What a status means to the desk; plugins (SLA, automation) rely on categories, not names."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


class Status(Base):
    """A configurable ticket status, e.g. "on-hold" in the ``pending`` category."""

    __tablename__ = "statuses"
    __table_args__ = (CheckConstraint("category IN ('new', 'open', 'pending', 'solved', 'closed')", name="category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    category: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Priority(Base):
    """A configurable priority; a higher ``rank`` is more urgent."""

    __tablename__ = "priorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class TicketType(Base):
    """A configurable kind of ticket: question, incident, problem, task..."""

    __tablename__ = "ticket_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Tag(Base):
    """A normalized label (lower case, no spaces)."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


ticket_tags = Table(
    "ticket_tags",
    Base.metadata,
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)

ticket_ccs = Table(
    "ticket_ccs",
    Base.metadata,
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Ticket(Base):
    """A request and its state; ``number`` is what people quote, ``version`` guards against lost updates."""

    __tablename__ = "tickets"
    __table_args__ = (
        # The agent queue: one group's tickets in one category, most recently updated first.
        Index("ix_tickets_queue", "group_id", "status_category", "updated_at", "id"),
        # A group's queue over several categories (new, open, pending) newest first: walked in order.
        Index("ix_tickets_group_updated", "group_id", "updated_at", "id"),
        Index("ix_tickets_assignee", "assignee_id", "status_category", "updated_at", "id"),
        Index("ix_tickets_requester", "requester_id", "updated_at", "id"),
        Index("ix_tickets_organization", "organization_id", "updated_at", "id"),
        Index("ix_tickets_category", "status_category", "updated_at", "id"),
        Index("ix_tickets_updated", "updated_at", "id"),
        # Time rules: "pending for more than 3 days" walks one category by the time it was entered.
        Index("ix_tickets_category_entered", "status_category", "status_changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(250))
    description: Mapped[str] = mapped_column(Text, default="")
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id"))
    status_category: Mapped[str] = mapped_column(String(16))
    priority_id: Mapped[int] = mapped_column(ForeignKey("priorities.id"))
    type_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_types.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20), default="web")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_requester_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_agent_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    organization: Mapped[Organization | None] = relationship()
    status: Mapped[Status] = relationship()
    priority: Mapped[Priority] = relationship()
    type: Mapped[TicketType | None] = relationship()
    group: Mapped[Group | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=ticket_tags, order_by=Tag.name)
    ccs: Mapped[list[User]] = relationship(secondary=ticket_ccs, order_by=User.email)

    @property
    def number(self) -> int:
        """The number people quote (``#123``)."""
        return self.id

    @property
    def is_closed(self) -> bool:
        return self.status_category == StatusCategory.CLOSED

    def __repr__(self) -> str:
        return f"<Ticket #{self.id} {self.subject!r}>"


class Comment(Base):
    """A public reply or an internal note on a ticket; ``body`` is sanitized HTML."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="comment", order_by="Attachment.id")


class Attachment(Base):
    """A file attached to a comment; the bytes live in attachment storage under ``storage_key``."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="attachments")


class LinkKind(StrEnum):
    """How two tickets relate; ``parent`` means the source is the parent of the target."""

    RELATED = "related"
    DUPLICATE = "duplicate"
    PARENT = "parent"
    MERGED = "merged"


class TicketLink(Base):
    """A directed link between two tickets (``related`` is shown from both sides)."""

    __tablename__ = "ticket_links"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind"),
        CheckConstraint("source_id <> target_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HistoryEntry(Base):
    """One field change of a ticket: who, from where, when, old and new value."""

    __tablename__ = "ticket_history"
    __table_args__ = (
        Index("ix_ticket_history_ticket", "ticket_id", "id"),
        # Pruning old events sets this to NULL: without the index each deleted event scans the history.
        Index("ix_ticket_history_event", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    field: Mapped[str] = mapped_column(String(50))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()
    event: Mapped[Event | None] = relationship()

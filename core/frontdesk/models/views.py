"""Saved ticket views: a named list (filters, columns, sort) an agent keeps for themselves or shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.db import Base, UTCDateTime, utcnow


class SavedView(Base):
    """A view of the agent workspace's rail; ``owner_id`` None means shared with every agent.

    ``filters`` holds the fields of :class:`frontdesk.queries.TicketFilter` that views may set;
    ``columns`` the list columns shown, in order.
    """

    __tablename__ = "saved_views"
    __table_args__ = (Index("ix_saved_views_owner", "owner_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    sort: Mapped[str] = mapped_column(String(20), default="updated")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

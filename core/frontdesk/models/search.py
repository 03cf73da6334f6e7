"""Text the full-text index covers: one document per ticket (subject and description) and per comment."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.db import Base


class SearchDocument(Base):
    """Plain text indexed for search; ``internal`` documents (internal notes) are searched only for staff.

    SQLite indexes ``title`` and ``body`` with an FTS5 table kept in step by triggers (it folds
    accents itself); PostgreSQL indexes ``folded`` (accents removed, case folded, see
    :func:`frontdesk.search.fold`) with a ``tsvector`` expression index. Both indexes are created by
    migrations, outside the models.
    """

    __tablename__ = "search_documents"
    __table_args__ = (Index("ix_search_documents_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), unique=True)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(250), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    folded: Mapped[str] = mapped_column(Text, default="")

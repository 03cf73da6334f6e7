"""Full-text search over tickets and comments: SQLite FTS5 or PostgreSQL ``tsvector``, behind one function.

Services keep ``search_documents`` current (one row per ticket, one per comment); the database
indexes it (FTS5 table with triggers, or a GIN expression index), both made by migrations. User
input never reaches the query syntax raw: it is cut into word tokens, each quoted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Select, and_, false, func, literal_column, select, table, text, update

from frontdesk.access import visible_tickets
from frontdesk.models import Comment, SearchDocument, Ticket
from frontdesk.text import html_to_text
from frontdesk.uow import UnitOfWork

# One configuration for every language: no stemming, but no wrong stemming either.
PG_CONFIG = "simple"
PG_VECTOR = "to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(body, ''))"
_TOKEN = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Text as the index stores it: accents removed and case folded, so "Café" and "cafe" match."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\x00", ""))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(query: str) -> list[str]:
    """The words of a user's query, folded; everything else (operators, quotes, punctuation) is dropped."""
    return _TOKEN.findall(fold(query))


def index_ticket(uow: UnitOfWork, ticket: Ticket) -> None:
    """Index (or re-index) the ticket's own text: subject and description."""
    document = uow.session.scalar(
        select(SearchDocument).where(SearchDocument.ticket_id == ticket.id, SearchDocument.comment_id.is_(None))
    )
    if document is None:
        document = SearchDocument(ticket_id=ticket.id, comment_id=None, internal=False)
        uow.session.add(document)
    document.title = fold(ticket.subject)
    document.body = fold(html_to_text(ticket.description))


def index_comment(uow: UnitOfWork, comment: Comment) -> None:
    """Index a new comment; internal notes are marked so only staff find them."""
    uow.session.add(
        SearchDocument(
            ticket_id=comment.ticket_id,
            comment_id=comment.id,
            internal=not comment.public,
            body=fold(html_to_text(comment.body)),
        )
    )


def move_comments(uow: UnitOfWork, comment_ids: list[int], ticket_id: int) -> None:
    """Follow comments that moved to another ticket (merge)."""
    if comment_ids:
        uow.session.execute(
            update(SearchDocument).where(SearchDocument.comment_id.in_(comment_ids)).values(ticket_id=ticket_id)
        )


def fts5_query(query: str) -> str | None:
    """An FTS5 MATCH expression that finds documents holding every word of ``query`` (last word as prefix)."""
    words = tokens(query)
    if not words:
        return None
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(query: str) -> str | None:
    """A PostgreSQL ``to_tsquery`` expression with the same meaning as :func:`fts5_query`."""
    words = tokens(query)
    if not words:
        return None
    return " & ".join(f"'{word}'" for word in words) + ":*"


@dataclass(frozen=True)
class Hit:
    """A ticket found by search, best first (lower rank is better)."""

    ticket_id: int
    rank: float


def _matching(uow: UnitOfWork, query: str) -> Select[tuple[int, float]] | None:
    """Ticket ids with their best rank among the documents the actor may search."""
    staff = bool(uow.actor is not None and uow.actor.is_staff)
    if uow.desk.db.backend == "sqlite":
        expression = fts5_query(query)
        if expression is None:
            return None
        hits = (
            select(literal_column("rowid").label("document_id"), literal_column("rank").label("score"))
            .select_from(table("search_fts"))
            .where(text("search_fts MATCH :expression").bindparams(expression=expression))
            .subquery()
        )
        matched = (
            select(SearchDocument.ticket_id, func.min(hits.c.score).label("rank"))
            .select_from(SearchDocument)
            .join(hits, hits.c.document_id == SearchDocument.id)
        )
    else:
        expression = tsquery(query)
        if expression is None:
            return None
        parsed = func.to_tsquery(PG_CONFIG, expression)
        vector = literal_column(PG_VECTOR)
        matched = select(SearchDocument.ticket_id, func.min(-func.ts_rank(vector, parsed)).label("rank")).where(
            vector.op("@@")(parsed)
        )
    if not staff:
        matched = matched.where(SearchDocument.internal.is_(False))
    return matched.group_by(SearchDocument.ticket_id)


def matching_ticket_ids(uow: UnitOfWork, query: str) -> Select[tuple[int]]:
    """Ids of tickets with documents matching ``query`` that the actor may search, for use in ``IN (...)``."""
    matched = _matching(uow, query)
    if matched is None:
        return select(SearchDocument.ticket_id).where(false())
    return select(matched.subquery().c.ticket_id)


def search(uow: UnitOfWork, query: str, *, limit: int = 50) -> list[Hit]:
    """Tickets the actor may see whose subject, description or comments match ``query``, best first.

    Any string is accepted: punctuation and query operators are treated as plain text, and a
    query with no words finds nothing.
    """
    matched = _matching(uow, query)
    if matched is None:
        return []
    sub = matched.subquery()
    rows = uow.session.execute(
        select(sub.c.ticket_id, sub.c.rank)
        .join(Ticket, and_(Ticket.id == sub.c.ticket_id, visible_tickets(uow.actor)))
        .order_by(sub.c.rank, sub.c.ticket_id.desc())
        .limit(limit)
    )
    return [Hit(ticket_id, float(rank)) for ticket_id, rank in rows]

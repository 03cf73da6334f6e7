"""Full-text search over tickets and comments: SQLite FTS5 or PostgreSQL ``tsvector``, behind one function.

Services keep ``search_documents`` current (one row per ticket, one per comment); the database
indexes it (FTS5 table with triggers, or a GIN expression index), both made by migrations. User
input never reaches the query syntax raw: it is cut into word tokens, each quoted.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Double, Select, and_, bindparam, cast, false, func, literal_column, select, table, text, update

from frontdesk.access import visible_tickets
from frontdesk.models import Comment, SearchDocument, Ticket
from frontdesk.text import html_to_text
from frontdesk.uow import UnitOfWork

# One configuration for every language: no stemming, but no wrong stemming either.
PG_CONFIG = "simple"
PG_VECTOR = "to_tsvector('simple', folded)"
# Snippet markers: control characters no stored text contains, turned into <mark> after escaping.
_START, _STOP = "\x02", "\x03"
SQLITE_SNIPPETS = (
    "SELECT d.ticket_id, snippet(search_fts, -1, :start, :stop, '…', 16) FROM search_fts "
    "JOIN search_documents d ON d.id = search_fts.rowid "
    "WHERE search_fts MATCH :expression AND d.ticket_id IN :ids AND (:staff OR NOT d.internal) ORDER BY rank"
)
POSTGRESQL_SNIPPETS = (
    "SELECT d.ticket_id, ts_headline('simple', d.title || ' ' || d.body, to_tsquery('simple', :expression), "
    "'StartSel=' || :start || ', StopSel=' || :stop || ', MaxFragments=1, MaxWords=24, MinWords=10') "
    "FROM search_documents d WHERE to_tsvector('simple', d.folded) @@ to_tsquery('simple', :expression) "
    "AND d.ticket_id IN :ids AND (:staff OR NOT d.internal) "
    "ORDER BY ts_rank(to_tsvector('simple', d.folded), to_tsquery('simple', :expression)) DESC"
)
_TOKEN = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Text as the index stores it: accents removed and case folded, so "Café" and "cafe" match."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\x00", ""))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(query: str) -> list[str]:
    """The words of a user's query, folded; everything else (operators, quotes, punctuation) is dropped."""
    return _TOKEN.findall(fold(query))


def index_ticket(uow: UnitOfWork, ticket: Ticket, *, new: bool = False) -> None:
    """Index (or, unless ``new``, re-index) the ticket's own text: subject and description."""
    document = None
    if not new:
        document = uow.session.scalar(
            select(SearchDocument).where(SearchDocument.ticket_id == ticket.id, SearchDocument.comment_id.is_(None))
        )
    if document is None:
        document = SearchDocument(ticket_id=ticket.id, comment_id=None, internal=False)
        uow.session.add(document)
    document.title = ticket.subject
    document.body = html_to_text(ticket.description)
    document.folded = fold(f"{document.title} {document.body}")


def index_comment(uow: UnitOfWork, comment: Comment) -> None:
    """Index a new comment; internal notes are marked so only staff find them."""
    body = html_to_text(comment.body)
    uow.session.add(
        SearchDocument(
            ticket_id=comment.ticket_id,
            comment_id=comment.id,
            internal=not comment.public,
            body=body,
            folded=fold(body),
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
        # ts_rank is a float4; as float8 the rank survives the trip through a cursor exactly.
        score = cast(-func.ts_rank(vector, parsed), Double)
        matched = select(SearchDocument.ticket_id, func.min(score).label("rank")).where(vector.op("@@")(parsed))
    if not staff:
        matched = matched.where(SearchDocument.internal.is_(False))
    return matched.group_by(SearchDocument.ticket_id)


def ranked(uow: UnitOfWork, query: str) -> Select[tuple[int, float]] | None:
    """``(ticket_id, rank)`` of matching tickets the actor may search (lower rank is better), or None."""
    return _matching(uow, query)


def snippets(uow: UnitOfWork, query: str, ticket_ids: list[int]) -> dict[int, str]:
    """A short excerpt per ticket from its best matching document, HTML-escaped, matches in ``<mark>``."""
    if not ticket_ids:
        return {}
    staff = bool(uow.actor is not None and uow.actor.is_staff)
    sqlite = uow.desk.db.backend == "sqlite"
    expression = fts5_query(query) if sqlite else tsquery(query)
    if expression is None:
        return {}
    statement = text(SQLITE_SNIPPETS if sqlite else POSTGRESQL_SNIPPETS).bindparams(bindparam("ids", expanding=True))
    found: dict[int, str] = {}
    arguments = {"expression": expression, "ids": ticket_ids, "staff": staff, "start": _START, "stop": _STOP}
    rows = uow.session.execute(statement, arguments)
    for ticket_id, excerpt in rows:
        found.setdefault(ticket_id, _marked(excerpt))
    return found


def _marked(excerpt: str) -> str:
    return html.escape(excerpt).replace(_START, "<mark>").replace(_STOP, "</mark>")


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

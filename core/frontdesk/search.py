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
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Double,
    Select,
    and_,
    cast,
    exists,
    false,
    func,
    insert,
    literal_column,
    select,
    table,
    text,
    update,
)

from frontdesk.access import visible_tickets
from frontdesk.models import Comment, SearchDocument, Ticket
from frontdesk.text import html_to_text
from frontdesk.uow import UnitOfWork

# One configuration for every language: no stemming, but no wrong stemming either.
PG_CONFIG = "simple"
PG_VECTOR = "to_tsvector('simple', folded)"
# Excerpts: this many words, starting a few words before the first match.
EXCERPT_WORDS, EXCERPT_LEAD = 16, 3
_TOKEN = re.compile(r"\w+", re.UNICODE)
# A query matching at least this many documents is "common": a list sorted by time finds its page sooner by
# checking the newest tickets against the matches than by mapping every match to its ticket first.
COMMON_DOCUMENTS = 2000
# Ranking a common word by relevance looks at the newest this many documents (ticket texts and
# comments) only: bm25 over all of a word in a quarter of 1M tickets took ~0.7 s, over these ~0.07 s.
RANK_WINDOW = 50_000
_INSERT_DOCUMENT = insert(SearchDocument.__table__)


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
    title, body = ticket.subject, html_to_text(ticket.description)
    folded = fold(f"{title} {body}")
    if document is None:
        _insert_document(
            uow, ticket_id=ticket.id, comment_id=None, internal=False, title=title, body=body, folded=folded
        )
        return
    document.title, document.body, document.folded = title, body, folded


def index_comment(uow: UnitOfWork, comment: Comment) -> None:
    """Index a new comment; internal notes are marked so only staff find them."""
    body = html_to_text(comment.body)
    _insert_document(
        uow,
        ticket_id=comment.ticket_id,
        comment_id=comment.id,
        internal=not comment.public,
        title="",
        body=body,
        folded=fold(body),
    )


def _insert_document(uow: UnitOfWork, **row: Any) -> None:
    """A new document by a plain INSERT in the action's transaction (cheaper than the ORM's flush)."""
    uow.session.connection().execute(_INSERT_DOCUMENT, row)


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


def _matching(uow: UnitOfWork, query: str, since: int | None = None) -> Select[tuple[int, float]] | None:
    """Ticket ids with their best rank among the documents the actor may search (from id ``since`` on, SQLite)."""
    staff = bool(uow.actor is not None and uow.actor.is_staff)
    if uow.desk.db.backend == "sqlite":
        expression = fts5_query(query)
        if expression is None:
            return None
        hits = select(literal_column("rowid").label("document_id"), literal_column("rank").label("score"))
        hits = hits.select_from(table("search_fts")).where(
            text("search_fts MATCH :expression").bindparams(expression=expression)
        )
        if since is not None:  # the index skips older documents without ranking them
            hits = hits.where(literal_column("rowid") >= since)
        hits = hits.subquery()
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


def ranked(uow: UnitOfWork, query: str, *, since: int | None = None) -> Select[tuple[int, float]] | None:
    """``(ticket_id, rank)`` of matching tickets the actor may search (lower rank is better), or None.

    With ``since`` (SQLite, see :func:`rank_window`), only documents from that id on are ranked.
    """
    return _matching(uow, query, since)


def rank_window(uow: UnitOfWork, query: str) -> int | None:
    """The oldest document a relevance ranking of ``query`` should look at, or None to rank every match.

    A common word (:func:`is_common`) is ranked among the newest :data:`RANK_WINDOW` documents
    only, whose ids start here; that needs SQLite and at least that many documents.
    """
    if not is_common(uow, query):
        return None
    newest_first = select(SearchDocument.id).order_by(SearchDocument.id.desc())
    return uow.session.scalar(newest_first.offset(RANK_WINDOW - 1).limit(1))


def snippets(uow: UnitOfWork, query: str, ticket_ids: list[int]) -> dict[int, str]:
    """A short excerpt per ticket from its best matching document, HTML-escaped, matches in ``<mark>``.

    Cut here from the few documents of the page's tickets rather than by the database: asking the
    index for excerpts made it walk every match of the word, all of a common word's 250,000 at 1M
    tickets, to keep those of 25 tickets.
    """
    words = tokens(query)
    if not ticket_ids or not words:
        return {}
    documents = (
        select(SearchDocument.ticket_id, SearchDocument.title, SearchDocument.body)
        .where(SearchDocument.ticket_id.in_(ticket_ids), SearchDocument.folded.contains(words[-1], autoescape=True))
        .order_by(SearchDocument.id)
    )
    if not (uow.actor is not None and uow.actor.is_staff):
        documents = documents.where(SearchDocument.internal.is_(False))
    best: dict[int, tuple[int, str]] = {}
    for ticket_id, title, body in uow.session.execute(documents):
        found = excerpt(f"{title} {body}" if title else body, words)
        if found and found[0] > best.get(ticket_id, (0, ""))[0]:
            best[ticket_id] = found
    return {ticket_id: text for ticket_id, (_hits, text) in best.items()}


def excerpt(text: str, words: list[str]) -> tuple[int, str] | None:
    """``(matches, excerpt)`` of a document holding every word (the last as a prefix), else None.

    The excerpt is ``EXCERPT_WORDS`` words from just before the first match, escaped, with the
    matching words in ``<mark>`` and an ellipsis where text was cut.
    """
    exact, prefix = set(words[:-1]), words[-1]
    spans = [(m.start(), m.end(), fold(m.group())) for m in _TOKEN.finditer(text)]
    hits = [i for i, (_start, _end, word) in enumerate(spans) if word in exact or word.startswith(prefix)]
    seen = {spans[i][2] for i in hits}
    if not hits or not exact <= seen or not any(word.startswith(prefix) for word in seen):
        return None
    first = max(0, hits[0] - EXCERPT_LEAD)
    last = min(len(spans), first + EXCERPT_WORDS)
    marked = set(hits)
    pieces = ["…"] if first else []
    cursor = spans[first][0]
    for i in range(first, last):
        start, end, _word = spans[i]
        pieces.append(html.escape(text[cursor:start]))
        token = html.escape(text[start:end])
        pieces.append(f"<mark>{token}</mark>" if i in marked else token)
        cursor = end
    if last < len(spans):
        pieces.append("…")
    return len(hits), "".join(pieces)


def matching_ticket_ids(uow: UnitOfWork, query: str) -> Select[tuple[int]]:
    """Ids of tickets with documents matching ``query`` that the actor may search, for use in ``IN (...)``.

    No rank and no grouping: a list sorted by time only needs to know which tickets match, and
    ranking every match of a common word cost more than the rest of the query at 1M tickets.
    """
    if uow.desk.db.backend == "sqlite":
        expression = fts5_query(query)
        found = select(SearchDocument.ticket_id).where(SearchDocument.id.in_(_fts_matches(expression)))
    else:
        expression = tsquery(query)
        found = select(SearchDocument.ticket_id).where(
            literal_column(PG_VECTOR).op("@@")(func.to_tsquery(PG_CONFIG, expression))
        )
    if expression is None:
        return select(SearchDocument.ticket_id).where(false())
    if not (uow.actor is not None and uow.actor.is_staff):
        found = found.where(SearchDocument.internal.is_(False))
    return found


def is_common(uow: UnitOfWork, query: str) -> bool:
    """Whether ``query`` matches at least :data:`COMMON_DOCUMENTS` documents (SQLite; PostgreSQL answers False).

    Counted no further than that, so asking costs about a millisecond however common the word.
    """
    expression = fts5_query(query) if uow.desk.db.backend == "sqlite" else None
    if expression is None:
        return False
    counted = select(func.count()).select_from(_fts_matches(expression).limit(COMMON_DOCUMENTS).subquery())
    return uow.session.scalar(counted) == COMMON_DOCUMENTS


def has_match(uow: UnitOfWork, query: str, ticket_id: ColumnElement[int]) -> ColumnElement[bool]:
    """A condition: ticket ``ticket_id`` has a document matching ``query`` that the actor may search (SQLite).

    The matches are listed once per statement; each ticket is then checked through its own few
    documents, so the cost follows the tickets checked, not the matches. Meant for walking the
    newest tickets of a list with a common word (see :func:`is_common`).
    """
    expression = fts5_query(query)
    if expression is None:
        return false()
    # "+ 0" stops SQLite from probing the index once per match; it looks up the ticket's documents instead.
    condition = and_(
        SearchDocument.ticket_id == ticket_id, (SearchDocument.id + literal_column("0")).in_(_fts_matches(expression))
    )
    if not (uow.actor is not None and uow.actor.is_staff):
        condition = and_(condition, SearchDocument.internal.is_(False))
    return exists().where(condition)


def _fts_matches(expression: str) -> Select[tuple[int]]:
    """Ids of the documents matching an FTS5 expression."""
    return (
        select(literal_column("rowid"))
        .select_from(table("search_fts"))
        .where(text("search_fts MATCH :expression").bindparams(expression=expression))
    )


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

"""Reading tickets: filtered lists with keyset pagination, one ticket in full, always as the actor may see them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, text, true, tuple_
from sqlalchemy.orm import joinedload, selectinload

from frontdesk import search
from frontdesk.access import visible_tickets
from frontdesk.db import MAX_ID, UTCDateTime
from frontdesk.errors import NotFound, PermissionDenied, ValidationError
from frontdesk.models import (
    Comment,
    Group,
    HistoryEntry,
    Organization,
    Priority,
    Status,
    Tag,
    Ticket,
    TicketLink,
    TicketType,
    User,
    ticket_tags,
)
from frontdesk.schemas.tickets import CommentSchema, HistorySchema, TicketSchema
from frontdesk.services.tickets import get_ticket, normalize_tag
from frontdesk.uow import UnitOfWork

# Each sort is newest (or most urgent) first, with the ticket id breaking ties.
SORTS = {
    "updated": (Ticket.updated_at,),
    "created": (Ticket.created_at,),
    "number": (),
    "priority": (Priority.rank, Ticket.updated_at),
    "relevance": (),  # best full-text match first; needs a query
}
MAX_PAGE = 200
# A search for a common word walks at most this many of the newest tickets, in an order an index gives.
WALK_ROWS = 20_000
WALKED_SORTS = ("updated", "number")


@dataclass
class TicketFilter:
    """What a ticket list shows; every field is optional and they combine with AND."""

    status: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    group: str | None = None
    assignee: str | None = None  # an e-mail, "me" or "none"
    requester: str | None = None
    organization: str | None = None
    tag: list[str] = field(default_factory=list)  # every one of these tags
    tag_any: list[str] = field(default_factory=list)  # at least one of these tags
    priority: list[str] = field(default_factory=list)
    type: list[str] = field(default_factory=list)
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: str | None = None  # full-text query


@dataclass
class Page:
    """One page of a list and the cursor of the next page (None on the last page).

    ``recent_only``: a search sorted by relevance ranked only the newest documents (a common word).
    """

    items: list[Ticket]
    next_cursor: str | None
    recent_only: bool = False


def _encode(values: list[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode()


def _decode(cursor: str, sort: str) -> list[Any]:
    columns = [*SORTS[sort], Ticket.id]
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("wrong length")
        return [
            datetime.fromisoformat(value) if isinstance(column.type, UTCDateTime) else int(value)
            for column, value in zip(columns, values, strict=True)
        ]
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise ValidationError({"cursor": ["not a cursor this desk handed out for this sort"]}) from exc


def _filtered(uow: UnitOfWork, filters: TicketFilter) -> Select[tuple[Ticket]]:
    query = select(Ticket).where(visible_tickets(uow.actor))
    if filters.status:
        names = [name.lower() for name in filters.status]
        query = query.where(Ticket.status_id.in_(select(Status.id).where(func.lower(Status.name).in_(names))))
    if filters.category:
        query = query.where(Ticket.status_category.in_(filters.category))
    if filters.group:
        query = query.where(
            Ticket.group_id == select(Group.id).where(func.lower(Group.name) == filters.group.lower()).scalar_subquery()
        )
    if filters.assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee == "me":
        if uow.actor_id is None:
            raise ValidationError({"assignee": ["'me' needs a signed-in user"]})
        query = query.where(Ticket.assignee_id == uow.actor_id)
    elif filters.assignee:
        query = query.where(Ticket.assignee_id == _user_id(filters.assignee))
    if filters.requester:
        query = query.where(Ticket.requester_id == _user_id(filters.requester))
    if filters.organization:
        org = select(Organization.id).where(func.lower(Organization.name) == filters.organization.lower())
        query = query.where(Ticket.organization_id == org.scalar_subquery())
    for name in filters.tag:
        tagged = select(ticket_tags.c.ticket_id).join(Tag).where(Tag.name == _tag_name(name))
        query = query.where(Ticket.id.in_(tagged))
    if filters.tag_any:
        names = [_tag_name(name) for name in filters.tag_any]
        query = query.where(Ticket.id.in_(select(ticket_tags.c.ticket_id).join(Tag).where(Tag.name.in_(names))))
    if filters.priority:
        names = [name.lower() for name in filters.priority]
        query = query.where(Ticket.priority_id.in_(select(Priority.id).where(func.lower(Priority.name).in_(names))))
    if filters.type:
        names = [name.lower() for name in filters.type]
        query = query.where(Ticket.type_id.in_(select(TicketType.id).where(func.lower(TicketType.name).in_(names))))
    for column, bound, after in (
        (Ticket.created_at, filters.created_after, True),
        (Ticket.created_at, filters.created_before, False),
        (Ticket.updated_at, filters.updated_after, True),
        (Ticket.updated_at, filters.updated_before, False),
    ):
        if bound is not None:
            query = query.where(column >= bound if after else column < bound)
    if filters.q is not None:
        query = query.where(Ticket.id.in_(search.matching_ticket_ids(uow, filters.q)))
    return query


def count_tickets(uow: UnitOfWork, filters: list[TicketFilter], *, cap: int | None = None) -> list[int]:
    """How many visible tickets each filter matches, in one round trip: one sub-select per filter.

    The conditions are those :func:`list_tickets` applies, so a count always matches its list. Each
    sub-select is free to use its own index. With ``cap``, at most ``cap + 1`` rows are counted per
    filter, so a count above ``cap`` means "more than ``cap``" and costs no more than that to find.
    """
    counts = []
    for each in filters:
        condition = _filtered(uow, each).whereclause
        rows = select(Ticket.id).where(true() if condition is None else condition)
        if cap is not None:
            rows = rows.limit(cap + 1)
        counts.append(select(func.count()).select_from(rows.subquery()).scalar_subquery())
    return [int(n) for n in uow.session.execute(select(*counts)).one()]


def _tag_name(raw: str) -> str | None:
    """The stored form of a tag to filter by; a name no tag can have matches nothing (it is no error)."""
    try:
        return normalize_tag(raw)
    except ValidationError:
        return None


def _user_id(email: str) -> Any:
    return select(User.id).where(func.lower(User.email) == email.strip().lower()).scalar_subquery()


def list_tickets(
    uow: UnitOfWork, filters: TicketFilter, *, sort: str = "updated", cursor: str | None = None, limit: int = 25
) -> Page:
    """A page of tickets, newest first by ``sort`` (``updated`` or ``created``), stable under inserts.

    The cursor names the last row shown, so pages never skip or repeat rows when tickets are
    added meanwhile, and deep pages cost as little as the first.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError({"limit": [f"between 1 and {MAX_PAGE}"]})
    if sort == "relevance":
        return _list_by_relevance(uow, filters, cursor, limit)
    if sort not in SORTS:
        plugin_sort = plugin_sorts(uow).get(sort)
        if plugin_sort is None:
            raise ValidationError({"sort": [f"sort by one of: {', '.join([*SORTS, *plugin_sorts(uow)])}"]})
        return _list_by_plugin_sort(uow, filters, plugin_sort(), cursor, limit)
    columns = [*SORTS[sort], Ticket.id]
    if uow.desk.db.backend == "postgresql":
        # The FROM order is already the best one (tickets through the queue index, then primary-key
        # look-ups); left to search join orders, PostgreSQL plans ~14 ms for a 0.4 ms query.
        uow.session.execute(text("SET LOCAL join_collapse_limit = 1"))
    if filters.q is None:
        query = _in_order(_filtered(uow, filters), sort, cursor, limit + 1)
        rows = list(uow.session.scalars(query.options(*TICKET_LOADS)).unique())
    else:
        # Ids first, then the page with its related rows: joined to every match of a common word
        # before the sort, the related rows made a search ten times slower.
        rows = _tickets_in_order(uow, _search_page_ids(uow, filters, sort, cursor, limit + 1))
    items = rows[:limit]
    if len(rows) <= limit or not items:
        return Page(items, None)
    last = items[-1]
    values = [last.priority.rank if column is Priority.rank else getattr(last, column.key) for column in columns]
    return Page(items, _encode(values))


def _in_order(query: Select[Any], sort: str, cursor: str | None, limit: int) -> Select[Any]:
    """``query`` newest first by ``sort``, from after ``cursor``, at most ``limit`` rows."""
    columns = [*SORTS[sort], Ticket.id]
    if sort == "priority":
        query = query.join(Priority, Priority.id == Ticket.priority_id)
    if cursor:
        query = query.where(tuple_(*columns) < tuple_(*_decode(cursor, sort)))
    return query.order_by(*(column.desc() for column in columns)).limit(limit)


def _search_page_ids(uow: UnitOfWork, filters: TicketFilter, sort: str, cursor: str | None, limit: int) -> list[int]:
    """Ids of up to ``limit`` tickets of a full-text search, in the order of ``sort``.

    A common word is found sooner among the newest tickets: walking the list's index and checking
    each ticket against the matches takes ~30 ms at 1M tickets where mapping all of a word's 250,000
    matches to their tickets first took ~480 ms. The walk stops at the ``WALK_ROWS`` newest tickets;
    when those hold less than the page (the word is in older tickets, or the actor sees few), every
    match is mapped after all, so the answer is the same either way.
    """
    if sort in WALKED_SORTS and search.is_common(uow, filters.q or ""):
        columns = [*SORTS[sort], Ticket.id]
        walk = _in_order(_filtered(uow, replace(filters, q=None)), sort, cursor, limit)
        walk = walk.where(search.has_match(uow, filters.q or "", Ticket.id))
        edge = uow.session.execute(_in_order(select(*columns), sort, cursor, 1).offset(WALK_ROWS - 1)).first()
        if edge is not None:
            walk = walk.where(tuple_(*columns) >= tuple_(*edge))
        ids = list(uow.session.scalars(walk.with_only_columns(Ticket.id)))
        if len(ids) == limit or edge is None:
            return ids
    mapped = _in_order(_filtered(uow, filters), sort, cursor, limit)
    return list(uow.session.scalars(mapped.with_only_columns(Ticket.id)))


def _tickets_in_order(uow: UnitOfWork, ids: list[int]) -> list[Ticket]:
    """The tickets of ``ids`` with what lists show of them, in the order of ``ids`` (one page, few queries)."""
    found = uow.session.scalars(select(Ticket).where(Ticket.id.in_(ids)).options(*TICKET_LOADS)).unique()
    by_id = {ticket.id: ticket for ticket in found}
    return [by_id[ticket_id] for ticket_id in ids]


def plugin_sorts(uow: UnitOfWork) -> dict[str, Any]:
    """Orders plugins' list columns offer (``ListColumn.sort``), by name: ``<plugin>.<column key>``."""
    user = uow.actor if isinstance(uow.actor, User) else None
    return {
        f"{plugin}.{column.key}": column.sort
        for plugin, columns in uow.desk.plugins.calls.each("frontdesk_ticket_list_columns", user=user)
        for column in columns
        if column.sort is not None
    }


def _list_by_plugin_sort(uow: UnitOfWork, filters: TicketFilter, key: Any, cursor: str | None, limit: int) -> Page:
    """Tickets in ascending order of a plugin's expression, those without a value last, then by number.

    The cursor holds whether the last row had a value, the value and the ticket id.
    """
    missing = case((key.is_(None), 1), else_=0)
    query = _filtered(uow, filters)
    if cursor:
        had_none, value, last_id = _decode_plugin_cursor(cursor, key)
        if had_none:
            query = query.where(key.is_(None), Ticket.id > last_id)
        else:
            query = query.where(or_(key.is_(None), key > value, and_(key == value, Ticket.id > last_id)))
    query = query.order_by(missing, key, Ticket.id).limit(limit + 1).with_only_columns(Ticket.id, key)
    ids_and_keys = [(ticket_id, value) for ticket_id, value in uow.session.execute(query)]
    items = _tickets_in_order(uow, [ticket_id for ticket_id, _value in ids_and_keys[:limit]])
    if len(ids_and_keys) <= limit:
        return Page(items, None)
    last_id, value = ids_and_keys[limit - 1]
    return Page(items, _encode([value is None, value, last_id]))


def _decode_plugin_cursor(cursor: str, key: Any) -> tuple[bool, Any, int]:
    try:
        had_none, value, last_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(key.type, UTCDateTime) and value is not None:
            value = datetime.fromisoformat(value)
        return bool(had_none), value, int(last_id)
    except (ValueError, TypeError) as exc:
        raise ValidationError({"cursor": ["not a cursor this desk handed out for this sort"]}) from exc


def _list_by_relevance(uow: UnitOfWork, filters: TicketFilter, cursor: str | None, limit: int) -> Page:
    """Tickets matching ``filters.q``, best match first; the cursor holds the last rank and id, and the window.

    A common word is ranked among the newest documents only (:func:`frontdesk.search.rank_window`),
    and the page says so (``Page.recent_only``); when those hold less than a page for this actor,
    every match is ranked after all. Later pages keep the first page's window.
    """
    if not filters.q:
        raise ValidationError({"sort": ["sorting by relevance needs a search query (q)"]})
    after: tuple[float, int] | None = None
    if cursor:
        try:
            rank, last_id, *window = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            after, since = (float(rank), int(last_id)), (int(window[0]) if window and window[0] is not None else None)
        except (ValueError, TypeError) as exc:
            raise ValidationError({"cursor": ["not a cursor this desk handed out for this sort"]}) from exc
        return _ranked_page(uow, filters, since, after, limit)
    since = search.rank_window(uow, filters.q)
    page = _ranked_page(uow, filters, since, None, limit)
    if since is not None and len(page.items) < limit:  # the window holds too little of what this actor sees
        page = _ranked_page(uow, filters, None, None, limit)
    return page


def _ranked_page(
    uow: UnitOfWork, filters: TicketFilter, since: int | None, after: tuple[float, int] | None, limit: int
) -> Page:
    """One page by relevance, ranking documents from id ``since`` on (all with None), after ``(rank, id)``."""
    ranked = search.ranked(uow, filters.q or "", since=since)
    if ranked is None:  # no word to search for
        return Page([], None)
    hits = ranked.subquery()
    query = _filtered(uow, replace(filters, q=None)).join(hits, hits.c.ticket_id == Ticket.id).add_columns(hits.c.rank)
    if after is not None:
        rank, last_id = after
        query = query.where(or_(hits.c.rank > rank, and_(hits.c.rank == rank, Ticket.id < last_id)))
    query = query.order_by(hits.c.rank, Ticket.id.desc()).limit(limit + 1).options(*TICKET_LOADS)
    rows = list(uow.session.execute(query).unique())
    items = [ticket for ticket, _rank in rows[:limit]]
    recent_only = since is not None
    if len(rows) <= limit:
        return Page(items, None, recent_only)
    return Page(items, _encode([float(rows[limit - 1][1]), items[-1].id, since]), recent_only)


def ticket_extensions(uow: UnitOfWork, ticket: Ticket) -> dict[str, Any]:
    """Extra fields plugins add to a ticket (``frontdesk_ticket_fields``), by plugin name."""
    user = uow.actor if isinstance(uow.actor, User) else None
    return dict(uow.desk.plugins.calls.each("frontdesk_ticket_fields", ticket=ticket, user=user))


TICKET_LOADS = (
    joinedload(Ticket.requester),
    joinedload(Ticket.assignee),
    joinedload(Ticket.group),
    joinedload(Ticket.status),
    joinedload(Ticket.priority),
    joinedload(Ticket.type),
    joinedload(Ticket.organization),
    selectinload(Ticket.tags),
    selectinload(Ticket.ccs),
)


# One ticket: its tags joined too, so it comes in one statement (and one for its CCs).
ONE_TICKET_LOADS = (*TICKET_LOADS[:-2], joinedload(Ticket.tags), selectinload(Ticket.ccs))


def ticket_for_output(uow: UnitOfWork, number: int) -> Ticket:
    """One visible ticket with everything :class:`TicketSchema` shows loaded, extensions included.

    Not found (:class:`NotFound`, as :func:`~frontdesk.services.tickets.get_ticket` says it) when the
    actor may not see it.
    """
    if not 1 <= number <= MAX_ID:
        raise NotFound(f"ticket #{number} not found")
    visible = select(Ticket).where(Ticket.id == number, visible_tickets(uow.actor))
    ticket = uow.session.scalars(visible.options(*ONE_TICKET_LOADS)).unique().one_or_none()
    if ticket is None:
        raise NotFound(f"ticket #{number} not found")
    return with_extensions(uow, ticket)


def comments_of(uow: UnitOfWork, number: int) -> list[Comment]:
    """The comments of a visible ticket the actor may read (internal notes for staff only), oldest first."""
    ticket = get_ticket(uow, number)
    query = select(Comment).where(Comment.ticket_id == ticket.id)
    if not (uow.actor is not None and uow.actor.is_staff):
        query = query.where(Comment.public.is_(True))
    query = query.options(joinedload(Comment.author), selectinload(Comment.attachments)).order_by(Comment.id)
    return list(uow.session.scalars(query).unique())


def history_of(uow: UnitOfWork, number: int) -> list[HistoryEntry]:
    """The change history of a visible ticket (staff only)."""
    ticket = get_ticket(uow, number)
    if not (uow.actor is not None and uow.actor.is_staff):
        raise PermissionDenied("the change history is for agents")
    query = select(HistoryEntry).where(HistoryEntry.ticket_id == ticket.id)
    return list(uow.session.scalars(query.options(joinedload(HistoryEntry.actor)).order_by(HistoryEntry.id)))


def links_of(uow: UnitOfWork, number: int) -> list[dict[str, Any]]:
    """The links of a visible ticket, seen from that ticket (``parent_of``, ``duplicated_by``...)."""
    ticket = get_ticket(uow, number)
    links = uow.session.scalars(
        select(TicketLink).where(or_(TicketLink.source_id == ticket.id, TicketLink.target_id == ticket.id))
    )
    return [_link_view(link, ticket.id) for link in links]


def with_extensions(uow: UnitOfWork, ticket: Ticket) -> Ticket:
    """The ticket with ``ticket.extensions`` set, ready for :class:`TicketSchema`."""
    ticket.extensions = ticket_extensions(uow, ticket)  # type: ignore[attr-defined]
    return ticket


def dump_ticket(uow: UnitOfWork, ticket: Ticket) -> dict[str, Any]:
    """A ticket as JSON-ready data, with plugin extensions."""
    return TicketSchema().dump(with_extensions(uow, ticket))


def ticket_details(uow: UnitOfWork, number: int) -> dict[str, Any]:
    """Everything about one ticket the actor may see: fields, comments, links and history."""
    staff = bool(uow.actor is not None and uow.actor.is_staff)
    return {
        **TicketSchema().dump(ticket_for_output(uow, number)),
        "comments": CommentSchema(many=True).dump(comments_of(uow, number)),
        "links": links_of(uow, number),
        "history": HistorySchema(many=True).dump(history_of(uow, number)) if staff else [],
    }


def _link_view(link: TicketLink, ticket_id: int) -> dict[str, Any]:
    outgoing = link.source_id == ticket_id
    other = link.target_id if outgoing else link.source_id
    kind = link.kind
    if not outgoing:
        kind = {"duplicate": "duplicated_by", "parent": "child_of", "merged": "merged_from"}.get(kind, kind)
    elif kind == "parent":
        kind = "parent_of"
    elif kind == "duplicate":
        kind = "duplicate_of"
    elif kind == "merged":
        kind = "merged_into"
    return {"kind": kind, "ticket": other}


__all__ = ["Page", "TicketFilter", "dump_ticket", "list_tickets", "ticket_details"]

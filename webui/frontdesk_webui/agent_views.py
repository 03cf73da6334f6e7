"""What the agent workspace shows, read through queries and services: the rail's views, lists and one ticket.

Everything here runs inside a unit of work opened by the routes in :mod:`frontdesk_webui.agent`;
permissions are the queries' business (an agent only ever sees tickets ``visible_tickets`` allows).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from frontdesk import queries, search
from frontdesk.db import utcnow
from frontdesk.models import Group, SavedView, StatusCategory, Ticket, User
from frontdesk.queries import TicketFilter
from frontdesk.services import automation, catalog, macros, people
from frontdesk.services import views as saved_views
from frontdesk.uow import UnitOfWork
from frontdesk_webui.slots import list_columns

OPEN_CATEGORIES = [StatusCategory.NEW.value, StatusCategory.OPEN.value, StatusCategory.PENDING.value]
CATEGORIES = [category.value for category in StatusCategory]
RECENT = timedelta(days=7)
PAGE_SIZE = 25
COUNT_CAP = 1_000  # the rail says "1,000+" beyond: counting further costs time and tells nobody anything
SORTS = {"updated": "Updated", "created": "Created", "priority": "Priority", "number": "Number"}
LIST_PARAMS = ("q", "category", "priority", "tag", "sort")
CATEGORY_STYLE = {
    "new": "text-bg-warning",
    "open": "text-bg-danger",
    "pending": "text-bg-primary",
    "solved": "text-bg-success",
    "closed": "text-bg-secondary",
}


@dataclass
class View:
    """One entry of the rail: a named ticket filter with its live count."""

    key: str
    label: str
    filters: TicketFilter
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    count: int | None = None
    columns: tuple[str, ...] = saved_views.COLUMNS
    sort: str = "updated"
    saved: SavedView | None = None

    def url(self, **params: Any) -> str:
        return url_for(self.endpoint, **self.args, **{k: v for k, v in params.items() if v not in (None, "", [])})


def queue_groups(uow: UnitOfWork, user: User) -> list[Group]:
    """The groups whose queues the rail shows: every group for admins and all-groups agents, else the agent's own."""
    if user.is_admin or user.all_groups:
        return people.list_groups(uow)
    me = people.read_user(uow, user.id)
    return sorted((membership.group for membership in me.memberships), key=lambda group: group.name.lower())


def rail_views(uow: UnitOfWork, user: User) -> list[View]:
    """The rail of ``user``, each view with its count (one query for all counts)."""
    everywhere = user.is_admin or user.all_groups
    views = [
        View(
            "mine",
            "My open tickets",
            TicketFilter(assignee="me", category=OPEN_CATEGORIES),
            "agent.index",
            description="Assigned to you and not solved or closed",
        ),
        View(
            "unassigned",
            "Unassigned" if everywhere else "Unassigned in my groups",
            TicketFilter(assignee="none", category=OPEN_CATEGORIES),
            "agent.view",
            {"key": "unassigned"},
            "Nobody's yet, not solved or closed"
            + ("" if everywhere else ": your groups' tickets and those with no group yet"),
        ),
    ]
    for group in queue_groups(uow, user):
        views.append(
            View(
                f"group-{group.id}",
                group.name,
                TicketFilter(group=group.name, category=OPEN_CATEGORIES),
                "agent.group_queue",
                {"group_id": group.id},
                f"{group.name}'s queue: not solved or closed",
            )
        )
    if user.is_admin:
        views.append(View("all", "All tickets", TicketFilter(), "agent.view", {"key": "all"}, "Every ticket"))
    views.append(
        View(
            "recent",
            "Recently updated",
            TicketFilter(updated_after=utcnow() - RECENT),
            "agent.view",
            {"key": "recent"},
            "Changed in the last 7 days",
        )
    )
    for saved in saved_views.list_views(uow):
        views.append(
            View(
                f"saved-{saved.id}",
                saved.name,
                saved_views.ticket_filter(saved),
                "agent.saved_view",
                {"view_id": saved.id},
                ("Shared view" if saved.owner_id is None else "Your view") + describe_filters(saved.filters),
                columns=tuple(saved.columns),
                sort=saved.sort,
                saved=saved,
            )
        )
    count_views(uow, views)
    return views


def describe_filters(filters: dict[str, Any]) -> str:
    """What a saved view keeps, in a few words: ``: tag hardware · priority urgent``."""
    parts = [
        f"{label} {', '.join(value) if isinstance(value, list) else value}"
        for key, label in (
            ("category", "status"),
            ("priority", "priority"),
            ("tag", "tag"),
            ("group", "group"),
            ("assignee", "assignee"),
            ("q", "search"),
        )
        if (value := filters.get(key))
    ]
    return ": " + " · ".join(parts) if parts else ": every ticket you can see"


def my_workload(uow: UnitOfWork) -> list[tuple[str, int]]:
    """The signed-in agent's open tickets by status category, for the dashboard."""
    categories = list(OPEN_CATEGORIES)
    counts = queries.count_tickets(uow, [TicketFilter(assignee="me", category=[c]) for c in categories])
    return list(zip(categories, counts, strict=True))


def everything_view() -> View:
    """Every ticket the agent may see: where a search from the ticket page looks (and the admins' "All")."""
    return View("all", "All tickets you can see", TicketFilter(), "agent.view", {"key": "all"}, "Any status")


def count_views(uow: UnitOfWork, views: list[View]) -> None:
    """Set each view's count with one ``SELECT``: the very conditions its list applies, counted side by side.

    The conditions come from the list query itself, so a count always matches what its list shows.
    """
    counts = queries.count_tickets(uow, [view.filters for view in views], cap=COUNT_CAP)
    for view, count in zip(views, counts, strict=True):
        view.count = count


@dataclass
class ListState:
    """The list's GET parameters: search, filters, sort and page."""

    q: str = ""
    category: str = ""  # "" = the view's own, "any" = every category
    priority: str = ""
    tag: str = ""
    sort: str = ""
    cursor: str = ""

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> ListState:
        category = args.get("category", "").strip().lower()
        return cls(
            q=args.get("q", "").strip()[:200],
            category=category if category in (*CATEGORIES, "any") else "",
            priority=args.get("priority", "").strip()[:50],
            tag=args.get("tag", "").strip()[:50],
            sort=args.get("sort", "").strip(),
            cursor=args.get("cursor", "").strip()[:1000],
        )

    def sort_for(self, view: View, offered: Collection[str] = ()) -> str:
        """The list's order: the one asked for (``offered`` adds plugins' orders), else relevance when
        searching, else the view's own."""
        if self.sort in SORTS or self.sort in offered or (self.sort == "relevance" and self.q):
            return self.sort
        return "relevance" if self.q else view.sort

    def params(self, **overrides: Any) -> dict[str, str]:
        """The parameters of this list (no cursor: a new sort or filter starts at the first page)."""
        values = {name: getattr(self, name) for name in LIST_PARAMS}
        values.update(overrides)
        return {name: value for name, value in values.items() if value}

    def filters(self, view: View) -> TicketFilter:
        category = {"": view.filters.category, "any": []}.get(self.category, [self.category])
        return replace(
            view.filters,
            q=self.q or view.filters.q,
            category=list(category),
            priority=[self.priority] if self.priority else list(view.filters.priority),
            tag=[self.tag] if self.tag else list(view.filters.tag),
        )


def list_page(uow: UnitOfWork, view: View, state: ListState) -> dict[str, Any]:
    """One page of a view's list, with search snippets when searching, and what its forms offer."""
    sort = state.sort_for(view, queries.plugin_sorts(uow))
    page = queries.list_tickets(uow, state.filters(view), sort=sort, cursor=state.cursor or None, limit=PAGE_SIZE)
    snippets = search.snippets(uow, state.q, [ticket.id for ticket in page.items]) if state.q else {}
    next_url = view.url(**state.params(), cursor=page.next_cursor) if page.next_cursor else None
    return {
        "tickets": page.items,
        "sort": sort,
        "recent_only": page.recent_only,
        "rank_window": search.RANK_WINDOW,
        "plugin_columns": list_columns(uow.desk, uow.actor, page.items),
        "view_columns": saved_views.COLUMNS,
        # search.snippets escapes the text itself and adds nothing but <mark> tags.
        "snippets": {number: Markup(excerpt) for number, excerpt in snippets.items()},  # noqa: S704
        "next_url": next_url,
        "first_url": view.url(**state.params()) if state.cursor else None,
        "statuses": catalog.list_statuses(uow),
        "priorities": catalog.list_priorities(uow),
        "sorts": SORTS,
        "categories": CATEGORIES,
    }


def ticket_page(uow: UnitOfWork, number: int) -> dict[str, Any]:
    """Everything the ticket page shows, each part loaded in a fixed number of queries."""
    ticket = queries.ticket_for_output(uow, number)
    others = queries.list_tickets(uow, TicketFilter(requester=ticket.requester.email), limit=6).items
    staff = [
        user
        for role in ("agent", "admin")
        for user in people.list_users(uow, {"role": role, "active": True, "limit": 200}).items
    ]
    return {
        "ticket": ticket,
        "comments": queries.comments_of(uow, number),
        "history": queries.history_of(uow, number),
        "links": queries.links_of(uow, number),
        "requester_tickets": [other for other in others if other.id != ticket.id][:5],
        "statuses": catalog.list_statuses(uow),
        "priorities": catalog.list_priorities(uow),
        "types": catalog.list_types(uow),
        "groups": people.list_groups(uow),
        "staff": sorted(staff, key=lambda user: (user.name.lower(), user.email)),
        "macros": macros.list_macros(uow),
        "next_level": ticket.group.escalates_to if ticket.group else None,
        "automation_log": automation.automation_log(uow, number),
    }


def current_properties(ticket: Ticket) -> dict[str, Any]:
    """The ticket's editable properties as the form shows them."""
    return {
        "subject": ticket.subject,
        "status": ticket.status.name,
        "priority": ticket.priority.name,
        "type": ticket.type.name if ticket.type else "",
        "group": ticket.group.name if ticket.group else "",
        "assignee": ticket.assignee.email if ticket.assignee else "",
        "add_tags": "",
        "remove_tags": [],
    }


def when(moment: datetime | None) -> Markup:
    """A ``<time>`` element: relative for recent moments, the full UTC time on hover and for machines."""
    if moment is None:
        return Markup('<span class="text-body-secondary">never</span>')
    seconds = (utcnow() - moment).total_seconds()
    if seconds < 60:
        short = "just now"
    elif seconds < 3600:
        short = f"{int(seconds // 60)} min ago"
    elif seconds < 86400:
        short = f"{int(seconds // 3600)} h ago"
    elif seconds < 7 * 86400:
        short = f"{int(seconds // 86400)} d ago"
    else:
        short = moment.strftime("%Y-%m-%d")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M UTC"), short
    )


def show_value(value: Any) -> str:
    """A history value in words: lists joined, links as ``kind #n``, nothing as a dash."""
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(map(show_value, value))
    if isinstance(value, dict):
        if "ticket" in value:
            return " ".join(part for part in (str(value.get("kind", "")), f"#{value['ticket']}") if part)
        return ", ".join(f"{key}: {show_value(item)}" for key, item in value.items())
    return str(value)


def priority_style(rank: int) -> str:
    """Bootstrap classes for a priority badge: the more urgent, the louder."""
    if rank >= 40:
        return "priority-urgent"
    if rank >= 30:
        return "priority-high"
    if rank >= 20:
        return "priority-normal"
    return "priority-low"


def shown_count(count: int | None) -> str:
    """A view's count as the rail shows it: exact up to ``COUNT_CAP``, then "1,000+"."""
    if count is None:
        return ""
    return f"{COUNT_CAP:,}+" if count > COUNT_CAP else f"{count:,}"


TEMPLATE_HELPERS = {
    "when": when,
    "shown_count": shown_count,
    "show_value": show_value,
    "priority_style": priority_style,
    "category_style": CATEGORY_STYLE,
}

"""Saved ticket views: named lists (filters, columns, sort) kept by an agent or shared with every agent."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from frontdesk.errors import PermissionDenied, ValidationError
from frontdesk.models import SavedView, StatusCategory
from frontdesk.queries import TicketFilter, plugin_sorts
from frontdesk.schemas import load
from frontdesk.services import ownership
from frontdesk.uow import UnitOfWork

COLUMNS = ("number", "subject", "requester", "status", "priority", "assignee", "group", "updated", "created")
SORTS = ("updated", "created", "priority", "number")
MAX_VIEWS = 50  # per agent, plus the shared ones


class ViewFiltersSchema(Schema):
    """The filters a saved view may set (all optional, combined with AND)."""

    category = fields.List(fields.String(validate=validate.OneOf([c.value for c in StatusCategory])), load_default=list)
    priority = fields.List(fields.String(validate=validate.Length(min=1, max=50)), load_default=list)
    tag = fields.List(fields.String(validate=validate.Length(min=1, max=50)), load_default=list)
    group = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    assignee = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=320))
    q = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class SavedViewSchema(Schema):
    """A saved view as agents write it."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    filters = fields.Nested(ViewFiltersSchema, load_default=dict)
    columns = fields.List(fields.String(validate=validate.OneOf(COLUMNS)), load_default=lambda: list(COLUMNS))
    sort = fields.String(load_default="updated", validate=validate.Length(min=1, max=100))
    shared = fields.Boolean(load_default=False)


def ticket_filter(view: SavedView) -> TicketFilter:
    """The list query of a saved view."""
    stored = view.filters
    return TicketFilter(
        category=list(stored.get("category") or []),
        priority=list(stored.get("priority") or []),
        tag=list(stored.get("tag") or []),
        group=stored.get("group") or None,
        assignee=stored.get("assignee") or None,
        q=stored.get("q") or None,
    )


def list_views(uow: UnitOfWork) -> list[SavedView]:
    """The shared views, then the acting agent's own, in their order."""
    uow.require("tickets.work")
    query = select(SavedView).where(ownership.usable(SavedView, uow.actor_id))
    return list(uow.session.scalars(query.order_by(SavedView.owner_id.is_not(None), SavedView.position, SavedView.id)))


def get_view(uow: UnitOfWork, view_id: int) -> SavedView:
    """A view the acting agent may use: shared, or their own (anyone else's is not found)."""
    uow.require("tickets.work")
    return ownership.get_usable(uow, SavedView, view_id, "view")


def create_view(uow: UnitOfWork, data: dict[str, Any]) -> SavedView:
    """Save a view for yourself, or for every agent (``shared``: admins)."""
    uow.require("tickets.work")
    values = load(SavedViewSchema(), data)
    shared = values.pop("shared")
    if shared:
        uow.require("desk.configure")
    elif uow.actor_id is None:
        raise ValidationError({"shared": ["the system can only save shared views"]})
    owner_id = None if shared else uow.actor_id
    values["name"] = values["name"].strip()
    if not values["name"]:
        raise ValidationError({"name": ["must not be blank"]})
    if not values["columns"]:
        raise ValidationError({"columns": ["show at least one column"]})
    offered = [*SORTS, *plugin_sorts(uow)]
    if values["sort"] not in offered:
        raise ValidationError({"sort": [f"sort by one of: {', '.join(offered)}"]})
    ownership.check_unique_name(uow, SavedView, values["name"], owner_id, "view")
    count = uow.session.scalar(select(func.count(SavedView.id)).where(ownership.owned_by(SavedView, owner_id))) or 0
    if count >= MAX_VIEWS:
        raise ValidationError({"name": [f"{MAX_VIEWS} views at most; delete one first"]})
    view = SavedView(**values, owner_id=owner_id, position=count + 1)
    uow.session.add(view)
    uow.session.flush()
    uow.emit("view.created", payload={"view_id": view.id, "shared": shared})
    return view


def removable_view(uow: UnitOfWork, view_id: int) -> SavedView:
    """A view the actor may remove: their own, or a shared one (admins); :class:`PermissionDenied` otherwise."""
    view = get_view(uow, view_id)
    if view.owner_id is None and not uow.can("desk.configure"):
        raise PermissionDenied("only admins remove shared views")
    return view


def delete_view(uow: UnitOfWork, view_id: int) -> None:
    """Remove your own view, or a shared one (admins)."""
    view = removable_view(uow, view_id)
    uow.session.delete(view)
    uow.emit("view.deleted", payload={"view_id": view_id})

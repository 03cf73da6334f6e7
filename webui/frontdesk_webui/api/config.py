"""``/api/v1/statuses``, ``/priorities``, ``/types`` and ``/tags``: the desk's workflow data.

Anyone signed in reads statuses, priorities and types; changing them needs the ``desk.configure``
permission (admins) and, with an API token, the ``admin`` scope. Tag counts are for agents and
admins and count only the tickets the caller can see.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from frontdesk.errors import PermissionDenied
from frontdesk.models import User
from frontdesk.schemas.catalog import (
    PriorityCreateSchema,
    PrioritySchema,
    PriorityUpdateSchema,
    StatusCreateSchema,
    StatusSchema,
    StatusUpdateSchema,
    TagCountSchema,
    TagListSchema,
    TicketTypeCreateSchema,
    TicketTypeSchema,
    TicketTypeUpdateSchema,
)
from frontdesk.services import catalog
from frontdesk_webui.api.auth import SAFE_METHODS, actor, require_actor, require_scope
from frontdesk_webui.context import desk

blp = Blueprint(
    "config",
    __name__,
    url_prefix="/api/v1",
    description="Statuses, priorities and ticket types (admins change them), and tags with counts.",
)


@blp.before_request
def authorize() -> None:
    """Refuse who may not call before the body or query is validated: 403 comes before 422."""
    user = require_actor()
    if request.method not in SAFE_METHODS:
        require_scope("admin")
        desk().permissions.require(user, catalog.PERMISSION)
    elif request.endpoint == "config.Tags" and not user.is_staff:
        raise PermissionDenied("tag counts are for agents and admins")


def admin() -> User:
    """The caller of a configuration change: signed in and, with a token, holding the ``admin`` scope."""
    user = require_actor()
    require_scope("admin")
    return user


def _read(reader: Any, entry_id: int) -> Any:
    with desk().reading(actor()) as uow:
        return reader(uow, entry_id)


# Statuses


@blp.route("/statuses")
class Statuses(MethodView):
    @blp.response(200, StatusSchema(many=True))
    def get(self) -> Any:
        """List statuses in workflow order, with their category and whether each is its category's default."""
        with desk().reading(actor()) as uow:
            return catalog.list_statuses(uow)

    @blp.arguments(StatusCreateSchema)
    @blp.response(201, StatusSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a status (admins); ``is_default`` makes it its category's default."""
        with desk().action(admin(), source="api") as uow:
            status_id = catalog.create_status(uow, data).id
        return _read(catalog.read_status, status_id), 201, {"Location": f"/api/v1/statuses/{status_id}"}


@blp.route("/statuses/<int:status_id>")
class StatusItem(MethodView):
    @blp.response(200, StatusSchema)
    def get(self, status_id: int) -> Any:
        """One status."""
        return _read(catalog.read_status, status_id)

    @blp.arguments(StatusUpdateSchema)
    @blp.response(200, StatusSchema)
    def patch(self, changes: dict[str, Any], status_id: int) -> Any:
        """Rename, reorder or recategorize a status, or make it the default (admins).

        A new category moves the status's tickets to it; the old category must keep another status.
        """
        with desk().action(admin(), source="api") as uow:
            catalog.update_status(uow, status_id, changes)
        return _read(catalog.read_status, status_id)

    @blp.response(204)
    def delete(self, status_id: int) -> Response:
        """Delete a status no ticket uses (admins); its category must keep another status."""
        with desk().action(admin(), source="api") as uow:
            catalog.delete_status(uow, status_id)
        return Response(status=204)


# Priorities


@blp.route("/priorities")
class Priorities(MethodView):
    @blp.response(200, PrioritySchema(many=True))
    def get(self) -> Any:
        """List priorities, least urgent first."""
        with desk().reading(actor()) as uow:
            return catalog.list_priorities(uow)

    @blp.arguments(PriorityCreateSchema)
    @blp.response(201, PrioritySchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a priority (admins); a higher rank is more urgent."""
        with desk().action(admin(), source="api") as uow:
            priority_id = catalog.create_priority(uow, data).id
        return _read(catalog.read_priority, priority_id), 201, {"Location": f"/api/v1/priorities/{priority_id}"}


@blp.route("/priorities/<int:priority_id>")
class PriorityItem(MethodView):
    @blp.response(200, PrioritySchema)
    def get(self, priority_id: int) -> Any:
        """One priority."""
        return _read(catalog.read_priority, priority_id)

    @blp.arguments(PriorityUpdateSchema)
    @blp.response(200, PrioritySchema)
    def patch(self, changes: dict[str, Any], priority_id: int) -> Any:
        """Rename or re-rank a priority, or make it the default (admins)."""
        with desk().action(admin(), source="api") as uow:
            catalog.update_priority(uow, priority_id, changes)
        return _read(catalog.read_priority, priority_id)

    @blp.response(204)
    def delete(self, priority_id: int) -> Response:
        """Delete a priority no ticket uses (admins); the last priority stays."""
        with desk().action(admin(), source="api") as uow:
            catalog.delete_priority(uow, priority_id)
        return Response(status=204)


# Ticket types


@blp.route("/types")
class Types(MethodView):
    @blp.response(200, TicketTypeSchema(many=True))
    def get(self) -> Any:
        """List ticket types in display order."""
        with desk().reading(actor()) as uow:
            return catalog.list_types(uow)

    @blp.arguments(TicketTypeCreateSchema)
    @blp.response(201, TicketTypeSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a ticket type (admins)."""
        with desk().action(admin(), source="api") as uow:
            type_id = catalog.create_type(uow, data).id
        return _read(catalog.read_type, type_id), 201, {"Location": f"/api/v1/types/{type_id}"}


@blp.route("/types/<int:type_id>")
class TypeItem(MethodView):
    @blp.response(200, TicketTypeSchema)
    def get(self, type_id: int) -> Any:
        """One ticket type."""
        return _read(catalog.read_type, type_id)

    @blp.arguments(TicketTypeUpdateSchema)
    @blp.response(200, TicketTypeSchema)
    def patch(self, changes: dict[str, Any], type_id: int) -> Any:
        """Rename or reorder a ticket type (admins)."""
        with desk().action(admin(), source="api") as uow:
            catalog.update_type(uow, type_id, changes)
        return _read(catalog.read_type, type_id)

    @blp.response(204)
    def delete(self, type_id: int) -> Response:
        """Delete a ticket type no ticket uses (admins)."""
        with desk().action(admin(), source="api") as uow:
            catalog.delete_type(uow, type_id)
        return Response(status=204)


# Tags


@blp.route("/tags")
class Tags(MethodView):
    @blp.arguments(TagListSchema, location="query")
    @blp.response(200, TagCountSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Tags on the tickets the caller can see, most used first, with how many of those tickets carry each.

        Agents and admins only. ``prefix`` narrows to tags starting with it (for completion).
        """
        with desk().reading(actor()) as uow:
            return catalog.tags_with_counts(uow, prefix=args["prefix"], limit=args["limit"])

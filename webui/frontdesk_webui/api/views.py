"""``/api/v1/views``: agents' saved ticket views (filters, columns, sort), their own or shared.

A view's tickets are listed with ``GET /api/v1/tickets`` and the view's filters as query parameters.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from frontdesk.services import views
from frontdesk_webui.api.auth import actor, require_actor, require_scope
from frontdesk_webui.context import desk

blp = Blueprint("views", __name__, url_prefix="/api/v1", description="Saved ticket views of the agent workspace.")


@blp.before_request
def authorize() -> None:
    """Refuse requesters before the body is validated: 403 comes before 422."""
    desk().permissions.require(require_actor(), "tickets.work")


class ViewOutSchema(Schema):
    """A saved view the caller can open."""

    id = fields.Integer()
    name = fields.String()
    filters = fields.Dict(metadata={"description": "category, priority, tag (lists); group, assignee, q"})
    columns = fields.List(fields.String())
    sort = fields.String()
    shared = fields.Function(lambda view: view.owner_id is None, metadata={"type": "boolean"})
    created_at = fields.DateTime()


@blp.route("/views")
class Views(MethodView):
    @blp.response(200, ViewOutSchema(many=True))
    def get(self) -> Any:
        """The shared views, then the caller's own."""
        with desk().reading(actor()) as uow:
            return views.list_views(uow)

    @blp.arguments(views.SavedViewSchema)
    @blp.response(201, ViewOutSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Save a view for the caller, or shared with every agent (``shared``: admins)."""
        user = require_actor()
        if data.get("shared"):
            require_scope("admin")
        with desk().action(user, source="api") as uow:
            view_id = views.create_view(uow, views.SavedViewSchema().dump(data)).id
        with desk().reading(user) as uow:
            return views.get_view(uow, view_id), 201, {"Location": f"/api/v1/views/{view_id}"}


@blp.route("/views/<int:view_id>")
class ViewItem(MethodView):
    @blp.response(200, ViewOutSchema)
    def get(self, view_id: int) -> Any:
        """One view: a shared one, or the caller's own."""
        with desk().reading(actor()) as uow:
            return views.get_view(uow, view_id)

    @blp.response(204)
    def delete(self, view_id: int) -> Response:
        """Remove the caller's view, or a shared one (admins)."""
        with desk().action(require_actor(), source="api") as uow:
            if views.get_view(uow, view_id).owner_id is None:
                require_scope("admin")
            views.delete_view(uow, view_id)
        return Response(status=204)

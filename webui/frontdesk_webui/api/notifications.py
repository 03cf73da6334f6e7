"""``/api/v1/me/notifications``: the caller's in-app notifications (the bell), and marking them read."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from frontdesk import notifications
from frontdesk_webui.api.auth import require_actor
from frontdesk_webui.api.schemas import ID
from frontdesk_webui.context import desk

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/me/notifications",
    description="The caller's in-app notifications.",
)


class NotificationArgs(Schema):
    """How many of the newest notifications to show."""

    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class NotificationSchema(Schema):
    """One notification: what happened, on which ticket, and whether the caller has read it."""

    id = fields.Integer()
    kind = fields.String(metadata={"description": "ticket.assigned, ticket.escalated..."})
    ticket = fields.Integer(attribute="ticket_id", allow_none=True, metadata={"description": "The ticket's number"})
    subject = fields.String()
    body = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True, metadata={"description": "Null while unread"})


class NotificationListSchema(Schema):
    """How many notifications are unread, and the newest ones (read or not)."""

    unread = fields.Integer()
    items = fields.List(fields.Nested(NotificationSchema))


class MarkReadSchema(Schema):
    """Which notifications to mark read: these ids, or all of them when ``ids`` is left out."""

    ids = fields.List(fields.Integer(validate=ID), validate=validate.Length(max=1000))


class MarkedSchema(Schema):
    """How many notifications this call marked read, and how many stay unread."""

    marked = fields.Integer()
    unread = fields.Integer()


def _unread_count() -> int:
    """How many of the caller's notifications are unread now."""
    with desk().reading(require_actor()) as uow:
        return notifications.unread(uow, limit=0)[0]


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationArgs, location="query")
    @blp.response(200, NotificationListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's unread count and newest notifications, newest first."""
        with desk().reading(require_actor()) as uow:
            count, newest = notifications.unread(uow, limit=args["limit"])
        return {"unread": count, "items": newest}


@blp.route("/read")
class MarkRead(MethodView):
    @blp.arguments(MarkReadSchema)
    @blp.response(200, MarkedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Mark notifications read: the ``ids`` given (other people's are ignored), or all of the caller's."""
        with desk().action(require_actor(), source="api") as uow:
            marked = notifications.mark_read(uow, data.get("ids"))
        return {"marked": marked, "unread": _unread_count()}

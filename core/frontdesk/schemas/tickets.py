"""Schemas for tickets, comments and history: what services accept and what entry points show."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from frontdesk.models import LinkKind

NOT_BLANK = validate.Regexp(r".*\S", error="Must not be blank.")
BODY_FORMAT = fields.String(load_default="text", validate=validate.OneOf(["text", "html"]))
NAME = fields.String(validate=validate.Length(max=100))


class TicketCreateSchema(Schema):
    """A new ticket. Without ``requester`` the actor is the requester."""

    subject = fields.String(required=True, validate=validate.And(validate.Length(max=250), NOT_BLANK))
    body = fields.String(load_default="", validate=validate.Length(max=1_000_000))
    body_format = BODY_FORMAT
    requester = fields.Email(load_default=None, allow_none=True)
    requester_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    priority = fields.String(load_default=None, allow_none=True)
    type = fields.String(load_default=None, allow_none=True)
    group = fields.String(load_default=None, allow_none=True)
    assignee = fields.Email(load_default=None, allow_none=True)
    tags = fields.List(fields.String(), load_default=list, validate=validate.Length(max=50))
    ccs = fields.List(fields.Email(), load_default=list, validate=validate.Length(max=50))
    channel = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    extensions = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String()),
        load_default=dict,
        metadata={"description": "values of the fields plugins add: `{plugin: {field: value}}`"},
    )


class TicketUpdateSchema(Schema):
    """Changes to a ticket; only the fields given change. ``version`` guards against lost updates."""

    subject = fields.String(validate=validate.And(validate.Length(max=250), NOT_BLANK))
    status = fields.String()
    priority = fields.String()
    type = fields.String(allow_none=True)
    group = fields.String(allow_none=True)
    assignee = fields.Email(allow_none=True)
    tags = fields.List(fields.String(), validate=validate.Length(max=50))
    add_tags = fields.List(fields.String(), validate=validate.Length(max=50))
    remove_tags = fields.List(fields.String(), validate=validate.Length(max=50))
    add_ccs = fields.List(fields.Email(), validate=validate.Length(max=50))
    remove_ccs = fields.List(fields.Email(), validate=validate.Length(max=50))
    version = fields.Integer(allow_none=True)


class CommentCreateSchema(Schema):
    """A reply (public) or an internal note."""

    body = fields.String(required=True, validate=validate.And(validate.Length(max=1_000_000), NOT_BLANK))
    body_format = BODY_FORMAT
    public = fields.Boolean(load_default=True)


class LinkCreateSchema(Schema):
    """A link from one ticket to another."""

    kind = fields.String(
        required=True, validate=validate.OneOf([k.value for k in LinkKind if k is not LinkKind.MERGED])
    )


_PERSON_PROPERTIES = {"id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"}}


def _person(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "email": user.email, "name": user.name}


class PersonField(fields.Field):
    """A user shown as id, e-mail and name."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"type": "object", "properties": _PERSON_PROPERTIES}, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return _person(value)


class TicketSchema(Schema):
    """A ticket as entry points show it."""

    number = fields.Integer()
    subject = fields.String()
    description = fields.String()
    requester = PersonField()
    organization = fields.Function(lambda t: t.organization.name if t.organization else None, allow_none=True)
    status = fields.Function(lambda t: t.status.name)
    status_category = fields.String()
    priority = fields.Function(lambda t: t.priority.name)
    type = fields.Function(lambda t: t.type.name if t.type else None, allow_none=True)
    group = fields.Function(lambda t: t.group.name if t.group else None, allow_none=True)
    assignee = PersonField(allow_none=True)
    tags = fields.Function(lambda t: [tag.name for tag in t.tags])
    ccs = fields.Function(lambda t: [user.email for user in t.ccs])
    channel = fields.String()
    merged_into = fields.Integer(attribute="merged_into_id", allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    status_changed_at = fields.DateTime()
    first_response_at = fields.DateTime(allow_none=True)
    solved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    extensions = fields.Dict(metadata={"description": "Fields added by plugins, by plugin name."})


class AttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class CommentSchema(Schema):
    """A comment as entry points show it."""

    id = fields.Integer()
    ticket = fields.Integer(attribute="ticket_id")
    author = PersonField(allow_none=True)
    body = fields.String()
    public = fields.Boolean()
    channel = fields.String()
    created_at = fields.DateTime()
    attachments = fields.List(fields.Nested(AttachmentSchema))


class HistorySchema(Schema):
    """One change in a ticket's history."""

    field = fields.String()
    old = fields.Raw(attribute="old_value", allow_none=True)
    new = fields.Raw(attribute="new_value", allow_none=True)
    actor = fields.Function(lambda h: h.actor.email if h.actor else "system")
    source = fields.String()
    created_at = fields.DateTime()

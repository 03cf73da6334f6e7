"""Schemas for the configurable workflow data: statuses, priorities, ticket types, and tag counts."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from frontdesk.models import StatusCategory

NAME = validate.And(
    validate.Length(max=50, error="At most {max} characters."),
    validate.Regexp(r".*\S", error="Must not be blank."),
)
# Positions and ranks are plain orderings; the bound keeps them inside every database's integer.
ORDER = validate.Range(min=-1_000_000, max=1_000_000, error="Between {min} and {max}.")
CATEGORIES = [c.value for c in StatusCategory]


class _Named(Schema):
    """Strips the name, so " Open " and "Open" are the same name."""

    @post_load
    def normalize(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if isinstance(data.get("name"), str):
            data["name"] = data["name"].strip()
        return data


class StatusCreateSchema(_Named):
    """A new status; ``category`` is what it means to the desk (new, open, pending, solved, closed)."""

    name = fields.String(required=True, validate=NAME)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    position = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=ORDER, metadata={"description": "Default: last"}
    )
    is_default = fields.Boolean(
        load_default=False, metadata={"description": "The status tickets get when they enter this category"}
    )


class StatusUpdateSchema(_Named):
    """Changes to a status; changing the category moves the tickets in it to the new category."""

    name = fields.String(validate=NAME)
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    position = fields.Integer(strict=True, validate=ORDER)
    is_default = fields.Boolean()


class StatusSchema(Schema):
    """A status as entry points show it."""

    id = fields.Integer()
    name = fields.String()
    category = fields.String()
    position = fields.Integer()
    is_default = fields.Boolean()


class PriorityCreateSchema(_Named):
    """A new priority; a higher ``rank`` is more urgent."""

    name = fields.String(required=True, validate=NAME)
    rank = fields.Integer(required=True, strict=True, validate=ORDER)
    is_default = fields.Boolean(load_default=False, metadata={"description": "The priority of new tickets"})


class PriorityUpdateSchema(_Named):
    """Changes to a priority."""

    name = fields.String(validate=NAME)
    rank = fields.Integer(strict=True, validate=ORDER)
    is_default = fields.Boolean()


class PrioritySchema(Schema):
    """A priority as entry points show it."""

    id = fields.Integer()
    name = fields.String()
    rank = fields.Integer()
    is_default = fields.Boolean()


class TicketTypeCreateSchema(_Named):
    """A new ticket type (question, incident, task...)."""

    name = fields.String(required=True, validate=NAME)
    position = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=ORDER, metadata={"description": "Default: last"}
    )


class TicketTypeUpdateSchema(_Named):
    """Changes to a ticket type."""

    name = fields.String(validate=NAME)
    position = fields.Integer(strict=True, validate=ORDER)


class TicketTypeSchema(Schema):
    """A ticket type as entry points show it."""

    id = fields.Integer()
    name = fields.String()
    position = fields.Integer()


MAX_TAGS = 1000


class TagListSchema(Schema):
    """Which tags to count: those starting with ``prefix``, the ``limit`` most used."""

    prefix = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=50), metadata={"description": "Tag start"}
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_TAGS))


class TagCountSchema(Schema):
    """A tag and how many tickets the caller can see carry it."""

    name = fields.String()
    count = fields.Integer()

"""Request and response shapes the API adds around the core's entity schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from werkzeug.routing import IntegerConverter

from frontdesk.db import MAX_ID
from frontdesk.models import LinkKind, StatusCategory
from frontdesk.queries import MAX_PAGE, SORTS
from frontdesk.schemas.tickets import TicketSchema, TicketUpdateSchema

ID = validate.Range(1, MAX_ID)


class IdConverter(IntegerConverter):
    """``<int:...>`` in URLs, limited to what a database id can hold (larger numbers are simply not found)."""

    def __init__(self, map: object, **kwargs: object) -> None:
        super().__init__(map, min=1, max=MAX_ID)  # type: ignore[arg-type]


class TicketListArgs(Schema):
    """Filters, sort and page of ``GET /api/v1/tickets``; repeat a list parameter to give several values."""

    status = fields.List(fields.String(), metadata={"description": "Status names (any of)"})
    category = fields.List(fields.String(validate=validate.OneOf([c.value for c in StatusCategory])))
    priority = fields.List(fields.String())
    type = fields.List(fields.String())
    group = fields.String()
    assignee = fields.String(metadata={"description": "An e-mail address, `me` or `none`"})
    requester = fields.String()
    organization = fields.String()
    tag = fields.List(fields.String(), metadata={"description": "Tickets carrying every one of these tags"})
    tag_any = fields.List(fields.String(), metadata={"description": "Tickets carrying at least one of these tags"})
    created_after = fields.AwareDateTime()
    created_before = fields.AwareDateTime()
    updated_after = fields.AwareDateTime()
    updated_before = fields.AwareDateTime()
    q = fields.String(validate=validate.Length(max=500), metadata={"description": "Full-text search"})
    sort = fields.String(
        load_default="updated",
        validate=validate.Length(max=100),
        metadata={"description": f"{', '.join(SORTS)}, or a plugin's column (`sla.sla`)"},
    )
    cursor = fields.String(metadata={"description": "`next_cursor` of the previous page"})
    limit = fields.Integer(load_default=25, validate=validate.Range(1, MAX_PAGE))


class TicketListItemSchema(TicketSchema):
    """A ticket in a list; with a search query, ``snippet`` shows where it matched (HTML, matches in <mark>)."""

    snippet = fields.String()


class TicketPageSchema(Schema):
    """One page of tickets; pass ``next_cursor`` as ``cursor`` for the next (null on the last page)."""

    items = fields.List(fields.Nested(TicketListItemSchema))
    next_cursor = fields.String(allow_none=True)
    recent_only = fields.Boolean(
        metadata={
            "description": "sorted by relevance, a common word is ranked among the newest messages only; "
            "sort by `updated` to list every match"
        }
    )


class BulkUpdateSchema(Schema):
    """The same change applied to up to 500 tickets in one transaction."""

    ids = fields.List(fields.Integer(validate=ID), required=True, validate=validate.Length(min=1, max=500))
    changes = fields.Nested(TicketUpdateSchema, required=True)


class BulkResultSchema(Schema):
    """What happened to each ticket of a bulk update."""

    number = fields.Integer()
    ok = fields.Boolean()
    code = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True)


class BulkResponseSchema(Schema):
    results = fields.List(fields.Nested(BulkResultSchema))


class MergeSchema(Schema):
    """Merge this ticket into ``into``."""

    into = fields.Integer(required=True, validate=ID)


class LinkSchema(Schema):
    """Link this ticket to ``ticket``."""

    ticket = fields.Integer(required=True, validate=ID)
    kind = fields.String(
        required=True, validate=validate.OneOf([k.value for k in LinkKind if k is not LinkKind.MERGED])
    )


class LinkViewSchema(Schema):
    kind = fields.String()
    ticket = fields.Integer()

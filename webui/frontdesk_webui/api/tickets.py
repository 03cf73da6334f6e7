"""`/api/v1/tickets`: tickets, their comments, links and history."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from frontdesk import queries, search
from frontdesk.errors import FrontdeskError, NotFound, ValidationError
from frontdesk.queries import TicketFilter
from frontdesk.schemas.tickets import (
    CommentCreateSchema,
    CommentSchema,
    HistorySchema,
    TicketCreateSchema,
    TicketSchema,
    TicketUpdateSchema,
)
from frontdesk.services import comments, links, tickets
from frontdesk.text import whole_number
from frontdesk_webui.api.auth import actor, require_actor
from frontdesk_webui.api.schemas import (
    BulkResponseSchema,
    BulkUpdateSchema,
    LinkSchema,
    LinkViewSchema,
    MergeSchema,
    TicketListArgs,
    TicketPageSchema,
)
from frontdesk_webui.context import desk

blp = Blueprint("tickets", __name__, url_prefix="/api/v1/tickets", description="Tickets and what happens to them.")

FILTER_FIELDS = set(TicketFilter.__dataclass_fields__)
# Arguments are declared with schema instances: given a class, webargs builds a schema per request.


def _shown(number: int) -> Any:
    """The ticket as the caller may see it now, with its version as ETag."""
    with desk().reading(actor()) as uow:
        return queries.ticket_for_output(uow, number)


def _with_etag(ticket: Any, status: int = 200) -> tuple[Any, int, dict[str, str]]:
    return ticket, status, {"ETag": f'"{ticket.version}"'}


def _if_match() -> int | None:
    """The version named by an `If-Match` header (`"7"` or `W/"7"`), if any."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    version = whole_number(value)
    if version is None:
        raise ValidationError({"If-Match": ['give the ticket\'s ETag, e.g. "7"']})
    return version


@blp.route("")
class TicketCollection(MethodView):
    @blp.arguments(TicketListArgs(), location="query")
    @blp.response(200, TicketPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List tickets the caller may see, newest first, one page at a time."""
        filters = TicketFilter(**{key: value for key, value in args.items() if key in FILTER_FIELDS})
        with desk().reading(actor()) as uow:
            page = queries.list_tickets(uow, filters, sort=args["sort"], cursor=args.get("cursor"), limit=args["limit"])
            items = [queries.with_extensions(uow, ticket) for ticket in page.items]
            if args.get("q"):
                excerpts = search.snippets(uow, args["q"], [ticket.id for ticket in items])
                for ticket in items:
                    ticket.snippet = excerpts.get(ticket.id, "")
        return {"items": items, "next_cursor": page.next_cursor, "recent_only": page.recent_only}

    @blp.arguments(TicketCreateSchema())
    @blp.response(201, TicketSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Open a ticket (requesters: for themselves; agents: for anyone)."""
        with desk().action(require_actor(), source="api") as uow:
            number = tickets.create_ticket(uow, data).number
        ticket = _shown(number)
        return ticket, 201, {"ETag": f'"{ticket.version}"', "Location": f"/api/v1/tickets/{number}"}


@blp.route("/<int:number>")
class TicketItem(MethodView):
    @blp.response(200, TicketSchema)
    def get(self, number: int) -> Any:
        """One ticket; its ETag is its version, for `If-Match` on changes."""
        return _with_etag(_shown(number))

    @blp.arguments(TicketUpdateSchema())
    @blp.response(200, TicketSchema)
    @blp.alt_response(204, description="Changed; the change moved the ticket out of the caller's view")
    def patch(self, changes: dict[str, Any], number: int) -> Any:
        """Change fields; a stale `If-Match` or `version` answers 409 and changes nothing."""
        expected = _if_match()
        if expected is not None:
            changes["version"] = expected
        with desk().action(require_actor(), source="api") as uow:
            tickets.update_ticket(uow, number, changes)
        return shown_after_change(number)


def shown_after_change(number: int) -> Any:
    """The ticket as the caller sees it after their change; 204 when the change took it out of their view."""
    try:
        return _with_etag(_shown(number))
    except NotFound:
        return Response(status=204)


@blp.route("/bulk")
class BulkUpdate(MethodView):
    @blp.arguments(BulkUpdateSchema())
    @blp.response(200, BulkResponseSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Apply one change to up to 500 tickets in one transaction; each ticket reports its own result."""
        results = []
        with desk().action(require_actor(), source="api") as uow:
            for number in data["ids"]:
                try:
                    with uow.savepoint():
                        ticket = tickets.update_ticket(uow, number, dict(data["changes"]))
                    results.append({"number": number, "ok": True, "version": ticket.version})
                except FrontdeskError as exc:
                    results.append({"number": number, "ok": False, "code": exc.code, "message": exc.message})
        return {"results": results}


@blp.route("/<int:number>/merge")
class Merge(MethodView):
    @blp.arguments(MergeSchema())
    @blp.response(200, TicketSchema)
    def post(self, data: dict[str, Any], number: int) -> Any:
        """Merge this ticket into another; answers with the ticket that carries on."""
        with desk().action(require_actor(), source="api") as uow:
            links.merge_tickets(uow, number, data["into"])
        return _with_etag(_shown(data["into"]))


@blp.route("/<int:number>/links")
class Links(MethodView):
    @blp.response(200, LinkViewSchema(many=True))
    def get(self, number: int) -> Any:
        """Links of this ticket, seen from it (parent_of, child_of, duplicate_of...)."""
        with desk().reading(actor()) as uow:
            return queries.links_of(uow, number)

    @blp.arguments(LinkSchema())
    @blp.response(201, LinkViewSchema(many=True))
    def post(self, data: dict[str, Any], number: int) -> Any:
        """Link this ticket to another: related, duplicate (of it) or parent (of it)."""
        with desk().action(require_actor(), source="api") as uow:
            links.link_tickets(uow, number, data["ticket"], data["kind"])
        with desk().reading(actor()) as uow:
            return queries.links_of(uow, number), 201


@blp.route("/<int:number>/links/<int:other>")
class Link(MethodView):
    @blp.response(204)
    def delete(self, number: int, other: int) -> Response:
        """Remove the links between two tickets."""
        with desk().action(require_actor(), source="api") as uow:
            links.unlink_tickets(uow, number, other)
        return Response(status=204)


@blp.route("/<int:number>/history")
class History(MethodView):
    @blp.response(200, HistorySchema(many=True))
    def get(self, number: int) -> Any:
        """Every change of the ticket: field, old and new value, who, from where, when (agents)."""
        with desk().reading(require_actor()) as uow:
            return queries.history_of(uow, number)


@blp.route("/<int:number>/comments")
class Comments(MethodView):
    @blp.response(200, CommentSchema(many=True))
    def get(self, number: int) -> Any:
        """Replies (and, for agents, internal notes), oldest first."""
        with desk().reading(actor()) as uow:
            return queries.comments_of(uow, number)

    @blp.arguments(CommentCreateSchema())
    @blp.response(201, CommentSchema)
    def post(self, data: dict[str, Any], number: int) -> Any:
        """Reply publicly, or add an internal note (`public: false`, agents only)."""
        with desk().action(require_actor(), source="api") as uow:
            comment_id = comments.add_comment(uow, number, data).id
        with desk().reading(actor()) as uow:
            return next(c for c in queries.comments_of(uow, number) if c.id == comment_id), 201

"""``/api/v1/macros`` and the one-step actions agents take on a ticket: applying a macro, escalating it.

Everything here needs the ``tickets.work`` permission (agents and admins). Personal macros belong to
their agent; shared macros are changed by admins (``automation.manage``, and the ``admin`` scope with
an API token). A ticket the caller cannot see answers 404, as everywhere.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from frontdesk.schemas.tickets import TicketSchema
from frontdesk.services import escalation, macros
from frontdesk_webui.api.auth import actor, require_actor, require_scope
from frontdesk_webui.api.tickets import _if_match, shown_after_change
from frontdesk_webui.context import desk

blp = Blueprint(
    "macros",
    __name__,
    url_prefix="/api/v1",
    description="Macros (canned replies with field changes) and escalation: agents' one-step actions on tickets.",
)

NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")
ACTIONS = (
    'Each `{"type", ...parameters}`: `set`, `add_tags`, `remove_tags`, `assign`, `escalate` or a plugin\'s, '
    'e.g. `{"type": "set", "field": "status", "value": "pending"}`'
)


@blp.before_request
def authorize() -> None:
    """Refuse requesters before the body is validated: 403 comes before 422 (and before 404 on tickets)."""
    desk().permissions.require(require_actor(), "tickets.work")


class MacroChangesSchema(Schema):
    """Changes to a macro; only the fields given change. A macro needs a text or at least one action."""

    name = fields.String(validate=[validate.Length(min=1, max=120), NO_NUL])
    description = fields.String(validate=[validate.Length(max=2000), NO_NUL])
    body = fields.String(
        validate=[validate.Length(max=100_000), NO_NUL],
        metadata={"description": "The reply or note it adds, a template (`{{ ticket.requester.name }}`...)"},
    )
    public = fields.Boolean(metadata={"description": "The text is a public reply (true) or an internal note"})
    actions = fields.List(fields.Dict(), validate=validate.Length(max=20), metadata={"description": ACTIONS})
    shared = fields.Boolean(metadata={"description": "Shared with every agent (admins) or the caller's own"})


class MacroCreateSchema(MacroChangesSchema):
    """A new macro: the caller's own, or shared with every agent (``shared``, admins)."""

    name = fields.String(required=True, validate=[validate.Length(min=1, max=120), NO_NUL])


class MacroSchema(Schema):
    """A macro the caller can apply."""

    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    body = fields.String()
    public = fields.Boolean()
    actions = fields.List(fields.Dict(), metadata={"description": ACTIONS})
    shared = fields.Function(lambda macro: macro.owner_id is None, metadata={"type": "boolean"})
    position = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ApplySchema(Schema):
    """Which version of the ticket the agent looked at (or send it as ``If-Match``)."""

    version = fields.Integer(
        allow_none=True, metadata={"description": "The ticket's version: a stale one answers 409 and changes nothing"}
    )


class EscalateSchema(Schema):
    """Why the ticket goes up a level; shown to the next level's agents."""

    reason = fields.String(load_default="", validate=[validate.Length(max=2000), NO_NUL])


def _macro(macro_id: int) -> Any:
    """One macro as the caller sees it, read after a change has committed."""
    with desk().reading(actor()) as uow:
        return macros.get_macro(uow, macro_id)


@blp.route("/macros")
class Macros(MethodView):
    @blp.response(200, MacroSchema(many=True))
    def get(self) -> Any:
        """The macros the caller can apply: the shared ones, then their own."""
        with desk().reading(actor()) as uow:
            return macros.list_macros(uow)

    @blp.arguments(MacroCreateSchema)
    @blp.response(201, MacroSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a personal macro, or a shared one (admins)."""
        user = require_actor()
        if data.get("shared"):
            require_scope("admin")
        with desk().action(user, source="api") as uow:
            macro_id = macros.create_macro(uow, data).id
        return _macro(macro_id), 201, {"Location": f"/api/v1/macros/{macro_id}"}


@blp.route("/macros/<int:macro_id>")
class MacroItem(MethodView):
    @blp.response(200, MacroSchema)
    def get(self, macro_id: int) -> Any:
        """One macro: a shared one, or the caller's own."""
        return _macro(macro_id)

    @blp.arguments(MacroChangesSchema)
    @blp.response(200, MacroSchema)
    def patch(self, changes: dict[str, Any], macro_id: int) -> Any:
        """Change a macro: the caller's own, or a shared one (admins)."""
        with desk().action(require_actor(), source="api") as uow:
            if macros.get_macro(uow, macro_id).owner_id is None:
                require_scope("admin")
            macros.update_macro(uow, macro_id, changes)
        return _macro(macro_id)

    @blp.response(204)
    def delete(self, macro_id: int) -> Response:
        """Delete a macro: the caller's own, or a shared one (admins)."""
        with desk().action(require_actor(), source="api") as uow:
            if macros.get_macro(uow, macro_id).owner_id is None:
                require_scope("admin")
            macros.delete_macro(uow, macro_id)
        return Response(status=204)


@blp.route("/tickets/<int:number>/macros/<int:macro_id>")
class ApplyMacro(MethodView):
    @blp.arguments(ApplySchema)
    @blp.response(200, TicketSchema)
    @blp.alt_response(204, description="Applied; the macro moved the ticket out of the caller's view")
    def post(self, data: dict[str, Any], number: int, macro_id: int) -> Any:
        """Apply a macro to the ticket: its field changes, then its reply or note; answers with the ticket.

        Give the version the agent saw (``version`` or ``If-Match``): if the ticket changed since,
        the answer is 409 and nothing is applied.
        """
        expected = _if_match()
        version = expected if expected is not None else data.get("version")
        with desk().action(require_actor(), source="api") as uow:
            macros.apply_macro(uow, macro_id, number, version)
        return shown_after_change(number)


@blp.route("/tickets/<int:number>/escalate")
class Escalate(MethodView):
    @blp.arguments(EscalateSchema)
    @blp.response(200, TicketSchema)
    @blp.alt_response(204, description="Escalated; the caller is not in the next level's group, so no longer sees it")
    def post(self, data: dict[str, Any], number: int) -> Any:
        """Move the ticket to its group's next support level and notify that group's agents.

        The assignee stays if they belong to the next group, otherwise the ticket is unassigned.
        A group with no next level answers 422.
        """
        with desk().action(require_actor(), source="api") as uow:
            escalation.escalate(uow, number, data["reason"])
        return shown_after_change(number)

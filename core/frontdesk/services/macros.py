"""Macros: canned responses with field changes that agents apply to a ticket in one step."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from frontdesk.automation.actions import validate_action
from frontdesk.automation.templates import check, person, render, ticket_values
from frontdesk.db import utcnow
from frontdesk.errors import Conflict, PermissionDenied, ValidationError
from frontdesk.models import Macro, Ticket
from frontdesk.schemas import load
from frontdesk.services import ownership
from frontdesk.services.comments import add_comment
from frontdesk.services.tickets import get_ticket
from frontdesk.uow import UnitOfWork

MACRO_ACTIONS = ("set", "add_tags", "remove_tags", "assign", "escalate")


class MacroSchema(Schema):
    """A macro as agents write it."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    body = fields.String(load_default="", validate=validate.Length(max=100_000))
    public = fields.Boolean(load_default=True)
    actions = fields.List(fields.Dict(), load_default=list, validate=validate.Length(max=20))
    shared = fields.Boolean(load_default=False)


def allowed_in_macros(action_type: str) -> bool:
    """Whether macros may use an action type: field changes, tags, assignment, escalation, and plugins' actions."""
    return action_type in MACRO_ACTIONS or "." in action_type


def list_macros(uow: UnitOfWork) -> list[Macro]:
    """The macros the acting agent can apply: the shared ones and their own."""
    uow.require("tickets.work")
    query = select(Macro).where(ownership.usable(Macro, uow.actor_id))
    return list(uow.session.scalars(query.order_by(Macro.owner_id.is_not(None), Macro.position, Macro.name)))


def get_macro(uow: UnitOfWork, macro_id: int) -> Macro:
    """A macro the acting agent can see."""
    uow.require("tickets.work")
    return ownership.get_usable(uow, Macro, macro_id, "macro")


def create_macro(uow: UnitOfWork, data: dict[str, Any]) -> Macro:
    """Add a personal macro, or a shared one (``shared``, needs ``automation.manage``)."""
    uow.require("tickets.work")
    values = _validated(uow, data)
    shared = values.pop("shared")
    if shared:
        uow.require("automation.manage")
    elif uow.actor_id is None:
        raise ValidationError({"shared": ["the system can only create shared macros"]})
    owner_id = None if shared else uow.actor_id
    ownership.check_unique_name(uow, Macro, values["name"], owner_id, "macro")  # YAML import matches by name
    now = utcnow()
    macro = Macro(**values, owner_id=owner_id, created_at=now, updated_at=now)
    uow.session.add(macro)
    uow.session.flush()
    uow.emit("macro.created", payload={"macro_id": macro.id, "name": macro.name})
    return macro


def update_macro(uow: UnitOfWork, macro_id: int, data: dict[str, Any]) -> Macro:
    """Change a macro: your own, or a shared one with ``automation.manage``."""
    macro = _editable(uow, macro_id)
    current = {
        "name": macro.name,
        "description": macro.description,
        "body": macro.body,
        "public": macro.public,
        "actions": macro.actions,
        "shared": macro.owner_id is None,
    }
    values = _validated(uow, {**current, **data})
    if values.pop("shared") != current["shared"]:
        raise ValidationError({"shared": ["copy the macro to share or unshare it"]})
    ownership.check_unique_name(uow, Macro, values["name"], macro.owner_id, "macro", exclude_id=macro.id)
    for key, value in values.items():
        setattr(macro, key, value)
    macro.updated_at = utcnow()
    uow.emit("macro.updated", payload={"macro_id": macro.id})
    return macro


def delete_macro(uow: UnitOfWork, macro_id: int) -> None:
    """Remove a macro: your own, or a shared one with ``automation.manage``."""
    macro = _editable(uow, macro_id)
    uow.session.delete(macro)
    uow.emit("macro.deleted", payload={"macro_id": macro_id})


def apply_macro(uow: UnitOfWork, macro_id: int, number: int, version: int | None = None) -> Ticket:
    """Apply a macro to a ticket as the acting agent: its reply or note, then its field changes.

    ``version`` (optional) must be the ticket's current version, as for any edit.
    """
    macro = get_macro(uow, macro_id)
    ticket = get_ticket(uow, number)
    if version is not None and version != ticket.version:
        raise Conflict(f"ticket #{number} was changed by someone else; reload it and apply the macro again")
    if macro.body.strip():  # the text first: the actions may move the ticket out of the agent's view
        values = {"ticket": ticket_values(ticket), "agent": person(uow.actor)}
        add_comment(uow, number, {"body": render(macro.body, values), "public": macro.public})
    uow.desk.automation.run_actions(uow, ticket.id, macro.actions, agent=uow.actor)
    uow.emit("macro.applied", ticket_id=ticket.id, payload={"macro_id": macro.id, "name": macro.name})
    applied = uow.session.get(Ticket, ticket.id)  # not get_ticket: the macro may have moved it out of the agent's view
    assert applied is not None
    return applied


def _validated(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    values = load(MacroSchema(), data)
    values["name"] = values["name"].strip()
    if not values["name"]:
        raise ValidationError({"name": ["must not be blank"]})
    check(values["body"], "body")
    types = {name: kind for name, kind in uow.desk.automation.actions.items() if allowed_in_macros(name)}
    values["actions"] = [validate_action(a, types, f"actions.{n}") for n, a in enumerate(values["actions"])]
    if not values["actions"] and not values["body"].strip():
        raise ValidationError({"body": ["a macro needs a text or at least one action"]})
    return values


def _editable(uow: UnitOfWork, macro_id: int) -> Macro:
    macro = get_macro(uow, macro_id)
    if macro.owner_id is None and not uow.can("automation.manage"):
        raise PermissionDenied("only admins change shared macros")
    return macro

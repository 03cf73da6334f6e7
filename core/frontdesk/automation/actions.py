"""What rules and macros can do to a ticket: the core's action types and the contract for plugins' ones.

An action is ``{"type": "set", "field": "status", "value": "pending"}``. Each type validates its
parameters once when the rule is saved and performs them through the service layer, inside the
rule's transaction, as the system actor with source ``automation`` (or as the agent applying a macro).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from frontdesk import notifications
from frontdesk.automation.templates import check, person, render, ticket_values
from frontdesk.db import utcnow
from frontdesk.errors import ValidationError
from frontdesk.models import Group, GroupMembership, StatusCategory, Ticket, User
from frontdesk.schemas import load

if TYPE_CHECKING:
    from frontdesk.uow import UnitOfWork


@dataclass
class ActionContext:
    """Where an action runs: the unit of work, the ticket (re-read in it), the user whose action the rule
    reacts to (``caused_by``; None for time rules and the system), and ``values`` for texts.

    ``agent`` is who applies a macro; ``extra`` adds to the template values, which are only gathered
    when an action first reads ``values`` (most actions render no text).
    """

    uow: UnitOfWork
    ticket: Ticket
    caused_by: int | None = None
    agent: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def values(self) -> dict[str, Any]:
        """The placeholders of texts: ``ticket``, ``agent``, plus ``extra``."""
        return template_values(self.uow, self.ticket, self.agent) | self.extra


@dataclass(frozen=True)
class ActionType:
    """A kind of action rules and macros can take.

    :param name: what rules write in ``type``; plugin actions start with the plugin name (``sla.pause``).
    :param schema: validates the action's parameters (everything but ``type``) when the rule is saved.
    :param perform: does it; returns a short description for the automation log. Raise
        :class:`~frontdesk.errors.FrontdeskError` to fail the rule (its other actions roll back).
    """

    name: str
    label: str
    schema: type[Schema]
    perform: Callable[[ActionContext, dict[str, Any]], str]


def _update(ctx: ActionContext, changes: dict[str, Any]) -> None:
    from frontdesk.services.tickets import update_ticket

    update_ticket(ctx.uow, ctx.ticket.number, changes)


# --- set a field --------------------------------------------------------------------------------


class SetSchema(Schema):
    field = fields.String(required=True, validate=validate.OneOf(["status", "priority", "type", "group", "assignee"]))
    value = fields.String(required=True, allow_none=True)


def _set(ctx: ActionContext, params: dict[str, Any]) -> str:
    _update(ctx, {params["field"]: params["value"] or None})
    return f"set {params['field']} to {params['value']!r}"


# --- tags -----------------------------------------------------------------------------------------


class TagsSchema(Schema):
    tags = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=50))


def _add_tags(ctx: ActionContext, params: dict[str, Any]) -> str:
    _update(ctx, {"add_tags": params["tags"]})
    return f"added tags {', '.join(params['tags'])}"


def _remove_tags(ctx: ActionContext, params: dict[str, Any]) -> str:
    _update(ctx, {"remove_tags": params["tags"]})
    return f"removed tags {', '.join(params['tags'])}"


# --- comments -------------------------------------------------------------------------------------


class BodySchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=100_000))


def _comment(public: bool) -> Callable[[ActionContext, dict[str, Any]], str]:
    def perform(ctx: ActionContext, params: dict[str, Any]) -> str:
        from frontdesk.services.comments import add_comment

        body = render(params["body"], ctx.values)
        add_comment(ctx.uow, ctx.ticket.number, {"body": body, "public": public})
        return "replied to the requester" if public else "added an internal note"

    return perform


# --- notifications --------------------------------------------------------------------------------


class NotifySchema(Schema):
    to = fields.List(
        fields.String(validate=validate.OneOf(notifications.RECIPIENTS)), required=True, validate=validate.Length(min=1)
    )
    template = fields.String(required=True, validate=validate.OneOf(sorted(notifications.DEFAULT_TEMPLATES)))


def _notify(ctx: ActionContext, params: dict[str, Any]) -> str:
    people = [p for p in notifications.recipients(ctx.uow, ctx.ticket, params["to"]) if p.id != ctx.caused_by]
    sent = notifications.notify(ctx.uow, params["template"], people, ctx.ticket, ctx.values)
    return f"notified {', '.join(n.email for n in sent) or 'nobody'} ({params['template']})"


# --- assignment and escalation ----------------------------------------------------------------------


class AssignSchema(Schema):
    strategy = fields.String(required=True, validate=validate.OneOf(["round_robin", "least_open"]))
    group = fields.String(load_default=None)


def pick_agent(uow: UnitOfWork, group: Group, strategy: str) -> User | None:
    """The active agent of ``group`` whose turn it is (round robin) or who has the fewest open tickets."""
    members = (
        select(User, GroupMembership)
        .join(GroupMembership, GroupMembership.user_id == User.id)
        .where(GroupMembership.group_id == group.id, User.active.is_(True), User.role != "requester")
    )
    if strategy == "round_robin":
        row = uow.session.execute(
            members.order_by(GroupMembership.last_assigned_at.asc().nulls_first(), User.id).limit(1)
        ).first()
    else:
        open_count = (
            select(func.count(Ticket.id))
            .where(
                Ticket.assignee_id == User.id,
                Ticket.status_category.in_([StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.PENDING]),
            )
            .scalar_subquery()
        )
        row = uow.session.execute(members.order_by(open_count, User.id).limit(1)).first()
    if row is None:
        return None
    user, membership = row
    membership.last_assigned_at = utcnow()
    return user


def _assign(ctx: ActionContext, params: dict[str, Any]) -> str:
    from frontdesk.services.tickets import group_named

    group = group_named(ctx.uow, params["group"]) if params["group"] else ctx.ticket.group
    if group is None:
        raise ValidationError({"group": ["the ticket has no group to pick an agent from"]})
    agent = pick_agent(ctx.uow, group, params["strategy"])
    if agent is None:
        raise ValidationError({"group": [f"group {group.name!r} has no active agents"]})
    _update(ctx, {"group": group.name, "assignee": agent.email})
    return f"assigned to {agent.email} ({params['strategy'].replace('_', ' ')} in {group.name})"


class EscalateSchema(Schema):
    reason = fields.String(load_default="")


def _escalate(ctx: ActionContext, params: dict[str, Any]) -> str:
    from frontdesk.services.escalation import escalate

    ticket = escalate(ctx.uow, ctx.ticket.number, render(params["reason"], ctx.values))
    return f"escalated to {ticket.group.name if ticket.group else '?'}"


# --- webhooks -------------------------------------------------------------------------------------


class WebhookSchema(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    body = fields.String(load_default='{"ticket": {{ ticket.number }}, "subject": {{ ticket.subject | tojson }}}')


def _webhook(ctx: ActionContext, params: dict[str, Any]) -> str:
    ctx.uow.enqueue("automation.webhook", url=params["url"], body=render(params["body"], ctx.values))
    return f"called {params['url']}"


CORE_ACTIONS: tuple[ActionType, ...] = (
    ActionType("set", "Set a field", SetSchema, _set),
    ActionType("add_tags", "Add tags", TagsSchema, _add_tags),
    ActionType("remove_tags", "Remove tags", TagsSchema, _remove_tags),
    ActionType("add_note", "Add an internal note", BodySchema, _comment(public=False)),
    ActionType("reply", "Reply to the requester", BodySchema, _comment(public=True)),
    ActionType("notify", "Send a notification", NotifySchema, _notify),
    ActionType("assign", "Assign to an agent of a group", AssignSchema, _assign),
    ActionType("escalate", "Escalate to the next level", EscalateSchema, _escalate),
    ActionType("webhook", "Call a webhook", WebhookSchema, _webhook),
)


def validate_action(action: dict[str, Any], types: dict[str, ActionType], field: str) -> dict[str, Any]:
    """The action with its parameters validated by its type's schema; errors name ``field``."""
    if not isinstance(action, dict) or not isinstance(action.get("type"), str):
        raise ValidationError({field: ["each action needs a 'type'"]})
    kind = types.get(action["type"])
    if kind is None:
        raise ValidationError({field: [f"unknown action type {action['type']!r}; known: {', '.join(sorted(types))}"]})
    params = {key: value for key, value in action.items() if key != "type"}
    try:
        loaded = load(kind.schema(), params)
    except ValidationError as exc:
        raise ValidationError({f"{field}.{key}": messages for key, messages in exc.errors.items()}) from None
    for key in ("body", "reason"):
        if isinstance(loaded.get(key), str):
            check(loaded[key], f"{field}.{key}")
    return {"type": action["type"], **loaded}


def template_values(uow: UnitOfWork, ticket: Ticket, agent: Any = None) -> dict[str, Any]:
    """The placeholders of rule and macro texts: ``ticket``, ``agent`` (who applies a macro), ``desk``."""
    return {"ticket": ticket_values(ticket), "agent": person(agent)}

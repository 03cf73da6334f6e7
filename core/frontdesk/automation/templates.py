"""Placeholders in macros, notes and notifications: ``{{ ticket.requester.name }}``, ``{{ agent.name }}``.

Templates are written by admins and agents, so they render in Jinja's sandbox over plain
dictionaries: no attribute of a model, no method call reaches the database or the desk.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from frontdesk.errors import ValidationError
from frontdesk.models import Ticket, User
from frontdesk.permissions import Actor

# What texts can say, for the people writing them (admin console, API documentation).
PLACEHOLDERS = (
    ("ticket.number", "the ticket's number"),
    ("ticket.subject", "its subject"),
    ("ticket.status, ticket.priority, ticket.type, ticket.group, ticket.channel", "its fields"),
    ("ticket.tags", "its tags (a list)"),
    ("ticket.requester.name, ticket.requester.email", "who asked"),
    ("ticket.assignee.name, ticket.assignee.email", "who works on it"),
    ("ticket.organization", "the requester's organization"),
    ("comment", "the text of the reply or note a rule reacted to"),
    ("recipient.name, recipient.email", "who gets this notification"),
    ("actor.name, actor.email", "who made the change (empty for automation)"),
    ("agent.name", "the agent applying a macro (rules and macros only)"),
    ("reason", "why it was escalated (ticket.escalated only)"),
)


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=False)


def person(user: User | Actor | None) -> dict[str, Any]:
    """What templates may know about a person."""
    if user is None:
        return {"name": "", "email": ""}
    return {"name": user.name, "email": user.email}


def ticket_values(ticket: Ticket) -> dict[str, Any]:
    """What templates may know about a ticket."""
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status.name,
        "priority": ticket.priority.name,
        "type": ticket.type.name if ticket.type else "",
        "group": ticket.group.name if ticket.group else "",
        "channel": ticket.channel,
        "tags": [tag.name for tag in ticket.tags],
        "requester": person(ticket.requester),
        "assignee": person(ticket.assignee),
        "organization": ticket.organization.name if ticket.organization else "",
    }


def check(source: str, field: str) -> None:
    """Raise :class:`ValidationError` on ``field`` unless ``source`` is a well-formed template."""
    try:
        _environment().parse(source)
    except TemplateError as exc:
        raise ValidationError({field: [f"not a valid template: {exc}"]}) from None


def render(source: str, values: dict[str, Any], field: str = "body") -> str:
    """Render ``source`` with ``values``; unknown placeholders render empty, broken templates are a validation error."""
    try:
        return _environment().from_string(source).render(values)
    except TemplateError as exc:
        raise ValidationError({field: [f"the template does not render: {exc}"]}) from None

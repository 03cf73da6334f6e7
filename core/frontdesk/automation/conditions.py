"""What rules can test: ticket fields (the core's and plugins'), the operators over them, and why a test failed.

A condition is ``{"field": "status", "op": "is", "value": "pending"}``. Fields read a value from the
:class:`Context` of one evaluation; operators compare it with the rule's value, and the engine keeps
the actual value so the automation log can say why a rule did not match.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from frontdesk.models import Comment, Event, Group, Organization, Priority, Status, Ticket, TicketType
from frontdesk.text import html_to_text

if TYPE_CHECKING:
    from frontdesk.desk import Desk


@dataclass
class Context:
    """One evaluation: the ticket as it is now, the event that started it (None for time rules), the time."""

    desk: Desk
    ticket: Ticket
    now: datetime
    event: Event | None = None
    comment: Comment | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    def value(self, found: Field) -> Any:
        """The field's value in this evaluation, read once however many rules test it."""
        try:
            return self.cache[found.name]
        except KeyError:
            value = self.cache[found.name] = found.read(self)
            return value

    def folded(self, found: Field) -> Any:
        """The field's value as operators compare it: text in lower case (lists item by item)."""
        key = "\0" + found.name
        try:
            return self.cache[key]
        except KeyError:
            value = self.cache[key] = fold(self.value(found))
            return value

    @property
    def changes(self) -> dict[str, list[Any]]:
        """``{field: [old, new]}`` of the event; a new ticket counts as every field changed from nothing."""
        try:
            return self.cache[" changes"]
        except KeyError:
            changes = self.cache[" changes"] = self._changes()
            return changes

    def _changes(self) -> dict[str, list[Any]]:
        if self.event is None:
            return {}
        if self.event.name == "ticket.created":
            return {name: [None, self.value(FIELDS_BY_NAME[name])] for name in CHANGEABLE}
        if self.event.name in ("ticket.status_changed", "ticket.assigned"):
            key = "status" if self.event.name == "ticket.status_changed" else "assignee"
            return {key: [self.event.payload.get("from"), self.event.payload.get("to")]}
        return dict(self.event.payload.get("changes") or {})


@dataclass(frozen=True)
class Field:
    """A property of a ticket (or of the event) that conditions can test.

    :param name: what rules write (``status``, ``sla.state``); plugin fields start with the plugin name.
    :param kind: ``text``, ``list``, ``number`` or ``boolean``: decides which operators apply.
    :param read: the value for one evaluation.
    :param choices: the values an admin can pick from (for forms), if the field has a fixed set.
    """

    name: str
    label: str
    kind: str
    read: Callable[[Context], Any]
    choices: Callable[[Desk], Sequence[str]] | None = None


OPERATORS: dict[str, tuple[str, frozenset[str]]] = {
    "is": ("is", frozenset({"text", "number", "boolean"})),
    "is_not": ("is not", frozenset({"text", "number", "boolean"})),
    "in": ("is one of", frozenset({"text"})),
    "not_in": ("is none of", frozenset({"text"})),
    "contains": ("contains", frozenset({"text", "list"})),
    "not_contains": ("does not contain", frozenset({"text", "list"})),
    "present": ("is set", frozenset({"text", "list", "number"})),
    "absent": ("is not set", frozenset({"text", "list", "number"})),
    "changed": ("changed", frozenset({"text", "list"})),
    "changed_to": ("changed to", frozenset({"text"})),
    "changed_from": ("changed from", frozenset({"text"})),
    "gt": ("is more than", frozenset({"number"})),
    "gte": ("is at least", frozenset({"number"})),
    "lt": ("is less than", frozenset({"number"})),
    "lte": ("is at most", frozenset({"number"})),
}
VALUELESS = frozenset({"present", "absent", "changed"})
CHANGE_OPS = frozenset({"changed", "changed_to", "changed_from"})


def fold(value: Any) -> Any:
    """Text in lower case (list items too), for comparisons that ignore case; other values as they are."""
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, list):
        return [item.casefold() if isinstance(item, str) else item for item in value]
    return value


def predicate(op: str, expected: Any) -> Callable[[Any], bool]:
    """The test of ``op`` against ``expected``, prepared once per rule.

    Value operators get the field's value already passed through :func:`fold` (so text compares
    ignoring case); change operators get the field's ``[old, new]`` pair from the event (None when
    it did not change).
    """
    if op in ("changed", "changed_to", "changed_from"):
        if op == "changed":
            return lambda change: change is not None
        side, wanted = (1 if op == "changed_to" else 0), fold(expected)
        return lambda change: change is not None and fold(change[side]) == wanted
    if op == "present":
        return lambda actual: actual not in (None, "", [])
    if op == "absent":
        return lambda actual: actual in (None, "", [])
    if op in ("is", "is_not"):
        wanted, same = fold(expected), op == "is"
        return lambda actual: (actual == wanted) is same
    if op in ("in", "not_in"):
        allowed, inside = frozenset(fold(expected)), op == "in"
        return lambda actual: (actual in allowed) is inside
    if op in ("contains", "not_contains"):
        wanted, found = fold(expected), op == "contains"
        return lambda actual: (actual is not None and wanted in actual) is found
    compare_to = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}[op]
    return lambda actual: actual is not None and compare_to(actual, expected)


def compare(op: str, actual: Any, expected: Any, changes: dict[str, list[Any]] | None = None, name: str = "") -> bool:
    """Whether ``actual`` (or, for change operators, the change of field ``name``) satisfies ``op``."""
    test = predicate(op, expected)
    return test((changes or {}).get(name)) if op in CHANGE_OPS else test(fold(actual))


def describe(condition: dict[str, Any], fields: dict[str, Field] | None = None) -> str:
    """A condition in words: ``status is 'pending'``."""
    found = (fields or FIELDS_BY_NAME).get(condition["field"])
    label = found.label if found else condition["field"]
    words = OPERATORS.get(condition["op"], (condition["op"],))[0]
    if condition["op"] in VALUELESS:
        return f"{label} {words}"
    return f"{label} {words} {condition.get('value')!r}"


# --- The core's fields ---------------------------------------------------------------------------


def _hours_since(attribute: str) -> Callable[[Context], float | None]:
    def read(ctx: Context) -> float | None:
        moment = getattr(ctx.ticket, attribute)
        return None if moment is None else (ctx.now - moment).total_seconds() / 3600

    return read


def _comment_author(ctx: Context) -> str | None:
    if ctx.comment is None:
        return None
    if ctx.comment.author_id is None:
        return "system"
    return "requester" if ctx.comment.author_id == ctx.ticket.requester_id else "agent"


def _names(model: Any) -> Callable[[Desk], list[str]]:
    def choices(desk: Desk) -> list[str]:
        with desk.db.reading() as session:
            return list(session.scalars(select(model.name).order_by(model.name)))

    return choices


CORE_FIELDS: tuple[Field, ...] = (
    Field("status", "status", "text", lambda c: c.ticket.status.name, _names(Status)),
    Field(
        "status_category",
        "status category",
        "text",
        lambda c: c.ticket.status_category,
        lambda d: ["new", "open", "pending", "solved", "closed"],
    ),
    Field("priority", "priority", "text", lambda c: c.ticket.priority.name, _names(Priority)),
    Field("type", "type", "text", lambda c: c.ticket.type.name if c.ticket.type else None, _names(TicketType)),
    Field("group", "group", "text", lambda c: c.ticket.group.name if c.ticket.group else None, _names(Group)),
    Field("assignee", "assignee", "text", lambda c: c.ticket.assignee.email if c.ticket.assignee else None),
    Field("requester", "requester", "text", lambda c: c.ticket.requester.email),
    Field(
        "organization",
        "requester's organization",
        "text",
        lambda c: c.ticket.organization.name if c.ticket.organization else None,
        _names(Organization),
    ),
    Field("channel", "channel", "text", lambda c: c.ticket.channel, lambda d: ["web", "portal", "api", "mail", "cli"]),
    Field("subject", "subject", "text", lambda c: c.ticket.subject),
    Field("description", "description", "text", lambda c: html_to_text(c.ticket.description)),
    Field("tags", "tags", "list", lambda c: [tag.name for tag in c.ticket.tags]),
    Field("event", "event", "text", lambda c: c.event.name if c.event else None),
    Field("comment.public", "comment is public", "boolean", lambda c: c.comment.public if c.comment else None),
    Field(
        "comment.author",
        "comment author",
        "text",
        _comment_author,
        lambda d: ["requester", "agent", "system"],
    ),
    Field("comment.body", "comment text", "text", lambda c: html_to_text(c.comment.body) if c.comment else None),
    Field("hours_since_created", "hours since created", "number", _hours_since("created_at")),
    Field("hours_since_updated", "hours since updated", "number", _hours_since("updated_at")),
    Field("hours_since_status_changed", "hours in this status", "number", _hours_since("status_changed_at")),
    Field(
        "hours_since_requester_reply",
        "hours since requester replied",
        "number",
        _hours_since("last_requester_reply_at"),
    ),
    Field("hours_since_agent_reply", "hours since agent replied", "number", _hours_since("last_agent_reply_at")),
)
FIELDS_BY_NAME = {f.name: f for f in CORE_FIELDS}
CHANGEABLE = ("status", "priority", "type", "group", "assignee", "tags")

# The ticket column each "hours since" field measures from: time rules filter on it in SQL, and act
# once per value of the first one they test (one episode: e.g. one stay in pending).
ANCHORS = {
    "hours_since_created": "created_at",
    "hours_since_updated": "updated_at",
    "hours_since_status_changed": "status_changed_at",
    "hours_since_requester_reply": "last_requester_reply_at",
    "hours_since_agent_reply": "last_agent_reply_at",
}

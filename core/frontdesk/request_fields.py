"""Fields plugins add to ticket creation (``frontdesk_request_fields``): listed, validated, saved.

Callers send the values as ``extensions: {plugin: {field: value}}``, the shape in which ticket
output shows what plugins add. Every entry point creates tickets through
:func:`frontdesk.services.tickets.create_ticket`, which validates the values here before writing
anything and saves them with the new ticket, so a plugin's field works the same from the portal,
the API and the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError as SchemaError

from frontdesk.errors import ValidationError
from frontdesk.models import User
from frontdesk.plugins.types import RequestField

if TYPE_CHECKING:
    from frontdesk.models import Ticket
    from frontdesk.uow import UnitOfWork

REQUIRED = "Please fill in this field."


@dataclass(frozen=True)
class BoundField:
    """A plugin's request field; ``key`` (``<plugin>.<name>``) names it in forms and error messages."""

    plugin: str
    spec: RequestField

    @property
    def key(self) -> str:
        return f"{self.plugin}.{self.spec.name}"

    def choices(self, uow: UnitOfWork) -> list[tuple[str, str]]:
        """The values offered, or an empty list for free input."""
        return list(self.spec.choices(uow)) if self.spec.choices else []


def request_fields(uow: UnitOfWork) -> list[BoundField]:
    """The fields the actor is asked for, in the order of their weight."""
    user = uow.actor if isinstance(uow.actor, User) else None
    found = [
        BoundField(plugin, spec)
        for plugin, specs in uow.desk.plugins.calls.per_plugin("frontdesk_request_fields", user=user).items()
        for spec in specs
    ]
    return sorted(found, key=lambda bound: (bound.spec.weight, bound.key))


def load_values(uow: UnitOfWork, submitted: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[BoundField, Any]]:
    """Validate submitted values (``{plugin: {field: value}}``); raise one :class:`ValidationError`
    naming every bad ``extensions.<plugin>.<field>``."""
    known = {bound.key: bound for bound in request_fields(uow)}
    raw = {f"{plugin}.{name}": value for plugin, values in submitted.items() for name, value in values.items()}
    errors: dict[str, list[str]] = {f"extensions.{key}": ["no such field"] for key in raw if key not in known}
    loaded: dict[str, tuple[BoundField, Any]] = {}
    for key, bound in known.items():
        value = raw.get(key)
        if value is None or value == "":
            if bound.spec.field.required:
                errors[f"extensions.{key}"] = [REQUIRED]
            continue
        offered = bound.choices(uow)
        if offered and str(value) not in {choice for choice, _label in offered}:
            errors[f"extensions.{key}"] = ["choose one of the values offered"]
            continue
        try:
            loaded[key] = (bound, bound.spec.field.deserialize(value))
        except SchemaError as exc:
            messages = exc.messages if isinstance(exc.messages, list) else [str(exc.messages)]
            errors[f"extensions.{key}"] = [str(message) for message in messages]
    if errors:
        raise ValidationError(errors)
    return loaded


def save_values(uow: UnitOfWork, ticket: Ticket, loaded: Mapping[str, tuple[BoundField, Any]]) -> None:
    """Hand each value to its plugin, inside the transaction that creates the ticket."""
    for bound, value in loaded.values():
        bound.spec.save(uow, ticket, value)

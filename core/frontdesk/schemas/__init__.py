"""Marshmallow schemas: one per entity, shared by services, the API, forms and imports."""

from __future__ import annotations

from functools import cache
from typing import Any

import marshmallow

from frontdesk.errors import ValidationError


def load(
    schema: marshmallow.Schema | type[marshmallow.Schema], data: dict[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Validate ``data`` with ``schema``; raise the desk's :class:`ValidationError` naming each bad field.

    Given a schema class, one shared instance of it is used: building a schema costs more than
    loading with it, and loading keeps no state on the instance.
    """
    if isinstance(schema, type):
        schema = _shared(schema)
    with_nul = sorted(key for key, value in data.items() if _has_nul(value))
    if with_nul:
        raise ValidationError({key: ["Must not contain NUL characters."] for key in with_nul})
    try:
        return schema.load(data, partial=partial)
    except marshmallow.ValidationError as exc:
        raise ValidationError(_flatten(exc.messages)) from None


@cache
def _shared(schema_class: type[marshmallow.Schema]) -> marshmallow.Schema:
    return schema_class()


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False

"""Marshmallow schemas: one per entity, shared by services, the API, forms and imports."""

from __future__ import annotations

from typing import Any

import marshmallow

from frontdesk.errors import ValidationError


def load(schema: marshmallow.Schema, data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate ``data`` with ``schema``; raise the desk's :class:`ValidationError` naming each bad field."""
    try:
        return schema.load(data, partial=partial)
    except marshmallow.ValidationError as exc:
        raise ValidationError(_flatten(exc.messages)) from None


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat

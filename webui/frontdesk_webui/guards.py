"""Input no field may carry, refused before any view: NUL characters (PostgreSQL cannot store them)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from frontdesk_webui.errors import error_response

NUL = "\x00"


def _fields_with_nul(data: Any, prefix: str = "") -> list[str]:
    if isinstance(data, str):
        return [prefix or "_body"] if NUL in data else []
    if isinstance(data, dict):
        return [
            f for key, value in data.items() for f in _fields_with_nul(value, f"{prefix}.{key}" if prefix else str(key))
        ]
    if isinstance(data, list):
        return [f for item in data for f in _fields_with_nul(item, prefix)]
    return []


def configure(app: Flask) -> None:
    @app.before_request
    def refuse_nul() -> Response | None:
        fields = [key for key, value in request.args.items(multi=True) if NUL in key or NUL in value]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            fields += [key for key, value in request.form.items(multi=True) if NUL in key or NUL in value]
        elif request.is_json:
            fields += _fields_with_nul(request.get_json(silent=True))
        if not fields:
            return None
        errors = {field: ["Must not contain NUL characters."] for field in sorted(set(fields))}
        return error_response(422, "invalid", f"{', '.join(sorted(errors))}: must not contain NUL characters", errors)

"""Error answers (JSON for the API, pages for people) and the security headers every response carries."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from frontdesk.errors import Conflict, FrontdeskError, NotFound, PermissionDenied, PluginError, ValidationError

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

STATUS_OF: dict[type[FrontdeskError], int] = {
    ValidationError: 422,
    NotFound: 404,
    PermissionDenied: 403,
    Conflict: 409,
    PluginError: 409,
}


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON errors."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _flatten(messages: Any) -> dict[str, list[str]]:
    """Webargs nests messages by location ({"json": {"field": [...]}}); clients want field names."""
    if not isinstance(messages, dict):
        return {"_schema": [str(messages)]}
    flat: dict[str, list[str]] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            for name, value in fields.items():
                _nested(flat, str(name), value)
        else:
            flat[str(location)] = fields if isinstance(fields, list) else [str(fields)]
    return flat


def _nested(flat: dict[str, list[str]], prefix: str, value: Any) -> None:
    """Messages of nested fields and list items as dotted names: ``filters.group``, ``columns.0``."""
    if isinstance(value, dict):
        for key, inner in value.items():
            _nested(flat, f"{prefix}.{key}", inner)
    else:
        flat[prefix] = [str(item) for item in value] if isinstance(value, list) else [str(value)]


def error_response(code: int, name: str, message: str, errors: dict[str, Any] | None = None) -> Response:
    """The answer for an error: ``{"code", "message", "errors"}`` as JSON, or an error page."""
    if wants_json():
        response = jsonify(code=name, message=message, errors=errors or {})
    else:
        response = Response(render_template("error.html", code=code, message=message), mimetype="text/html")
    response.status_code = code
    return response


def http_error(exc: HTTPException) -> Response:
    """Any HTTP error (404, 405, 413, webargs' 422...) in the desk's error format, keeping ``Allow``."""
    data = getattr(exc, "data", None) or {}
    errors = data.get("errors") or _flatten(data.get("messages", {}))
    code = exc.code or 500
    message = data.get("message") or exc.description or exc.name
    if code == 422 and errors and not data.get("message"):
        message = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in sorted(errors.items()))
    response = error_response(code, exc.name.lower().replace(" ", "_"), message, errors)
    for header, value in exc.get_headers():
        if header.lower() != "content-type":
            response.headers[header] = value
    for header, value in (data.get("headers") or {}).items():
        response.headers[header] = value
    return response


def desk_error(exc: FrontdeskError) -> Response:
    """Expected errors from services: 422 naming fields, 404, 403, 409..."""
    code = next((status for kind, status in STATUS_OF.items() if isinstance(exc, kind)), 400)
    code = getattr(exc, "http_status", code)
    errors = exc.errors if isinstance(exc, ValidationError) else {}
    response = error_response(code, exc.code, exc.message, errors)
    if retry_after := getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def configure(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(FrontdeskError, desk_error)

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response

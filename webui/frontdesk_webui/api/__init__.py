"""The REST API under ``/api/v1``: flask-smorest blueprints documented at ``/api/openapi.json``."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from frontdesk import __version__
from frontdesk_webui.api.auth import signed_in_only
from frontdesk_webui.errors import http_error


class ErrorSchema(Schema):
    """Every error answer: a code word, a sentence, and messages per field."""

    code = fields.String(required=True, metadata={"description": "What went wrong, as a word (not_found, invalid...)"})
    message = fields.String(required=True, metadata={"description": "What went wrong, for a person"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages by field name"},
    )


class DeskApi(Api):
    """flask-smorest's Api with the desk's error format (and ``Allow`` kept on 405)."""

    ERROR_SCHEMA = ErrorSchema
    closed_blueprints: set[str]

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_error(error)


def configure(app: Flask) -> DeskApi:
    """Mount the core API blueprints and document them."""
    from frontdesk_webui.api import (
        attachments,
        automation,
        config,
        jobs,
        macros,
        me,
        notifications,
        people,
        plugins,
        tickets,
        tokens,
        views,
    )

    app.config.update(
        API_TITLE="Frontdesk",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = DeskApi(
        app,
        spec_kwargs={
            "info": {"description": "Every capability of the desk, with the same rules as the web interface."},
        },
    )
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    api.closed_blueprints = set()

    @app.before_request
    def api_needs_a_user() -> None:
        if request.blueprint in api.closed_blueprints and not _open(app.view_functions.get(request.endpoint)):
            signed_in_only()

    modules = (
        tickets,
        attachments,
        people,
        config,
        tokens,
        plugins,
        me,
        notifications,
        automation,
        macros,
        jobs,
        views,
    )
    for module in modules:
        register(api, module.blp)
    return api


def register(api: DeskApi, blueprint: Blueprint, name: str | None = None) -> None:
    """Add an API blueprint (core or plugin) as ``name`` (default: its own): documented, closed to anonymous calls."""
    api.closed_blueprints.add(name or blueprint.name)
    api.register_blueprint(blueprint, **({"name": name} if name else {}))


def open_to_anonymous(view: Any) -> Any:
    """Mark an API view (function or ``MethodView`` class) that authenticates its callers itself.

    For endpoints called by other systems with their own proof, such as a webhook signed with a
    shared secret: the view must refuse unproven calls itself (401/403).
    """
    view.open_to_anonymous = True
    return view


def _open(view: Any) -> bool:
    return bool(getattr(getattr(view, "view_class", view), "open_to_anonymous", False))

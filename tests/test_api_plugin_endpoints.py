"""Plugins extend the API: their own documented endpoints, and extra fields on tickets."""

from __future__ import annotations

from typing import Any

import pytest
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from frontdesk import hookimpl
from frontdesk.permissions import SYSTEM
from frontdesk.services import tickets
from frontdesk.services.plugins import disable_plugin


class CountSchema(Schema):
    open = fields.Integer()


class Stats:
    """A plugin with an API endpoint and a ticket field."""

    NAME = "stats"

    @hookimpl
    def frontdesk_register_blueprints(self) -> list[Any]:
        blp = Blueprint("stats", __name__, url_prefix="/api/v1/stats", description="Ticket statistics.")

        @blp.route("/open")
        class OpenCount(MethodView):
            @blp.response(200, CountSchema)
            def get(self) -> dict[str, int]:
                """How many tickets are open."""
                return {"open": 7}

        return [blp]

    @hookimpl
    def frontdesk_ticket_fields(self, ticket: Any, user: Any) -> dict[str, Any]:
        return {"age_bucket": "fresh", "viewer_is_staff": bool(user and user.is_staff)}


@pytest.mark.frontdesk_plugins("webui", Stats())
def test_plugin_endpoints_are_documented_guarded_and_served(app: Any, client: Any, make_user: Any, desk: Any) -> None:
    spec = client.get("/api/openapi.json").json
    assert "/api/v1/stats/open" in spec["paths"]
    assert client.get("/api/v1/stats/open").status_code == 401, "plugin endpoints are closed to anonymous callers"
    make_user(email="agent@example.com", role="agent", all_groups=True)
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"email": "agent@example.com", "password": "password123"})
    assert client.get("/api/v1/stats/open").json == {"open": 7}
    with desk.action(SYSTEM, source="test") as uow:
        number = tickets.create_ticket(uow, {"subject": "Slow", "requester": "rita@example.com"}).number
    shown = client.get(f"/api/v1/tickets/{number}").json
    assert shown["extensions"] == {"stats": {"age_bucket": "fresh", "viewer_is_staff": True}}
    listed = client.get("/api/v1/tickets").json["items"][0]
    assert listed["extensions"]["stats"]["age_bucket"] == "fresh"


class Pages:
    """A plugin with pages and an API, both blueprints named after it, and a webhook open to other systems."""

    NAME = "pages"

    @hookimpl
    def frontdesk_register_blueprints(self) -> list[Any]:
        from flask import Blueprint as PageBlueprint
        from flask import render_template_string, request

        from frontdesk_webui.api import open_to_anonymous

        pages = PageBlueprint("pages", __name__, url_prefix="/pages")
        blp = Blueprint("pages", __name__, url_prefix="/api/v1/pages", description="Pages and their hook.")

        @pages.route("/")
        def index() -> str:
            return render_template_string('{% extends "core:base.html" %}{% block content %}plugin page{% endblock %}')

        @blp.route("/count")
        class Count(MethodView):
            @blp.response(200, CountSchema)
            def get(self) -> dict[str, int]:
                """A count for signed-in callers."""
                return {"open": 1}

        @blp.route("/hook")
        @open_to_anonymous
        class Hook(MethodView):
            @blp.response(200, CountSchema)
            def post(self) -> dict[str, int]:
                """Called by another system that proves itself (here: a shared word)."""
                if request.headers.get("X-Word") != "swordfish":
                    abort(403)
                return {"open": 2}

        return [pages, blp]


@pytest.mark.frontdesk_plugins("webui", Pages())
def test_a_plugin_has_pages_and_an_api_and_may_open_an_endpoint(app: Any, client: Any, desk: Any) -> None:
    assert "plugin page" in client.get("/pages/").text, "core:base.html names the core's layout"
    assert client.get("/api/v1/pages/count").status_code == 401
    assert client.post("/api/v1/pages/hook").status_code == 403, "open to anonymous: the view decides"
    assert client.post("/api/v1/pages/hook", headers={"X-Word": "swordfish"}).json == {"open": 2}
    disable_plugin(desk, SYSTEM, "pages")
    assert client.get("/pages/").status_code == 404
    assert client.post("/api/v1/pages/hook", headers={"X-Word": "swordfish"}).status_code == 404

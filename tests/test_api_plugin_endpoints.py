"""Plugins extend the API: their own documented endpoints, and extra fields on tickets."""

from __future__ import annotations

from typing import Any

import pytest
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from frontdesk import hookimpl
from frontdesk.permissions import SYSTEM
from frontdesk.services import tickets


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

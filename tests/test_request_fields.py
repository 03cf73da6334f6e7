"""Plugins add fields to the request form: asked in the portal, accepted by the API, saved with the ticket."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import fields

from frontdesk import hookimpl
from frontdesk.errors import ValidationError
from frontdesk.models import Ticket
from frontdesk.permissions import SYSTEM
from frontdesk.plugins import RequestField
from frontdesk.services import tickets
from frontdesk.uow import UnitOfWork


class Departments:
    """Asks which department a request concerns (from a list) and whether it is urgent; saves both as tags."""

    NAME = "dept"

    @hookimpl
    def frontdesk_request_fields(self, user: Any) -> list[RequestField]:
        return [
            RequestField(
                "department",
                "Department",
                fields.String(required=True),
                save=self.tag,
                choices=lambda uow: [("it", "IT"), ("hr", "People & HR")],
                help="Who should look at this?",
            ),
            RequestField("urgent", "Stops my work", fields.Boolean(), save=self.tag, weight=200),
        ]

    def tag(self, uow: UnitOfWork, ticket: Ticket, value: Any) -> None:
        ticket.tags = [*ticket.tags, *tickets.tags_named(uow, [f"dept-{value}".lower()])]


pytestmark = pytest.mark.frontdesk_plugins("webui", Departments())


def tag_names(desk: Any, number: int) -> list[str]:
    with desk.reading(SYSTEM) as uow:
        return [tag.name for tag in tickets.get_ticket(uow, number).tags]


def test_hook_frontdesk_request_fields_values_are_validated_and_saved_by_the_service(desk: Any) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        number = tickets.create_ticket(
            uow, {"subject": "VPN", "requester": "rita@example.com", "extensions": {"dept": {"department": "it"}}}
        ).number
    assert tag_names(desk, number) == ["dept-it"]
    with pytest.raises(ValidationError) as refused, desk.action(SYSTEM, source="test") as uow:
        tickets.create_ticket(
            uow,
            {
                "subject": "VPN",
                "requester": "rita@example.com",
                "extensions": {"dept": {"department": "sales", "x": 1}},
            },
        )
    assert refused.value.errors == {
        "extensions.dept.department": ["choose one of the values offered"],
        "extensions.dept.x": ["no such field"],
    }


def test_the_api_names_the_bad_field(app: Any, client: Any, make_user: Any) -> None:
    make_user(email="rita@example.com", role="requester")
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"email": "rita@example.com", "password": "password123"})
    missing = client.post("/api/v1/tickets", json={"subject": "Printer"})
    assert missing.status_code == 422
    assert missing.json["errors"] == {"extensions.dept.department": ["Please fill in this field."]}
    created = client.post("/api/v1/tickets", json={"subject": "Printer", "extensions": {"dept": {"department": "hr"}}})
    assert created.status_code == 201
    assert [tag["name"] if isinstance(tag, dict) else tag for tag in created.json["tags"]] == ["dept-hr"]


def test_the_portal_form_asks_for_the_fields_and_keeps_what_was_typed(
    app: Any, client: Any, make_user: Any, desk: Any
) -> None:
    make_user(email="rita@example.com", role="requester")
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"email": "rita@example.com", "password": "password123"})
    form = client.get("/portal/new").get_data(as_text=True)
    assert '<select class="form-select" id="extensions.dept.department" name="extensions.dept.department"' in form
    assert "People &amp; HR" in form
    assert 'type="checkbox"' in form
    assert form.index("Department") < form.index("Stops my work"), "ordered by weight"

    refused = client.post(
        "/portal/new", data={"subject": "Laptop", "body": "Broken screen", "extensions.dept.urgent": "true"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Please fill in this field." in page
    assert 'value="Laptop"' in page
    assert "checked" in page, "the checkbox keeps its state"

    sent = client.post(
        "/portal/new",
        data={
            "subject": "Laptop",
            "body": "Broken screen",
            "extensions.dept.department": "it",
            "extensions.dept.urgent": "true",
        },
    )
    assert sent.status_code == 302
    number = int(sent.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert sorted(tag_names(desk, number)) == ["dept-it", "dept-true"]


def test_the_cli_takes_plugin_fields(cli: Any, desk: Any) -> None:
    bad = cli("ticket", "create", "--subject", "S", "--requester", "r@example.com", "--field", "department")
    assert bad.exit_code == 2
    assert "PLUGIN.NAME=VALUE" in bad.output
    refused = cli("ticket", "create", "--subject", "S", "--requester", "r@example.com", "--field", "dept.department=x")
    assert refused.exit_code == 1
    assert "extensions.dept.department: choose one of the values offered" in refused.output
    made = cli("ticket", "create", "--subject", "S", "--requester", "r@example.com", "--field", "dept.department=it")
    assert made.exit_code == 0, made.output
    assert tag_names(desk, int(made.output)) == ["dept-it"]

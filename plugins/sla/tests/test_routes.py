"""Every SLA route for anonymous visitors, requesters, agents and admins (a new route without a policy fails)."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import tickets
from frontdesk.testing.routes import ROLES, plugin_routes, sign_in

CALENDAR = {"name": "Night", "timezone": "UTC", "hours": ["daily 20:00-24:00"]}
POLICY = {"name": "Night", "calendar": "Night", "targets": [{"priority": "low", "metric": "resolution", "minutes": 60}]}

# (method, rule, url, body, status for anonymous, requester, agent, admin); deletes come last.
ROUTES: list[tuple[str, str, str, Any, tuple[int, int, int, int]]] = [
    ("GET", "/sla/", "/sla/", None, (302, 403, 200, 200)),
    ("GET", "/sla/report.csv", "/sla/report.csv?by=group", None, (302, 403, 200, 200)),
    ("GET", "/sla/static/<path:filename>", "/sla/static/sla/report-chart.js", None, (302, 403, 200, 200)),
    (
        "POST",
        "/sla/definitions",
        "/sla/definitions",
        {"document": "calendars: []\npolicies: []\n"},
        (302, 403, 403, 302),
    ),
    (
        "POST",
        "/sla/calendars",
        "/sla/calendars",
        {"name": "Form", "timezone": "UTC", "hours": "24x7"},
        (302, 403, 403, 302),
    ),
    ("GET", "/api/v1/sla/calendars", "/api/v1/sla/calendars", None, (401, 403, 200, 200)),
    ("POST", "/api/v1/sla/calendars", "/api/v1/sla/calendars", CALENDAR, (401, 403, 403, 201)),
    ("GET", "/api/v1/sla/calendars/<path:name>", "/api/v1/sla/calendars/Office", None, (401, 403, 200, 200)),
    (
        "PUT",
        "/api/v1/sla/calendars/<path:name>",
        "/api/v1/sla/calendars/Office",
        {**CALENDAR, "name": "Office"},
        (401, 403, 403, 200),
    ),
    ("GET", "/api/v1/sla/policies", "/api/v1/sla/policies", None, (401, 403, 200, 200)),
    ("POST", "/api/v1/sla/policies", "/api/v1/sla/policies", POLICY, (401, 403, 403, 201)),
    ("GET", "/api/v1/sla/policies/<path:name>", "/api/v1/sla/policies/Standard", None, (401, 403, 200, 200)),
    (
        "PUT",
        "/api/v1/sla/policies/<path:name>",
        "/api/v1/sla/policies/Night",
        {**POLICY, "position": 1},
        (401, 403, 403, 200),
    ),
    ("GET", "/api/v1/sla/tickets/<int:number>/clocks", "/api/v1/sla/tickets/1/clocks", None, (401, 403, 200, 200)),
    (
        "GET",
        "/api/v1/sla/due",
        "/api/v1/sla/due?calendar=Office&start=2026-03-27T16:30:00%2B01:00&minutes=60",
        None,
        (401, 403, 200, 200),
    ),
    (
        "GET",
        "/api/v1/sla/reports/compliance",
        "/api/v1/sla/reports/compliance?by=priority&format=csv",
        None,
        (401, 403, 200, 200),
    ),
    ("DELETE", "/api/v1/sla/policies/<path:name>", "/api/v1/sla/policies/Night", None, (401, 403, 403, 204)),
    ("DELETE", "/api/v1/sla/calendars/<path:name>", "/api/v1/sla/calendars/Night", None, (401, 403, 403, 204)),
    (
        "POST",
        "/sla/policies/delete",
        "/sla/policies/delete",
        {"name": "Round the clock", "confirm": "yes"},
        (302, 403, 403, 302),
    ),
    (
        "POST",
        "/sla/calendars/delete",
        "/sla/calendars/delete",
        {"name": "Form", "confirm": "yes"},
        (302, 403, 403, 302),
    ),
]


def test_every_route_has_a_policy(app: Any) -> None:
    covered = {(method, rule) for method, rule, *_ in ROUTES}
    served = {(method, rule) for _endpoint, method, rule in plugin_routes(app, "sla")}
    assert served == covered, "give each new route an entry in ROUTES (and drop removed ones)"


@pytest.mark.parametrize("role", ROLES)
def test_route_policy(role: str, desk: Desk, app: Any, make_user: Any, standard_policies: None) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        tickets.create_ticket(uow, {"subject": "Printer", "requester": "requester@example.com"})
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    if role != "anonymous":
        email = f"{role}@example.com"
        if role == "requester":
            with desk.action(SYSTEM, source="test") as uow:
                tickets.user_by_email(uow, email).password_hash = make_user(email="other@example.com").password_hash
        else:
            make_user(email=email, role=role, all_groups=True)
        sign_in(client, email)
    column = ROLES.index(role)
    for method, _, url, body, expected in ROUTES:
        if url.startswith("/api/"):
            response = client.open(url, method=method, json=body)
        else:
            response = client.open(url, method=method, data=body)
        response.close()  # static files are streamed from an open file
        assert response.status_code == expected[column], f"{role} {method} {url}: {response.status_code}"

"""The agent dashboard: workload, unassigned tickets, backlog by group, and plugin widgets."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup

from frontdesk import hookimpl
from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import people, tickets


class Widgets:
    NAME = "widgets"

    @hookimpl
    def frontdesk_slot_dashboard_widgets(self, user: Any) -> Any:
        return (10, Markup('<section class="col-lg-4" id="sla-widget">Breaches today: 0</section>'))


class BrokenWidget:
    NAME = "brokenwidget"

    @hookimpl
    def frontdesk_slot_dashboard_widgets(self, user: Any) -> Any:
        raise RuntimeError("widget down")


def sign_in(app: Any, email: str) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"email": email, "password": "password123"})
    return client


@pytest.mark.frontdesk_plugins("webui", Widgets(), BrokenWidget())
def test_hook_frontdesk_slot_dashboard_widgets_and_the_counts(app: Any, desk: Desk, make_user: Any) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
    make_user(email="agent@example.com", role="agent", groups=["Support"])
    for subject, assignee in (("Mine", "agent@example.com"), ("Nobody's", None), ("Also nobody's", None)):
        with desk.action(SYSTEM, source="test") as uow:
            tickets.create_ticket(
                uow, {"subject": subject, "requester": "r@example.com", "group": "Support", "assignee": assignee}
            )
    page = sign_in(app, "agent@example.com").get("/agent/dashboard")
    assert page.status_code == 200
    assert 'data-count="new">1<' in page.text
    assert 'data-count="unassigned">2<' in page.text
    assert '>Support</a><span class="fw-semibold">3<' in page.text
    assert '<section class="col-lg-4" id="sla-widget">Breaches today: 0</section>' in page.text, (
        "a broken widget is skipped"
    )
    assert 'href="/agent/dashboard">Dashboard</a>' in page.text


def test_requesters_have_no_dashboard(app: Any, make_user: Any) -> None:
    make_user(email="rita@example.com")
    assert sign_in(app, "rita@example.com").get("/agent/dashboard").status_code == 403

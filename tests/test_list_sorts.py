"""A plugin's list column can order ticket lists: ascending, empty last, with stable cursor pages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import case

from frontdesk import hookimpl
from frontdesk.desk import Desk
from frontdesk.errors import ValidationError
from frontdesk.models import Ticket
from frontdesk.permissions import SYSTEM
from frontdesk.plugins import ListColumn
from frontdesk.queries import TicketFilter, list_tickets
from frontdesk.services import tickets
from frontdesk.services import views as saved_views


class Deadlines:
    """Tickets whose subject names a day have a deadline (that day's number); the others none."""

    NAME = "deadlines"

    @hookimpl
    def frontdesk_ticket_list_columns(self, user: Any) -> list[ListColumn]:
        def deadline() -> Any:
            days = {"monday": 1, "tuesday": 2, "wednesday": 3}
            return case(*((Ticket.subject.contains(day), number) for day, number in days.items()), else_=None)

        return [ListColumn("deadline", "Deadline", lambda found: {}, sort=deadline)]


pytestmark = pytest.mark.frontdesk_plugins("webui", Deadlines())


@pytest.fixture
def numbers(desk: Desk) -> dict[str, int]:
    made = {}
    with desk.action(SYSTEM, source="test") as uow:
        for subject in ("no day", "by wednesday", "by monday", "also none", "tuesday please", "monday too"):
            made[subject] = tickets.create_ticket(uow, {"subject": subject, "requester": "rita@example.com"}).number
    return made


def test_pages_follow_the_plugin_order_and_put_tickets_without_a_value_last(
    desk: Desk, numbers: dict[str, int]
) -> None:
    seen, cursor = [], None
    with desk.reading(SYSTEM) as uow:
        while True:
            page = list_tickets(uow, TicketFilter(), sort="deadlines.deadline", cursor=cursor, limit=2)
            seen += [ticket.subject for ticket in page.items]
            if not (cursor := page.next_cursor):
                break
    assert seen == ["by monday", "monday too", "tuesday please", "by wednesday", "no day", "also none"]


def test_unknown_orders_are_refused_by_name(desk: Desk, numbers: dict[str, int]) -> None:
    with pytest.raises(ValidationError) as refused, desk.reading(SYSTEM) as uow:
        list_tickets(uow, TicketFilter(), sort="deadlines.nope")
    assert "deadlines.deadline" in refused.value.errors["sort"][0]


def test_the_api_agent_list_and_saved_views_offer_it(
    app: Any, client: Any, desk: Desk, make_user: Any, numbers: dict[str, int]
) -> None:
    make_user(email="agent@example.com", role="agent", all_groups=True)
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"email": "agent@example.com", "password": "password123"})
    listed = client.get("/api/v1/tickets?sort=deadlines.deadline&limit=3").json
    assert [item["subject"] for item in listed["items"]] == ["by monday", "monday too", "tuesday please"]
    assert client.get("/api/v1/tickets?sort=deadline").status_code == 422

    html = client.get("/agent/views/all?sort=deadlines.deadline").text
    assert 'aria-sort="ascending"' in html
    assert html.index("by monday") < html.index("by wednesday") < html.index("no day")
    with desk.action(SYSTEM, source="test") as uow:
        view = saved_views.create_view(uow, {"name": "Deadlines", "sort": "deadlines.deadline", "shared": True})
    assert view.sort == "deadlines.deadline"

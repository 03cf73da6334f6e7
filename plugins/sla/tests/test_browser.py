"""The SLA panel and list column in a real browser (Debian's Chromium, headless)."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import comments, tickets

pytestmark = pytest.mark.e2e


def test_agent_sees_the_sla_panel_and_column(
    desk: Desk, make_user: Any, live_server: str, browser_page: Any, screenshot: Any, standard_policies: None
) -> None:
    page, server_url = browser_page, live_server
    agent = make_user(email="agnes@example.com", name="Agnes Agent", role="agent", all_groups=True)
    with desk.action(SYSTEM, source="test") as uow:
        number = tickets.create_ticket(uow, {"subject": "VPN down", "requester": "rita@example.com"}).number
    page.goto(f"{server_url}/login")
    page.fill("input[name=email]", "agnes@example.com")
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.goto(f"{server_url}/agent/views/all")
    badge = page.locator('[data-sla-state="ok"]').first
    assert badge.is_visible()
    screenshot(page, "sla-list-column")
    assert badge.inner_text().startswith("7h")  # eight hours from now, a few seconds gone
    page.goto(f"{server_url}/agent/tickets/{number}")
    panel = page.locator("#sla-panel")
    assert panel.is_visible()
    assert "first response" in panel.inner_text()
    assert "Target 480 calendar min" in panel.inner_text()
    screenshot(page, "sla-ticket-panel")

    with desk.action(agent, source="test") as uow:
        comments.add_comment(uow, number, {"body": "Fixed: the VPN is back."})
        tickets.update_ticket(uow, number, {"status": "solved"})
    page.goto(f"{server_url}/sla/")
    chart = page.locator("#sla-chart")
    assert chart.is_visible(), "the compliance report has a chart once clocks are settled"
    assert chart.bounding_box()["height"] > 50
    screenshot(page, "sla-report")


def test_deleting_a_policy_asks_in_a_dialog_first(
    desk: Desk, make_user: Any, live_server: str, browser_page: Any, standard_policies: None
) -> None:
    page, server_url = browser_page, live_server
    make_user(email="ada@example.com", name="Ada Admin", role="admin")
    page.goto(f"{server_url}/login")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.goto(f"{server_url}/sla/")
    delete = page.get_by_role("button", name="Delete policy Standard")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    delete.click()
    assert len(asked) == 1
    assert asked[0].startswith("Delete the policy “Standard”?")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        delete.click()
    assert "Policy Standard deleted." in page.inner_text("main")
    assert page.get_by_role("button", name="Delete policy Standard").count() == 0

"""The asset pages in a real browser: record, check out and return a laptop; see an item's impact picture."""

from __future__ import annotations

import re
from typing import Any

import pytest
from frontdesk_assets import cmdb, inventory
from playwright.sync_api import expect

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import tickets

pytestmark = pytest.mark.e2e


def sign_in(page: Any, base: str, email: str, path: str) -> None:
    page.goto(base + path)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_records_lends_and_takes_back_a_laptop(
    live_server: str, browser_page: Any, screenshot: Any, make_user: Any
) -> None:
    page = browser_page
    make_user(email="admin@example.com", name="Ada Admin", role="admin")
    make_user(email="ann@example.com", name="Ann Example")
    sign_in(page, live_server, "admin@example.com", "/assets/")
    expect(page.get_by_role("heading", name="Inventory")).to_be_visible()
    page.get_by_label("Type of the new asset").select_option("laptop")
    page.get_by_role("button", name="New asset").click()
    page.get_by_label("Name").fill("ThinkPad X1")
    page.get_by_label("Serial").fill("PF-123")
    page.get_by_label("Operating system").select_option("Linux")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/assets/items/LAP-000001$"))
    expect(page.get_by_text("Recorded LAP-000001.")).to_be_visible()

    page.locator("#checkout-dialog summary").click()
    page.get_by_label("Person (e-mail)").fill("ann@example.com")
    page.get_by_label("Return by (a loan; optional)").fill("2099-12-31")
    page.locator("#checkout-dialog").get_by_role("button", name="Check out").click()
    expect(page.get_by_text("LAP-000001 is with ann@example.com.")).to_be_visible()
    expect(page.locator("#asset-fields")).to_contain_text("Ann Example")
    screenshot(page, "assets-checked-out")

    page.locator("#return-dialog summary").click()
    page.get_by_role("button", name="Return to stock").click()
    expect(page.get_by_text("LAP-000001 is back in stock.")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("ann@example.com")

    page.goto(live_server + "/assets/?q=PF-123")
    expect(page.locator("#asset-list")).to_contain_text("ThinkPad X1")


def test_an_agent_sees_impact_and_links_an_item_from_the_ticket(
    live_server: str, browser_page: Any, screenshot: Any, desk: Desk, make_user: Any
) -> None:
    page = browser_page
    make_user(email="agent@example.com", name="Agnes Agent", role="agent", all_groups=True)
    with desk.action(SYSTEM, source="test") as uow:
        server = inventory.create_asset(uow, "server", {"name": "mail01"}).asset_tag
        email = inventory.create_asset(uow, "service", {"name": "Email"}).asset_tag
        cmdb.add_relation(uow, {"source": email, "kind": "runs_on", "target": server})
        number = tickets.create_ticket(uow, {"subject": "Mail is down", "requester": "rita@example.com"}).number
    sign_in(page, live_server, "agent@example.com", f"/agent/tickets/{number}")
    page.get_by_label("Asset tag to link").fill(server)
    page.locator(".assets-panel").get_by_role("button", name="Link").click()
    expect(page.locator("#linked-items")).to_contain_text("mail01")
    expect(page.locator("#linked-items")).to_contain_text("1 affected")
    screenshot(page, "assets-ticket-sidebar")
    page.locator("#linked-items").get_by_role("link", name=server).click()
    expect(page.locator("#impact-list")).to_contain_text("Email")
    expect(page.locator("svg.assets-graph")).to_be_visible()
    expect(page.locator("#open-tickets")).to_contain_text("Mail is down")
    screenshot(page, "assets-impact")

"""The admin console in a real browser: disabling a plugin removes its nav entry and ticket panel at once."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup
from playwright.sync_api import expect

from frontdesk import hookimpl
from frontdesk.desk import Desk
from frontdesk.plugins import NavItem
from frontdesk.services import tickets

pytestmark = pytest.mark.e2e


class Gadget:
    """A plugin with a nav entry and a ticket sidebar panel."""

    NAME = "gadget"
    TITLE = "Gadget"
    VERSION = "0.1"
    DESCRIPTION = "Adds a gadget panel to tickets."

    @hookimpl
    def frontdesk_nav_items(self, user: Any) -> list[NavItem]:
        return [NavItem(label="Gadgets", endpoint="/gadgets", weight=70)]

    @hookimpl
    def frontdesk_slot_ticket_sidebar(self, ticket: Any, user: Any) -> Markup:
        return Markup('<section class="card card-body gadget-panel">Gadget panel</section>')


@pytest.fixture
def frontdesk_plugins() -> list[Any]:
    return ["webui", Gadget()]


def sign_in(page: Any, base: str, email: str, path: str) -> None:
    page.goto(base + path)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + path)


def test_an_admin_disables_and_enables_a_plugin(
    live_server: str, browser_page: Any, screenshot: Any, desk: Desk, make_user: Any
) -> None:
    admin = make_user(email="root@example.com", name="Root Admin", role="admin")
    rita = make_user(email="rita@example.com", name="Rita Requester")
    with desk.action(rita, source="test") as uow:
        number = tickets.create_ticket(uow, {"subject": "Printer on fire", "body": "Please help."}).number
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    sign_in(page, live_server, admin.email, "/admin/")
    nav = page.get_by_role("navigation", name="Main")
    page.get_by_role("navigation", name="Admin sections").get_by_role("link", name="Plugins").click()
    expect(page.get_by_role("heading", name="Plugins")).to_be_visible()
    gadget = page.locator("#plugin-gadget")
    expect(gadget.locator(".admin-status")).to_have_text("enabled")
    expect(page.locator("#plugin-webui").get_by_role("button", name="Disable")).to_have_count(0)
    expect(nav.get_by_role("link", name="Gadgets")).to_be_visible()
    screenshot(page, "admin-plugins")

    gadget.get_by_role("button", name="Disable Gadget").click()
    expect(page.get_by_role("status").filter(has_text="is disabled")).to_be_visible()
    expect(gadget.locator(".admin-status")).to_have_text("disabled")
    expect(nav.get_by_role("link", name="Gadgets")).to_have_count(0)
    screenshot(page, "admin-plugins-disabled")

    page.goto(f"{live_server}/agent/tickets/{number}")
    expect(page.get_by_text("Printer on fire").first).to_be_visible()
    expect(page.locator(".gadget-panel")).to_have_count(0)
    expect(nav.get_by_role("link", name="Gadgets")).to_have_count(0)

    page.goto(f"{live_server}/admin/plugins")
    gadget.get_by_role("button", name="Enable Gadget").click()
    expect(page.get_by_role("status").filter(has_text="is enabled")).to_be_visible()
    expect(gadget.locator(".admin-status")).to_have_text("enabled")
    expect(nav.get_by_role("link", name="Gadgets")).to_be_visible()

    page.goto(f"{live_server}/agent/tickets/{number}")
    expect(page.locator(".gadget-panel")).to_be_visible()
    screenshot(page, "admin-agent-ticket-with-panel")
    assert not [e for e in errors if "Failed to load resource" not in e], errors


def test_admin_pages_look_right(live_server: str, browser_page: Any, screenshot: Any, make_user: Any) -> None:
    admin = make_user(email="root@example.com", name="Root Admin", role="admin")
    make_user(email="ann@example.com", name="Ann Agent", role="agent")
    page = browser_page
    sign_in(page, live_server, admin.email, "/admin/users")
    screenshot(page, "admin-users")
    page.get_by_label("E-mail", exact=True).fill("bad")
    page.get_by_label("Name", exact=True).fill("Typed")
    page.locator("form[aria-labelledby=new-user] input[name=email]").evaluate("el => el.type = 'text'")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("Not a valid email address.")).to_be_visible()
    screenshot(page, "admin-users-invalid")
    page.goto(f"{live_server}/admin/workflow")
    screenshot(page, "admin-workflow")
    page.goto(f"{live_server}/admin/tokens")
    page.get_by_label("For user (e-mail)").fill("ann@example.com")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("only this once")).to_be_visible()
    screenshot(page, "admin-tokens")


def test_an_admin_builds_a_trigger_with_the_form_and_it_acts(
    live_server: str, browser_page: Any, screenshot: Any, desk: Desk, make_user: Any
) -> None:
    admin = make_user(email="root@example.com", name="Root Admin", role="admin")
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, live_server, admin.email, "/admin/automation/new?kind=trigger")

    page.get_by_label("Name").fill("Tag printer trouble")
    page.get_by_label("Ticket created").check()
    page.get_by_role("button", name="Add a condition").click()
    page.select_option("#conditions-0-field", "subject")
    page.select_option("#conditions-0-op", "contains")
    page.fill("#conditions-0-value", "printer")
    page.select_option("#actions-0-type", "add_tags")
    page.fill("#actions-0-tags", "printer, hardware")
    screenshot(page, "admin-trigger-form")
    page.get_by_role("button", name="Save trigger").click()
    page.wait_for_url(live_server + "/admin/automation*")
    expect(page.get_by_role("link", name="Tag printer trouble", exact=True)).to_be_visible()
    screenshot(page, "admin-automation-list")

    rita = make_user(email="rita@example.com", name="Rita Requester")
    with desk.action(rita, source="test") as uow:
        number = tickets.create_ticket(uow, {"subject": "Printer on fire", "body": "Smoke everywhere."}).number
    with desk.reading(admin) as uow:
        assert [tag.name for tag in tickets.get_ticket(uow, number).tags] == ["hardware", "printer"]
    assert errors == []

"""The agent workspace in a real browser: search, reply, note, status, keyboard shortcuts and a stale edit.

Uses the fixtures of ``tests/e2e/conftest.py``: ``live_server`` (waitress on a free port against the
test database), ``browser_page`` (Debian's Chromium, headless) and ``screenshot``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import people, tickets

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="browser tests need Debian's Chromium at /usr/bin/chromium (`make chromium`)",
    ),
]


def console_errors(page: Any) -> list[str]:
    """Script errors (a Content-Security-Policy violation shows up here)."""
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def create(desk: Desk, **data: Any) -> int:
    values = {"subject": "Printer jammed", "body": "Page 3 is stuck.", "requester": "rita@example.com"} | data
    with desk.action(SYSTEM, source="test") as uow:
        return tickets.create_ticket(uow, values).number


@pytest.fixture
def workspace(desk: Desk, make_user: Any) -> dict[str, Any]:
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
        people.create_group(uow, {"name": "Network"})
        people.create_organization(uow, {"name": "Acme Corporation"})
    make_user(email="agnes@example.com", name="Agnes Agent", role="agent", groups=["Support", "Network"])
    make_user(email="rita@example.com", name="Rita Requester", organization="Acme Corporation")
    make_user(email="sam@example.com", name="Sam Smith")
    mine = [
        create(
            desk, subject="Laptop will not charge", group="Support", assignee="agnes@example.com", tags=["hardware"]
        ),
        create(
            desk,
            subject="Invoice shows the wrong VAT number",
            group="Support",
            assignee="agnes@example.com",
            priority="high",
            requester="sam@example.com",
            tags=["billing"],
        ),
        create(desk, subject="Shared drive is read-only", group="Network", assignee="agnes@example.com"),
    ]
    vpn = create(
        desk,
        subject="Remote access keeps dropping",
        body="Since Monday the VPN gateway drops the connection every few minutes.\n\nWe work from home today.",
        group="Network",
        priority="urgent",
        type="incident",
        tags=["vpn", "remote"],
    )
    create(desk, subject="New starter needs an account", group="Support", requester="sam@example.com")
    return {"mine": mine, "vpn": vpn}


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/agent/")


def highlighted(page: Any) -> str:
    return page.locator("#ticket-list tr.is-highlighted").get_attribute("data-href") or ""


def test_an_agent_searches_replies_notes_and_changes_status(
    live_server: str, browser_page: Any, screenshot: Any, desk: Desk, workspace: dict[str, Any]
) -> None:
    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_server, "agnes@example.com")
    rail = page.get_by_role("navigation", name="Ticket views")
    assert rail.get_by_role("link", name=re.compile(r"My open tickets\s*3")).is_visible()
    assert page.locator("#ticket-list tr.ticket-row").count() == 3
    screenshot(page, "agent-list", full_page=False)

    # Keyboard: j/k move the highlight, ? shows the help, o opens.
    rows = [page.locator("#ticket-list tr.ticket-row").nth(i).get_attribute("data-href") for i in range(3)]
    page.locator("body").press("j")
    assert highlighted(page) == rows[0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert highlighted(page) == rows[2]
    page.keyboard.press("k")
    assert highlighted(page) == rows[1]
    screenshot(page, "agent-list-keyboard", full_page=False)
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_dialog.wait_for(state="visible")
    page.wait_for_function("() => document.activeElement.id === 'shortcuts-help'")  # shown, focus moved in
    page.keyboard.press("?")
    help_dialog.wait_for(state="hidden")
    page.keyboard.press("o")
    page.wait_for_url(live_server + rows[1])
    page.go_back()
    page.wait_for_url(live_server + "/agent/")

    # Search: / focuses the box; the hit shows the highlighted snippet.
    rail.get_by_role("link", name=re.compile("Recently updated")).click()
    page.wait_for_url(re.compile(r"/agent/views/recent$"))
    page.keyboard.press("/")
    search_box = page.get_by_role("searchbox", name="Search")
    assert search_box.evaluate("element => element === document.activeElement")
    page.keyboard.type("gateway")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=gateway"))
    assert page.locator("#ticket-list tr.ticket-row").count() == 1
    assert page.locator("#ticket-list .snippet mark").first.inner_text().lower() == "gateway"
    screenshot(page, "agent-search", full_page=False)
    page.get_by_role("link", name="Remote access keeps dropping").click()
    page.wait_for_url(f"{live_server}/agent/tickets/{workspace['vpn']}")

    # Reply (the default), then r/n switch the composer.
    composer = page.get_by_label("Reply (the requester sees it)")
    composer.fill("Could you tell us which VPN client version you use?")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(re.compile(r"#composer$"))
    assert page.get_by_text("Reply sent to the requester.").is_visible()
    reply = page.locator("article.message-reply", has_text="which VPN client version")
    assert reply.is_visible()

    page.locator("body").press("n")
    assert page.locator("#visibility-internal").is_checked()
    assert page.locator("#composer-body").evaluate("element => element === document.activeElement")
    page.keyboard.type("Gateway logs show TLS renegotiation failures; asked Network.")
    page.get_by_role("button", name="Add internal note").click()
    page.wait_for_url(re.compile(r"#composer$"))
    note = page.locator("article.message-note", has_text="TLS renegotiation")
    assert note.get_by_text("Internal note").is_visible()
    note_background = note.evaluate("element => getComputedStyle(element).backgroundColor")
    reply_background = reply.evaluate("element => getComputedStyle(element).backgroundColor")
    assert note_background != reply_background, "notes look different from replies"

    # Status: s focuses the status select.
    page.locator("body").press("s")
    assert page.locator("#prop-status").evaluate("element => element === document.activeElement")
    page.locator("#prop-status").select_option("pending")
    page.get_by_role("button", name="Update ticket").click()
    page.wait_for_url(f"{live_server}/agent/tickets/{workspace['vpn']}")
    assert page.locator("#ticket-status").inner_text() == "pending"

    # a: assign to me.
    page.locator("body").press("a")
    page.wait_for_load_state()
    page.get_by_text(f"Ticket #{workspace['vpn']} updated.").wait_for()
    assert page.locator("#ticket-assignee").inner_text() == "Agnes Agent"
    screenshot(page, "agent-ticket")

    # The history tab.
    page.get_by_role("tab", name=re.compile("History")).click()
    history = page.get_by_role("tabpanel", name=re.compile("History"))
    page.wait_for_function("() => getComputedStyle(document.getElementById('history')).opacity === '1'")  # faded in
    assert history.get_by_text("pending", exact=True).is_visible()
    screenshot(page, "agent-ticket-history", full_page=False)
    assert errors == []


def test_a_stale_edit_shows_the_conflict_and_keeps_the_typed_text(
    live_server: str, browser_page: Any, screenshot: Any, desk: Desk, workspace: dict[str, Any]
) -> None:
    page = browser_page
    errors = console_errors(page)
    number = workspace["mine"][0]
    sign_in(page, live_server, "agnes@example.com")
    page.goto(f"{live_server}/agent/tickets/{number}")
    page.locator("body").press("r")
    page.keyboard.type("Draft I have not sent yet: please try another charger.")
    page.get_by_label("Priority", exact=True).select_option("low")
    page.get_by_label("Add tags, separated by commas").fill("charger")

    with desk.action(SYSTEM, source="test") as uow:  # a colleague changes the ticket meanwhile
        tickets.update_ticket(uow, number, {"priority": "urgent", "subject": "Laptop will not charge at all"})

    page.get_by_role("button", name="Update ticket").click()
    alert = page.locator("#conflict-alert")
    alert.wait_for(state="visible")
    assert "Someone else changed this ticket while you were editing it." in alert.inner_text()
    assert "Laptop will not charge at all" in alert.inner_text()
    assert page.locator("#composer-body").input_value() == "Draft I have not sent yet: please try another charger."
    assert page.locator("#prop-priority").input_value() == "low"
    assert page.locator("#prop-add-tags").input_value() == "charger"
    screenshot(page, "agent-ticket-conflict", full_page=False)

    page.get_by_role("button", name="Update ticket").click()  # again, on the current version
    page.get_by_text(f"Ticket #{number} updated.").wait_for()
    assert page.locator("#composer-body").input_value().startswith("Draft I have not sent yet")
    assert page.locator("#prop-priority").input_value() == "low"
    assert errors == []


def test_an_agent_uses_a_macro_escalates_and_reads_why_rules_acted(
    live_server: str, browser_page: Any, screenshot: Any, desk: Desk, workspace: dict[str, Any]
) -> None:
    from frontdesk.services import automation, macros

    with desk.action(SYSTEM, source="test") as uow:
        people.update_group(uow, people.find_group(uow, "Support").id, {"escalates_to": "Network"})
        macros.create_macro(
            uow,
            {
                "name": "Ask for a photo",
                "body": "Hello {{ ticket.requester.name }}, could you send a photo of the charger?",
                "actions": [{"type": "set", "field": "status", "value": "pending"}],
                "shared": True,
            },
        )
        automation.create_rule(
            uow,
            {
                "name": "Tag pending hardware",
                "events": ["ticket.status_changed"],
                "conditions": [
                    {"field": "status_category", "op": "is", "value": "pending"},
                    {"field": "tags", "op": "contains", "value": "hardware"},
                ],
                "actions": [{"type": "add_tags", "tags": ["waiting-for-photo"]}],
            },
        )
    page = browser_page
    errors = console_errors(page)
    number = workspace["mine"][0]
    sign_in(page, live_server, "agnes@example.com")
    page.goto(f"{live_server}/agent/tickets/{number}")
    page.keyboard.press("m")
    assert page.evaluate("document.activeElement.id") == "macro-select"
    page.select_option("#macro-select", label="Ask for a photo")
    page.locator("#macro-form").get_by_role("button", name="Apply").click()
    page.wait_for_url(f"{live_server}/agent/tickets/{number}")
    assert "Applied “Ask for a photo”." in page.locator(".alert-success").inner_text()
    assert "could you send a photo of the charger?" in page.locator(".thread").inner_text()
    assert page.locator("#ticket-status").inner_text() == "pending"
    page.get_by_role("tab", name=re.compile("Automation")).click()
    panel = page.locator("#automation.show")
    panel.wait_for()
    page.wait_for_timeout(300)  # the tab's fade-in
    assert "Tag pending hardware" in panel.inner_text()
    assert "added tags waiting-for-photo" in panel.inner_text()
    screenshot(page, "agent-automation-tab")

    page.get_by_label("Why does Network need to take it?").fill("Charger port looks damaged")
    page.get_by_role("button", name="Escalate to Network").click()
    page.wait_for_url(f"{live_server}/agent/tickets/{number}")
    assert f"Ticket #{number} was escalated to Network." in page.locator(".alert-success").inner_text()
    screenshot(page, "agent-after-escalation")
    assert errors == []


def test_an_agent_saves_a_filtered_list_as_a_view(
    live_server: str, browser_page: Any, screenshot: Any, desk: Desk, workspace: dict[str, Any]
) -> None:
    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_server, "agnes@example.com")
    page.locator("#filter-tag").fill("hardware")
    page.get_by_role("button", name="Apply").click()
    page.locator("#save-view summary").click()
    page.locator("#view-name").fill("My hardware")
    page.locator("#view-col-created").uncheck()
    page.get_by_role("button", name="Save view").click()
    page.wait_for_url(re.compile(r".*/agent/saved/\d+$"))
    assert "View “My hardware” saved." in page.locator(".alert-success").inner_text()
    rail = page.locator("#agent-rail")
    assert "MY VIEWS" in rail.inner_text().upper()
    assert "My hardware" in rail.inner_text()
    headers = page.locator("#ticket-list thead").inner_text()
    assert "Created" not in headers
    assert "Updated" in headers
    screenshot(page, "agent-saved-view")
    assert errors == []

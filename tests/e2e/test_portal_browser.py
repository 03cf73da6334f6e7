"""The requester portal in a real browser: submit, follow the thread, reply, solve; and on a phone-sized screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import comments, tickets

pytestmark = pytest.mark.e2e

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
PHONE = {"width": 390, "height": 844}


def sign_in(page: Any, base: str, email: str, path: str = "/portal/") -> None:
    page.goto(base + path)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + path)


def watch_console(page: Any) -> list[str]:
    """Script errors the page reports (a Content-Security-Policy violation shows up here).

    Failed requests are watched separately (:func:`watch_responses`): the browser logs those too.
    """
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def watch_responses(page: Any) -> list[tuple[str, int]]:
    """Paths and statuses of failed responses, leaving out the favicon browsers ask for on their own."""
    failed: list[tuple[str, int]] = []

    def on_response(response: Any) -> None:
        path = urlsplit(response.url).path
        if response.status >= 400 and path != "/favicon.ico":
            failed.append((path, response.status))

    page.on("response", on_response)
    return failed


def fits_width(page: Any) -> bool:
    """No sideways scrolling: nothing is wider than the viewport."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_requester_files_a_request_follows_the_thread_and_solves_it(
    live_server: str, browser_page: Any, screenshot: Any, desk: Desk, make_user: Any, tmp_path: Path
) -> None:
    page = browser_page
    errors = watch_console(page)
    failed = watch_responses(page)
    rita = make_user(email="rita@example.com", name="Rita Requester")
    agent = make_user(email="agnes@example.com", name="Agnes Agent", role="agent")

    sign_in(page, live_server, rita.email)
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    expect(page.get_by_text("You have not submitted any requests yet.")).to_be_visible()
    screenshot(page, "portal-my-requests-empty")

    page.get_by_role("link", name="New request").click()
    page.wait_for_url(live_server + "/portal/new")
    page.get_by_label("Subject").fill("Screen flickers on my laptop")
    page.get_by_label("Description").fill("   ")  # passes the browser's check, not the desk's
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_text("Please describe your request.")).to_be_visible()
    expect(page.get_by_label("Subject")).to_have_value("Screen flickers on my laptop")
    screenshot(page, "portal-new-errors")

    screen = tmp_path / "flicker.png"
    screen.write_bytes(PNG)
    page.get_by_label("Description").fill("Since Monday the screen flickers.\n\nIt stops when I unplug the dock.")
    page.get_by_label("Attachments").set_input_files(str(screen))
    screenshot(page, "portal-new")
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_url(re.compile(r".*/portal/requests/\d+$"))
    number = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_text(f"your request #{number} was submitted")).to_be_visible()
    expect(page.get_by_role("link", name="flicker.png")).to_be_visible()
    screenshot(page, "portal-request-submitted")

    page.get_by_role("link", name="My requests").first.click()
    page.wait_for_url(live_server + "/portal/")
    row = page.locator(".portal-requests li", has_text="Screen flickers on my laptop")
    expect(row.get_by_text("Open")).to_be_visible()

    # The support team answers, and writes an internal note the requester must never see.
    with desk.action(agent, source="test") as uow:
        comments.add_comment(uow, number, {"body": "Which dock model do you use?"})
        comments.add_comment(uow, number, {"body": "INTERNAL: known driver bug", "public": False})
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, number, {"status": "pending"})

    page.reload()
    expect(row.get_by_text("Waiting for your reply")).to_be_visible()
    screenshot(page, "portal-my-requests")
    row.get_by_role("link").click()
    page.wait_for_url(f"{live_server}/portal/requests/{number}")
    expect(page.get_by_text("Which dock model do you use?")).to_be_visible()
    expect(page.get_by_text("Support team", exact=True)).to_be_visible()
    assert "INTERNAL" not in page.content()
    assert "known driver bug" not in page.content()
    screenshot(page, "portal-request-answered")

    page.get_by_label("Your message").fill("The USB-C dock from the office.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(f"{live_server}/portal/requests/{number}#reply")
    expect(page.get_by_text("Your reply was sent.")).to_be_visible()
    expect(page.get_by_text("The USB-C dock from the office.")).to_be_visible()
    expect(page.locator("header .portal-status")).to_have_text("Open")

    page.get_by_role("button", name="Mark as solved").click()
    page.wait_for_url(f"{live_server}/portal/requests/{number}")
    expect(page.get_by_text("Marked as solved.")).to_be_visible()
    expect(page.locator("header .portal-status")).to_have_text("Solved")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    screenshot(page, "portal-request-solved")
    with desk.reading(SYSTEM) as uow:
        assert tickets.get_ticket(uow, number).status_category == "solved"
    assert errors == [], "no script or policy errors on the portal's pages"
    assert failed == [("/portal/new", 422)], "only the form sent back with its errors"


def test_the_portal_fits_a_phone_screen(
    live_server: str, browser_page: Any, chromium_browser: Any, screenshot: Any, desk: Desk, make_user: Any
) -> None:
    rita = make_user(email="rita@example.com", name="Rita Requester")
    agent = make_user(email="agnes@example.com", name="Agnes Agent", role="agent")
    numbers = []
    for subject in (
        "VPN disconnects every few minutes when I work from home",
        "Need access to the finance share",
        "Printer on the second floor jams",
        "Password reset for the HR portal",
    ):
        with desk.action(rita, source="test") as uow:
            numbers.append(tickets.create_ticket(uow, {"subject": subject, "body": "Details follow."}).number)
    with desk.action(agent, source="test") as uow:
        comments.add_comment(uow, numbers[0], {"body": "Does it happen on the office network too?"})
        tickets.update_ticket(uow, numbers[0], {"status": "pending"})
        tickets.update_ticket(uow, numbers[2], {"status": "solved"})
    with desk.action(SYSTEM, source="test") as uow:
        tickets.update_ticket(uow, numbers[3], {"status": "closed"})

    sign_in(browser_page, live_server, rita.email)
    phone = chromium_browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, storage_state=browser_page.context.storage_state()
    )
    try:
        page = phone.new_page()
        errors = watch_console(page)
        failed = watch_responses(page)
        page.goto(live_server + "/portal/")
        expect(page.get_by_role("link", name="New request")).to_be_visible()
        expect(page.get_by_text("Waiting for your reply")).to_be_visible()
        assert fits_width(page)
        screenshot(page, "portal-my-requests-phone")

        page.goto(f"{live_server}/portal/requests/{numbers[0]}")
        expect(page.get_by_text("Does it happen on the office network too?")).to_be_visible()
        assert fits_width(page)
        screenshot(page, "portal-request-phone")

        page.goto(f"{live_server}/portal/requests/{numbers[3]}")
        expect(page.get_by_text("This request is closed").first).to_be_visible()
        expect(page.get_by_role("button", name="Send reply")).to_have_count(0)
        screenshot(page, "portal-request-closed-phone")

        page.goto(live_server + "/portal/new")
        expect(page.get_by_label("Subject")).to_be_visible()
        assert fits_width(page)
        screenshot(page, "portal-new-phone")

        page.get_by_role("button", name="Toggle navigation").click()
        page.locator("#main-nav.show").wait_for()  # Bootstrap adds .show once the menu is open
        screenshot(page, "portal-menu-phone", full_page=False)
        assert errors == []
        assert failed == []
    finally:
        phone.close()


def test_a_visitor_signs_up_on_a_phone_and_files_a_request(
    live_server: str, chromium_browser: Any, screenshot: Any, desk: Desk, app: Any
) -> None:
    from frontdesk.services import plugins

    with desk.action(SYSTEM, source="test") as uow:
        plugins.set_setting(uow, "webui", "signup", "domains")
        plugins.set_setting(uow, "webui", "signup_domains", "acme.example")
        plugins.set_setting(uow, "webui", "desk_name", "ACME Help")
    app.extensions["frontdesk_settings"].forget()
    phone = chromium_browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        errors = watch_console(page)
        page.goto(live_server + "/login")
        page.get_by_role("link", name="Create an account").click()
        page.get_by_label("Your name").fill("Nina New")
        page.get_by_label("E-mail").fill("nina@elsewhere.example")
        page.get_by_label("Password (8 characters or more)").fill("long enough")
        page.get_by_role("button", name="Create account").click()
        expect(page.locator("#signup-email-error")).to_contain_text("domains only")
        screenshot(page, "signup-refused-phone")
        page.get_by_label("E-mail").fill("nina@acme.example")
        page.get_by_label("Password (8 characters or more)").fill("long enough")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(live_server + "/portal/new")
        expect(page.get_by_text("Welcome! Your account is ready")).to_be_visible()
        assert "ACME Help" in page.title()
        assert fits_width(page)
        screenshot(page, "signup-welcome-phone")
        assert errors == []
    finally:
        phone.close()

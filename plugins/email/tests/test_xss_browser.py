"""Script in mail never runs in the agent's view: checked in headless Chromium on the ticket and message pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from frontdesk_email.pipeline import ingest

from frontdesk.permissions import SYSTEM
from frontdesk.services import people

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="browser tests need Debian's Chromium at /usr/bin/chromium (`make chromium`)",
    ),
]

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture
def hostile(desk: Any, make_user: Any) -> list[Any]:
    """The corpus' two hostile messages filed as tickets, and an agent to read them."""
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "Support"})
    make_user(email="agnes@example.com", name="Agnes Agent", role="agent", all_groups=True)
    return [
        ingest(desk, next(CORPUS.glob(f"*-{slug}.eml")).read_bytes(), source="import")
        for slug in ("xss-html-body", "xss-text-body")
    ]


def test_hostile_mail_never_runs_script_in_the_agent_view(
    live_server: str, browser_page: Any, hostile: list[Any]
) -> None:
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("agnes@example.com")
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server + "/agent/")
    for outcome in hostile:
        page.goto(f"{live_server}/agent/tickets/{outcome.ticket_number}")
        page.locator("summary", has_text="why is this here?").first.click()
        assert page.locator(".email-why li").first.is_visible()
        assert page.evaluate("window.__xss") is None
        page.goto(f"{live_server}/email/messages/{outcome.message_row_id}")
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None
        frame = page.frame_locator("iframe.email-html")
        if page.locator("iframe.email-html").count():
            assert frame.locator("body").inner_text(timeout=5000).startswith("Hello")
    page.goto(f"{live_server}/agent/tickets/{hostile[0].ticket_number}")
    assert page.get_by_text("<script>alert('subject')</script>").count() >= 1, "the subject is shown as text"
    assert page.evaluate("window.__xss") is None
    assert dialogs == []

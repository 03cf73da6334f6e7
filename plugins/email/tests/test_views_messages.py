"""The agent's view of mail: "why is this here?" and "show original" under each message, the message page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from frontdesk_email import tokens
from frontdesk_email.models import Mailbox
from frontdesk_email.pipeline import ingest
from markupsafe import Markup
from sqlalchemy import event

from frontdesk import hookimpl
from frontdesk.permissions import SYSTEM
from frontdesk.services import people


def login(client: Any, email: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": "password123", "csrf_token": token})
    assert response.status_code == 302


@pytest.fixture
def thread(desk: Any, mail: Any, make_user: Any) -> dict[str, Any]:
    """Ticket #1 in group Support opened by mail, a reply by mail, and an agent of the group."""
    with desk.action(SYSTEM, source="test") as uow:
        group = people.create_group(uow, {"name": "Support"})
        people.create_group(uow, {"name": "Billing"})
        uow.session.flush()
        uow.session.add(Mailbox(name="help", address="help@desk.test", group_id=group.id))
    make_user(email="agent@desk.test", role="agent")
    make_user(email="other@desk.test", role="agent")
    with desk.action(SYSTEM, source="test") as uow:
        people.add_member(uow, "Support", "agent@desk.test")
        people.add_member(uow, "Billing", "other@desk.test")
    opened = ingest(desk, mail(), source="imap", mailbox_id=1)
    ours = tokens.make_message_id(tokens.threading_key(desk.config.secret_key), 1, "desk.test")
    body = "Fixed, thanks.\n\nOn Monday, Help <help@desk.test> wrote:\n> Please restart it.\n"
    reply = ingest(desk, mail(body=body, message_id="<r@x>", headers={"In-Reply-To": ours}), source="imap")
    return {"opened": opened, "reply": reply}


def _render(client: Any, desk: Any) -> tuple[str, int]:
    """The ticket page and how many queries read the mail table while it rendered."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM email_messages" in statement:
            statements.append(statement)

    event.listen(desk.db.engine, "before_cursor_execute", record)
    try:
        return client.get("/agent/tickets/1").text, len(statements)
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", record)


def test_each_mail_message_says_why_it_is_here_without_a_query_each(
    client: Any, desk: Any, mail: Any, thread: dict[str, Any]
) -> None:
    login(client, "agent@desk.test")
    page, queries = _render(client, desk)
    assert page.count("why is this here?") == 2
    assert f'href="/email/messages/{thread["reply"].message_row_id}/raw"' in page
    assert "In-Reply-To quotes our" in page
    assert "It opened ticket #1." in page
    for n in range(3):
        ingest(desk, mail(subject="Re: [#1] Printer", message_id=f"<more{n}@x>"), source="imap")
    page, more_queries = _render(client, desk)
    assert page.count("why is this here?") == 5
    assert more_queries == queries, "the mail of all messages is loaded once per page"


def test_the_message_page_shows_the_decision_and_the_full_text(client: Any, thread: dict[str, Any]) -> None:
    login(client, "agent@desk.test")
    page = client.get(f"/email/messages/{thread['reply'].message_row_id}").text
    assert "signed message id" in page
    assert "&gt; Please restart it." in page, "the full text keeps the quote"


def test_remote_images_stay_blocked_until_the_agent_asks(client: Any, desk: Any, thread: dict[str, Any]) -> None:
    from email.message import EmailMessage

    newsletter = EmailMessage()
    newsletter["From"], newsletter["To"], newsletter["Subject"] = "anna@example.org", "help@desk.test", "Look"
    newsletter["Message-ID"] = "<img@x>"
    newsletter.set_content("Look at this.")
    newsletter.add_alternative('<p>Look <img src="https://tracker.example/p.png" alt="pixel"></p>', subtype="html")
    row = ingest(desk, newsletter.as_bytes(), source="imap", mailbox_id=1).message_row_id
    login(client, "agent@desk.test")
    blocked = client.get(f"/email/messages/{row}")
    assert "tracker.example" not in blocked.text
    assert "img-src 'self' data:;" in blocked.headers["Content-Security-Policy"]
    assert 'id="show-remote-images"' in blocked.text
    shown = client.get(f"/email/messages/{row}?images=1")
    assert "https://tracker.example/p.png" in shown.text
    assert "img-src 'self' data: https:;" in shown.headers["Content-Security-Policy"]


def test_show_original_downloads_the_exact_bytes(client: Any, mail: Any, thread: dict[str, Any]) -> None:
    login(client, "agent@desk.test")
    response = client.get(f"/email/messages/{thread['opened'].message_row_id}/raw")
    assert response.data == mail()
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_agents_who_cannot_see_the_ticket_cannot_see_its_mail(client: Any, thread: dict[str, Any]) -> None:
    login(client, "other@desk.test")
    assert client.get(f"/email/messages/{thread['opened'].message_row_id}").status_code == 404
    assert client.get(f"/email/messages/{thread['opened'].message_row_id}/raw").status_code == 404


class Footnotes:
    """A plugin that marks every message of the thread."""

    NAME = "footnotes"

    @hookimpl
    def frontdesk_slot_ticket_comment(self, ticket: Any, comment: Any, user: Any) -> Any:
        label = "opening" if comment is None else f"comment {comment.id}"
        return Markup('<span class="footnote">{} of #{} for {}</span>').format(label, ticket.number, user.email)


def test_hook_frontdesk_slot_ticket_comment_renders_under_each_message(
    client: Any, thread: dict[str, Any], register_plugin: Any
) -> None:
    register_plugin(Footnotes(), "footnotes")
    login(client, "agent@desk.test")
    page = client.get("/agent/tickets/1").text
    assert '<span class="footnote">opening of #1 for agent@desk.test</span>' in page
    comment = thread["reply"].comment_id
    assert f'<span class="footnote">comment {comment} of #1 for agent@desk.test</span>' in page

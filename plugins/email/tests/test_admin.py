"""The admin pages and API: mailboxes, the review queue, failed messages, the outbox, the ticket's mail log."""

from __future__ import annotations

from typing import Any

import pytest
from frontdesk_email import mailboxes, pipeline, tokens
from frontdesk_email.models import InboundMessage, Mailbox, OutboundMessage
from sqlalchemy import select

from frontdesk.desk import Desk
from frontdesk.models import Comment, Ticket
from frontdesk.permissions import SYSTEM
from frontdesk.services import comments


@pytest.fixture
def admin_client(app: Any, make_user: Any) -> Any:
    make_user(email="ada@desk.test", name="Ada Admin", role="admin")
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"email": "ada@desk.test", "password": "password123"}).status_code == 302
    return client


@pytest.fixture
def agent_client(app: Any, make_user: Any) -> Any:
    make_user(email="alex@desk.test", name="Alex Agent", role="agent", all_groups=True)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"email": "alex@desk.test", "password": "password123"}).status_code == 302
    return client


@pytest.fixture
def support(desk: Desk) -> int:
    with desk.action(SYSTEM, source="test") as uow:
        return mailboxes.add_mailbox(uow, {"name": "Support", "address": "help@desk.test"}).id


def filed(desk: Desk, mail: Any, **fields: Any) -> pipeline.Outcome:
    return pipeline.ingest(desk, mail(**fields), source="webhook")


def filed_broken(desk: Desk, mail: Any, monkeypatch: pytest.MonkeyPatch, **fields: Any) -> pipeline.Outcome:
    """A message filed while processing breaks: recorded as failed, to be retried or discarded."""

    def broken(context: Any) -> None:
        raise RuntimeError("routing table missing")

    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "run_stages", broken)
        return filed(desk, mail, **fields)


def from_stranger(desk: Desk, mail: Any, number: int, message_id: str) -> pipeline.Outcome:
    """A reply quoting the ticket's signed Message-ID, from someone who takes no part in it: held for review."""
    signed = tokens.make_message_id(tokens.threading_key(desk.config.secret_key), number, "desk.test")
    outcome = filed(
        desk, mail, sender="Mallory <mallory@example.net>", message_id=message_id, headers={"In-Reply-To": signed}
    )
    assert outcome.status == "review"
    return outcome


def message(desk: Desk, row_id: int) -> InboundMessage:
    with desk.db.reading() as session:
        return session.get(InboundMessage, row_id)


def test_mailboxes_are_added_checked_edited_paused_and_deleted(desk: Desk, admin_client: Any, imap_server: Any) -> None:
    host, port, user, password = imap_server
    assert "No mailboxes yet." in admin_client.get("/email/").text
    form = {"name": "Support", "address": "not-an-address", "imap_security": "none", "imap_folder": "INBOX"}
    refused = admin_client.post("/email/mailboxes/new", data=form)
    assert refused.status_code == 422
    assert 'id="address-error"' in refused.text

    form.update(address="help@desk.test", imap_host=host, imap_port=str(port), imap_username=user)
    form["imap_password"] = password
    assert admin_client.post("/email/mailboxes/new", data=form).status_code == 302
    with desk.db.reading() as session:
        mailbox = session.scalars(select(Mailbox)).one()
    assert (mailbox.imap_port, mailbox.imap_password) == (port, password)
    listed = admin_client.get("/email/").text
    assert "help@desk.test" in listed
    assert f"{host}:{port}" in listed

    tested = admin_client.post(f"/email/mailboxes/{mailbox.id}/test", follow_redirects=True).text
    assert "connected: INBOX holds" in tested

    edit = admin_client.get(f"/email/mailboxes/{mailbox.id}").text
    assert password not in edit, "the stored password is never shown"
    form.update(imap_folder="Support", imap_password="")
    assert admin_client.post(f"/email/mailboxes/{mailbox.id}", data=form).status_code == 302
    with desk.db.reading() as session:
        mailbox = session.get(Mailbox, mailbox.id)
    assert (mailbox.imap_folder, mailbox.imap_password) == ("Support", password), "blank keeps the password"

    admin_client.post(f"/email/mailboxes/{mailbox.id}/pause", data={"paused": "1"})
    assert "paused</span>" in admin_client.get("/email/").text
    admin_client.post(f"/email/mailboxes/{mailbox.id}/delete")
    with desk.db.reading() as session:
        assert session.scalars(select(Mailbox)).all() == []


@pytest.mark.parametrize("port", ["²", "imap", "70000"])
def test_a_mailbox_port_that_is_not_a_port_is_refused(admin_client: Any, port: str) -> None:
    form = {"name": "Support", "address": "help@desk.test", "imap_port": port, "imap_folder": "INBOX"}
    refused = admin_client.post("/email/mailboxes/new", data=form)
    assert refused.status_code == 422
    assert 'id="imap_port-error"' in refused.text


@pytest.mark.parametrize("ticket", ["", "#abc", "99999999999999999999"])
def test_accepting_into_a_ticket_that_cannot_exist_is_refused(
    desk: Desk, admin_client: Any, mail: Any, ticket: str
) -> None:
    number = filed(desk, mail).ticket_number
    held = from_stranger(desk, mail, number, "<stranger@example.net>").message_row_id
    refused = admin_client.post(f"/email/review/{held}/accept", data={"ticket": ticket}, follow_redirects=True)
    assert refused.status_code == 200
    assert "give a ticket number" in refused.text
    assert message(desk, held).status == "review"


def test_the_review_queue_accepts_makes_tickets_and_discards(desk: Desk, admin_client: Any, mail: Any) -> None:
    number = filed(desk, mail).ticket_number
    held = [from_stranger(desk, mail, number, f"<stranger-{n}@example.net>").message_row_id for n in range(3)]
    page = admin_client.get("/email/review").text
    assert page.count("Add to ticket") == 3
    assert f'value="{number}"' in page, "the ticket the message names is suggested"

    admin_client.post(f"/email/review/{held[0]}/accept", data={"ticket": str(number)})
    admin_client.post(f"/email/review/{held[1]}/new-ticket")
    admin_client.post(f"/email/review/{held[2]}/discard")
    states = [(message(desk, row).status, message(desk, row).outcome) for row in held]
    assert states == [("processed", "appended"), ("processed", "created"), ("rejected", "discarded")]
    assert message(desk, held[0]).ticket_id == number
    assert message(desk, held[1]).ticket_id != number
    assert "Nothing waits for review." in admin_client.get("/email/review").text
    again = admin_client.post(f"/email/review/{held[2]}/discard", follow_redirects=True)
    assert "is rejected, not" in again.text, "a decided message cannot be decided again"


def test_failed_messages_are_listed_and_processed_again(
    desk: Desk, admin_client: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = filed_broken(desk, mail, monkeypatch, subject="Broken on arrival")
    assert failed.status == "failed"
    page = admin_client.get("/email/failed").text
    assert "Broken on arrival" in page
    assert "routing table missing" in page
    admin_client.post(f"/email/messages/{failed.message_row_id}/retry")
    assert message(desk, failed.message_row_id).status == "processed"

    api = admin_client.get("/api/v1/email/messages/failed").json
    assert api == []


def test_failed_mail_in_the_outbox_is_retried(
    desk: Desk,
    admin_client: Any,
    mail: Any,
    make_user: Any,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: Any,
    support: int,
) -> None:
    number = filed(desk, mail).ticket_number
    agent = make_user(email="alex@desk.test", role="agent", all_groups=True)
    with monkeypatch.context() as patched:
        patched.setenv("FRONTDESK_SMTP_URL", "smtp://127.0.0.1:9")
        patched.setattr("frontdesk_email.outbound.SEND_ATTEMPTS", 1)
        with desk.action(agent, source="web") as uow:
            comments.add_comment(uow, number, {"body": "We are on it."})
    page = admin_client.get("/email/outbox?state=failed").text
    assert "ConnectionRefusedError" in page
    (row,) = admin_client.get("/api/v1/email/outbox?state=failed").json
    assert row["to"] == ["anna@example.org"]
    assert admin_client.post(f"/email/outbox/{row['id']}/retry").status_code == 302
    assert [r["state"] for r in admin_client.get("/api/v1/email/outbox").json] == ["sent"]
    assert len(smtp_server.messages) == 1
    refused = admin_client.post(f"/api/v1/email/outbox/{row['id']}/retry")
    assert refused.status_code == 422
    assert "state" in refused.json["errors"]
    assert admin_client.get("/email/outbox?state=nonsense").status_code == 404


def test_a_failed_message_is_discarded_from_the_failed_page(
    desk: Desk, admin_client: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = [
        filed_broken(desk, mail, monkeypatch, message_id=f"<broken-{n}@example.org>").message_row_id for n in range(2)
    ]
    assert "Discard message" in admin_client.get("/email/failed").text
    discarded = admin_client.post(f"/email/review/{failed[0]}/discard", data={"next": "failed"})
    assert discarded.headers["Location"].endswith("/email/failed")
    assert (message(desk, failed[0]).status, message(desk, failed[0]).outcome) == ("rejected", "discarded")
    elsewhere = admin_client.post(f"/email/review/{failed[1]}/discard", data={"next": "//evil.example/"})
    assert elsewhere.headers["Location"].endswith("/email/review"), "only the plugin's own pages are returned to"


@pytest.mark.parametrize(
    "path", ["/email/review/999999/discard", "/email/outbox/999999/retry", "/email/mailboxes/999999/pause"]
)
def test_forms_for_what_does_not_exist_answer_404(admin_client: Any, path: str) -> None:
    assert admin_client.post(path).status_code == 404


def test_the_api_manages_mailboxes(desk: Desk, admin_client: Any, agent_client: Any) -> None:
    created = admin_client.post(
        "/api/v1/email/mailboxes", json={"name": "Sales", "address": "Sales@Desk.test", "imap_host": "imap.desk.test"}
    )
    assert created.status_code == 422
    assert created.json["errors"] == {"imap_username": ["an IMAP mailbox needs a user name"]}
    created = admin_client.post("/api/v1/email/mailboxes", json={"name": "Sales", "address": "Sales@Desk.test"})
    assert created.status_code == 201
    assert created.json["address"] == "sales@desk.test"
    assert created.json["has_password"] is False
    mailbox_id = created.json["id"]
    bad = admin_client.patch(f"/api/v1/email/mailboxes/{mailbox_id}", json={"imap_security": "rot13"})
    assert bad.status_code == 422
    assert "imap_security" in bad.json["errors"]
    paused = admin_client.patch(f"/api/v1/email/mailboxes/{mailbox_id}", json={"paused": True})
    assert paused.json["paused"] is True
    assert paused.json["name"] == "Sales"
    assert agent_client.get("/api/v1/email/mailboxes").status_code == 403
    untested = admin_client.post(f"/api/v1/email/mailboxes/{mailbox_id}/test").json
    assert untested["ok"] is False
    assert "has no IMAP server" in untested["message"]
    assert admin_client.delete(f"/api/v1/email/mailboxes/{mailbox_id}").status_code == 204
    assert admin_client.get(f"/api/v1/email/mailboxes/{mailbox_id}").status_code == 404


def test_the_api_review_queue_and_original(desk: Desk, admin_client: Any, mail: Any) -> None:
    number = filed(desk, mail).ticket_number
    held = from_stranger(desk, mail, number, "<stranger@example.net>").message_row_id
    (waiting,) = admin_client.get("/api/v1/email/review").json
    assert (waiting["id"], waiting["status"], waiting["sender"]) == (held, "review", "mallory@example.net")
    accepted = admin_client.post(f"/api/v1/email/review/{held}/accept", json={"ticket": number})
    assert accepted.status_code == 200
    assert (accepted.json["status"], accepted.json["ticket"]) == ("processed", number)
    assert admin_client.post(f"/api/v1/email/review/{held}/accept", json={"ticket": number}).status_code == 409
    assert admin_client.post(f"/api/v1/email/review/{held}/accept", json={}).status_code == 422
    original = admin_client.get(f"/api/v1/email/messages/{held}/raw")
    assert original.mimetype == "message/rfc822"
    assert b"Message-ID: <stranger@example.net>" in original.data


def test_agents_see_the_mail_log_of_their_tickets(
    desk: Desk, agent_client: Any, mail: Any, smtp_server: Any, support: int
) -> None:
    outcome = filed(desk, mail)
    number = outcome.ticket_number
    agent_client.post(f"/agent/tickets/{number}/comments", data={"body": "Hello Anna", "visibility": "public"})
    with desk.db.reading() as session:
        assert session.scalar(select(Comment.id).where(Comment.ticket_id == number, Comment.channel == "web"))
        sent = session.scalars(select(OutboundMessage)).one()
    page = agent_client.get(f"/agent/tickets/{number}").text
    assert "Mail log" in page
    assert "anna@example.org · sent" in page
    log = agent_client.get(f"/api/v1/email/tickets/{number}/mail").json
    assert [m["id"] for m in log["received"]] == [outcome.message_row_id]
    assert [(m["id"], m["state"], m["in_reply_to"]) for m in log["sent"]] == [(sent.id, "sent", "<m1@example.org>")]
    assert agent_client.get("/api/v1/email/tickets/999999/mail").status_code == 404
    with desk.db.reading() as session:
        assert session.scalar(select(Ticket.channel).where(Ticket.id == number)) == "email"

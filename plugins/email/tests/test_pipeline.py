"""The inbound pipeline end to end: recording, dedupe, ticket creation, replies, review, failures."""

from __future__ import annotations

from typing import Any

import pytest
from frontdesk_email import pipeline, tokens
from frontdesk_email.models import InboundMessage, ThreadReference
from frontdesk_email.pipeline import ingest
from sqlalchemy import func, select

from frontdesk.errors import FrontdeskError
from frontdesk.models import Comment, Event, Ticket


def test_new_mail_opens_a_ticket_for_a_new_requester(desk: Any, db: Any, mail: Any) -> None:
    outcome = ingest(desk, mail(), source="pipe")
    assert (outcome.status, outcome.outcome) == ("processed", "created")
    ticket = db.get(Ticket, outcome.ticket_number)
    assert ticket.subject == "Printer on fire"
    assert ticket.channel == "email"
    assert ticket.requester.email == "anna@example.org"
    assert ticket.requester.name == "Anna Example"
    assert "printer is on fire" in ticket.description
    row = db.get(InboundMessage, outcome.message_row_id)
    assert row.decision["classification"]["kind"] == "person"
    assert row.raw_key
    assert (
        db.scalar(select(ThreadReference.ticket_id).where(ThreadReference.message_id == "<m1@example.org>"))
        == ticket.id
    )


def test_same_message_twice_is_filed_once(desk: Any, db: Any, mail: Any) -> None:
    first = ingest(desk, mail(), source="imap")
    second = ingest(desk, mail(), source="import")
    assert second.status == "duplicate"
    assert second.ticket_number == first.ticket_number
    assert db.scalar(select(func.count()).select_from(Ticket)) == 1
    assert db.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_reply_quoting_our_message_id_is_appended_without_the_quote(desk: Any, db: Any, mail: Any) -> None:
    created = ingest(desk, mail(), source="pipe")
    key = tokens.threading_key(desk.config.secret_key)
    ours = tokens.make_message_id(key, created.ticket_number, "desk.test")
    reply = mail(
        subject="Re: Printer on fire",
        message_id="<m2@example.org>",
        body="It is out now, thanks!\n\nOn Mon, 3 Nov 2026 at 10:00, Help <help@desk.test> wrote:\n> We are on it\n",
        headers={"In-Reply-To": ours, "References": f"<m1@example.org> {ours}"},
    )
    outcome = ingest(desk, reply, source="pipe")
    assert (outcome.status, outcome.outcome, outcome.ticket_number) == ("processed", "appended", created.ticket_number)
    comment = db.get(Comment, outcome.comment_id)
    assert comment.public
    assert comment.author.email == "anna@example.org"
    assert "out now" in comment.body
    assert "We are on it" not in comment.body
    decision = db.get(InboundMessage, outcome.message_row_id).decision
    assert decision["thread"]["ticket"] == created.ticket_number
    assert decision["thread"]["evidence"][0]["kind"] == "signed_message_id"


def test_absurd_nesting_is_quarantined_not_a_crash(desk: Any, db: Any) -> None:
    inner = "Content-Type: text/plain\n\ndeep\n"
    for level in range(3000):
        inner = f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n{inner}\n--b{level}--\n'
    outcome = ingest(desk, f"From: a@example.org\nSubject: nest\n{inner}".encode(), source="pipe")
    assert outcome.status == "quarantined"
    assert "too deep" in outcome.reason
    assert db.get(InboundMessage, outcome.message_row_id).raw_key, "the original is kept for an admin"


def test_a_sender_the_desk_refuses_is_recorded_with_the_reason(desk: Any, db: Any, mail: Any) -> None:
    outcome = ingest(desk, mail(sender="Odd <a..b@example.org>"), source="pipe")
    assert outcome.status == "rejected"
    assert outcome.reason.startswith("refused by the desk: requester:")
    assert db.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_write_the_desk_refuses_leaves_no_events_to_deliver(
    desk: Any, db: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> None:  # after the ticket was created and its events emitted
        raise FrontdeskError("no more references")

    delivered: list[int] = []
    monkeypatch.setattr("frontdesk.uow.has_consumers", lambda desk, name: True)  # every event waits for delivery
    monkeypatch.setattr(desk.jobs, "deliver_events", lambda ids: delivered.extend(ids))
    monkeypatch.setattr(pipeline, "remember_reference", refused)
    outcome = ingest(desk, mail(), source="pipe")
    assert (outcome.status, outcome.reason) == ("rejected", "refused by the desk: no more references")
    assert db.scalar(select(func.count()).select_from(Ticket)) == 0
    assert db.scalar(select(func.count()).select_from(Event).where(Event.id.in_(delivered))) == len(delivered)

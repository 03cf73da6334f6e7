"""Outbound mail: agents' replies and notifications through the outbox to a real SMTP server, loop-safe."""

from __future__ import annotations

import os
from typing import Any

import pytest
from frontdesk_email import mailboxes, outbound, pipeline, tokens
from frontdesk_email.models import InboundMessage, OutboundMessage, ThreadReference
from frontdesk_email.thread import digest
from sqlalchemy import select

from frontdesk.desk import Desk
from frontdesk.models import JobRecord, User
from frontdesk.notifications import notify
from frontdesk.permissions import SYSTEM
from frontdesk.services import comments, tickets
from frontdesk.services.plugins import set_setting
from frontdesk.storage import Upload


@pytest.fixture
def agent(make_user: Any) -> User:
    return make_user(email="agent@desk.test", name="Alex Agent", role="agent", all_groups=True)


@pytest.fixture
def desk_mailbox(desk: Desk) -> int:
    with desk.action(SYSTEM, source="test") as uow:
        return mailboxes.add_mailbox(uow, {"name": "Support", "address": "help@desk.test"}).id


def open_ticket(desk: Desk, *, ccs: tuple[str, ...] = ()) -> int:
    with desk.action(SYSTEM, source="test") as uow:
        data = {"subject": "Printer on fire", "body": "It burns.", "requester": "rita@example.org", "ccs": list(ccs)}
        return tickets.create_ticket(uow, data).number


def reply(desk: Desk, agent: User, number: int, body: str = "Please unplug it.", **data: Any) -> int:
    with desk.action(agent, source="web") as uow:
        return comments.add_comment(uow, number, {"body": body, **data}, data.pop("files", ())).id


def rows(desk: Desk) -> list[OutboundMessage]:
    with desk.db.reading() as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def record_inbound(desk: Desk, number: int, message_id: str, decision: dict[str, Any] | None = None) -> None:
    """What the inbound pipeline leaves behind for a received mail of ticket ``number``."""
    with desk.db.transaction() as session:
        session.add(
            InboundMessage(
                dedupe_key=digest(message_id),
                source="imap",
                message_id=message_id,
                sender="rita@example.org",
                status="processed",
                ticket_id=number,
                decision=decision or {},
            )
        )
        session.add(ThreadReference(message_id=message_id, digest=digest(message_id), ticket_id=number, direction="in"))


def test_an_agent_reply_is_mailed_with_threading_headers(
    desk: Desk, agent: User, desk_mailbox: int, smtp_server: Any
) -> None:
    number = open_ticket(desk, ccs=("carl@example.org",))
    record_inbound(desk, number, "<first@example.org>")
    comment_id = reply(desk, agent, number)

    ((sender, recipients, _raw),) = smtp_server.messages
    mail = smtp_server.parsed()
    assert sender == "help@desk.test"
    assert recipients == ["rita@example.org", "carl@example.org"]
    assert mail["To"] == "rita@example.org"
    assert mail["Cc"] == "carl@example.org"
    assert mail["Subject"] == f"Re: Printer on fire [#{number}]"
    key = tokens.threading_key(desk.config.secret_key)
    assert tokens.ticket_of_message_id(key, mail["Message-ID"]) == number
    assert tokens.ticket_of_address(key, mail["Reply-To"]) == number
    assert tokens.untagged(mail["Reply-To"]) == "help@desk.test"
    assert mail["In-Reply-To"] == "<first@example.org>"
    assert mail["References"] == "<first@example.org>"
    assert mail["Auto-Submitted"] is None, "a person's reply is not automatic mail"
    assert "Please unplug it." in mail.get_body(("plain",)).get_content()
    assert "<p>Please unplug it.</p>" in mail.get_body(("html",)).get_content()

    (row,) = rows(desk)
    assert (row.state, row.comment_id, row.attempts) == ("sent", comment_id, 1)
    with desk.db.reading() as session:
        sent = session.scalars(select(ThreadReference).where(ThreadReference.direction == "out")).one()
    assert (sent.message_id, sent.ticket_id) == (mail["Message-ID"], number)

    reply(desk, agent, number, "Second answer.")
    second = smtp_server.parsed()
    assert second["References"].split() == ["<first@example.org>", mail["Message-ID"]]
    assert second["In-Reply-To"] == "<first@example.org>", "answers the requester's newest mail"


def test_notes_and_mail_that_came_in_are_not_mailed(
    desk: Desk, agent: User, desk_mailbox: int, smtp_server: Any
) -> None:
    number = open_ticket(desk)
    reply(desk, agent, number, "Internal only", public=False)
    with desk.db.sessionmaker() as session:
        rita = session.scalars(select(User).where(User.email == "rita@example.org")).one()
        session.expunge(rita)
    with desk.action(rita, source="email") as uow:
        comments.add_comment(uow, number, {"body": "Thanks!"})
    assert smtp_server.messages == []
    assert rows(desk) == []


def test_attachments_of_the_reply_travel_with_it(
    desk: Desk, agent: User, desk_mailbox: int, smtp_server: Any, tmp_path: Any
) -> None:
    number = open_ticket(desk)
    (tmp_path / "steps.txt").write_bytes(b"1. unplug\n2. extinguish\n")
    with desk.action(agent, source="web") as uow, (tmp_path / "steps.txt").open("rb") as stream:
        comments.add_comment(uow, number, {"body": "See the steps."}, [Upload("steps.txt", stream)])
    mail = smtp_server.parsed()
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "steps.txt"
    assert attachment.get_content().replace("\r\n", "\n") == "1. unplug\n2. extinguish\n"
    assert mail.get_body(("plain",)) is not None


def test_notifications_are_automatic_mail_capped_per_address(
    desk: Desk, agent: User, desk_mailbox: int, smtp_server: Any
) -> None:
    number = open_ticket(desk)
    with desk.action(SYSTEM, source="test") as uow:
        set_setting(uow, "email", "auto_mail_per_hour", 2)
    kinds = ["ticket.received", "ticket.reminder", "ticket.solved"]
    for kind in kinds:
        with desk.action(SYSTEM, source="test") as uow:
            ticket = tickets.get_ticket(uow, number)
            notify(uow, kind, [ticket.requester], ticket)
    assert len(smtp_server.messages) == 2
    mail = smtp_server.parsed(0)
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["Subject"] == f"[#{number}] We received your request: Printer on fire"
    assert "has been received" in mail.get_body(("plain",)).get_content()
    states = [(row.kind, row.automatic, row.state) for row in rows(desk)]
    assert states == [(kinds[0], True, "sent"), (kinds[1], True, "sent"), (kinds[2], True, "suppressed")]
    assert rows(desk)[-1].last_error == "auto_mail_per_hour (2) reached for rita@example.org"


def test_a_notice_delivered_twice_is_mailed_once(desk: Desk, desk_mailbox: int, smtp_server: Any) -> None:
    number = open_ticket(desk)
    with desk.action(SYSTEM, source="test") as uow:
        ticket = tickets.get_ticket(uow, number)
        (notice,) = notify(uow, "ticket.received", [ticket.requester], ticket)
    outbound.deliver_notice(desk, notice)  # the delivery job run again (at least once)
    assert len(smtp_server.messages) == 1
    assert len(rows(desk)) == 1


def test_a_subject_is_one_line(desk: Desk, agent: User, desk_mailbox: int, smtp_server: Any) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        number = tickets.create_ticket(uow, {"subject": "Two\nlines", "requester": "rita@example.org"}).number
    reply(desk, agent, number)
    assert smtp_server.parsed()["Subject"] == f"Re: Two lines [#{number}]"


def test_no_automatic_answer_to_an_auto_reply(desk: Desk, agent: User, desk_mailbox: int, smtp_server: Any) -> None:
    number = open_ticket(desk)
    out_of_office = {
        "classification": {"kind": "automatic", "signals": ["Auto-Submitted: auto-replied"], "suppress_autoreply": True}
    }
    record_inbound(desk, number, "<ooo@example.org>", out_of_office)
    with desk.action(SYSTEM, source="test") as uow:
        ticket = tickets.get_ticket(uow, number)
        notify(uow, "ticket.received", [ticket.requester], ticket)
    assert smtp_server.messages == []
    (row,) = rows(desk)
    assert row.state == "suppressed"
    assert "automatic mail never answers it" in (row.last_error or "")
    reply(desk, agent, number, "A person answers anyway.")
    assert len(smtp_server.messages) == 1, "a person's reply still goes out"


def test_a_reply_written_by_a_rule_is_automatic_mail(desk: Desk, desk_mailbox: int, smtp_server: Any) -> None:
    number = open_ticket(desk)
    with desk.action(SYSTEM, source="automation") as uow:
        comments.add_comment(uow, number, {"body": "We got it."})
    mail = smtp_server.parsed()
    assert mail["Auto-Submitted"] == "auto-generated"
    out_of_office = {"classification": {"kind": "automatic", "suppress_autoreply": True}}
    record_inbound(desk, number, "<ooo-2@example.org>", out_of_office)
    with desk.action(SYSTEM, source="automation") as uow:
        comments.add_comment(uow, number, {"body": "We got that too."})
    assert len(smtp_server.messages) == 1, "a rule never answers an auto-reply"
    assert [(row.automatic, row.state) for row in rows(desk)] == [(True, "sent"), (True, "suppressed")]


def test_a_failed_send_is_kept_visible_and_retried(
    desk: Desk, agent: User, desk_mailbox: int, monkeypatch: pytest.MonkeyPatch, smtp_server: Any
) -> None:
    number = open_ticket(desk)
    working = os.environ["FRONTDESK_SMTP_URL"]
    monkeypatch.setenv("FRONTDESK_SMTP_URL", "smtp://127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(outbound, "SEND_ATTEMPTS", 1)
    reply(desk, agent, number)
    (row,) = rows(desk)
    assert row.state == "failed"
    assert row.attempts == 1
    assert "ConnectionRefusedError" in (row.last_error or "")
    with desk.db.reading() as session:
        assert session.scalars(select(JobRecord).where(JobRecord.name == "email.send")).all()

    monkeypatch.setenv("FRONTDESK_SMTP_URL", working)
    with desk.action(SYSTEM, source="test") as uow:
        outbound.retry(uow, row.id)
    (row,) = rows(desk)
    assert row.state == "sent"
    assert len(smtp_server.messages) == 1


def test_smtp_urls_are_parsed() -> None:
    from frontdesk_email.smtp import SmtpServer

    plain = SmtpServer.from_url("smtp://mailer%40desk.test:s%3Acret@mail.desk.test?starttls=require")
    assert (plain.host, plain.port, plain.tls, plain.username, plain.password) == (
        "mail.desk.test",
        587,
        "starttls",
        "mailer@desk.test",
        "s:cret",
    )
    assert plain.require_starttls
    assert plain.verify
    assert SmtpServer.from_url("smtps://mail.desk.test").port == 465
    with pytest.raises(Exception, match="not an SMTP URL"):
        SmtpServer.from_url("http://mail.desk.test")


def test_an_agent_answering_by_mail_is_mailed_on_to_whom_it_did_not_reach(
    desk: Desk, agent: User, desk_mailbox: int, smtp_server: Any, mail: Any
) -> None:
    number = open_ticket(desk, ccs=("carl@example.org",))
    key = tokens.threading_key(desk.config.secret_key)
    answer = mail(
        sender=agent.email,
        to="help@desk.test",
        message_id="<agent-answer@desk.test>",
        headers={"Cc": "carl@example.org", "In-Reply-To": tokens.make_message_id(key, number, "desk.test")},
        body="Replace the fuser, please.",
    )
    outcome = pipeline.ingest(desk, answer, source="pipe", mailbox_id=desk_mailbox)
    assert outcome.outcome == "appended"

    ((_sender, recipients, _raw),) = smtp_server.messages
    assert recipients == ["rita@example.org"], "Carl had the agent's mail already"
    assert "Replace the fuser" in smtp_server.parsed().get_body(("plain",)).get_content()

    requester_mail = mail(
        sender="rita@example.org",
        message_id="<rita-2@example.org>",
        headers={"In-Reply-To": "<agent-answer@desk.test>"},
    )
    assert pipeline.ingest(desk, requester_mail, source="pipe", mailbox_id=desk_mailbox).outcome == "appended"
    assert len(smtp_server.messages) == 1, "a requester's mail is not mailed on"

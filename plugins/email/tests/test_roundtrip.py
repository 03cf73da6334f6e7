"""The full round trip with real servers: IMAP (pymap) in, SMTP (aiosmtpd) out, and back in on the same ticket."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from frontdesk_email import mailboxes, tokens
from frontdesk_email.models import InboundMessage, OutboundMessage
from imapclient import IMAPClient
from sqlalchemy import event, func, select

from frontdesk.automation.config_file import install_defaults
from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.models import Comment, Ticket, User
from frontdesk.permissions import SYSTEM
from frontdesk.services import comments


class ImapBox:
    """One folder of the test IMAP server, as a mail server delivering into it and a person looking at it."""

    def __init__(self, server: tuple[str, int, str, str]) -> None:
        self.host, self.port, self.user, self.password = server
        self.folder = f"Desk-{uuid.uuid4().hex[:8]}"
        self.done = f"{self.folder}-done"
        with self.client() as client:
            client.create_folder(self.folder)

    def client(self) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes) -> None:
        with self.client() as client:
            client.append(self.folder, raw)

    def count(self, folder: str) -> int:
        with self.client() as client:
            if not client.folder_exists(folder):
                return 0
            return len(client.select_folder(folder, readonly=True) and client.search(["ALL"]))


def mail(sender: str, to: str, subject: str, body: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def answer(captured: Any, sender: str, body: str) -> bytes:
    """The requester's reply to a captured mail, as a mail client builds it."""
    references = f"{captured['References'] or ''} {captured['Message-ID']}".strip()
    return mail(
        sender,
        captured["Reply-To"] or captured["From"],
        f"Re: {captured['Subject']}",
        body + "\n\n> " + captured.get_body(("plain",)).get_content().replace("\n", "\n> "),
        In_Reply_To=captured["Message-ID"],
        References=references,
    )


@pytest.fixture
def box(desk: Desk, imap_server: Any) -> ImapBox:
    imap_box = ImapBox(imap_server)
    with desk.action(SYSTEM, source="test") as uow:
        mailboxes.add_mailbox(
            uow,
            {
                "name": "Support",
                "address": "help@desk.test",
                "imap_host": imap_box.host,
                "imap_port": imap_box.port,
                "imap_security": "none",
                "imap_username": imap_box.user,
                "imap_password": imap_box.password,
                "imap_folder": imap_box.folder,
                "processed_folder": imap_box.done,
            },
        )
    return imap_box


def inbound(desk: Desk) -> list[InboundMessage]:
    with desk.db.reading() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def test_mail_in_reply_out_and_the_answer_back_on_the_same_ticket(
    desk: Desk, box: ImapBox, smtp_server: Any, make_user: Any, cli: Any
) -> None:
    with desk.action(SYSTEM, source="test") as uow:  # what `frontdesk init` gives a new desk
        install_defaults(uow)
    agent = make_user(email="alex@desk.test", name="Alex Agent", role="agent", all_groups=True)
    box.deliver(mail("Rita Requester <rita@example.org>", "help@desk.test", "Printer on fire", "It burns."))

    fetched = cli("email", "fetch")
    assert fetched.exit_code == 0, fetched.output
    assert "1 fetched (1 processed)" in fetched.output
    (first,) = inbound(desk)
    assert (first.status, first.outcome) == ("processed", "created")
    number = first.ticket_id
    assert (box.count(box.folder), box.count(box.done)) == (0, 1), "moved only after it was filed"
    received = smtp_server.parsed()  # the default rule's "we received your request"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["In-Reply-To"] == first.message_id

    with desk.action(agent, source="web") as uow:
        comments.add_comment(uow, number, {"body": "Please unplug it."})
    assert len(smtp_server.messages) == 2, "the reply is mailed once (not again as a notification)"
    (_sender, recipients, _raw) = smtp_server.messages[-1]
    sent = smtp_server.parsed()
    key = tokens.threading_key(desk.config.secret_key)
    assert recipients == ["rita@example.org"]
    assert sent["Auto-Submitted"] is None
    assert sent["In-Reply-To"] == first.message_id
    assert sent["References"].split() == [first.message_id, received["Message-ID"]]
    assert tokens.ticket_of_message_id(key, sent["Message-ID"]) == number
    assert tokens.ticket_of_address(key, sent["Reply-To"]) == number
    assert f"[#{number}]" in sent["Subject"]

    box.deliver(answer(sent, "Rita Requester <rita@example.org>", "Unplugged, the fire is out. Thanks!"))
    assert cli("email", "fetch").exit_code == 0
    second = inbound(desk)[-1]
    assert (second.status, second.outcome, second.ticket_id) == ("processed", "appended", number)
    with desk.db.reading() as session:
        bodies = session.scalars(select(Comment.body).where(Comment.ticket_id == number).order_by(Comment.id)).all()
        assert session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) == number, "no new ticket"
    assert "the fire is out" in bodies[-1]

    # Out-of-office answers, one to the agent's mail and one that opens a ticket of its own: both are
    # filed, and the desk's automatic "we received your request" does not answer the second.
    for subject, headers in (
        (f"Automatic reply: {sent['Subject']}", {"In_Reply_To": sent["Message-ID"]}),
        ("Out of office", {}),
    ):
        box.deliver(
            mail(
                "Rita Requester <rita@example.org>",
                "help@desk.test",
                subject,
                "I am away until Monday.",
                Auto_Submitted="auto-replied",
                **headers,
            )
        )
    assert cli("email", "fetch").exit_code == 0
    threaded, opened = inbound(desk)[-2:]
    assert (threaded.outcome, threaded.ticket_id) == ("appended", number)
    assert opened.outcome == "created"
    assert opened.decision["classification"]["suppress_autoreply"] is True
    assert len(smtp_server.messages) == 2, "no mail in answer to an auto-reply"
    with desk.db.reading() as session:
        held = session.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == opened.ticket_id)).one()
        assert (held.kind, held.state) == ("ticket.received", "suppressed")
        assert "automatic mail never answers it" in (held.last_error or "")
        rita = session.scalars(select(User).where(User.email == "rita@example.org")).one()
        assert rita.role == "requester"
    assert box.count(box.folder) == 0
    assert box.count(box.done) == 4


def test_one_bad_message_does_not_stop_the_others(
    desk: Desk, box: ImapBox, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    from frontdesk_email import pipeline

    real = pipeline.ingest

    def flaky(the_desk: Desk, raw: bytes, **kwargs: Any) -> Any:
        if b"Subject: Poison" in raw:
            raise pipeline.TransientError("database unavailable")
        return real(the_desk, raw, **kwargs)

    monkeypatch.setattr(pipeline, "ingest", flaky)
    box.deliver(mail("a@example.org", "help@desk.test", "Poison", "x"))
    box.deliver(mail("b@example.org", "help@desk.test", "Fine", "y"))
    result = cli("email", "fetch")
    assert result.exit_code == 1
    assert "1 failed" in result.output
    assert [row.subject for row in inbound(desk)] == ["Fine"]
    assert box.count(box.folder) == 1, "the failed one stays on the server for the next poll"
    monkeypatch.setattr(pipeline, "ingest", real)
    assert cli("email", "fetch").exit_code == 0
    assert sorted(row.subject for row in inbound(desk)) == ["Fine", "Poison"]
    assert box.count(box.folder) == 0


def test_mailbox_commands_and_the_connection_test(desk: Desk, box: ImapBox, cli: Any) -> None:
    listed = cli("email", "mailbox", "list", "--json")
    assert '"address": "help@desk.test"' in listed.output
    tested = cli("email", "mailbox", "test", "Support")
    assert tested.exit_code == 0
    assert f"connected: {box.folder} holds 0 messages" in tested.output
    added = cli(
        "email",
        "mailbox",
        "add",
        "Broken",
        "broken@desk.test",
        "--imap-host",
        box.host,
        "--imap-port",
        str(box.port),
        "--security",
        "none",
        "--username",
        box.user,
        "--password-env",
        "FD_TEST_NO_SUCH_VAR",
    )
    assert added.exit_code == 0, added.output
    refused = cli("email", "mailbox", "test", "broken@desk.test")
    assert refused.exit_code == 1
    assert "FD_TEST_NO_SUCH_VAR" in refused.output
    duplicate = cli("email", "mailbox", "add", "Support", "other@desk.test")
    assert duplicate.exit_code == 1
    assert "another mailbox has this name" in duplicate.output


def test_the_periodic_job_polls_mailboxes_that_are_not_paused(desk: Desk, box: ImapBox) -> None:
    box.deliver(mail("a@example.org", "help@desk.test", "Polled", "x"))
    assert desk.jobs.run_periodic("email.poll") == "done"
    assert [row.subject for row in inbound(desk)] == ["Polled"]
    with desk.action(SYSTEM, source="test") as uow:
        mailbox = mailboxes.find_mailbox(uow, "Support")
        assert mailbox.last_polled_at is not None
        assert mailbox.last_error is None
        mailboxes.set_paused(uow, mailbox.id, True)
    box.deliver(mail("b@example.org", "help@desk.test", "Waits", "y"))
    assert desk.jobs.run_periodic("email.poll", now=utcnow() + timedelta(minutes=1)) == "done"
    assert len(inbound(desk)) == 1, "a paused mailbox is left alone"
    assert box.count(box.folder) == 1


@pytest.mark.sqlite_only  # the IMAP side is what is tested; once is enough
def test_watching_files_new_mail_as_soon_as_the_server_announces_it(desk: Desk, box: ImapBox) -> None:
    from frontdesk_email import imap

    with desk.reading(SYSTEM) as uow:
        mailbox_id = mailboxes.find_mailbox(uow, "Support").id
    reports: list[imap.PollReport] = []
    stop, idling = threading.Event(), threading.Event()
    watcher = threading.Thread(target=imap.watch, args=(desk, mailbox_id, stop, reports.append, idling))
    watcher.start()
    try:
        _wait_for(lambda: reports, "the first look at the folder")
        with box.client() as client:
            assert client.has_capability("IDLE")
        assert idling.wait(10), "the watcher listens to the server"
        box.deliver(mail("a@example.org", "help@desk.test", "Pushed", "x"))
        _wait_for(lambda: inbound(desk), "the message announced by IDLE", seconds=30.0)
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()
    assert [row.subject for row in inbound(desk)] == ["Pushed"]
    assert sum(report.fetched for report in reports) == 1
    assert box.count(box.folder) == 0


def _wait_for(condition: Any, what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def bounce_of(captured: Any) -> bytes:
    """A delivery status report (RFC 3464) for a captured mail, as a mail server sends it back."""
    original = captured.as_bytes().decode("utf-8", "replace")
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        f"To: {captured['From']}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mx.example.org>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; rita@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--b1\r\nContent-Type: message/rfc822\r\n\r\n{original}\r\n--b1--\r\n"
    ).encode()


def test_every_kind_of_answer_lands_where_it_should(
    desk: Desk, box: ImapBox, smtp_server: Any, make_user: Any, cli: Any
) -> None:
    agent = make_user(email="alex@desk.test", name="Alex Agent", role="agent", all_groups=True)
    box.deliver(mail("Rita Requester <rita@example.org>", "help@desk.test", "Printer on fire", "It burns."))
    assert cli("email", "fetch").exit_code == 0
    number = inbound(desk)[0].ticket_id
    with desk.action(agent, source="web") as uow:
        comments.add_comment(uow, number, {"body": "Please unplug it."})
    sent = smtp_server.parsed()
    rita = "Rita Requester <rita@example.org>"
    quoted = "\n> " + sent.get_body(("plain",)).get_content().replace("\n", "\n> ")

    cases = {
        "changed subject": mail(
            rita, sent["Reply-To"], "Another printer now", "And the other one too.", In_Reply_To=sent["Message-ID"]
        ),
        "outlook style": mail(rita, sent["Reply-To"], f"AW: {sent['Subject']}", "Unplugged." + quoted),
        "forwarded by an outsider": mail(
            "Bob Colleague <bob@example.org>", "help@desk.test", f"Fwd: {sent['Subject']}", "FYI" + quoted
        ),
        "reply from an outsider": mail(
            "Mallory <mallory@example.net>",
            sent["Reply-To"],
            f"Re: {sent['Subject']}",
            "Let me in.",
            In_Reply_To=sent["Message-ID"],
        ),
        "bounce": bounce_of(sent),
        "out of office": mail(
            rita,
            "help@desk.test",
            f"Out of office: {sent['Subject']}",
            "Away.",
            Auto_Submitted="auto-replied",
            In_Reply_To=sent["Message-ID"],
        ),
    }
    for raw in cases.values():
        box.deliver(raw)
    assert cli("email", "fetch").exit_code == 0

    landed = dict(zip(cases, inbound(desk)[1:], strict=True))
    assert {case: (row.status, row.outcome) for case, row in landed.items()} == {
        "changed subject": ("processed", "appended"),
        "outlook style": ("processed", "appended"),
        "forwarded by an outsider": ("review", None),
        "reply from an outsider": ("review", None),
        "bounce": ("rejected", None),
        "out of office": ("processed", "appended"),
    }
    threaded = (
        "changed subject",
        "outlook style",
        "forwarded by an outsider",
        "reply from an outsider",
        "out of office",
    )
    assert {landed[case].ticket_id for case in threaded} == {number}, "filed under, or suggested for, the ticket"
    with desk.db.reading() as session:
        assert session.scalar(select(func.count(Ticket.id))) == 1, "none of them opened a ticket"
    assert len(smtp_server.messages) == 1, "nothing but the agent's reply was sent"
    assert box.count(box.folder) == 0


def test_mailbox_add_reports_the_mailbox_only_once_it_is_committed(
    desk: Desk, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add = mailboxes.add_mailbox

    def add_then_fail_to_commit(uow: Any, data: dict[str, Any]) -> Any:
        def fail(session: Any) -> None:
            raise RuntimeError("disk full")

        event.listen(uow.session, "before_commit", fail, once=True)
        return add(uow, data)

    monkeypatch.setattr(mailboxes, "add_mailbox", add_then_fail_to_commit)
    result = cli("email", "mailbox", "add", "Sales", "sales@desk.test")
    assert result.exit_code != 0
    assert "added" not in result.output

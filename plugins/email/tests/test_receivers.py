"""The other ways in: the signed HTTP webhook and the SMTP/LMTP listener, both feeding the one pipeline."""

from __future__ import annotations

import smtplib
import socket
from typing import Any

import pytest
from frontdesk_email import listener, mailboxes, pipeline
from frontdesk_email.models import InboundMessage
from frontdesk_email.webhook import HEADER, signature
from sqlalchemy import select

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services.plugins import set_setting


@pytest.fixture
def support(desk: Desk) -> int:
    with desk.action(SYSTEM, source="test") as uow:
        return mailboxes.add_mailbox(uow, {"name": "Support", "address": "help@desk.test"}).id


def received(desk: Desk) -> list[InboundMessage]:
    with desk.db.reading() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def test_the_webhook_takes_only_signed_mail(desk: Desk, client: Any, mail: Any, support: int) -> None:
    raw = mail(subject="Sent by HTTP")
    url = "/api/v1/email/inbound?mailbox=help@desk.test"
    off = client.post(url, data=raw, content_type="message/rfc822", headers={HEADER: signature("x", raw)})
    assert off.status_code == 404, "no secret: the webhook is off"
    with desk.action(SYSTEM, source="test") as uow:
        set_setting(uow, "email", "webhook_secret", "hook-secret")

    unsigned = client.post(url, data=raw, content_type="message/rfc822")
    assert unsigned.status_code == 401
    assert unsigned.json["code"] == "unauthorized"
    forged = client.post(url, data=raw, content_type="message/rfc822", headers={HEADER: signature("guess", raw)})
    assert forged.status_code == 403
    tampered = raw.replace(b"Sent by HTTP", b"Sent by HTTQ")
    assert client.post(url, data=tampered, headers={HEADER: signature("hook-secret", raw)}).status_code == 403
    assert received(desk) == []

    accepted = client.post(
        url, data=raw, content_type="message/rfc822", headers={HEADER: signature("hook-secret", raw)}
    )
    assert accepted.status_code == 202
    assert accepted.json["status"] == "processed"
    assert accepted.json["outcome"] == "created"
    (row,) = received(desk)
    assert (row.source, row.mailbox_id, row.ticket_id) == ("webhook", support, accepted.json["ticket"])
    again = client.post(url, data=raw, content_type="message/rfc822", headers={HEADER: signature("hook-secret", raw)})
    assert again.json["status"] == "duplicate"
    assert len(received(desk)) == 1

    unknown = client.post(
        "/api/v1/email/inbound?mailbox=nobody@desk.test", data=raw, headers={HEADER: signature("hook-secret", raw)}
    )
    assert unknown.status_code == 422
    assert "mailbox" in unknown.json["errors"]


def test_the_webhook_is_documented(client: Any) -> None:
    spec = client.get("/api/openapi.json").json
    operation = spec["paths"]["/api/v1/email/inbound"]["post"]
    assert operation["security"] == []
    assert "202" in operation["responses"]


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
def test_the_listener_files_what_it_accepts(
    desk: Desk, mail: Any, support: int, lmtp: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = listener.controller(desk, port=unused_port(), lmtp=lmtp)
    server.start()
    try:
        client_class = smtplib.LMTP if lmtp else smtplib.SMTP
        with client_class(server.hostname, server.port) as client:
            refused = client.sendmail("rita@example.org", ["help+t1-000000000000@desk.test"], mail())
        assert refused == {}
        (row,) = received(desk)
        assert (row.source, row.mailbox_id, row.status) == ("smtp", support, "processed")

        def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise pipeline.TransientError("database unavailable")

        monkeypatch.setattr(pipeline, "ingest", unavailable)
        with client_class(server.hostname, server.port) as client, pytest.raises(smtplib.SMTPException) as error:
            client.sendmail("rita@example.org", ["help@desk.test"], mail(message_id="<m2@example.org>"))
        assert "451" in str(error.value), "the sending MTA keeps the message and tries again"
    finally:
        server.stop()
    assert server.hostname == "127.0.0.1", "local only unless told otherwise"


@pytest.mark.parametrize("mailbox", ["²", "nobody@desk.test"])
def test_the_webhook_refuses_a_mailbox_it_does_not_know(desk: Desk, client: Any, mail: Any, mailbox: str) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        set_setting(uow, "email", "webhook_secret", "hook-secret")
    raw = mail()
    signed = client.post(
        "/api/v1/email/inbound",
        query_string={"mailbox": mailbox},
        data=raw,
        headers={HEADER: signature("hook-secret", raw)},
    )
    assert signed.status_code == 422
    assert "mailbox" in signed.json["errors"]
    assert received(desk) == []


def test_the_webhook_names_no_mailbox_to_an_unsigned_caller(desk: Desk, client: Any, mail: Any) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        set_setting(uow, "email", "webhook_secret", "hook-secret")
    unsigned = client.post("/api/v1/email/inbound?mailbox=nobody@desk.test", data=mail())
    assert unsigned.status_code == 401


def test_a_mailbox_is_looked_up_by_id_name_or_address(desk: Desk, support: int) -> None:
    with desk.db.reading() as session:
        found = [mailboxes.lookup(session, name) for name in (str(support), "Support", "HELP@desk.test")]
        assert [mailbox.id for mailbox in found if mailbox] == [support] * 3
        assert [mailboxes.lookup(session, name) for name in ("²", "9" * 20, "nope")] == [None] * 3

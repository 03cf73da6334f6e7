"""TLS to real servers: SMTP with STARTTLS and login, SMTP over TLS, IMAP with STARTTLS; certificates are checked."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from frontdesk_email import mailboxes, smtp

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A test certificate authority the desk trusts (through ``SSL_CERT_FILE``), with a certificate for 127.0.0.1."""
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    return authority


def server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.logins: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        self.logins.append(data.login)
        if (data.login, data.password) == (b"desk", b"s3cret"):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")


def a_message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "help@desk.test", "rita@example.org", "Hello"
    message.set_content("Hi")
    return message


@pytest.fixture
def starttls_server(ca: trustme.CA) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=unused_port(),
        tls_context=server_context(ca),
        require_starttls=True,
        authenticator=inbox.authenticate,
        auth_require_tls=True,
    )
    controller.start()
    yield inbox, controller.port
    controller.stop()


def test_starttls_with_login(starttls_server: tuple[Inbox, int]) -> None:
    inbox, port = starttls_server
    server = smtp.SmtpServer.from_url(f"smtp://desk:s3cret@127.0.0.1:{port}?starttls=require")
    smtp.send(server, a_message(), "help@desk.test", ["rita@example.org"])
    assert inbox.logins == [b"desk"]
    assert len(inbox.messages) == 1

    wrong = smtp.SmtpServer.from_url(f"smtp://desk:guess@127.0.0.1:{port}")
    with pytest.raises(Exception, match="535"):
        smtp.send(wrong, a_message(), "help@desk.test", ["rita@example.org"])
    assert len(inbox.messages) == 1


def test_an_untrusted_certificate_is_refused_unless_told(
    starttls_server: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    inbox, port = starttls_server
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "other.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "other.pem"))
    with pytest.raises(ssl.SSLCertVerificationError):
        smtp.send(smtp.SmtpServer.from_url(f"smtp://desk:s3cret@127.0.0.1:{port}"), a_message(), "a@b.c", ["d@e.f"])
    smtp.send(
        smtp.SmtpServer.from_url(f"smtp://desk:s3cret@127.0.0.1:{port}?verify=no"), a_message(), "a@b.c", ["d@e.f"]
    )
    assert len(inbox.messages) == 1


def test_smtps(ca: trustme.CA) -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=unused_port(), ssl_context=server_context(ca))
    controller.start()
    try:
        smtp.send(smtp.SmtpServer.from_url(f"smtps://127.0.0.1:{controller.port}"), a_message(), "a@b.c", ["d@e.f"])
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_imap_with_starttls(desk: Desk, ca: trustme.CA, tmp_path: Path) -> None:
    certificate = ca.issue_cert("127.0.0.1")
    certificate.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    certificate.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    port = unused_port()
    program = str(Path(sys.executable).parent / "pymap")
    arguments = ["--host", "127.0.0.1", "--port", str(port), "--cert", str(tmp_path / "cert.pem")]
    process = subprocess.Popen(
        [program, *arguments, "--key", str(tmp_path / "key.pem"), "dict"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "pymap did not start"
                assert time.monotonic() < deadline, "pymap did not start in time"
                time.sleep(0.1)
        with desk.action(SYSTEM, source="test") as uow:
            base = {"imap_host": "127.0.0.1", "imap_port": port, "imap_username": "demouser"}
            secure = mailboxes.add_mailbox(
                uow,
                {"name": "TLS", "address": "tls@desk.test", "imap_security": "starttls", **base}
                | {"imap_password": "demopass"},
            ).id
        with desk.reading(SYSTEM) as uow:
            result = mailboxes.test_connection(uow, secure)
        assert result.ok, result.message
        assert result.message.startswith("connected: INBOX holds")
    finally:
        process.terminate()
        process.wait(timeout=10)

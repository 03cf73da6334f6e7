"""The email plugin's tests load the web layer and this plugin."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def frontdesk_plugins() -> list[Any]:
    return ["webui", "email"]


def build_mail(
    *,
    sender: str = "Anna Example <anna@example.org>",
    to: str = "help@desk.test",
    subject: str = "Printer on fire",
    body: str = "Hello, the printer is on fire.",
    message_id: str | None = "<m1@example.org>",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A simple text mail as a mail client would send it."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture
def mail() -> Any:
    """``mail(subject=..., headers={...})`` builds a raw message (see :func:`build_mail`)."""
    return build_mail


# Real mail servers on 127.0.0.1: an SMTP server capturing what the desk sends, and an IMAP server.


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Captured:
    """An aiosmtpd handler keeping every message it accepts: ``(envelope sender, recipients, raw bytes)``."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"

    def parsed(self, index: int = -1) -> Any:
        """One captured message, parsed as a mail client would."""
        from email import message_from_bytes, policy

        return message_from_bytes(self.messages[index][2], policy=policy.default)


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; the desk sends through it (``FRONTDESK_SMTP_URL``)."""
    from aiosmtpd.controller import Controller

    captured = Captured()
    controller = Controller(captured, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("FRONTDESK_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    yield captured
    controller.stop()


@pytest.fixture(scope="session")
def imap_server() -> Any:
    """A real IMAP server (pymap, in-memory) on 127.0.0.1: ``(host, port, user, password)``."""
    import shutil
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    port = free_port()
    program = shutil.which("pymap", path=str(Path(sys.executable).parent)) or "pymap"
    process = subprocess.Popen(
        [program, "--host", "127.0.0.1", "--port", str(port), "--no-tls", "dict"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("the IMAP test server (pymap) did not start")
            time.sleep(0.1)
    yield ("127.0.0.1", port, "demouser", "demopass")
    process.terminate()
    process.wait(timeout=10)

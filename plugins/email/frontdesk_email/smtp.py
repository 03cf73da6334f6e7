"""Handing mail to an SMTP server: ``smtp://`` (STARTTLS when offered), ``smtps://`` (TLS), optional login.

The server comes from ``FRONTDESK_SMTP_URL`` or the ``smtp_url`` setting, e.g.
``smtp://user:secret@mail.example.com:587``. ``?starttls=require`` refuses a server that does not
offer STARTTLS; ``?verify=no`` accepts any certificate (a test server with a self-signed one).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from frontdesk.errors import ConfigError

ENV = "FRONTDESK_SMTP_URL"
TIMEOUT = 30.0


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send: host, port, TLS mode (``starttls``, ``tls``), login and certificate checking."""

    host: str
    port: int
    tls: str
    username: str | None = None
    password: str | None = None
    require_starttls: bool = False
    verify: bool = True

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Parse ``smtp://[user[:password]@]host[:port][?starttls=require&verify=no]`` or ``smtps://...``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError(f"not an SMTP URL: {parts.scheme or url!r} (use smtp://host:587 or smtps://host:465)")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        tls = "tls" if parts.scheme == "smtps" else "starttls"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls == "tls" else 587),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            require_starttls=query.get("starttls") == "require",
            verify=query.get("verify", "yes") != "no",
        )

    def context(self) -> ssl.SSLContext:
        """The TLS context: the system's certificate authorities, or no checking with ``verify=no``."""
        context = ssl.create_default_context()
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def server_url(setting: str) -> str:
    """The SMTP URL in force: the environment's, else the setting's; :class:`ConfigError` when neither is set."""
    url = os.environ.get(ENV) or setting
    if not url:
        raise ConfigError(f"no SMTP server: set {ENV} or the email plugin's smtp_url setting")
    return url


def send(server: SmtpServer, message: EmailMessage, sender: str, recipients: list[str]) -> None:
    """Send one message to ``recipients`` with envelope sender ``sender``; raises on any refusal.

    A recipient refused while others are accepted counts as a failure too: the outbox retries the
    whole message, which is safer for a help desk than silently losing one reader.
    """
    client: smtplib.SMTP
    if server.tls == "tls":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=server.context())
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
    with client:
        client.ehlo()
        if server.tls == "starttls":
            if client.has_extn("starttls"):
                client.starttls(context=server.context())
                client.ehlo()
            elif server.require_starttls:
                raise smtplib.SMTPNotSupportedError(f"{server.host} does not offer STARTTLS")
        if server.username:
            client.login(server.username, server.password or "")
        refused = client.send_message(message, from_addr=sender, to_addrs=recipients)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)

"""An SMTP or LMTP listener (aiosmtpd) that files every message it accepts through the inbound pipeline.

For an MTA that relays the desk's mail over SMTP or LMTP instead of piping it. It binds to
127.0.0.1 by default: it accepts mail for any recipient and does no authentication, so it must
sit behind the MTA, never face the internet. The reply is sent only after the pipeline committed
(250); when the desk cannot take the message now it answers 451 and the MTA tries again later.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from sqlalchemy import func, select

from frontdesk_email import pipeline, tokens
from frontdesk_email.models import Mailbox

if TYPE_CHECKING:
    from frontdesk.desk import Desk

log = logging.getLogger("frontdesk.email.listener")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2525


class IngestHandler:
    """aiosmtpd handler: each accepted message goes to :func:`pipeline.ingest` (in a worker thread)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def _mailbox_id(self, recipients: list[str]) -> int | None:
        addresses = [tokens.untagged(address).lower() for address in recipients]
        with self.desk.db.reading() as session:
            return session.scalar(
                select(Mailbox.id).where(func.lower(Mailbox.address).in_(addresses)).order_by(Mailbox.id).limit(1)
            )

    def _ingest(self, raw: bytes, recipients: list[str]) -> pipeline.Outcome:
        return pipeline.ingest(self.desk, raw, source="smtp", mailbox_id=self._mailbox_id(recipients))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(None, self._ingest, raw, list(envelope.rcpt_tos))
        except Exception as exc:  # nothing recorded: the sending MTA keeps the message and retries
            log.warning("could not take a message now: %s", exc)
            return "451 4.3.0 The desk cannot take the message now; try again later"
        log.info("message from %s: %s %s", envelope.mail_from, outcome.status, outcome.outcome or "")
        return f"250 2.0.0 Accepted ({outcome.status})"


class LmtpController(Controller):
    """An aiosmtpd controller speaking LMTP (RFC 2033) instead of SMTP."""

    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


def controller(desk: Desk, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, lmtp: bool = False) -> Controller:
    """A listener on ``host:port`` (not started) that hands every message to the desk."""
    kind = LmtpController if lmtp else Controller
    return kind(IngestHandler(desk), hostname=host, port=port, data_size_limit=64 * 1024 * 1024)

"""Classifying inbound mail (RFC 3834 and friends): who wrote it, a person or a machine, and what to spare it.

The result is stored in the message's ``decision`` so the outbound side knows not to answer
machines (no auto-reply to an auto-reply) and the pipeline knows not to reopen tickets for them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from frontdesk_email.parse import ParsedMessage

# What becomes of a message of each kind.
BOUNCE = "bounce"  # rejected: a delivery failure report, not a message from a person
OWN_LOOP = "own_loop"  # rejected: our own mail come back
AUTOMATIC = "automatic"  # kept, but never answered automatically and never reopens a ticket
PERSON = "person"

_MAILER_DAEMONS = ("mailer-daemon", "postmaster")
_BULK_PRECEDENCE = ("bulk", "junk", "list")


@dataclass(frozen=True)
class Classification:
    """The kind of a message and the signals that decided it, in the words the desk shows."""

    kind: str
    signals: list[str] = field(default_factory=list)

    @property
    def suppress_autoreply(self) -> bool:
        """Whether the desk must not send automatic mail in answer to this message (RFC 3834)."""
        return self.kind != PERSON

    @property
    def no_reopen(self) -> bool:
        """Whether this message must not reopen a solved ticket or count as the requester's reply."""
        return self.kind != PERSON

    def as_dict(self) -> dict[str, Any]:
        """The classification as stored in ``decision``."""
        return {**asdict(self), "suppress_autoreply": self.suppress_autoreply, "no_reopen": self.no_reopen}


def classify(message: ParsedMessage, own_addresses: Collection[str]) -> Classification:
    """The kind of ``message`` given the desk's own addresses; the strongest kind found wins."""
    headers = message.headers
    sender = (message.from_address or "").lower()
    local = sender.partition("@")[0]
    if sender and sender in own_addresses:
        return Classification(OWN_LOOP, [f"sent from the desk's own address {sender}"])
    if any(header.lower().startswith("x-loop") for header in headers) and headers.get("x-loop", "").lower() in (
        own_addresses
    ):
        return Classification(OWN_LOOP, [f"X-Loop names the desk's address {headers['x-loop']}"])
    bounce = []
    if message.report_type == "delivery-status":
        bounce.append("a delivery status report (multipart/report; report-type=delivery-status)")
    if local in _MAILER_DAEMONS or local.startswith("mailer-daemon"):
        bounce.append(f"sent by {sender}")
    if bounce:
        return Classification(BOUNCE, bounce)
    automatic = []
    auto_submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        automatic.append(f"Auto-Submitted: {auto_submitted}")
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        automatic.append(f"Precedence: {precedence}")
    if headers.get("list-id"):
        automatic.append(f"List-Id: {headers['list-id']}")
    if headers.get("x-auto-response-suppress"):
        automatic.append(f"X-Auto-Response-Suppress: {headers['x-auto-response-suppress']}")
    for name in ("x-autoreply", "x-autorespond"):
        if headers.get(name):
            automatic.append(f"{name.title()}: {headers[name]}")
    if headers.get("return-path", "").replace(" ", "") == "<>":
        automatic.append("Return-Path: <> (sent by a machine)")
    if message.report_type:
        automatic.append(f"a {message.report_type} report")
    if automatic:
        return Classification(AUTOMATIC, automatic)
    return Classification(PERSON)

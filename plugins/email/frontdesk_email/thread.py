"""Threading as scored evidence: which ticket an inbound message continues, and how sure the desk is.

Each clue names a ticket and carries a score: our signed Message-IDs quoted in ``In-Reply-To``
(100) or ``References`` (90) are proof, the signed reply address in To/Cc/Delivered-To (80) nearly
so, earlier mail of a ticket we know by Message-ID (70 / 60) is strong, and a ``[#123]`` subject
token (30) is a hint anyone can type. The ticket with the highest total wins; every clue is kept
in the decision so the desk can say why a message landed where it did.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from frontdesk.models import Ticket
from frontdesk.uow import UnitOfWork
from frontdesk_email import tokens
from frontdesk_email.models import ThreadReference
from frontdesk_email.parse import ParsedMessage

SIGNED_IN_REPLY_TO = 100
SIGNED_REFERENCES = 90
SIGNED_REPLY_ADDRESS = 80
KNOWN_IN_REPLY_TO = 70
KNOWN_REFERENCES = 60
SUBJECT_TOKEN = 30
# How many referenced Message-IDs are looked up (a References header can list hundreds).
MAX_LOOKUPS = 50


@dataclass(frozen=True)
class Evidence:
    """One clue: the ticket it names, its score, its kind and where it was found."""

    ticket: int
    score: int
    kind: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """The ticket the evidence points to (None: a new conversation), its total score and all clues."""

    ticket: int | None
    score: int
    evidence: list[Evidence]

    def as_dict(self) -> dict[str, Any]:
        return {"ticket": self.ticket, "score": self.score, "evidence": [e.as_dict() for e in self.evidence]}


def digest(message_id: str) -> str:
    """The index key of a Message-ID in ``email_references``."""
    return hashlib.sha256(message_id.encode()).hexdigest()


def gather(uow: UnitOfWork, message: ParsedMessage, key: bytes) -> list[Evidence]:
    """Every clue in ``message`` that names a ticket, strongest first."""
    found: list[Evidence] = []
    for header, ids, score in (
        ("In-Reply-To", message.in_reply_to, SIGNED_IN_REPLY_TO),
        ("References", message.references, SIGNED_REFERENCES),
    ):
        for message_id in ids:
            number = tokens.ticket_of_message_id(key, message_id)
            if number is not None:
                found.append(Evidence(number, score, "signed_message_id", f"{header} quotes our {message_id}"))
    for address in message.recipients:
        number = tokens.ticket_of_address(key, address)
        if number is not None:
            found.append(Evidence(number, SIGNED_REPLY_ADDRESS, "signed_reply_address", f"sent to {address}"))
    found.extend(_known_references(uow, message))
    number = tokens.subject_number(message.subject)
    if number is not None:
        found.append(Evidence(number, SUBJECT_TOKEN, "subject_token", f"subject contains [#{number}]"))
    return sorted(found, key=lambda e: -e.score)


def _known_references(uow: UnitOfWork, message: ParsedMessage) -> list[Evidence]:
    """Clues from Message-IDs of earlier mail the desk filed under a ticket (ours or foreign)."""
    wanted: dict[str, tuple[str, int]] = {}
    for message_id in message.references[-MAX_LOOKUPS:]:
        wanted[digest(message_id)] = ("References", KNOWN_REFERENCES)
    for message_id in message.in_reply_to[:MAX_LOOKUPS]:
        wanted[digest(message_id)] = ("In-Reply-To", KNOWN_IN_REPLY_TO)
    if not wanted:
        return []
    rows = uow.session.execute(
        select(ThreadReference.digest, ThreadReference.message_id, ThreadReference.ticket_id).where(
            ThreadReference.digest.in_(list(wanted))
        )
    ).all()
    return [
        Evidence(ticket, wanted[row_digest][1], "known_reference", f"{wanted[row_digest][0]} names {message_id}")
        for row_digest, message_id, ticket in rows
    ]


def decide(uow: UnitOfWork, evidence: list[Evidence]) -> Verdict:
    """The ticket with the highest total score among tickets that exist; merged tickets lead to their survivor."""
    totals: dict[int, int] = defaultdict(int)
    resolved: list[Evidence] = []
    existing = _existing(uow, {e.ticket for e in evidence})
    for clue in evidence:
        if clue.ticket not in existing:
            resolved.append(Evidence(clue.ticket, 0, clue.kind, f"{clue.detail} (no such ticket)"))
            continue
        target = existing[clue.ticket]
        if target != clue.ticket:
            clue = Evidence(target, clue.score, clue.kind, f"{clue.detail} (#{clue.ticket} was merged into #{target})")
        totals[target] += clue.score
        resolved.append(clue)
    if not totals:
        return Verdict(None, 0, resolved)
    ticket = max(totals, key=lambda number: (totals[number], number))
    return Verdict(ticket, totals[ticket], resolved)


def _existing(uow: UnitOfWork, numbers: set[int]) -> dict[int, int]:
    """Ticket number -> the ticket that carries it on (itself, or the one it was merged into)."""
    if not numbers:
        return {}
    rows = uow.session.execute(select(Ticket.id, Ticket.merged_into_id).where(Ticket.id.in_(numbers))).all()
    found = {}
    for number, merged in rows:
        target = number
        for _ in range(10):  # a merge chain is short; the bound only guards against a cycle
            if merged is None:
                break
            target = merged
            merged = uow.session.scalar(select(Ticket.merged_into_id).where(Ticket.id == target))
        found[number] = target
    return found

"""Signed threading tokens: the Message-IDs and Reply-To addresses the desk puts on its mail.

A reply quoting one of them proves which ticket it answers, and the HMAC makes that proof
unforgeable: a sender cannot attach mail to ticket 42 by writing ``fd-42`` in a header. The key is
derived from the desk's secret key, so it needs no setting of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_PURPOSE = b"frontdesk-email-threading"
_MESSAGE_ID = re.compile(r"<?fd-(\d{1,12})-([0-9a-f]{12})-([0-9a-f]{20})@[^>\s]+>?", re.IGNORECASE)
_REPLY_TAG = re.compile(r"^(.*)\+t(\d{1,12})-([0-9a-f]{12})$", re.IGNORECASE)
_SUBJECT_TOKEN = re.compile(r"\[#(\d{1,12})\]")


def threading_key(secret_key: str) -> bytes:
    """The key that signs threading tokens, derived from the desk's secret key."""
    return hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()


def _sign(key: bytes, text: str, length: int) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:length]


def make_message_id(key: bytes, ticket_number: int, domain: str) -> str:
    """A new, unique Message-ID (with angle brackets) that names and signs the ticket it belongs to."""
    nonce = secrets.token_hex(6)
    return f"<fd-{ticket_number}-{nonce}-{_sign(key, f'{ticket_number}.{nonce}', 20)}@{domain}>"


def ticket_of_message_id(key: bytes, message_id: str) -> int | None:
    """The ticket number a Message-ID of ours names, or None if it is not ours or its signature fails."""
    found = _MESSAGE_ID.search(message_id)
    if not found:
        return None
    number, nonce, signature = found.groups()
    expected = _sign(key, f"{number}.{nonce.lower()}", 20)
    return int(number) if hmac.compare_digest(expected, signature.lower()) else None


def reply_address(key: bytes, address: str, ticket_number: int) -> str:
    """The mailbox address with a signed ``+t<number>-<signature>`` tag, used as Reply-To."""
    local, _, domain = address.rpartition("@")
    return f"{local}+t{ticket_number}-{_sign(key, f'reply.{ticket_number}', 12)}@{domain}"


def ticket_of_address(key: bytes, address: str) -> int | None:
    """The ticket number a tagged reply address names, or None if untagged or the tag is forged."""
    local = address.rpartition("@")[0]
    found = _REPLY_TAG.match(local)
    if not found:
        return None
    number, signature = int(found.group(2)), found.group(3).lower()
    return number if hmac.compare_digest(_sign(key, f"reply.{number}", 12), signature) else None


def untagged(address: str) -> str:
    """The address without a reply tag: ``help+t42-...@x`` is ``help@x``."""
    local, _, domain = address.rpartition("@")
    found = _REPLY_TAG.match(local)
    return f"{found.group(1)}@{domain}" if found else address


def subject_number(subject: str) -> int | None:
    """The ticket number of a ``[#123]`` token in a subject (unsigned: weaker evidence), or None."""
    found = _SUBJECT_TOKEN.search(subject or "")
    return int(found.group(1)) if found else None

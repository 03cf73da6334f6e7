"""Attachments: storing uploads for a comment, naming and typing them, and reading them back as the actor may.

Nothing the uploader says is trusted: the file name is cleaned and kept for display only (storage
uses generated keys), and the content type is sniffed from the bytes. HTML, SVG and XML keep their
real type in the database but are only ever served as ``application/octet-stream`` downloads.

Files are stored before the rows that point at them are written. A transaction that does not
commit (an error later in the service, a hook refusing the comment, a failed commit, a rolled back
savepoint) deletes the files it stored, so storage holds no orphans from failed requests.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import BinaryIO, cast

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from frontdesk.db import MAX_ID
from frontdesk.errors import NotFound, TooLarge
from frontdesk.models import Attachment
from frontdesk.services.tickets import get_ticket
from frontdesk.storage import AttachmentStorage, Upload
from frontdesk.uow import UnitOfWork

log = logging.getLogger("frontdesk.attachments")

MAX_FILENAME_LENGTH = 255
FALLBACK_FILENAME = "attachment"
SNIFF_BYTES = 8192
OCTET_STREAM = "application/octet-stream"
# Types a browser could run script from: stored as what they are, served only as opaque downloads.
ACTIVE_TYPES = frozenset({"text/html", "image/svg+xml", "application/xhtml+xml", "application/xml", "text/xml"})

# Direction overrides and marks ("evil\u202egpj.exe" shows as "evilexe.jpg"), and the byte order mark.
_INVISIBLE = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"\x1f\x8b\x08", "application/gzip"),
)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office (doc, xls, ppt) and Outlook messages
_OOXML = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_OOXML_PARTS = ((b"word/", "docx"), (b"xl/", "xlsx"), (b"ppt/", "pptx"))
_OLE_TYPES = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "msg": "application/vnd.ms-outlook",
}
_OPENDOCUMENT = re.compile(rb"application/vnd\.oasis\.opendocument\.[a-z.-]{1,40}")
# What browsers take for HTML at the start of a document (after white space), per the WHATWG sniffing rules.
_HTML_START = re.compile(
    r"<(?:!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p|!--)(?=[\s>/]|$)"
)
_SVG = re.compile(r"<svg(?=[\s>/]|$)")
_PENDING_KEYS = "frontdesk.attachments.pending"


def sanitize_filename(raw: str | None) -> str:
    """The uploader's file name made safe to keep and show: no folders, no control characters, ≤ 255.

    Markup characters are kept (``"><svg...>.jpg`` stays as it is): pages escape it when shown and
    downloads encode it; it never names a file on disk.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    kept = []
    for char in name:
        if char in _INVISIBLE:
            continue
        if unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"}:
            if char.isspace():
                kept.append(" ")
            continue
        kept.append(char)
    name = "".join(kept).strip()
    if not name.strip("."):
        return FALLBACK_FILENAME
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 16:
            name = stem[: MAX_FILENAME_LENGTH - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_FILENAME_LENGTH].rstrip()
    return name


def _extension(filename: str) -> str:
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem else ""


def sniff_content_type(head: bytes, filename: str = "", *, complete: bool = False) -> str:
    """The content type of a file judged by its first bytes (the client's claim is never asked).

    ``filename`` only refines containers the bytes already identify (a ZIP that is a .docx, an
    OLE file that is a .xls). ``complete`` says ``head`` is the whole file, not just its start.
    """
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    extension = _extension(filename)
    if head.startswith(_ZIP):
        return _zip_type(head, extension)
    if head.startswith(_OLE):
        return _OLE_TYPES.get(extension, "application/x-ole-storage")
    return _text_type(head, complete) or OCTET_STREAM


def _zip_type(head: bytes, extension: str) -> str:
    # OpenDocument puts an uncompressed "mimetype" entry first: its name at offset 30, its content at 38.
    if head[30:38] == b"mimetype" and (match := _OPENDOCUMENT.match(head, 38)):
        return match.group().decode("ascii")
    if b"[Content_Types].xml" in head:
        for marker, kind in _OOXML_PARTS:
            if marker in head:
                return _OOXML[kind]
    return _OOXML.get(extension, "application/zip")


def _text_type(head: bytes, complete: bool) -> str | None:
    """text/plain, text/html, image/svg+xml or XML for UTF-8 text; None for anything binary."""
    data = head.removeprefix(codecs.BOM_UTF8)
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sniffed window may end inside a multi-byte character; anything else is not UTF-8.
        if complete or exc.end != len(data) or exc.start < len(data) - 3:
            return None
        text = data[: exc.start].decode("utf-8")
    if any(ord(char) < 32 and char not in "\t\n\r\f\x1b" for char in text):
        return None
    start = text.lstrip().lower()
    if start.startswith("<?xml"):
        lowered = start[:SNIFF_BYTES]
        if _SVG.search(lowered):
            return "image/svg+xml"
        return "application/xhtml+xml" if "<html" in lowered else "application/xml"
    if start.startswith("<!doctype svg") or _SVG.match(start):
        return "image/svg+xml"
    if _HTML_START.match(start):
        return "text/html"
    return "text/plain"


def served_content_type(content_type: str) -> str:
    """The Content-Type a download is sent with: active types become opaque bytes."""
    if content_type in ACTIVE_TYPES or not content_type:
        return OCTET_STREAM
    if content_type == "text/plain":
        return "text/plain; charset=utf-8"
    return content_type


class _Replay:
    """A stream that first gives back the bytes already read from ``rest`` for sniffing."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._rest.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data


def store_uploads(uow: UnitOfWork, uploads: Sequence[Upload]) -> list[Attachment]:
    """Store the files and return their (unsaved) attachment rows; limits answer :class:`TooLarge`.

    The files are deleted again if the unit of work's transaction does not commit.
    """
    config = uow.desk.config
    if len(uploads) > config.max_attachments_per_comment:
        raise TooLarge(f"At most {config.max_attachments_per_comment} files can be attached to one comment.")
    rows = []
    for upload in uploads:
        filename = sanitize_filename(upload.filename)
        head = _read_head(upload.stream)
        replay = cast(BinaryIO, _Replay(head, upload.stream))
        try:
            stored = uow.desk.storage.save(replay, max_size=config.max_attachment_bytes)
        except TooLarge as exc:
            raise TooLarge(f"{filename}: {exc.message}") from None
        _delete_unless_committed(uow, stored.key)
        rows.append(
            Attachment(
                filename=filename,
                content_type=sniff_content_type(head, filename, complete=stored.size == len(head)),
                size=stored.size,
                sha256=stored.sha256,
                storage_key=stored.key,
            )
        )
    return rows


def _read_head(stream: BinaryIO) -> bytes:
    head = b""
    while len(head) < SNIFF_BYTES and (chunk := stream.read(SNIFF_BYTES - len(head))):
        head += chunk
    return head


def _delete_unless_committed(uow: UnitOfWork, key: str) -> None:
    """Tie a stored file to the innermost transaction (savepoint or root) that must commit to keep it."""
    session = uow.session
    pending: dict[SessionTransaction, list[str]] | None = session.info.get(_PENDING_KEYS)
    if pending is None:
        pending = session.info[_PENDING_KEYS] = {}
        _watch(session, pending, uow.desk.storage)
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        raise RuntimeError("attachments are stored inside a transaction")
    pending.setdefault(transaction, []).append(key)


def _watch(session: Session, pending: dict[SessionTransaction, list[str]], storage: AttachmentStorage) -> None:
    """Delete the files of each transaction that ends without committing; a released savepoint hands its up."""
    committed: set[SessionTransaction] = set()

    def after_commit(session: Session) -> None:
        transaction = session.get_nested_transaction() or session.get_transaction()
        if transaction is not None:
            committed.add(transaction)

    def after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
        keys = pending.pop(transaction, None)
        was_committed = transaction in committed
        committed.discard(transaction)
        if not keys:
            return
        if was_committed:
            if transaction.parent is not None:
                pending.setdefault(transaction.parent, []).extend(keys)
            return
        for key in keys:
            try:
                storage.delete(key)
            except Exception:
                log.exception("could not delete attachment file %s of a transaction that did not commit", key)

    event.listen(session, "after_commit", after_commit)
    event.listen(session, "after_transaction_end", after_transaction_end)


def attachment_for_download(uow: UnitOfWork, attachment_id: int) -> tuple[Attachment, BinaryIO]:
    """The attachment and its bytes if the actor may read its comment; otherwise :class:`NotFound`.

    The comment's ticket must be visible to the actor, and internal-note attachments are for staff.
    Every refusal reads the same, so nobody learns which attachments exist.
    """
    missing = NotFound(f"attachment {attachment_id} not found")
    if not 0 < attachment_id <= MAX_ID:
        raise missing
    attachment = uow.session.get(Attachment, attachment_id)
    if attachment is None:
        raise missing
    comment = attachment.comment
    try:
        get_ticket(uow, comment.ticket_id)
    except NotFound:
        raise missing from None
    if not comment.public and not (uow.actor is not None and uow.actor.is_staff):
        raise missing
    try:
        stream = uow.desk.storage.open(attachment.storage_key)
    except (FileNotFoundError, ValueError):
        log.error("the file of attachment %s (key %r) is missing from storage", attachment.id, attachment.storage_key)
        raise missing from None
    return attachment, stream

"""The one inbound pipeline every path (IMAP, MTA pipe, import, SMTP, webhook) feeds.

``ingest`` first records the message (dedupe key, raw bytes) in its own transaction, then
processes it in a second one: parse, classify, identify the sender, thread, route, and create a
ticket or append a comment, writing what it decided onto the message row in that same
transaction. A message recorded but not processed (a crash in between) is completed by the next
delivery of the same message; one already processed is answered as a duplicate. So the same
message arriving twice, or a batch killed and restarted, never files anything twice.

``ingest_batch`` is the bulk path of an import: it records and processes many messages in one
transaction, each in a savepoint of its own.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from marshmallow import ValidationError as MarshmallowError
from marshmallow import validate
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from frontdesk.access import visible_tickets
from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.errors import FrontdeskError
from frontdesk.models import Comment, Ticket, User
from frontdesk.permissions import SYSTEM
from frontdesk.services.comments import add_comment
from frontdesk.services.links import link_tickets
from frontdesk.services.plugins import get_settings
from frontdesk.services.tickets import create_ticket, user_by_email
from frontdesk.storage import AttachmentStorage, Upload
from frontdesk.uow import UnitOfWork
from frontdesk_email import classify as classification
from frontdesk_email import thread, tokens
from frontdesk_email.models import InboundMessage, Mailbox, ThreadReference
from frontdesk_email.parse import (
    Envelope,
    Limits,
    ParsedMessage,
    Quarantine,
    envelope,
    parse,
    returned_message_id,
)

log = logging.getLogger("frontdesk.email.pipeline")

SOURCE = "email"
RECEIVED, PROCESSED, REVIEW, REJECTED, QUARANTINED, FAILED = (
    "received",
    "processed",
    "review",
    "rejected",
    "quarantined",
    "failed",
)
CREATED, APPENDED, LINKED, DISCARDED = "created", "appended", "linked", "discarded"
MAX_SUBJECT = 250
MAX_BODY = 200_000
NO_SUBJECT = "(no subject)"
MAX_CCS = 10
_EMAIL = validate.Email()


class TransientError(Exception):
    """The desk could not record or process the message now (database or storage unavailable): retry later."""


@dataclass(frozen=True)
class Outcome:
    """What became of one inbound message.

    ``status``: processed, review, rejected, quarantined, failed (recorded, processing raised; see
    the failed list), or duplicate (delivered before; the other fields describe the first delivery).
    ``outcome``: created, appended, linked (a follow-up of a closed ticket), discarded, or None.
    """

    status: str
    outcome: str | None = None
    ticket_number: int | None = None
    comment_id: int | None = None
    reason: str | None = None
    message_row_id: int | None = None

    @classmethod
    def of(cls, row: InboundMessage, *, duplicate: bool = False) -> Outcome:
        return cls(
            status="duplicate" if duplicate else row.status,
            outcome=row.outcome,
            ticket_number=row.ticket_id,
            comment_id=row.comment_id,
            reason=row.reason,
            message_row_id=row.id,
        )


def _as_transient(exc: BaseException) -> TransientError | None:
    """The :class:`TransientError` a lost connection, locked database or storage failure stands for, else None."""
    if isinstance(exc, OperationalError | InterfaceError):
        return TransientError(f"database unavailable: {exc.orig or exc}")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return TransientError(f"database connection lost: {exc.orig or exc}")
    if isinstance(exc, OSError):
        return TransientError(f"storage unavailable: {exc}")
    return None


@contextmanager
def _transient() -> Iterator[None]:
    """Turn lost connections, locked databases and storage failures into :class:`TransientError`."""
    try:
        yield
    except Exception as exc:
        transient = _as_transient(exc)
        if transient is None:
            raise
        raise transient from exc


def ingest(desk: Desk, raw: bytes, *, source: str, mailbox_id: int | None = None) -> Outcome:
    """Record and process one raw message; committed before returning, so the caller may then acknowledge it.

    Raises :class:`TransientError` only when nothing could be recorded or processed (the source
    should keep the message and deliver it again); every other problem ends in a recorded status.
    """
    row_id, known = _record(desk, raw, source=source, mailbox_id=mailbox_id)
    if known is not None:
        return known
    return process(desk, row_id, raw=raw)


_KNOWN = (
    InboundMessage.id,
    InboundMessage.status,
    InboundMessage.outcome,
    InboundMessage.ticket_id,
    InboundMessage.comment_id,
    InboundMessage.reason,
)


# A message's row, written by a plain INSERT of all its columns (see _record and _file_new).
_ROW_COLUMNS = tuple(column.key for column in InboundMessage.__table__.columns if column.key != "id")
_INSERT_ROW = insert(InboundMessage.__table__)


def _known(session: Any, dedupe_key: str) -> tuple[int, Outcome | None] | None:
    """The row already recorded under this key, and its outcome unless it still waits to be processed."""
    return _known_keys(session, [dedupe_key]).get(dedupe_key)


def _record(desk: Desk, raw: bytes, *, source: str, mailbox_id: int | None) -> tuple[int, Outcome | None]:
    """The message's row id, and its outcome when an earlier delivery already processed it."""
    found = envelope(raw)
    with _transient():
        with desk.db.reading() as session:
            known = _known(session, found.dedupe_key)
        if known is not None:
            return known
        stored = desk.storage.save(io.BytesIO(raw), max_size=len(raw) + 1)
        values = _row_values(raw, found, source, stored.key, mailbox_id=mailbox_id, attempts=0)
        try:
            with desk.db.transaction() as session:
                return session.connection().execute(_INSERT_ROW, values).inserted_primary_key[0], None
        except IntegrityError:  # delivered twice at the same moment: the other delivery's row wins
            desk.storage.delete(stored.key)
            with desk.db.reading() as session:
                known = _known(session, found.dedupe_key)
            if known is None:
                raise
            return known


def _row_values(
    raw: bytes, found: Envelope, source: str, raw_key: str, *, mailbox_id: int | None, attempts: int
) -> dict[str, Any]:
    """The columns of a new ``received`` row for a message never recorded, its raw copy stored under ``raw_key``."""
    return {
        "dedupe_key": found.dedupe_key,
        "mailbox_id": mailbox_id,
        "source": source[:20],
        "message_id": found.message_id,
        "sender": found.sender,
        "subject": found.subject,
        "size": len(raw),
        "raw_key": raw_key,
        "status": RECEIVED,
        "decision": {},
        "attempts": attempts,
        "received_at": utcnow(),
    }


def load_raw(desk: Desk, row: InboundMessage) -> bytes:
    """The raw bytes of a recorded message (empty when they were never stored)."""
    if not row.raw_key:
        return b""
    with desk.storage.open(row.raw_key) as stream:
        return stream.read()


def process(desk: Desk, row_id: int, *, raw: bytes | None = None) -> Outcome:
    """Process a recorded message (status ``received``) exactly once; see :func:`ingest`."""
    try:
        with _transient(), desk.action(SYSTEM, source=SOURCE) as uow:
            outcome = _process_recorded(uow, row_id, raw, Intake.load(uow))
    except TransientError:
        raise
    except Exception as exc:
        log.exception("inbound message %s failed", row_id)
        return _fail(desk, row_id, f"{type(exc).__name__}: {exc}")
    return outcome


def ingest_batch(desk: Desk, raws: Sequence[bytes], *, source: str) -> list[Outcome]:
    """Record and process several messages in one transaction, one outcome each, in order; for bulk imports.

    Only for a source that still holds every message after it is filed (a folder being imported).
    The raw copies are then stored without an fsync (milliseconds per file on a busy disk): nothing
    is acknowledged to a sender or deleted from a server on the strength of them, so a power cut can
    at worst lose the copy of a message already filed, whose ticket or comment is in the database
    and whose original is still in the folder. Live mail, which the server deletes or the
    MTA forgets once the desk has it, goes through :func:`ingest`, which stores the copy durably.

    Each message is processed in a savepoint: one that raises is rolled back alone and recorded as
    failed, and the others are filed. Nothing of the batch is committed before all of it is, so a
    kill loses only work that was never reported, and a rerun files it then (the dedupe keys of the
    committed messages answer them as duplicates). A batch that cannot commit for another reason
    than a transient one is filed again message by message, each with :func:`ingest`.
    Raises :class:`TransientError` like :func:`ingest`, with nothing of the batch kept.
    """
    stored: list[str] = []
    try:
        with _transient(), desk.action(SYSTEM, source=SOURCE) as uow:
            outcomes = _file_batch(uow, raws, source, stored)
    except TransientError:
        _discard(desk, stored)
        raise
    except Exception:
        _discard(desk, stored)
        log.exception("a batch of %d inbound messages failed; filing them one by one", len(raws))
        return [ingest(desk, raw, source=source) for raw in raws]
    return outcomes


def _file_batch(uow: UnitOfWork, raws: Sequence[bytes], source: str, stored: list[str]) -> list[Outcome]:
    """Record and process each message in ``uow``'s transaction; the keys of stored raw copies go to ``stored``."""
    envelopes = [envelope(raw) for raw in raws]
    known = _known_keys(uow.session, [found.dedupe_key for found in envelopes])
    intake = Intake.load(uow)
    outcomes = []
    # The raw copies are written by a second thread meanwhile: their file system calls overlap the processing.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="email-raw-copies") as writer:
        copies = _store_copies(writer, uow.desk.storage, raws, envelopes, known, stored)
        try:
            for index, (raw, found) in enumerate(zip(raws, envelopes, strict=True)):
                row_id, outcome = known.get(found.dedupe_key, (None, None))
                if row_id is None:
                    outcome = _file_new(uow, raw, found, source, copies[index].result(), intake)
                elif outcome is None:  # recorded by a delivery that stopped before processing
                    outcome = _process_recorded(uow, row_id, raw, intake)
                known[found.dedupe_key] = (outcome.message_row_id, replace(outcome, status="duplicate"))
                outcomes.append(outcome)
        except BaseException:
            # The batch is lost: copies not yet written are cancelled rather than written and then discarded.
            writer.shutdown(wait=True, cancel_futures=True)
            raise
    return outcomes


def _store_copies(
    writer: Executor,
    storage: AttachmentStorage,
    raws: Sequence[bytes],
    envelopes: list[Envelope],
    known: dict[str, tuple[int, Outcome | None]],
    stored: list[str],
) -> dict[int, Future[str]]:
    """Start storing the raw copy of each message never recorded (its first one in the batch): index -> key.

    The copies are not durable (see :func:`ingest_batch`); each key goes to ``stored`` once written.
    """

    def save(raw: bytes) -> str:
        key = storage.save(io.BytesIO(raw), max_size=len(raw) + 1, durable=False).key
        stored.append(key)
        return key

    first: dict[str, int] = {}
    for index, found in enumerate(envelopes):
        if found.dedupe_key not in known:
            first.setdefault(found.dedupe_key, index)
    return {index: writer.submit(save, raws[index]) for index in first.values()}


def _claim(uow: UnitOfWork, row_id: int) -> InboundMessage:
    """A recorded row, claimed for processing unless another delivery processed it meanwhile.

    The update counts the attempt and waits for a concurrent processing transaction, so the row
    comes back still ``received`` only when this one is to process it. Raises LookupError for an
    unknown id.
    """
    uow.session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == row_id, InboundMessage.status == RECEIVED)
        .values(attempts=InboundMessage.attempts + 1)
    )
    row = uow.session.get(InboundMessage, row_id, populate_existing=True)
    if row is None:
        raise LookupError(f"no inbound message {row_id}")
    return row


def _known_keys(session: Any, keys: list[str]) -> dict[str, tuple[int, Outcome | None]]:
    """:func:`_known` for many dedupe keys in one query; keys never recorded are left out."""
    rows = session.execute(
        select(InboundMessage.dedupe_key, *_KNOWN).where(InboundMessage.dedupe_key.in_(set(keys)))
    ).all()
    found: dict[str, tuple[int, Outcome | None]] = {}
    for key, row_id, status, outcome, ticket, comment, reason in rows:
        done = None if status == RECEIVED else Outcome("duplicate", outcome, ticket, comment, reason, row_id)
        found[key] = (row_id, done)
    return found


def _file_new(uow: UnitOfWork, raw: bytes, found: Envelope, source: str, raw_key: str, intake: Intake) -> Outcome:
    """Process a message never recorded, its raw copy stored under ``raw_key``, then record how it ended.

    Its row is written once, complete, by a plain INSERT: the flush would insert it before the
    processing and update it after, at several times the cost. The row stays out of the session.
    """
    # attempts=1: processed at once, in this transaction
    row = InboundMessage(**_row_values(raw, found, source, raw_key, mailbox_id=None, attempts=1))
    _process_row(uow, row, raw, intake)
    values = {key: getattr(row, key) for key in _ROW_COLUMNS}
    row.id = uow.session.connection().execute(_INSERT_ROW, values).inserted_primary_key[0]
    return Outcome.of(row)


def _process_recorded(uow: UnitOfWork, row_id: int, raw: bytes | None, intake: Intake) -> Outcome:
    """Claim and process a recorded message, unless another delivery processed it meanwhile (a duplicate)."""
    row = _claim(uow, row_id)
    if row.status != RECEIVED:
        return Outcome.of(row, duplicate=True)
    _process_row(uow, row, raw if raw is not None else load_raw(uow.desk, row), intake)
    return Outcome.of(row)


def _process_row(uow: UnitOfWork, row: InboundMessage, raw: bytes, intake: Intake) -> None:
    """Process a message (its row says ``received``) in a savepoint, which takes back its writes alone.

    A refusal by the desk (a :class:`~frontdesk.errors.FrontdeskError`, such as an invalid field)
    rejects the message, with what was decided until then; any other error marks it failed.
    """
    row.processed_at = utcnow()
    decision: dict[str, Any] = {}
    try:
        with uow.savepoint():
            _run(uow, row, raw, intake, decision)
    except FrontdeskError as exc:
        row.ticket_id = row.comment_id = None
        finish(row, decision, REJECTED, reason=f"refused by the desk: {exc.message}")
    except Exception as exc:
        if _as_transient(exc) is not None:
            raise
        log.exception("inbound message %s failed", row.message_id or row.dedupe_key)
        row.ticket_id = row.comment_id = None
        row.status, row.outcome, row.reason, row.decision = FAILED, None, f"{type(exc).__name__}: {exc}"[:2000], {}


def _discard(desk: Desk, keys: list[str]) -> None:
    """Delete raw copies whose rows were never committed."""
    for key in keys:
        desk.storage.delete(key)


def _fail(desk: Desk, row_id: int, reason: str) -> Outcome:
    with _transient(), desk.db.transaction() as session:
        row = session.get(InboundMessage, row_id)
        if row is None:
            raise TransientError(f"inbound message {row_id} vanished")
        row.status, row.reason, row.processed_at = FAILED, reason[:2000], utcnow()
        row.attempts += 1
        return Outcome.of(row)


@dataclass
class Context:
    """One message on its way through the stages, and what the stages decided so far."""

    uow: UnitOfWork
    row: InboundMessage
    message: ParsedMessage
    settings: dict[str, Any]
    mailbox: Mailbox | None
    kind: classification.Classification
    decision: dict[str, Any]
    own: set[str]

    def finish(self, status: str, *, outcome: str | None = None, reason: str | None = None) -> None:
        """Write the result onto the message row (in the processing transaction)."""
        finish(self.row, self.decision, status, outcome=outcome, reason=reason)


def finish(
    row: InboundMessage, decision: dict[str, Any], status: str, *, outcome: str | None = None, reason: str | None = None
) -> None:
    """Write the result, and the ``decision`` that led to it, onto the message row."""
    row.status, row.outcome, row.reason = status, outcome, reason
    decision["status"] = status
    if outcome:
        decision["outcome"] = outcome
    if reason:
        decision["reason"] = reason
    row.decision = dict(decision)


def email_settings(uow: UnitOfWork) -> dict[str, Any]:
    """The email plugin's effective settings."""
    return get_settings(uow, "email")


def own_addresses(uow: UnitOfWork, settings: dict[str, Any]) -> set[str]:
    """The desk's own addresses (every mailbox, the fallback sender): mail from them is a loop."""
    addresses = {address.lower() for address in uow.session.scalars(select(Mailbox.address))}
    if settings.get("from_address"):
        addresses.add(settings["from_address"].lower())
    return addresses


@dataclass(frozen=True)
class Intake:
    """What processing reads before the first message: the plugin's settings and the desk's own addresses.

    Read once per transaction, so the messages of one import batch share them.
    """

    settings: dict[str, Any]
    own: set[str]

    @classmethod
    def load(cls, uow: UnitOfWork) -> Intake:
        """The settings and own addresses as they stand in ``uow``'s transaction."""
        settings = email_settings(uow)
        return cls(settings, own_addresses(uow, settings))


def _run(uow: UnitOfWork, row: InboundMessage, raw: bytes, intake: Intake, decision: dict[str, Any]) -> None:
    """Every stage, from parsing to the write; what they decide goes into ``decision`` as they go."""
    settings = intake.settings
    mailbox = uow.session.get(Mailbox, row.mailbox_id) if row.mailbox_id else None
    limits = Limits(settings["max_message_bytes"], settings["max_parts"], settings["max_depth"])
    decision.update(mailbox=mailbox.address if mailbox else None, source=row.source)
    try:
        message = parse(raw, limits, allow_remote_images=settings["load_remote_images"])
    except Quarantine as exc:
        row.status, row.reason, row.decision = QUARANTINED, exc.reason, {**decision, "status": QUARANTINED}
        return
    own = intake.own
    kind = uow.desk.plugins.calls.first("frontdesk_email_classify", message=message, own_addresses=own)
    decision["classification"] = kind.as_dict()
    decision["suppress_autoreply"] = kind.suppress_autoreply
    decision["no_reopen"] = kind.no_reopen
    context = Context(uow, row, message, settings, mailbox, kind, decision, own)
    run_stages(context)


def run_stages(context: Context) -> None:
    """Sender, threading, routing and the write: the stages after parsing and classification."""
    message, kind = context.message, context.kind
    if kind.kind == classification.OWN_LOOP:
        return context.finish(REJECTED, reason="mail from the desk's own address (mail loop)")
    verdict = _thread(context)
    if kind.kind == classification.BOUNCE:
        returned = returned_message_id(message)
        if returned:  # the outbound side can tell which of its mails failed
            context.decision["bounce_of"] = returned
        number = tokens.ticket_of_message_id(_key(context), returned) if returned else None
        context.row.ticket_id = thread.decide(context.uow, _clues(number, returned)).ticket or verdict.ticket
        return context.finish(REJECTED, reason="delivery failure report (bounce): " + "; ".join(kind.signals))
    if message.from_address is None:
        return context.finish(REJECTED, reason="no valid sender address in From")
    sender = user_by_email(context.uow, message.from_address)
    context.decision["sender"] = {"address": message.from_address, "known": sender is not None}
    if sender is not None and not sender.active:
        return context.finish(REJECTED, reason=f"the sender {message.from_address} is deactivated")
    _write(context, verdict, sender)


def _key(context: Context) -> bytes:
    return tokens.threading_key(context.uow.desk.config.secret_key or "")


def _clues(number: int | None, returned: str | None) -> list[thread.Evidence]:
    if number is None:
        return []
    return [thread.Evidence(number, thread.SIGNED_REFERENCES, "returned_message", f"the report returns {returned}")]


def _thread(context: Context) -> thread.Verdict:
    evidence = thread.gather(context.uow, context.message, _key(context))
    evidence += context.uow.desk.plugins.calls.collect(
        "frontdesk_email_thread_evidence", uow=context.uow, message=context.message
    )
    verdict = thread.decide(context.uow, evidence)
    context.decision["thread"] = verdict.as_dict()
    return verdict


def participant_role(uow: UnitOfWork, ticket: Ticket, user: User | None) -> str | None:
    """How ``user`` takes part in ``ticket`` (requester, cc, agent), or None for an outsider."""
    if user is None or not user.active:
        return None
    if user.id == ticket.requester_id:
        return "requester"
    if any(cc.id == user.id for cc in ticket.ccs):
        return "cc"
    if user.is_staff:
        visible = uow.session.scalar(select(Ticket.id).where(Ticket.id == ticket.id, visible_tickets(user)))
        return "agent" if visible is not None else None
    return None


def _write(context: Context, verdict: thread.Verdict, sender: User | None) -> None:
    uow, message, decision = context.uow, context.message, context.decision
    if verdict.ticket is None:
        if sender is None and not context.settings["create_requesters"]:
            return context.finish(REJECTED, reason=f"unknown sender {message.from_address} (create_requesters is off)")
        ticket = open_ticket(uow, message, context.mailbox, context.settings, decision, ccs=_copied(context))
        return _filed(context, ticket, None, CREATED)
    ticket = uow.session.get(Ticket, verdict.ticket)
    assert ticket is not None  # decide() only names existing tickets
    role = participant_role(uow, ticket, sender)
    decision["participant"] = role
    if role is None:
        context.row.ticket_id = ticket.id
        if context.kind.no_reopen:  # an out-of-office from a stranger is not worth an agent's time
            reason = f"automatic message from {message.from_address}, not a participant of ticket #{ticket.number}"
            return context.finish(REJECTED, reason=reason)
        return context.finish(
            REVIEW,
            reason=f"{message.from_address} is not a participant of ticket #{ticket.number}; an agent decides",
        )
    if ticket.is_closed:
        policy = context.settings["closed_ticket_policy"]
        decision["closed_ticket_policy"] = policy
        if policy == "reject":
            context.row.ticket_id = ticket.id
            return context.finish(REJECTED, reason=f"ticket #{ticket.number} is closed (policy: reject)")
        if policy == "reopen":  # closed tickets are read-only in the desk: the follow-up carries on
            decision["policy_note"] = "closed tickets cannot change; a linked follow-up was opened instead"
        follow_up = open_ticket(uow, message, context.mailbox, context.settings, decision, follow_up_of=ticket)
        return _filed(context, follow_up, None, LINKED)
    assert sender is not None  # a participant is a known user
    comment = append_message(uow, ticket, message, sender, context.kind, context.settings, decision)
    _filed(context, ticket, comment, APPENDED)


def _copied(context: Context) -> list[str]:
    """The people a person's new mail was also sent to: they become CCs, so a reply-all of theirs threads."""
    message = context.message
    # Without its own addresses the desk could not tell itself from the people copied.
    if not context.own or context.kind.kind != classification.PERSON or not context.settings["create_requesters"]:
        return []
    ours = context.own | set(message.delivered_to)
    copied = []
    for address in [*message.to, *message.cc]:
        if address == message.from_address or tokens.untagged(address) in ours:
            continue
        try:
            _EMAIL(address)
        except MarshmallowError:
            continue
        copied.append(address)
    if copied:
        context.decision["ccs"] = copied[:MAX_CCS]
    return copied[:MAX_CCS]


def _filed(context: Context, ticket: Ticket, comment: Comment | None, outcome: str) -> None:
    remember_reference(context.uow, context.message.message_id, ticket.id)
    context.row.ticket_id, context.row.comment_id = ticket.id, comment.id if comment else None
    context.finish(PROCESSED, outcome=outcome)


def remember_reference(uow: UnitOfWork, message_id: str | None, ticket_id: int) -> None:
    """File the message's Message-ID under the ticket, so later mail quoting it threads here."""
    if not message_id:
        return
    values = {
        "message_id": message_id,
        "digest": thread.digest(message_id),
        "ticket_id": ticket_id,
        "direction": "in",
        "created_at": utcnow(),
    }
    uow.session.execute(_REMEMBER[uow.desk.db.backend], values)


# The same statement for every message, built once (only its values change).
_REMEMBER = {
    "postgresql": pg_insert(ThreadReference.__table__).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(ThreadReference.__table__).on_conflict_do_nothing(),
}


def _uploads(
    message: ParsedMessage, settings: dict[str, Any], uow: UnitOfWork, decision: dict[str, Any]
) -> list[Upload]:
    """The files to store, within the limits; those left out are listed in the decision and the comment."""
    config = uow.desk.config
    max_count = min(settings["max_attachments"], config.max_attachments_per_comment)
    max_size = min(settings["max_attachment_bytes"], config.max_attachment_bytes)
    kept, skipped = [], []
    for part in message.parts:
        if len(part.data) > max_size:
            skipped.append({"filename": part.filename, "size": len(part.data), "reason": f"over {max_size} bytes"})
        elif len(kept) >= max_count:
            skipped.append({"filename": part.filename, "size": len(part.data), "reason": f"over {max_count} files"})
        else:
            kept.append(Upload(part.filename, io.BytesIO(part.data)))
    if skipped:
        decision["attachments_skipped"] = skipped
    return kept


def _skipped_note(decision: dict[str, Any]) -> str:
    lines = [
        f"[attachment {item['filename']!r} ({item['size']} bytes) not stored: {item['reason']}]"
        for item in decision.get("attachments_skipped", [])
    ]
    return "\n".join(lines)


def _body(text: str, decision: dict[str, Any]) -> str:
    body = text[:MAX_BODY] + ("\n[message shortened]" if len(text) > MAX_BODY else "")
    note = _skipped_note(decision)
    body = f"{body}\n\n{note}" if note else body
    return body if body.strip() else "(no text)"


def open_ticket(
    uow: UnitOfWork,
    message: ParsedMessage,
    mailbox: Mailbox | None,
    settings: dict[str, Any],
    decision: dict[str, Any],
    *,
    follow_up_of: Ticket | None = None,
    ccs: Sequence[str] = (),
) -> Ticket:
    """A new ticket from ``message`` (requester: the sender, created when unknown), filed by the system.

    Files go on a first comment by the requester, since a ticket's description carries none.
    """
    group = uow.desk.plugins.calls.first("frontdesk_email_route", uow=uow, message=message, mailbox=mailbox)
    decision["group"] = group
    uploads = _uploads(message, settings, uow, decision)

    def file() -> Ticket:
        ticket = create_ticket(
            uow,
            {
                "subject": (message.subject.strip() or NO_SUBJECT)[:MAX_SUBJECT],
                "body": _body(message.text, decision),
                "requester": message.from_address,
                "requester_name": (message.from_name or "")[:200] or None,
                "group": group,
                "channel": SOURCE,
                "ccs": list(ccs),
            },
        )
        if follow_up_of is not None:
            link_tickets(uow, ticket.number, follow_up_of.number, "related")
            decision["follow_up_of"] = follow_up_of.number
        return ticket

    # The desk files mail tickets (it may set the group); the sender becomes their requester.
    ticket: Ticket = _as_actor(uow, SYSTEM, file)
    if uploads:
        files = {"body": "Files sent with the request."}
        _as_actor(uow, ticket.requester, lambda: add_comment(uow, ticket.number, files, uploads))
    return ticket


def _as_actor(uow: UnitOfWork, actor: Any, action: Any) -> Any:
    """Run ``action`` with ``actor`` acting in this unit of work: mail is written as its sender."""
    acting = uow.actor
    uow.actor = actor
    try:
        return action()
    finally:
        uow.actor = acting


def append_message(
    uow: UnitOfWork,
    ticket: Ticket,
    message: ParsedMessage,
    sender: User,
    kind: classification.Classification,
    settings: dict[str, Any],
    decision: dict[str, Any],
) -> Comment:
    """Add ``message`` to ``ticket``: a public reply by its sender (quoted history stripped).

    Automatic mail (auto-replies, lists, bulk) becomes an internal note by the system instead, so
    it neither reopens the ticket nor reaches the requester.
    """
    uploads = _uploads(message, settings, uow, decision)
    visible = message.visible_text
    decision["stripped"] = len(visible) < len(message.text)
    if kind.no_reopen:
        body = f"Automatic message from {message.from_address} ({'; '.join(kind.signals)}):\n\n{visible}"
        return _as_actor(
            uow,
            SYSTEM,
            lambda: add_comment(uow, ticket.number, {"body": _body(body, decision), "public": False}, uploads),
        )
    return _as_actor(uow, sender, lambda: add_comment(uow, ticket.number, {"body": _body(visible, decision)}, uploads))

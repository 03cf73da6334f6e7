"""Importing in batches: one transaction per batch, yet every message on its own when one of them fails."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from frontdesk_email import pipeline
from frontdesk_email.importer import batches, import_path
from frontdesk_email.models import InboundMessage
from frontdesk_email.pipeline import TransientError, ingest_batch
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from frontdesk.errors import FrontdeskError
from frontdesk.models import Comment, Event, Ticket, User


def _count(db: Any, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _stored_files(desk: Any) -> list[Path]:
    root = Path(desk.config.attachments_root)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_batches_are_cut_by_count_and_by_size() -> None:
    small, big = b"x" * 10, b"y" * 100
    assert [len(batch) for batch in batches([small] * 5, size=2, max_bytes=1000)] == [2, 2, 1]
    assert [len(batch) for batch in batches([small] * 5, size=10, max_bytes=25)] == [2, 2, 1]
    assert list(batches([small, big, small], size=10, max_bytes=50)) == [[small], [big], [small]]
    assert list(batches([], size=10, max_bytes=50)) == []


def test_a_batch_threads_a_reply_to_a_message_earlier_in_the_same_batch(desk: Any, db: Any, mail: Any) -> None:
    first = mail(message_id="<first@example.org>")
    reply = mail(
        subject="Re: Printer on fire",
        body="It is out now.",
        message_id="<reply@example.org>",
        headers={"In-Reply-To": "<first@example.org>"},
    )
    outcomes = ingest_batch(desk, [first, reply, first], source="import")
    assert [(o.status, o.outcome) for o in outcomes] == [
        ("processed", "created"),
        ("processed", "appended"),
        ("duplicate", "created"),
    ]
    assert outcomes[1].ticket_number == outcomes[0].ticket_number
    assert outcomes[2].message_row_id == outcomes[0].message_row_id
    assert _count(db, Ticket) == 1
    assert _count(db, InboundMessage) == 2
    assert all(row.raw_key and row.attempts == 1 for row in db.scalars(select(InboundMessage)))
    db.rollback()
    assert [o.status for o in ingest_batch(desk, [first, reply], source="import")] == ["duplicate"] * 2


def test_a_message_failing_in_a_batch_is_recorded_failed_and_the_others_are_filed(
    desk: Any, db: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    remember = pipeline.remember_reference

    def broken(uow: Any, message_id: str | None, ticket_id: int) -> None:
        if message_id == "<bad@example.org>":  # after its ticket was created and its events emitted
            raise RuntimeError("disk says no")
        remember(uow, message_id, ticket_id)

    delivered: list[int] = []
    monkeypatch.setattr(pipeline, "remember_reference", broken)
    monkeypatch.setattr("frontdesk.uow.has_consumers", lambda desk, name: True)  # every event waits for delivery
    monkeypatch.setattr(desk.jobs, "deliver_events", lambda ids: delivered.extend(ids))
    raws = [mail(subject=f"Question {n}", message_id=f"<q{n}@example.org>") for n in range(3)]
    raws.append(mail(subject="Bad one", message_id="<bad@example.org>"))
    outcomes = ingest_batch(desk, raws, source="import")

    assert [o.status for o in outcomes] == ["processed"] * 3 + ["failed"]
    assert outcomes[3].reason == "RuntimeError: disk says no"
    row = db.get(InboundMessage, outcomes[3].message_row_id)
    assert (row.status, row.ticket_id, row.attempts) == ("failed", None, 1)
    assert row.raw_key, "a failed message keeps its original, to be retried from the failed list"
    assert db.scalars(select(Ticket.subject).order_by(Ticket.id)).all() == [f"Question {n}" for n in range(3)]
    # Only events that were committed are handed on for delivery: none of the rolled-back ticket.
    assert delivered
    assert db.scalar(select(func.count()).select_from(Event).where(Event.id.in_(delivered))) == len(delivered)


def test_a_message_refused_in_a_batch_leaves_nothing_the_next_ones_could_trip_on(
    desk: Any, db: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its new requester, ticket and reply are written and then taken back; later messages start afresh."""
    remember = pipeline.remember_reference

    def refusing(uow: Any, message_id: str | None, ticket_id: int) -> None:
        if message_id in ("<refused@example.org>", "<refused-reply@example.org>"):  # after the write
            raise FrontdeskError("no more references")
        remember(uow, message_id, ticket_id)

    monkeypatch.setattr(pipeline, "remember_reference", refusing)
    first = mail(message_id="<first@example.org>")
    raws = [
        first,
        mail(sender="Nina <nina@example.org>", subject="Lost", message_id="<refused@example.org>"),
        mail(
            subject="Re: Printer on fire",
            message_id="<refused-reply@example.org>",
            headers={"In-Reply-To": "<first@example.org>"},
        ),
        mail(sender="Nina <nina@example.org>", subject="Kept", message_id="<kept@example.org>"),
        mail(
            subject="Re: Printer on fire",
            message_id="<reply@example.org>",
            headers={"In-Reply-To": "<first@example.org>"},
        ),
    ]
    outcomes = ingest_batch(desk, raws, source="import")
    assert [(o.status, o.outcome) for o in outcomes] == [
        ("processed", "created"),
        ("rejected", None),
        ("rejected", None),
        ("processed", "created"),
        ("processed", "appended"),
    ]
    assert (outcomes[1].ticket_number, outcomes[2].comment_id) == (None, None)
    assert db.scalars(select(Ticket.subject).order_by(Ticket.id)).all() == ["Printer on fire", "Kept"]
    nina = db.scalars(select(User).where(User.email == "nina@example.org")).one()
    assert db.get(Ticket, outcomes[3].ticket_number).requester_id == nina.id
    assert db.get(Ticket, outcomes[0].ticket_number).version == 2
    replies = select(Comment.id).where(Comment.ticket_id == outcomes[0].ticket_number)
    assert db.scalars(replies).all() == [outcomes[4].comment_id]


def test_a_transient_failure_keeps_nothing_of_the_batch_and_a_rerun_files_it(
    desk: Any, db: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    raws = [mail(subject=f"Question {n}", message_id=f"<q{n}@example.org>") for n in range(3)]
    create = pipeline.create_ticket
    calls: list[int] = []

    def locked_on_the_second(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return create(*args, **kwargs)

    monkeypatch.setattr(pipeline, "create_ticket", locked_on_the_second)
    with pytest.raises(TransientError, match="database is locked"):
        ingest_batch(desk, raws, source="import")
    assert (_count(db, InboundMessage), _count(db, Ticket)) == (0, 0)
    assert _stored_files(desk) == [], "the raw copies of an uncommitted batch are deleted"
    db.rollback()

    monkeypatch.undo()
    assert [o.outcome for o in ingest_batch(desk, raws, source="import")] == ["created"] * 3
    assert _count(db, Ticket) == 3


def test_a_batch_that_cannot_be_filed_together_is_filed_one_by_one(
    desk: Any, db: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("batch broken")

    monkeypatch.setattr(pipeline, "_file_batch", broken)
    raws = [mail(subject=f"Question {n}", message_id=f"<q{n}@example.org>") for n in range(3)]
    assert [o.outcome for o in ingest_batch(desk, raws, source="import")] == ["created"] * 3
    assert _count(db, Ticket) == 3


def test_import_reports_progress_once_each_batch_is_committed(
    desk: Any, db: Any, mail: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "eml"
    folder.mkdir()
    for n in range(5):
        (folder / f"{n}.eml").write_bytes(mail(subject=f"Question {n}", message_id=f"<q{n}@example.org>"))
    monkeypatch.setattr("frontdesk_email.importer.BATCH_MESSAGES", 2)
    committed: list[tuple[int, int]] = []

    def progress(step: int) -> None:
        committed.append((step, _count(db, InboundMessage)))
        db.rollback()

    summary = import_path(desk, folder, progress=progress)
    assert committed == [(2, 2), (2, 4), (1, 5)]
    assert (summary.total, summary.results["created"]) == (5, 5)


def test_a_batch_completes_a_message_recorded_by_a_delivery_that_stopped(desk: Any, db: Any, mail: Any) -> None:
    row_id, known = pipeline._record(desk, mail(), source="imap", mailbox_id=None)  # then the process dies
    assert known is None
    outcomes = ingest_batch(desk, [mail(), mail(subject="Other", message_id="<other@example.org>")], source="import")
    assert [(o.status, o.outcome) for o in outcomes] == [("processed", "created")] * 2
    assert outcomes[0].message_row_id == row_id
    assert db.get(InboundMessage, row_id).attempts == 1
    assert _count(db, Ticket) == 2


def test_only_live_mail_waits_for_its_raw_copy_to_reach_the_disk(
    desk: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr("frontdesk.storage.os.fsync", synced.append)
    raws = [mail(subject=f"Question {n}", message_id=f"<q{n}@example.org>") for n in range(3)]
    assert [o.outcome for o in ingest_batch(desk, raws, source="import")] == ["created"] * 3
    assert synced == [], "an imported folder still holds its messages"
    assert pipeline.ingest(desk, mail(message_id="<live@example.org>"), source="imap").outcome == "created"
    assert synced, "the server may delete a message once it is filed"


def test_a_failing_batch_does_not_write_the_raw_copies_still_queued(
    desk: Any, db: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    raws = [mail(subject=f"Question {n}", message_id=f"<q{n}@example.org>") for n in range(5)]
    writing, failed = threading.Event(), threading.Event()
    save = desk.storage.save
    saved: list[int] = []

    def slow_second_copy(*args: Any, **kwargs: Any) -> Any:
        saved.append(1)
        if len(saved) == 2:  # the copies queued behind this one are still waiting when the batch fails
            writing.set()
            assert failed.wait(timeout=10)
            time.sleep(0.5)
        return save(*args, **kwargs)

    def locked(*args: Any, **kwargs: Any) -> Any:
        assert writing.wait(timeout=10)
        failed.set()
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(desk.storage, "save", slow_second_copy)
    monkeypatch.setattr(pipeline, "create_ticket", locked)
    with pytest.raises(TransientError):
        ingest_batch(desk, raws, source="import")
    assert len(saved) == 2, "the copies not yet started are cancelled"
    assert _stored_files(desk) == []

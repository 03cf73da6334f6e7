"""Exactly once: a message recorded but not processed is completed by a retry; transient errors leave it to retry."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from frontdesk_email import pipeline
from frontdesk_email.models import InboundMessage
from frontdesk_email.pipeline import TransientError, ingest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from frontdesk.models import Ticket


def _count(db: Any, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_a_crash_after_recording_is_completed_by_the_next_delivery(desk: Any, db: Any, mail: Any) -> None:
    row_id, known = pipeline._record(desk, mail(), source="imap", mailbox_id=None)  # then the process dies
    assert known is None
    assert db.get(InboundMessage, row_id).status == "received"
    db.rollback()
    outcome = ingest(desk, mail(), source="imap")
    assert (outcome.status, outcome.outcome, outcome.message_row_id) == ("processed", "created", row_id)
    assert ingest(desk, mail(), source="imap").status == "duplicate"
    assert _count(db, Ticket) == 1


def test_a_message_without_message_id_is_recognised_by_its_content(desk: Any, db: Any, mail: Any) -> None:
    raw = mail(message_id=None)
    assert ingest(desk, raw, source="import").outcome == "created"
    assert ingest(desk, raw, source="import").status == "duplicate"
    assert ingest(desk, mail(message_id=None, body="other text"), source="import").outcome == "created"
    assert _count(db, Ticket) == 2


def test_a_database_outage_is_transient_and_loses_nothing(
    desk: Any, db: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    monkeypatch.setattr(pipeline, "email_settings", locked)
    with pytest.raises(TransientError, match="database is locked"):
        ingest(desk, mail(), source="pipe")
    monkeypatch.undo()
    assert db.scalar(select(InboundMessage.status)) == "received"
    db.rollback()
    assert ingest(desk, mail(), source="pipe").outcome == "created"


def test_the_same_message_delivered_twice_at_once_is_filed_once(desk: Any, db: Any, mail: Any) -> None:
    raw = mail()
    results: list[str] = []
    barrier = threading.Barrier(4)

    def deliver() -> None:
        barrier.wait()
        results.append(ingest(desk, raw, source="imap").status)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["duplicate"] * 3 + ["processed"]
    assert _count(db, Ticket) == 1

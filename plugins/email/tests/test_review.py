"""The review queue and failed mail: accept, new ticket, discard, reprocess, listings and permissions."""

from __future__ import annotations

from typing import Any

import pytest
from frontdesk_email import review, tokens
from frontdesk_email.models import InboundMessage
from frontdesk_email.pipeline import ingest

from frontdesk.errors import Conflict, PermissionDenied
from frontdesk.models import Comment, Ticket
from frontdesk.permissions import SYSTEM


@pytest.fixture
def held(desk: Any, mail: Any) -> int:
    """Row id of a stranger's reply to ticket #1, waiting in review."""
    ingest(desk, mail(sender="Anna <anna@example.org>"), source="pipe")
    ours = tokens.make_message_id(tokens.threading_key(desk.config.secret_key), 1, "desk.test")
    stranger = mail(
        sender="Bob Stranger <bob@example.org>", body="Me too!", message_id="<bob@x>", headers={"In-Reply-To": ours}
    )
    outcome = ingest(desk, stranger, source="pipe")
    assert outcome.status == "review"
    return outcome.message_row_id


def test_pending_lists_held_messages_newest_first_in_pages(desk: Any, held: int, mail: Any) -> None:
    with desk.reading(SYSTEM) as uow:
        assert [row.id for row in review.pending(uow)] == [held]
        assert review.pending(uow, before=held) == []
        assert review.failed(uow) == []


def test_accept_appends_as_the_sender_who_becomes_a_cc(desk: Any, db: Any, held: int) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        comment_id = review.accept(uow, held, 1).id
    comment = db.get(Comment, comment_id)
    assert comment.author.email == "bob@example.org"
    assert comment.ticket_id == 1
    assert [cc.email for cc in db.get(Ticket, 1).ccs] == ["bob@example.org"]
    row = db.get(InboundMessage, held)
    assert (row.status, row.outcome, row.comment_id) == ("processed", "appended", comment_id)
    assert row.decision["review"]["action"] == "accepted"
    db.rollback()
    with desk.action(SYSTEM, source="test") as uow, pytest.raises(Conflict):
        review.accept(uow, held, 1)


def test_create_ticket_from_a_held_message(desk: Any, db: Any, held: int) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        number = review.create_ticket_from(uow, held).number
    ticket = db.get(Ticket, number)
    assert ticket.requester.email == "bob@example.org"
    assert "Me too!" in ticket.description
    assert db.get(InboundMessage, held).outcome == "created"


def test_discard_keeps_the_message_on_record(desk: Any, db: Any, held: int) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        review.discard(uow, held)
    row = db.get(InboundMessage, held)
    assert (row.status, row.outcome) == ("rejected", "discarded")
    assert row.reason == "discarded by system"


def test_review_needs_the_email_manage_permission(desk: Any, held: int, make_user: Any) -> None:
    agent = make_user(role="agent", all_groups=True)
    for action in (
        lambda uow: review.accept(uow, held, 1),
        lambda uow: review.create_ticket_from(uow, held),
        lambda uow: review.discard(uow, held),
        lambda uow: review.pending(uow),
        lambda uow: review.failed(uow),
    ):
        with pytest.raises(PermissionDenied), desk.action(agent, source="test") as uow:
            action(uow)
    with pytest.raises(PermissionDenied):
        review.reprocess(desk, held, actor=agent)


def test_a_failed_message_is_recorded_and_reprocessed_once_fixed(
    desk: Any, db: Any, mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontdesk_email import pipeline

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("classifier bug")

    monkeypatch.setattr(pipeline, "run_stages", broken)
    outcome = ingest(desk, mail(), source="pipe")
    assert outcome.status == "failed"
    assert outcome.reason == "RuntimeError: classifier bug"
    with desk.reading(SYSTEM) as uow:
        assert [row.id for row in review.failed(uow)] == [outcome.message_row_id]
    assert ingest(desk, mail(), source="pipe").status == "duplicate", (
        "a failed message is not processed again by itself"
    )
    monkeypatch.undo()
    again = review.reprocess(desk, outcome.message_row_id, actor=SYSTEM)
    assert (again.status, again.outcome) == ("processed", "created")
    assert db.get(InboundMessage, outcome.message_row_id).attempts == 2

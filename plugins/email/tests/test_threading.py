"""Threading decisions: which ticket a message continues, who may add to it, and closed tickets."""

from __future__ import annotations

from typing import Any

import pytest
from frontdesk_email import tokens
from frontdesk_email.models import InboundMessage, Mailbox
from frontdesk_email.pipeline import ingest
from sqlalchemy import select

from frontdesk.models import Comment, Ticket, TicketLink
from frontdesk.permissions import SYSTEM
from frontdesk.services import people
from frontdesk.services.links import merge_tickets
from frontdesk.services.plugins import set_setting
from frontdesk.services.tickets import update_ticket

ANNA = "Anna Example <anna@example.org>"


@pytest.fixture
def key(desk: Any) -> bytes:
    return tokens.threading_key(desk.config.secret_key)


@pytest.fixture
def opened(desk: Any, mail: Any) -> int:
    """Ticket #1, opened by Anna's mail to the Support mailbox."""
    with desk.action(SYSTEM, source="test") as uow:
        group = people.create_group(uow, {"name": "Support"})
        uow.session.flush()
        uow.session.add(Mailbox(name="help", address="help@desk.test", group_id=group.id))
    outcome = ingest(desk, mail(sender=ANNA), source="pipe", mailbox_id=1)
    assert outcome.ticket_number == 1
    return 1


def _decision(db: Any, outcome: Any) -> dict[str, Any]:
    return db.get(InboundMessage, outcome.message_row_id).decision


def test_a_new_mail_gets_the_mailbox_group(desk: Any, db: Any, opened: int) -> None:
    assert db.get(Ticket, opened).group.name == "Support"


def test_reply_with_a_changed_subject_follows_in_reply_to(
    desk: Any, db: Any, mail: Any, key: bytes, opened: int
) -> None:
    ours = tokens.make_message_id(key, opened, "desk.test")
    reply = mail(sender=ANNA, subject="Completely different words", message_id="<r1@x>", headers={"In-Reply-To": ours})
    outcome = ingest(desk, reply, source="pipe")
    assert (outcome.outcome, outcome.ticket_number) == ("appended", opened)
    assert _decision(db, outcome)["thread"]["score"] == 100


def test_outlook_reply_without_in_reply_to_threads_by_token_and_reply_address(
    desk: Any, db: Any, mail: Any, key: bytes, opened: int
) -> None:
    to = tokens.reply_address(key, "help@desk.test", opened)
    outcome = ingest(
        desk, mail(sender=ANNA, to=to, subject=f"AW: [#{opened}] Printer", message_id="<r2@x>"), source="pipe"
    )
    assert (outcome.outcome, outcome.ticket_number) == ("appended", opened)
    assert _decision(db, outcome)["thread"]["score"] == 80 + 30


def test_the_subject_token_alone_is_enough_from_a_participant(desk: Any, mail: Any, opened: int) -> None:
    outcome = ingest(
        desk, mail(sender=ANNA, subject=f"Fwd: [#{opened}] Printer on fire", message_id="<f1@x>"), source="pipe"
    )
    assert (outcome.outcome, outcome.ticket_number) == ("appended", opened)


def test_a_forwarded_desk_mail_from_an_outsider_waits_for_review(desk: Any, db: Any, mail: Any, opened: int) -> None:
    forwarded = mail(sender="Colleague <bob@example.org>", subject=f"Fwd: [#{opened}] Printer", message_id="<f2@x>")
    outcome = ingest(desk, forwarded, source="pipe")
    assert (outcome.status, outcome.ticket_number) == ("review", opened)
    assert db.scalar(select(Comment).where(Comment.ticket_id == opened)) is None


def test_a_non_participant_with_a_valid_token_goes_to_review(
    desk: Any, db: Any, mail: Any, key: bytes, opened: int
) -> None:
    ours = tokens.make_message_id(key, opened, "desk.test")
    outcome = ingest(
        desk, mail(sender="Mallory <m@evil.example>", message_id="<e1@x>", headers={"In-Reply-To": ours}), source="pipe"
    )
    assert outcome.status == "review"
    assert "not a participant" in outcome.reason
    assert _decision(db, outcome)["participant"] is None


def test_a_forged_token_is_no_evidence(desk: Any, db: Any, mail: Any, opened: int) -> None:
    forged = f"<fd-{opened}-aaaaaaaaaaaa-bbbbbbbbbbbbbbbbbbbb@desk.test>"
    outcome = ingest(
        desk,
        mail(sender=ANNA, subject="New question", message_id="<g1@x>", headers={"In-Reply-To": forged}),
        source="pipe",
    )
    assert (outcome.outcome, outcome.ticket_number) == ("created", 2)


def test_an_agent_reply_by_mail_is_a_staff_comment(
    desk: Any, db: Any, mail: Any, key: bytes, opened: int, make_user: Any
) -> None:
    make_user(email="agent@desk.test", role="agent", all_groups=True)
    ours = tokens.make_message_id(key, opened, "desk.test")
    outcome = ingest(
        desk, mail(sender="agent@desk.test", message_id="<a1@x>", headers={"In-Reply-To": ours}), source="pipe"
    )
    assert outcome.outcome == "appended"
    assert db.get(Comment, outcome.comment_id).author.email == "agent@desk.test"
    assert _decision(db, outcome)["participant"] == "agent"


def test_a_cc_may_reply(desk: Any, db: Any, mail: Any, key: bytes, opened: int) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        update_ticket(uow, opened, {"add_ccs": ["carol@example.org"]})
    ours = tokens.make_message_id(key, opened, "desk.test")
    outcome = ingest(
        desk, mail(sender="carol@example.org", message_id="<c1@x>", headers={"References": ours}), source="pipe"
    )
    assert outcome.outcome == "appended"
    assert _decision(db, outcome)["participant"] == "cc"


def _close(desk: Any, number: int) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        update_ticket(uow, number, {"status": "solved"})
    with desk.action(SYSTEM, source="test") as uow:
        update_ticket(uow, number, {"status": "closed"})


def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(
    desk: Any, db: Any, mail: Any, key: bytes, opened: int
) -> None:
    _close(desk, opened)
    ours = tokens.make_message_id(key, opened, "desk.test")
    outcome = ingest(desk, mail(sender=ANNA, message_id="<l1@x>", headers={"In-Reply-To": ours}), source="pipe")
    assert outcome.outcome == "linked"
    assert outcome.ticket_number != opened
    link = db.scalar(select(TicketLink).where(TicketLink.source_id == outcome.ticket_number))
    assert (link.target_id, link.kind) == (opened, "related")
    assert _decision(db, outcome)["closed_ticket_policy"] == "new_linked"


def test_the_reject_policy_refuses_replies_to_closed_tickets(
    desk: Any, db: Any, mail: Any, key: bytes, opened: int
) -> None:
    _close(desk, opened)
    with desk.action(SYSTEM, source="test") as uow:
        set_setting(uow, "email", "closed_ticket_policy", "reject")
    ours = tokens.make_message_id(key, opened, "desk.test")
    outcome = ingest(desk, mail(sender=ANNA, message_id="<l2@x>", headers={"In-Reply-To": ours}), source="pipe")
    assert outcome.status == "rejected"
    assert "closed" in outcome.reason


def test_a_reply_to_a_merged_ticket_lands_on_the_survivor(
    desk: Any, db: Any, mail: Any, key: bytes, opened: int
) -> None:
    second = ingest(desk, mail(sender=ANNA, subject="Another", message_id="<n2@x>"), source="pipe").ticket_number
    with desk.action(SYSTEM, source="test") as uow:
        merge_tickets(uow, second, opened)
    ours = tokens.make_message_id(key, second, "desk.test")
    outcome = ingest(desk, mail(sender=ANNA, message_id="<mg@x>", headers={"In-Reply-To": ours}), source="pipe")
    assert (outcome.outcome, outcome.ticket_number) == ("appended", opened)


def test_unknown_senders_are_refused_when_requesters_are_not_created(desk: Any, mail: Any) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        set_setting(uow, "email", "create_requesters", False)
    outcome = ingest(desk, mail(), source="pipe")
    assert outcome.status == "rejected"
    assert "create_requesters" in outcome.reason


def test_a_solved_ticket_reopens_on_a_reply_but_not_on_an_auto_reply(
    desk: Any, db: Any, mail: Any, key: bytes, opened: int
) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        update_ticket(uow, opened, {"status": "solved"})
    ours = tokens.make_message_id(key, opened, "desk.test")
    auto = mail(sender=ANNA, message_id="<oof@x>", headers={"In-Reply-To": ours, "Auto-Submitted": "auto-replied"})
    assert ingest(desk, auto, source="pipe").outcome == "appended"
    assert db.get(Ticket, opened).status_category == "solved"
    db.rollback()  # the test session must not hold the write lock while the pipeline writes
    assert (
        ingest(desk, mail(sender=ANNA, message_id="<back@x>", headers={"In-Reply-To": ours}), source="pipe").outcome
        == "appended"
    )
    assert db.get(Ticket, opened).status_category == "open"


def test_people_copied_on_a_new_mail_become_ccs_and_may_reply_all(
    desk: Any, db: Any, mail: Any, key: bytes, opened: int
) -> None:
    first = mail(
        sender=ANNA,
        to="help@desk.test, Dan <dan@example.org>",
        message_id="<cc1@x>",
        headers={"Cc": "erin@example.org, not an address"},
    )
    created = ingest(desk, first, source="pipe")
    assert [cc.email for cc in db.get(Ticket, created.ticket_number).ccs] == ["dan@example.org", "erin@example.org"]
    db.rollback()
    reply_all = mail(sender="erin@example.org", message_id="<cc2@x>", headers={"References": "<cc1@x>"})
    outcome = ingest(desk, reply_all, source="pipe")
    assert (outcome.outcome, outcome.ticket_number) == ("appended", created.ticket_number)


def test_a_bounce_names_the_ticket_of_the_mail_it_returns(desk: Any, db: Any, key: bytes, opened: int) -> None:
    ours = tokens.make_message_id(key, opened, "desk.test")
    report = (
        "From: MAILER-DAEMON@mx.example\nTo: help@desk.test\nSubject: Undelivered Mail\n"
        "Message-ID: <dsn@mx.example>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nUser unknown\n"
        "--b\nContent-Type: message/delivery-status\n\nAction: failed\n"
        f"--b\nContent-Type: text/rfc822-headers\n\nFrom: help@desk.test\nMessage-ID: {ours}\n\n--b--\n"
    ).encode()
    outcome = ingest(desk, report, source="pipe")
    assert (outcome.status, outcome.ticket_number) == ("rejected", opened)
    assert db.get(InboundMessage, outcome.message_row_id).decision["bounce_of"] == ours

"""The corpus: 81 real-world-shaped messages each end as a ticket, a comment or a recorded refusal with a reason."""
# ruff: noqa: RUF001 (Cyrillic and CJK text is what these tests are about)

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from frontdesk_email.models import InboundMessage, Mailbox
from frontdesk_email.pipeline import Outcome, ingest
from sqlalchemy import select

from frontdesk.models import Attachment, Comment, Ticket
from frontdesk.permissions import SYSTEM
from frontdesk.services.plugins import set_setting

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, str] = json.loads((CORPUS / "expected.json").read_text())


@pytest.fixture
def results(desk: Any) -> dict[str, Outcome]:
    """Every corpus message ingested in order into a desk with one mailbox and small limits."""
    with desk.action(SYSTEM, source="test") as uow:
        uow.session.add(Mailbox(name="help", address="help@desk.test"))
        set_setting(uow, "email", "max_message_bytes", 150_000)
        set_setting(uow, "email", "max_attachment_bytes", 50_000)
    mailbox_id = 1
    return {
        name: ingest(desk, (CORPUS / name).read_bytes(), source="import", mailbox_id=mailbox_id)
        for name in sorted(EXPECTED)
    }


def test_the_corpus_is_big_enough() -> None:
    assert len(EXPECTED) >= 60
    assert sorted(EXPECTED) == sorted(p.name for p in CORPUS.glob("*.eml"))


def test_the_corpus_ends_where_expected(results: dict[str, Outcome], db: Any) -> None:
    """One ingest of the corpus, then each aspect checked on it (ingesting 81 messages per aspect is slow)."""
    check_every_message_ends_where_expected_with_a_reason(results, db)
    check_headers_and_bodies_in_every_charset_are_decoded(results, db)
    check_threading_in_the_corpus(results, db)
    check_automatic_mail_is_an_internal_note_and_never_answered(results, db)
    check_files_are_stored_and_oversize_ones_recorded(results, db)
    check_markup_in_mail_never_reaches_the_page_as_markup(results, db)


def check_every_message_ends_where_expected_with_a_reason(results: dict[str, Outcome], db: Any) -> None:
    seen = {name: f"{o.status}/{o.outcome}" if o.status == "processed" else o.status for name, o in results.items()}
    assert seen == EXPECTED
    for name, outcome in results.items():
        row = db.get(InboundMessage, outcome.message_row_id)
        assert row.status != "failed", f"{name}: {row.reason}"
        if outcome.status in ("rejected", "quarantined", "review"):
            assert row.reason, f"{name} has no reason"
        if outcome.outcome == "created":
            assert db.get(Ticket, outcome.ticket_number) is not None
        if outcome.outcome == "appended":
            assert db.get(Comment, outcome.comment_id).ticket_id == outcome.ticket_number


def _of(results: dict[str, Outcome], slug: str) -> Outcome:
    """The outcome of the corpus message named ``NN-<slug>.eml``."""
    return next(outcome for name, outcome in results.items() if name[3:-4] == slug)


def check_headers_and_bodies_in_every_charset_are_decoded(results: dict[str, Outcome], db: Any) -> None:
    first = db.get(Ticket, _of(results, "outlook-new-windows1252").ticket_number)
    assert first.subject == "Kassen-Software startet nicht \u2013 dringend"
    assert first.requester.name == "Anna Müller"
    assert "Lizenz ungültig" in first.description
    expected = {
        "gmail-new-emoji-subject": "\U0001f64f",
        "gmail-cjk-and-emoji": "您好" if False else "无法登录",
        "iso-2022-jp": "サービスが使えません",
        "koi8-r": "принтер",
        "gb2312": "您好",
        "big5": "發票有錯誤",
        "windows-1251-html": "счёт №17",
        "iso-8859-15-euro": "120 €",
        "unknown-charset": "café",
        "undeclared-8bit-latin1": "Grüße aus Köln",
        "ks-c-5601-korean": "결제가",
    }
    for slug, text in expected.items():
        ticket = db.get(Ticket, _of(results, slug).ticket_number)
        assert text in ticket.description, slug
    assert db.get(Ticket, _of(results, "koi8-r").ticket_number).subject == "Не работает принтер"


def check_threading_in_the_corpus(results: dict[str, Outcome], db: Any) -> None:
    outlook = _of(results, "outlook-reply-token-no-in-reply-to")
    assert outlook.ticket_number == 1
    decision = db.get(InboundMessage, outlook.message_row_id).decision
    assert {clue["kind"] for clue in decision["thread"]["evidence"]} == {"signed_reply_address", "subject_token"}
    body = db.get(Comment, outlook.comment_id).body
    assert "nach dem Neustart" in body
    assert "Lizenzdienst" not in body, "the quoted Outlook header block is stripped"
    assert (
        _of(results, "gmail-changed-subject-reply").ticket_number
        == _of(results, "gmail-new-emoji-subject").ticket_number
    ), "changed subject"
    assert _of(results, "gmail-non-participant-signed").ticket_number == 1, "the review row names the ticket it claims"
    forged = db.get(InboundMessage, _of(results, "forged-message-id-subject-token").message_row_id).decision
    assert [clue["kind"] for clue in forged["thread"]["evidence"]] == ["subject_token"]


def check_automatic_mail_is_an_internal_note_and_never_answered(results: dict[str, Outcome], db: Any) -> None:
    oof = _of(results, "outlook-oof-auto-reply-threaded")
    note = db.get(Comment, oof.comment_id)
    assert not note.public
    assert note.author_id is None
    row = db.get(InboundMessage, oof.message_row_id)
    assert row.decision["suppress_autoreply"] is True
    for slug in (
        "outlook-oof-new",
        "google-groups-list",
        "mailman-list",
        "newsletter-bulk-html-only",
        "vacation-auto-submitted",
        "x-autoreply-header",
        "precedence-junk",
        "other-helpdesk-auto-generated",
        "return-path-null-autoresponder",
    ):
        assert db.get(InboundMessage, _of(results, slug).message_row_id).decision["suppress_autoreply"]
    assert (
        db.get(InboundMessage, _of(results, "gmail-new-emoji-subject").message_row_id).decision["suppress_autoreply"]
        is False
    )


def check_files_are_stored_and_oversize_ones_recorded(results: dict[str, Outcome], db: Any) -> None:
    photo = _of(results, "outlook-attachment-inline-image")
    names = set(db.scalars(select(Attachment.filename).join(Comment).where(Comment.ticket_id == photo.ticket_number)))
    assert names == {"image001.png", "Service report T4.pdf"}
    big = _of(results, "oversize-attachment-recorded")
    decision = db.get(InboundMessage, big.message_row_id).decision
    assert [item["filename"] for item in decision["attachments_skipped"]] == ["full.log"]
    stored = db.scalars(select(Attachment.filename).join(Comment).where(Comment.ticket_id == big.ticket_number))
    assert list(stored) == ["small.txt"]
    assert "full.log" in db.get(Ticket, big.ticket_number).description


def check_markup_in_mail_never_reaches_the_page_as_markup(results: dict[str, Outcome], db: Any) -> None:
    for slug in ("xss-html-body", "xss-text-body"):
        ticket = db.get(Ticket, _of(results, slug).ticket_number)
        assert "<script" not in ticket.description
        assert "<img" not in ticket.description
        assert "javascript:" not in ticket.description.lower() or "&lt;" in ticket.description

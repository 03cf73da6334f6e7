"""The pipeline stages other plugins can replace or extend: classify, threading evidence, route."""

from __future__ import annotations

from typing import Any

from frontdesk_email.classify import AUTOMATIC, Classification
from frontdesk_email.models import InboundMessage
from frontdesk_email.pipeline import ingest
from frontdesk_email.thread import Evidence

from frontdesk import hookimpl
from frontdesk.permissions import SYSTEM
from frontdesk.services import people


class SpamFilter:
    """Answers first for mail flagged as spam, and leaves the rest to the built-in classifier."""

    NAME = "spamfilter"

    @hookimpl
    def frontdesk_email_classify(self, message: Any, own_addresses: Any) -> Any:
        if "viagra" in message.subject.lower():
            return Classification(AUTOMATIC, ["spam filter: suspicious subject"])
        return None


def test_hook_frontdesk_email_classify_lets_a_plugin_decide_first(
    desk: Any, db: Any, mail: Any, register_plugin: Any
) -> None:
    register_plugin(SpamFilter(), "spamfilter")
    spam = ingest(desk, mail(subject="Cheap viagra", message_id="<s@x>"), source="pipe")
    kind = db.get(InboundMessage, spam.message_row_id).decision["classification"]
    assert kind == {
        "kind": "automatic",
        "signals": ["spam filter: suspicious subject"],
        "suppress_autoreply": True,
        "no_reopen": True,
    }
    db.rollback()  # the test session must not hold the write lock while the pipeline writes
    normal = ingest(desk, mail(subject="Hello", message_id="<h@x>"), source="pipe")
    assert db.get(InboundMessage, normal.message_row_id).decision["classification"]["kind"] == "person"


class CrmLink:
    """Threads mail quoting a CRM case number onto the ticket the CRM knows for it."""

    NAME = "crm"

    @hookimpl
    def frontdesk_email_thread_evidence(self, uow: Any, message: Any) -> list[Any]:
        if "CASE-7" in message.text:
            return [Evidence(1, 50, "crm_case", "the body names CRM case CASE-7")]
        return []


def test_hook_frontdesk_email_thread_evidence_adds_clues(desk: Any, db: Any, mail: Any, register_plugin: Any) -> None:
    register_plugin(CrmLink(), "crm")
    ingest(desk, mail(), source="pipe")
    follow = ingest(desk, mail(subject="Update", body="About CASE-7 again", message_id="<c7@x>"), source="pipe")
    assert (follow.outcome, follow.ticket_number) == ("appended", 1)
    clues = db.get(InboundMessage, follow.message_row_id).decision["thread"]["evidence"]
    assert clues == [{"ticket": 1, "score": 50, "kind": "crm_case", "detail": "the body names CRM case CASE-7"}]


class VipRouting:
    """Sends mail from one domain to the VIP group."""

    NAME = "vip"

    @hookimpl
    def frontdesk_email_route(self, uow: Any, message: Any, mailbox: Any) -> Any:
        return "VIP" if message.from_address.endswith("@bigcustomer.example") else None


def test_hook_frontdesk_email_route_chooses_the_group(desk: Any, db: Any, mail: Any, register_plugin: Any) -> None:
    with desk.action(SYSTEM, source="test") as uow:
        people.create_group(uow, {"name": "VIP"})
    register_plugin(VipRouting(), "vip")
    vip = ingest(desk, mail(sender="ceo@bigcustomer.example", message_id="<v@x>"), source="pipe")
    other = ingest(desk, mail(sender="someone@example.org", message_id="<o@x>"), source="pipe")
    decisions = [db.get(InboundMessage, o.message_row_id).decision["group"] for o in (vip, other)]
    assert decisions == ["VIP", None]

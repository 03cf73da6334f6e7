"""Who may call each of the plugin's routes: anonymous, requester, agent, admin. A route without a policy fails."""

from __future__ import annotations

from typing import Any

import pytest
from frontdesk_email import mailboxes, pipeline
from frontdesk_email.models import OutboundMessage
from sqlalchemy import select

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import comments
from frontdesk.services.plugins import set_setting
from frontdesk.testing.routes import ROLES, plugin_routes, refused, sign_in

MANAGERS = frozenset({"admin"})
AGENTS = frozenset({"agent", "admin"})
UNSIGNED = frozenset()  # the webhook: only a signed body gets in, whoever is signed in (see test_webhook)

# endpoint -> (method, URL with {mailbox}/{message}/{outbox}/{ticket} filled in, roles allowed)
POLICY: dict[str, tuple[str, str, frozenset[str]]] = {
    "email.mailboxes": ("GET", "/email/", MANAGERS),
    "email.new_mailbox": ("GET", "/email/mailboxes/new", MANAGERS),
    "email.edit_mailbox": ("GET", "/email/mailboxes/{mailbox}", MANAGERS),
    "email.test_mailbox": ("POST", "/email/mailboxes/{mailbox}/test", MANAGERS),
    "email.pause_mailbox": ("POST", "/email/mailboxes/{mailbox}/pause", MANAGERS),
    "email.delete_mailbox": ("POST", "/email/mailboxes/{spare}/delete", MANAGERS),
    "email.review_page": ("GET", "/email/review", MANAGERS),
    "email.accept_message": ("POST", "/email/review/{message}/accept", MANAGERS),
    "email.discard_message": ("POST", "/email/review/{message}/discard", MANAGERS),
    "email.new_ticket_from": ("POST", "/email/review/{message}/new-ticket", MANAGERS),
    "email.failed_page": ("GET", "/email/failed", MANAGERS),
    "email.retry_message": ("POST", "/email/messages/{message}/retry", MANAGERS),
    "email.outbox_page": ("GET", "/email/outbox", MANAGERS),
    "email.retry_outbox": ("POST", "/email/outbox/{outbox}/retry", MANAGERS),
    "email.message": ("GET", "/email/messages/{message}", AGENTS),
    "email.original": ("GET", "/email/messages/{message}/raw", AGENTS),
    "email_api.Mailboxes": ("GET", "/api/v1/email/mailboxes", MANAGERS),
    "email_api.MailboxItem": ("GET", "/api/v1/email/mailboxes/{mailbox}", MANAGERS),
    "email_api.MailboxTest": ("POST", "/api/v1/email/mailboxes/{mailbox}/test", MANAGERS),
    "email_api.ReviewQueue": ("GET", "/api/v1/email/review", MANAGERS),
    "email_api.ReviewAccept": ("POST", "/api/v1/email/review/{message}/accept", MANAGERS),
    "email_api.ReviewNewTicket": ("POST", "/api/v1/email/review/{message}/new-ticket", MANAGERS),
    "email_api.ReviewDiscard": ("POST", "/api/v1/email/review/{message}/discard", MANAGERS),
    "email_api.FailedMessages": ("GET", "/api/v1/email/messages/failed", MANAGERS),
    "email_api.RetryMessage": ("POST", "/api/v1/email/messages/{message}/retry", MANAGERS),
    "email_api.RawMessage": ("GET", "/api/v1/email/messages/{message}/raw", MANAGERS),
    "email_api.Outbox": ("GET", "/api/v1/email/outbox", MANAGERS),
    "email_api.OutboxRetry": ("POST", "/api/v1/email/outbox/{outbox}/retry", MANAGERS),
    "email_api.MailLog": ("GET", "/api/v1/email/tickets/{ticket}/mail", AGENTS),
    "email_api.Inbound": ("POST", "/api/v1/email/inbound", UNSIGNED),
}


def test_every_route_has_a_policy(app: Any) -> None:
    routes = {endpoint for endpoint, _method, _rule in plugin_routes(app, "email")}
    assert routes == set(POLICY), "give each new route a policy (and each policy a route)"


@pytest.fixture
def world(desk: Desk, make_user: Any, mail: Any) -> dict[str, Any]:
    """A mailbox, a ticket opened by mail, an agent's reply in the outbox, and people of every role."""
    make_user(email="rita@example.org", name="Rita", role="requester")
    agent = make_user(email="alex@desk.test", role="agent", all_groups=True)
    make_user(email="ada@desk.test", role="admin")
    with desk.action(SYSTEM, source="test") as uow:
        mailbox = mailboxes.add_mailbox(uow, {"name": "Support", "address": "help@desk.test"}).id
        spare = mailboxes.add_mailbox(uow, {"name": "Spare", "address": "spare@desk.test"}).id
        set_setting(uow, "email", "webhook_secret", "s3cret")
    outcome = pipeline.ingest(desk, mail(sender="Rita <rita@example.org>"), source="webhook", mailbox_id=mailbox)
    with desk.action(agent, source="web") as uow:
        comments.add_comment(uow, outcome.ticket_number, {"body": "Looking into it."})
    with desk.db.reading() as session:
        outbox = session.scalar(select(OutboundMessage.id))
    return {
        "mailbox": mailbox,
        "message": outcome.message_row_id,
        "ticket": outcome.ticket_number,
        "outbox": outbox,
        "spare": spare,
    }


LOGINS = {"requester": "rita@example.org", "agent": "alex@desk.test", "admin": "ada@desk.test"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_policy_says(app: Any, world: dict[str, Any], role: str) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, LOGINS[role])
    wrong = []
    for endpoint, (method, url, allowed) in POLICY.items():
        response = client.open(url.format(**world), method=method, data={} if method == "POST" else None)
        if role in allowed and refused(response):
            wrong.append(f"{endpoint}: {role} refused ({response.status_code})")
        if role not in allowed and not refused(response):
            wrong.append(f"{endpoint}: {role} let in ({response.status_code})")
    assert wrong == []

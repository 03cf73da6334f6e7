"""The mail of a ticket on the page being drawn, loaded once per request and shared by the panels showing it."""

from __future__ import annotations

from flask import g

from frontdesk.models import Ticket, User
from frontdesk_email import review
from frontdesk_email.models import InboundMessage
from frontdesk_webui.context import desk


def ticket_mail(ticket: Ticket, user: User) -> list[InboundMessage]:
    """Every inbound message filed under ``ticket``, oldest first: one query per ticket and request."""
    cache: dict[int, list[InboundMessage]] = g.setdefault("email_ticket_mail", {})
    if ticket.id not in cache:
        with desk().reading(user) as uow:
            cache[ticket.id] = review.messages_of_ticket(uow, ticket)
    return cache[ticket.id]

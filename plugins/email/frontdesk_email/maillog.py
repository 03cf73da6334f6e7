"""Reading recorded mail: one ticket's mail log (received and sent) and a message's original bytes."""

from __future__ import annotations

from sqlalchemy import select

from frontdesk.models import Ticket
from frontdesk.services.tickets import get_ticket
from frontdesk.uow import UnitOfWork
from frontdesk_email import pipeline, review
from frontdesk_email.models import InboundMessage, OutboundMessage


def get_message(uow: UnitOfWork, message_row_id: int) -> InboundMessage:
    """A recorded inbound message the actor may see (mail managers: all; agents: their tickets' mail)."""
    return review.visible_message(uow, message_row_id)


def raw_message(uow: UnitOfWork, message_row_id: int) -> bytes:
    """The message exactly as it was received, for "show original"."""
    return pipeline.load_raw(uow.desk, get_message(uow, message_row_id))


def mail_log(uow: UnitOfWork, number: int) -> tuple[list[InboundMessage], list[OutboundMessage]]:
    """Every mail of a ticket the actor may see: received (oldest first) and sent or queued (oldest first)."""
    ticket = get_ticket(uow, number)
    return review.messages_of_ticket(uow, ticket), sent_mail(uow, ticket)


def sent_mail(uow: UnitOfWork, ticket: Ticket) -> list[OutboundMessage]:
    """The mail the desk sent (or holds back, or could not send) about ``ticket``, oldest first (agents)."""
    uow.require("tickets.work")
    query = select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id).order_by(OutboundMessage.id)
    return list(uow.session.scalars(query))

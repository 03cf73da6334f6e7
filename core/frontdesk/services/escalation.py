"""Support levels: groups arranged L1 -> L2 -> L3, and moving a ticket up one level."""

from __future__ import annotations

from frontdesk import notifications
from frontdesk.errors import ValidationError
from frontdesk.models import GroupMembership, Ticket
from frontdesk.services.history import record
from frontdesk.services.tickets import get_ticket, update_ticket
from frontdesk.uow import UnitOfWork


def escalate(uow: UnitOfWork, number: int, reason: str = "") -> Ticket:
    """Move the ticket to the next level's group, record who and why, and notify that group's agents.

    The assignee stays when they belong to the next group too, otherwise the ticket is unassigned.
    """
    uow.require("tickets.work")
    ticket = get_ticket(uow, number)
    current = ticket.group
    if current is None or current.escalates_to is None:
        name = current.name if current else "no group"
        raise ValidationError({"group": [f"{name!r} has no next level to escalate to"]})
    target = current.escalates_to
    changes: dict[str, object] = {"group": target.name}
    assignee = ticket.assignee
    sees_all = assignee is not None and (assignee.is_admin or assignee.all_groups)
    if assignee is not None and not sees_all and uow.session.get(GroupMembership, (target.id, assignee.id)) is None:
        changes["assignee"] = None
    ticket = update_ticket(uow, number, changes)
    event = uow.emit(
        "ticket.escalated",
        ticket_id=ticket.id,
        payload={"from": current.name, "to": target.name, "reason": reason.strip()},
    )
    record(uow, ticket, event, "escalated", current.name, {"group": target.name, "reason": reason.strip()})
    agents = notifications.recipients(uow, ticket, ["group"])
    notifications.notify(uow, "ticket.escalated", agents, ticket, {"reason": reason.strip()})
    return ticket

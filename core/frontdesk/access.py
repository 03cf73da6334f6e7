"""Who sees which tickets: one SQL condition per actor, used by every query and service."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from frontdesk.models import GroupMembership, Organization, Role, Ticket, User, ticket_ccs
from frontdesk.permissions import Actor


def sees_every_ticket(actor: Actor | None) -> bool:
    """Whether the actor may see every ticket: active admins, the system, and agents with ``all_groups``."""
    if actor is None or not getattr(actor, "active", True):
        return False
    return bool(actor.is_admin or (getattr(actor, "all_groups", False) and actor.role == Role.AGENT))


def visible_tickets(actor: Actor | None) -> ColumnElement[bool]:
    """The condition on ``Ticket`` rows the actor may see.

    Admins (and the system) see every ticket. Agents see their groups' tickets, tickets with no
    group yet (the triage queue) and tickets assigned to them; agents with ``all_groups`` see all.
    Requesters see tickets they requested or are copied on, and their organization's tickets when
    it shares them. Anonymous visitors see none.
    """
    if actor is None or not getattr(actor, "active", True):
        return false()
    if sees_every_ticket(actor):
        return true()
    if actor.role == Role.AGENT:
        my_groups = select(GroupMembership.group_id).where(GroupMembership.user_id == actor.id)
        return or_(Ticket.group_id.in_(my_groups), Ticket.group_id.is_(None), Ticket.assignee_id == actor.id)
    assert isinstance(actor, User)
    copied = select(ticket_ccs.c.ticket_id).where(ticket_ccs.c.user_id == actor.id)
    conditions = [Ticket.requester_id == actor.id, Ticket.id.in_(copied)]
    if actor.organization_id is not None:
        shared = select(Organization.id).where(Organization.id == actor.organization_id, Organization.shared)
        conditions.append(and_(Ticket.organization_id == actor.organization_id, Ticket.organization_id.in_(shared)))
    return or_(*conditions)

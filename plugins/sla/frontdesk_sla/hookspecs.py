"""Hooks the SLA plugin offers to other plugins (added through ``frontdesk_add_hookspecs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frontdesk import hookspec

if TYPE_CHECKING:
    from frontdesk.desk import Desk
    from frontdesk.models import Event, Ticket, User


@hookspec(firstresult=True)
def frontdesk_sla_policy_for(ticket: Ticket, policies: list[Any]) -> Any:
    """Choose the SLA policy of a ticket. First non-None wins.

    Called whenever the ticket's clocks are recomputed (after each change). The SLA plugin's own
    answer, tried last, is the first active policy in order whose conditions the ticket meets.

    :param ticket: the ticket as it is now.
    :param policies: the active policies (``SlaPolicy`` rows) in order.
    :returns: one of ``policies`` or a policy name; None to leave the choice to others.
    """


@hookspec
def frontdesk_sla_warning(event: Event, ticket: Ticket, actor: User | None, desk: Desk) -> None:
    """React to a clock passing its warning threshold; the payload has ``metric``, ``episode``, ``due_at``.

    Delivered after commit like every ticket event, once per clock episode.
    """


@hookspec
def frontdesk_sla_breached(event: Event, ticket: Ticket, actor: User | None, desk: Desk) -> None:
    """React to a clock passing its due time unfulfilled; the payload has ``metric``, ``episode``, ``due_at``.

    Delivered after commit like every ticket event, once per clock episode.
    """

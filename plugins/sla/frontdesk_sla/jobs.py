"""The SLA plugin's background jobs: the breach scan every minute and re-timing after a calendar edit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontdesk.permissions import SYSTEM
from frontdesk_sla import tracking

if TYPE_CHECKING:
    from frontdesk.desk import Desk


def scan(desk: Desk, source: str = "sla") -> tuple[int, int]:
    """Send the warnings and breaches that came due, batch by batch, until none is left; return how many of each.

    Each batch is a transaction of its own, so a large backlog never holds locks for long.
    """
    warnings = breaches = 0
    while True:
        with desk.action(SYSTEM, source=source) as uow:
            warned, breached, checked = tracking.scan(uow, limit=tracking.SCAN_BATCH)
        warnings += warned
        breaches += breached
        if checked < tracking.SCAN_BATCH:
            return warnings, breaches


def retime(desk: Desk, calendar_id: int) -> None:
    """Recompute the running clocks of an edited calendar."""
    with desk.action(SYSTEM, source="sla") as uow:
        tracking.retime(uow, calendar_id)


RECOMPUTE_BATCH = 200


def recompute_open(desk: Desk, after: int = 0) -> int:
    """Recompute the clocks of every ticket not solved or closed (after a policy change), a batch a transaction."""
    count = 0
    while True:
        with desk.action(SYSTEM, source="sla") as uow:
            ids = tracking.open_ticket_ids(uow, after, RECOMPUTE_BATCH)
            for ticket_id in ids:
                tracking.recompute_ticket(uow, ticket_id)
        count += len(ids)
        if len(ids) < RECOMPUTE_BATCH:
            return count
        after = ids[-1]

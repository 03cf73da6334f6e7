"""Time rules: every few minutes, act on tickets that have waited long enough (remind, solve, close).

Each rule's conditions are first turned into SQL where they can be (status category, status,
priority, group, "hours since" thresholds), so a run reads only plausible tickets; every candidate is
then checked in full. A rule acts on a ticket once per *episode*: one value of the timestamp its
first "hours since" condition measures from (its *anchor*). A ticket that leaves pending and enters
it again starts a new episode; one that just stays there is never reminded twice. Tickets already
acted on in their current episode are left out in SQL, so a run over a desk where nothing new is due
reads next to nothing. The firing row is written with the actions, in one transaction, so two
workers running the same slot cannot both act.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from frontdesk.automation.conditions import ANCHORS, Context
from frontdesk.automation.engine import jsonable
from frontdesk.automation.rules import CompiledRule
from frontdesk.db import utcnow
from frontdesk.models import AutomationLogEntry, Group, Priority, RuleFiring, RuleKind, Status, StatusCategory, Ticket
from frontdesk.permissions import SYSTEM

if TYPE_CHECKING:
    from frontdesk.desk import Desk

CHUNK = 1000
NAMED: dict[str, tuple[Any, Any]] = {
    "status": (Ticket.status_id, Status),
    "priority": (Ticket.priority_id, Priority),
    "group": (Ticket.group_id, Group),
}


@dataclass
class TimeRunReport:
    """What one run did, per rule name: tickets checked and tickets acted on."""

    checked: dict[str, int] = field(default_factory=dict)
    acted: dict[str, list[int]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def run_time_rules(desk: Desk, now: datetime | None = None) -> TimeRunReport:
    """Evaluate every enabled time rule at ``now`` (default: the present) and act where due."""
    now = now or utcnow()
    report = TimeRunReport()
    for rule in desk.automation.rules(RuleKind.TIME):
        report.checked[rule.name] = 0
        report.acted[rule.name] = []
        for chunk in chunks(candidates(desk, rule, now)):
            report.checked[rule.name] += len(chunk)
            for ticket_id, anchor in due(desk, rule, chunk, now):
                error = _act(desk, rule, ticket_id, anchor)
                if error is None:
                    report.acted[rule.name].append(ticket_id)
                elif error:
                    report.errors.setdefault(rule.name, []).append(f"#{ticket_id}: {error}")
    return report


def matching(desk: Desk, rule: CompiledRule, now: datetime, limit: int = 500) -> list[int]:
    """Ticket ids the rule's conditions hold for at ``now`` (acted on or not): the dry run of a time rule."""
    found: list[int] = []
    for chunk in chunks(candidates(desk, rule, now, fired=False)):
        found.extend(ticket_id for ticket_id, _ in due(desk, rule, chunk, now))
        if len(found) >= limit:
            break
    return found[:limit]


def chunks(ids: list[int]) -> list[list[int]]:
    """``ids`` in slices of ``CHUNK``: one read transaction each."""
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


def candidates(desk: Desk, rule: CompiledRule, now: datetime, *, fired: bool = True) -> list[int]:
    """Ids of tickets that may match: not closed, not merged, the rule's SQL-expressible conditions, and
    (with ``fired``) not acted on by the rule in the current episode."""
    query = select(Ticket.id).where(Ticket.status_category != StatusCategory.CLOSED, Ticket.merged_into_id.is_(None))
    if fired and rule.anchor is not None:
        acted = select(RuleFiring.ticket_id).where(
            RuleFiring.rule_id == rule.id,
            RuleFiring.ticket_id == Ticket.id,
            RuleFiring.anchor == getattr(Ticket, rule.anchor),
        )
        query = query.where(~acted.exists())
    if rule.match == "all":
        for found, op, value, _ in rule.conditions:
            clause = _sql(found.name, op, value, now)
            if clause is not None:
                query = query.where(clause)
    with desk.db.reading() as session:
        return list(session.scalars(query.order_by(Ticket.id)))


def _sql(name: str, op: str, value: Any, now: datetime) -> ColumnElement[bool] | None:
    """The condition as a WHERE clause, or None when only Python can decide it."""
    if name in ANCHORS and op in ("gt", "gte", "lt", "lte"):
        column = getattr(Ticket, ANCHORS[name])
        edge = now - timedelta(hours=value)
        return {"gt": column < edge, "gte": column <= edge, "lt": column > edge, "lte": column >= edge}[op]
    if name == "status_category" and op in ("is", "in"):
        return Ticket.status_category.in_([value] if op == "is" else value)
    if name in NAMED and op in ("is", "in"):
        column, model = NAMED[name]
        wanted = [v.casefold() for v in ([value] if op == "is" else value)]
        return column.in_(select(model.id).where(func.lower(model.name).in_(wanted)))
    return None


def due(desk: Desk, rule: CompiledRule, ids: list[int], now: datetime) -> list[tuple[int, datetime]]:
    """``(ticket id, anchor)`` of the tickets among ``ids`` the rule's conditions hold for at ``now``."""
    with desk.db.reading() as session:
        tickets = session.scalars(
            select(Ticket).where(Ticket.id.in_(ids)).options(selectinload(Ticket.tags), selectinload(Ticket.ccs))
        ).all()
        found = []
        for ticket in tickets:
            anchor = getattr(ticket, rule.anchor) if rule.anchor else None
            if anchor is not None and rule.evaluate(Context(desk, ticket, now))[0]:
                found.append((ticket.id, anchor))
        return found


def _act(desk: Desk, rule: CompiledRule, ticket_id: int, anchor: datetime) -> str | None:
    """Fire the rule on one ticket; None when done, "" when another worker did, else the error."""
    outcome: dict[str, Any] = {"rule": rule.id, "matched": True, "since": jsonable(anchor)}
    chain = {"origin": f"time:{rule.id}", "depth": 1, "fired": [rule.id]}
    try:
        with desk.action(SYSTEM, source="automation", chain=chain) as uow:
            uow.session.add(RuleFiring(rule_id=rule.id, ticket_id=ticket_id, anchor=anchor))
            uow.session.flush()
            desk.automation.perform(uow, ticket_id, [rule], [outcome])
            uow.session.add(AutomationLogEntry(ticket_id=ticket_id, trigger="time rule", outcomes=[outcome]))
    except IntegrityError:
        return ""
    return outcome.get("error")

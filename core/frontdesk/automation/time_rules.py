"""Time rules: every few minutes, act on tickets that have waited long enough (remind, solve, close).

Each rule's conditions are first turned into SQL where they can be (status category, "hours since"
thresholds), so a run reads only plausible tickets; every candidate is then checked in full. A rule
acts on a ticket once per *episode*: the values of the timestamps its "hours since" conditions
measure from. A ticket that leaves pending and enters it again starts a new episode; one that just
stays there is never reminded twice. The firing row is written with the actions, in one transaction,
so two workers running the same slot cannot both act.
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
        for chunk in _chunks(candidates(desk, rule, now)):
            due = _due(desk, rule, chunk, now)
            report.checked[rule.name] += len(chunk)
            for ticket_id, episode in due:
                error = _act(desk, rule, ticket_id, episode)
                if error is None:
                    report.acted[rule.name].append(ticket_id)
                elif error:
                    report.errors.setdefault(rule.name, []).append(f"#{ticket_id}: {error}")
    return report


def matching(desk: Desk, rule: CompiledRule, now: datetime, limit: int = 500) -> list[int]:
    """Ticket ids the rule's conditions hold for at ``now`` (episodes ignored): the dry run of a time rule."""
    found: list[int] = []
    for chunk in _chunks(candidates(desk, rule, now)):
        found.extend(ticket_id for ticket_id, _ in _due(desk, rule, chunk, now, fired=False))
        if len(found) >= limit:
            break
    return found[:limit]


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)]


def candidates(desk: Desk, rule: CompiledRule, now: datetime) -> list[int]:
    """Ids of tickets that may match: not closed, not merged, and the rule's SQL-expressible conditions."""
    query = select(Ticket.id).where(Ticket.status_category != StatusCategory.CLOSED, Ticket.merged_into_id.is_(None))
    if rule.match == "all":
        for found, op, value in rule.conditions:
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


def _due(desk: Desk, rule: CompiledRule, ids: list[int], now: datetime, *, fired: bool = True) -> list[tuple[int, str]]:
    with desk.db.reading() as session:
        tickets = session.scalars(
            select(Ticket).where(Ticket.id.in_(ids)).options(selectinload(Ticket.tags), selectinload(Ticket.ccs))
        ).all()
        done: set[tuple[int, str]] = set()
        if fired:
            query = select(RuleFiring.ticket_id, RuleFiring.episode).where(
                RuleFiring.rule_id == rule.id, RuleFiring.ticket_id.in_(ids)
            )
            done = {(ticket_id, episode) for ticket_id, episode in session.execute(query)}
        due = []
        for ticket in tickets:
            ctx = Context(desk, ticket, now)
            if rule.evaluate(ctx)[0] and (ticket.id, episode := rule.episode(ctx)) not in done:
                due.append((ticket.id, episode))
        return due


def _act(desk: Desk, rule: CompiledRule, ticket_id: int, episode: str) -> str | None:
    """Fire the rule on one ticket; None when done, "" when another worker did, else the error."""
    outcome: dict[str, Any] = {"rule": rule.id, "matched": True, "episode": jsonable(episode)}
    chain = {"origin": f"time:{rule.id}", "depth": 1, "fired": [rule.id]}
    try:
        with desk.action(SYSTEM, source="automation", chain=chain) as uow:
            uow.session.add(RuleFiring(rule_id=rule.id, ticket_id=ticket_id, episode=episode))
            uow.session.flush()
            desk.automation.perform(uow, ticket_id, [rule], [outcome])
            uow.session.add(AutomationLogEntry(ticket_id=ticket_id, trigger="time rule", outcomes=[outcome]))
    except IntegrityError:
        return ""
    return outcome.get("error")

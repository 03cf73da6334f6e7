"""Managing automation rules (admins), dry runs, and reading a ticket's automation log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from frontdesk.automation.conditions import Context
from frontdesk.automation.rules import CompiledRule, validate_rule
from frontdesk.automation.time_rules import matching
from frontdesk.db import utcnow
from frontdesk.errors import NotFound, ValidationError
from frontdesk.models import AutomationLogEntry, Rule, RuleKind, StatusCategory, Ticket
from frontdesk.services.tickets import get_ticket
from frontdesk.uow import UnitOfWork

DRY_RUN_LIMIT = 100
DRY_RUN_SCAN = 5000  # open tickets a trigger's dry run looks at, newest first


def list_rules(uow: UnitOfWork, kind: str | None = None) -> list[Rule]:
    """Every rule (enabled or not) in evaluation order, triggers first."""
    uow.require("automation.manage")
    query = select(Rule).order_by(Rule.kind.desc(), Rule.position, Rule.id)
    if kind is not None:
        query = query.where(Rule.kind == kind)
    return list(uow.session.scalars(query))


def get_rule(uow: UnitOfWork, rule_id: int) -> Rule:
    """One rule by id."""
    uow.require("automation.manage")
    rule = uow.session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(f"no rule #{rule_id}")
    return rule


def rule_named(uow: UnitOfWork, name: str) -> Rule | None:
    """The rule called ``name`` (any case), if any."""
    return uow.session.scalar(select(Rule).where(func.lower(Rule.name) == name.strip().lower()))


def _automation(uow: UnitOfWork) -> Any:
    return uow.desk.automation


def create_rule(uow: UnitOfWork, data: dict[str, Any]) -> Rule:
    """Add a rule at the end of its kind's order."""
    uow.require("automation.manage")
    values = validate_rule(data, _automation(uow).fields, _automation(uow).actions)
    _unique_name(uow, values["name"])
    last = uow.session.scalar(select(func.max(Rule.position)).where(Rule.kind == values["kind"]))
    now = utcnow()
    rule = Rule(**values, position=(last or 0) + 1, created_at=now, updated_at=now)
    uow.session.add(rule)
    uow.session.flush()
    uow.emit("automation.rule_created", payload={"rule_id": rule.id, "name": rule.name})
    _changed(uow)
    return rule


def update_rule(uow: UnitOfWork, rule_id: int, data: dict[str, Any]) -> Rule:
    """Change a rule; the result is validated as a whole (a trigger keeps needing events, and so on)."""
    rule = get_rule(uow, rule_id)
    if "kind" in data and data["kind"] != rule.kind:
        raise ValidationError({"kind": ["a rule cannot change kind; create a new one"]})
    merged = {**rule_data(rule), **data}
    values = validate_rule(merged, _automation(uow).fields, _automation(uow).actions)
    if values["name"].lower() != rule.name.lower():
        _unique_name(uow, values["name"])
    changed = sorted(key for key, value in values.items() if getattr(rule, key) != value)
    for key in changed:
        setattr(rule, key, values[key])
    if changed:
        rule.updated_at = utcnow()
        uow.emit("automation.rule_updated", payload={"rule_id": rule.id, "fields": changed})
        _changed(uow)
    return rule


def delete_rule(uow: UnitOfWork, rule_id: int) -> None:
    """Remove a rule (its log entries stay, naming it as deleted)."""
    rule = get_rule(uow, rule_id)
    uow.session.delete(rule)
    uow.emit("automation.rule_deleted", payload={"rule_id": rule_id, "name": rule.name})
    _changed(uow)


def move_rule(uow: UnitOfWork, rule_id: int, position: int) -> list[Rule]:
    """Put a rule at ``position`` (1 = evaluated first) among the rules of its kind; return the new order."""
    rule = get_rule(uow, rule_id)
    ordered = [r for r in list_rules(uow, rule.kind) if r.id != rule.id]
    if not 1 <= position <= len(ordered) + 1:
        raise ValidationError({"position": [f"must be between 1 and {len(ordered) + 1}"]})
    ordered.insert(position - 1, rule)
    now = utcnow()
    for index, each in enumerate(ordered, start=1):
        if each.position != index:
            each.position, each.updated_at = index, now
    uow.emit("automation.rules_reordered", payload={"kind": rule.kind, "order": [r.id for r in ordered]})
    _changed(uow)
    return ordered


def dry_run(uow: UnitOfWork, data: dict[str, Any], limit: int = DRY_RUN_LIMIT) -> list[Ticket]:
    """Open tickets the rule's conditions hold for right now, without acting ("changed" conditions never hold)."""
    uow.require("automation.manage")
    # Only the conditions matter: name, events and actions get stand-ins when missing.
    stand_ins = {"name": "dry run", "actions": [{"type": "add_tags", "tags": ["dry-run"]}]}
    if data.get("kind", RuleKind.TRIGGER) == RuleKind.TRIGGER and not data.get("events"):
        stand_ins["events"] = ["ticket.updated"]
    values = validate_rule(
        {**data, **{k: v for k, v in stand_ins.items() if not data.get(k)}},
        _automation(uow).fields,
        _automation(uow).actions,
    )
    compiled = CompiledRule.of(Rule(id=0, **values), _automation(uow).fields)
    assert compiled is not None
    now = utcnow()
    if compiled.kind == RuleKind.TIME:
        ids = matching(uow.desk, compiled, now, limit)
    else:
        tickets = uow.session.scalars(
            select(Ticket)
            .where(Ticket.status_category != StatusCategory.CLOSED, Ticket.merged_into_id.is_(None))
            .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
            .limit(DRY_RUN_SCAN)
            .options(selectinload(Ticket.tags))
        )
        ids = [t.id for t in tickets if compiled.evaluate(Context(uow.desk, t, now))[0]][:limit]
    found = {t.id: t for t in uow.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def automation_log(uow: UnitOfWork, number: int, limit: int = 50) -> list[dict[str, Any]]:
    """What automation did (and did not do, and why) on a ticket, newest first; agents only."""
    uow.require("tickets.work")
    ticket = get_ticket(uow, number)
    entries = list(
        uow.session.scalars(
            select(AutomationLogEntry)
            .where(AutomationLogEntry.ticket_id == ticket.id)
            .order_by(AutomationLogEntry.id.desc())
            .limit(limit)
        )
    )
    return _automation(uow).explain(uow.session, entries)


def rule_data(rule: Rule) -> dict[str, Any]:
    """A rule as plain data, in the shape admins write it (API output, YAML export)."""
    return {
        "name": rule.name,
        "description": rule.description,
        "kind": rule.kind,
        "enabled": rule.enabled,
        "events": list(rule.events),
        "match": rule.match,
        "conditions": list(rule.conditions),
        "actions": list(rule.actions),
    }


def _unique_name(uow: UnitOfWork, name: str) -> None:
    if rule_named(uow, name) is not None:
        raise ValidationError({"name": [f"a rule named {name!r} exists already"]})


def _changed(uow: UnitOfWork) -> None:
    uow.session.flush()
    uow.desk.automation.invalidate()

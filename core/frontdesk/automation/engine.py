"""The automation engine of one desk: its rules (cached), triggers on events, and the per-ticket log.

Triggers run when the dispatcher delivers an event their ``events`` name: every listening rule is
evaluated against the ticket as it is then; the actions of the rules that match run in one
transaction (one savepoint per rule, so a failing rule does not undo the others) together with a
log row saying which rules matched, which did not and why. Events caused by those actions carry the
chain they belong to: a rule fires at most once per chain, and chains stop at ``MAX_DEPTH``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from frontdesk.automation.actions import CORE_ACTIONS, ActionContext, ActionType, template_values
from frontdesk.automation.conditions import CORE_FIELDS, Context, Field, describe
from frontdesk.automation.rules import CompiledRule
from frontdesk.db import utcnow
from frontdesk.errors import FrontdeskError
from frontdesk.models import AutomationLogEntry, Comment, Event, Rule, RuleKind, Ticket
from frontdesk.permissions import SYSTEM, Actor

if TYPE_CHECKING:
    from frontdesk.desk import Desk
    from frontdesk.uow import UnitOfWork

MAX_DEPTH = 5
REFRESH_SECONDS = 1.0  # how stale another process's rule changes may be seen


def load_ticket(session: Session, ticket_id: int) -> Ticket | None:
    """A ticket with everything conditions read, in few queries."""
    return session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(selectinload(Ticket.tags), selectinload(Ticket.ccs))
        .execution_options(populate_existing=True)
    )


def jsonable(value: Any) -> Any:
    """A condition's actual value as it can be stored in the log."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value


class Automation:
    """Rules, condition fields and action types of one desk (the core's and the enabled plugins')."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.fields: dict[str, Field] = {
            f.name: f for f in (*CORE_FIELDS, *desk.plugins.calls.collect("frontdesk_automation_fields"))
        }
        self.actions: dict[str, ActionType] = {
            a.name: a for a in (*CORE_ACTIONS, *desk.plugins.calls.collect("frontdesk_automation_actions"))
        }
        self._book: dict[str, list[CompiledRule]] | None = None
        self._stamp: Any = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    # The rule cache

    def rules(self, kind: str) -> list[CompiledRule]:
        """Enabled rules of ``kind`` in order (re-read when any rule changed, checked at most once a second)."""
        with self._lock:
            if self._book is None or time.monotonic() - self._checked_at > REFRESH_SECONDS:
                self._refresh()
            assert self._book is not None
            return self._book.get(kind, [])

    def invalidate(self) -> None:
        """Forget the cached rules (this process changed them)."""
        with self._lock:
            self._book = None

    def _refresh(self) -> None:
        self._checked_at = time.monotonic()
        if not self.desk.db.exists() or not self.desk.db.has_table(Rule.__tablename__):
            self._book = {}
            return
        with self.desk.db.reading() as session:
            stamp = tuple(session.execute(select(func.count(Rule.id), func.max(Rule.updated_at))).one())
            if stamp == self._stamp and self._book is not None:
                return
            book: dict[str, list[CompiledRule]] = {kind.value: [] for kind in RuleKind}
            for rule in session.scalars(select(Rule).where(Rule.enabled.is_(True)).order_by(Rule.position, Rule.id)):
                compiled = CompiledRule.of(rule, self.fields)
                if compiled is not None:
                    book.setdefault(rule.kind, []).append(compiled)
        self._book, self._stamp = book, stamp

    def listens_to(self, event_name: str) -> bool:
        """Whether an enabled trigger reacts to events called ``event_name``."""
        return any(event_name in rule.events for rule in self.rules(RuleKind.TRIGGER))

    # Triggers

    def handle_event(self, event: Event) -> None:
        """Evaluate the triggers listening to ``event`` on its ticket and run the matching ones (once per event)."""
        if event.ticket_id is None:
            return
        rules = [rule for rule in self.rules(RuleKind.TRIGGER) if event.name in rule.events]
        if not rules:
            return
        chain = event.payload.get("automation") or {}
        depth, fired = chain.get("depth", 0), set(chain.get("fired", ()))
        with self.desk.db.reading() as session:
            if session.scalar(select(AutomationLogEntry.id).where(AutomationLogEntry.event_id == event.id)):
                return  # delivered twice: acted already
            ticket = load_ticket(session, event.ticket_id)
            if ticket is None:
                return
            comment_id = event.payload.get("comment_id")
            comment = session.get(Comment, comment_id) if isinstance(comment_id, int) else None
            ctx = Context(self.desk, ticket, utcnow(), event, comment)
            outcomes, matched = [], []
            for rule in rules:
                if depth >= MAX_DEPTH:
                    outcomes.append({"rule": rule.id, "matched": False, "skipped": "the chain of rules is too long"})
                elif rule.id in fired:
                    outcomes.append({"rule": rule.id, "matched": False, "skipped": "fired earlier in this chain"})
                else:
                    outcome, ok = self.evaluate(rule, ctx)
                    outcomes.append(outcome)
                    if ok:
                        matched.append(rule)
        next_chain = {
            "origin": chain.get("origin", event.id),
            "depth": depth + 1,
            "fired": sorted(fired | {rule.id for rule in matched}),
        }
        with self.desk.action(SYSTEM, source="automation", chain=next_chain) as uow:
            self.perform(uow, event.ticket_id, matched, outcomes)
            uow.session.add(
                AutomationLogEntry(ticket_id=event.ticket_id, event_id=event.id, trigger=event.name, outcomes=outcomes)
            )

    def evaluate(self, rule: CompiledRule, ctx: Context) -> tuple[dict[str, Any], bool]:
        """One rule against one ticket: its log outcome and whether it matched."""
        ok, index, actual = rule.evaluate(ctx)
        if ok:
            return {"rule": rule.id, "matched": True}, True
        return {"rule": rule.id, "matched": False, "failed": index, "actual": jsonable(actual)}, False

    def perform(
        self, uow: UnitOfWork, ticket_id: int, rules: list[CompiledRule], outcomes: list[dict[str, Any]]
    ) -> None:
        """Run the actions of the matched ``rules`` on the ticket, each rule in its own savepoint."""
        by_rule = {outcome["rule"]: outcome for outcome in outcomes}
        for rule in rules:
            outcome = by_rule[rule.id]
            try:
                with uow.session.begin_nested():
                    outcome["done"] = self.run_actions(uow, ticket_id, rule.actions)
            except FrontdeskError as exc:
                outcome["error"] = exc.message

    def run_actions(
        self,
        uow: UnitOfWork,
        ticket_id: int,
        actions: Sequence[dict[str, Any]],
        agent: Actor | None = None,
    ) -> list[str]:
        """Perform actions on a ticket in ``uow``; return what each did, in words."""
        done = []
        for action in actions:
            ticket = uow.session.get(Ticket, ticket_id)
            if ticket is None:
                break
            kind = self.actions.get(action["type"])
            if kind is None:
                raise FrontdeskError(f"action type {action['type']!r} is not available (is its plugin disabled?)")
            ctx = ActionContext(uow=uow, ticket=ticket, values=template_values(uow, ticket, agent))
            done.append(kind.perform(ctx, {k: v for k, v in action.items() if k != "type"}))
        return done

    # Explaining

    def explain(self, session: Session, entries: list[AutomationLogEntry]) -> list[dict[str, Any]]:
        """Log entries in words: for each rule, matched or not and why, and what it did."""
        rule_ids = {o["rule"] for entry in entries for o in entry.outcomes if o.get("rule") is not None}
        rules = {r.id: r for r in session.scalars(select(Rule).where(Rule.id.in_(rule_ids)))} if rule_ids else {}
        shown = []
        for entry in entries:
            lines = []
            for outcome in entry.outcomes:
                rule = rules.get(outcome.get("rule"))
                lines.append(
                    {
                        "rule": rule.name if rule else f"rule #{outcome.get('rule')} (deleted)",
                        "matched": outcome.get("matched", False),
                        "why": self._why(rule, outcome),
                        "done": outcome.get("done", []),
                        "error": outcome.get("error"),
                    }
                )
            shown.append({"id": entry.id, "at": entry.created_at, "trigger": entry.trigger, "rules": lines})
        return shown

    def _why(self, rule: Rule | None, outcome: dict[str, Any]) -> str:
        if outcome.get("skipped"):
            return f"skipped: {outcome['skipped']}"
        if outcome.get("matched"):
            return "all conditions held" if not rule or rule.match == "all" else "a condition held"
        index = outcome.get("failed")
        if rule is None or index is None or index >= len(rule.conditions):
            return "conditions did not hold"
        condition = describe(rule.conditions[index], self.fields)
        lead = "no condition held; last" if rule.match == "any" else "not met"
        return f"{lead}: {condition} (was {outcome.get('actual')!r})"

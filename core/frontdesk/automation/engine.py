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
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from frontdesk.automation.actions import CORE_ACTIONS, ActionContext, ActionType
from frontdesk.automation.conditions import CORE_FIELDS, Context, Field, describe
from frontdesk.automation.rules import CompiledRule, Screen, guard_of
from frontdesk.db import utcnow
from frontdesk.errors import FrontdeskError
from frontdesk.models import AutomationLogEntry, Comment, Event, Rule, RuleKind, Ticket
from frontdesk.permissions import SYSTEM, Actor
from frontdesk.text import html_to_text

if TYPE_CHECKING:
    from frontdesk.desk import Desk
    from frontdesk.uow import UnitOfWork

MAX_DEPTH = 5
NO_RULES = Screen([], {})
REFRESH_SECONDS = 1.0  # how stale another process's rule changes may be seen


def load_ticket(session: Session, ticket_id: int) -> Ticket | None:
    """A ticket with everything conditions read, in few queries."""
    return session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(selectinload(Ticket.tags), selectinload(Ticket.ccs))
        .execution_options(populate_existing=True)
    )


# What conditions read of a ticket besides its own columns, loaded for the tickets of a batch at once
# (a query per relation: the few statuses, groups and people a batch shares come once each).
CONDITION_LOADS = tuple(
    selectinload(relation)
    for relation in (
        Ticket.status,
        Ticket.priority,
        Ticket.type,
        Ticket.group,
        Ticket.assignee,
        Ticket.requester,
        Ticket.organization,
        Ticket.tags,
        Ticket.ccs,
    )
)


def _tickets(session: Session, ids: set[int]) -> dict[int, Ticket]:
    if not ids:
        return {}
    query = select(Ticket).where(Ticket.id.in_(ids)).options(*CONDITION_LOADS)
    return {ticket.id: ticket for ticket in session.scalars(query)}


def _comments(session: Session, events: Sequence[Event]) -> dict[int, Comment]:
    """The comment each ``ticket.commented`` event is about, by event id."""
    wanted = {e.id: e.payload["comment_id"] for e in events if isinstance(e.payload.get("comment_id"), int)}
    if not wanted:
        return {}
    found = {c.id: c for c in session.scalars(select(Comment).where(Comment.id.in_(set(wanted.values()))))}
    return {event_id: found[comment_id] for event_id, comment_id in wanted.items() if comment_id in found}


def _event_values(uow: UnitOfWork, event: Event | None) -> dict[str, Any]:
    """Template values from the event rules react to: the text of its comment."""
    comment_id = event.payload.get("comment_id") if event is not None else None
    comment = uow.session.get(Comment, comment_id) if isinstance(comment_id, int) else None
    return {"comment": html_to_text(comment.body) if comment is not None else ""}


def _expand(outcome: Any, guards: dict[int, int]) -> list[dict[str, Any]]:
    """A log outcome as one dict per rule.

    A rule that did not match is stored as ``[rule, condition, value]``; rules their guard screened
    out as ``{"screened": [rules], "actual": value}``, failing on the condition ``guards`` names.
    """
    if isinstance(outcome, list):
        return [{"rule": outcome[0], "matched": False, "failed": outcome[1], "actual": outcome[2]}]
    if "screened" in outcome:
        return [
            {"rule": rule_id, "matched": False, "failed": guards.get(rule_id), "actual": outcome["actual"]}
            for rule_id in outcome["screened"]
        ]
    return [outcome]


@dataclass
class Plan:
    """What the triggers make of one event: the log outcomes, the rules that matched, the chain to continue."""

    chain: dict[str, Any]
    outcomes: list[Any] = field(default_factory=list)
    matched: list[CompiledRule] = field(default_factory=list)


def jsonable(value: Any) -> Any:
    """A condition's actual value as it can be stored in the log."""
    if value is None or value.__class__ in (bool, int):
        return value
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
        self._by_event: dict[str, Screen] = {}
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
            self._book, self._by_event = {}, {}
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
        listeners: dict[str, list[CompiledRule]] = {}
        for rule in book[RuleKind.TRIGGER]:
            for name in rule.events:
                listeners.setdefault(name, []).append(rule)
        by_event = {name: Screen(rules, self.fields) for name, rules in listeners.items()}
        self._book, self._stamp, self._by_event = book, stamp, by_event

    def listens_to(self, event_name: str) -> bool:
        """Whether an enabled trigger reacts to events called ``event_name``."""
        return bool(self.listening(event_name))

    def listening(self, event_name: str) -> list[CompiledRule]:
        """The enabled triggers that react to events called ``event_name``, in order."""
        return self.screen(event_name).rules

    def screen(self, event_name: str) -> Screen:
        """The triggers of ``event_name`` with the index that spares most of them an evaluation."""
        self.rules(RuleKind.TRIGGER)
        return self._by_event.get(event_name, NO_RULES)

    # Triggers

    def handle_events(self, events: Sequence[Event]) -> dict[int, str]:
        """Run the triggers for a batch of committed events; return the error of each event that failed.

        Reads are shared by the batch and the log rows of events that matched nothing are written
        together; an event whose rules act runs in its own transaction, and a later event of a
        ticket changed that way is evaluated afresh.
        """
        errors: dict[int, str] = {}
        now = utcnow()
        with self.desk.db.reading() as session:
            ids = [event.id for event in events]
            logged = set(
                session.scalars(select(AutomationLogEntry.event_id).where(AutomationLogEntry.event_id.in_(ids)))
            )
            tickets = _tickets(session, {event.ticket_id for event in events if event.ticket_id is not None})
            comments = _comments(session, events)
            plans: list[tuple[Event, Plan | None]] = []
            changed: set[int] = set()
            screens = {name: self.screen(name) for name in {event.name for event in events}}
            for event in events:
                if event.id in logged or event.ticket_id not in tickets:
                    continue
                if event.ticket_id in changed:
                    plans.append((event, None))
                    continue
                ctx = Context(self.desk, tickets[event.ticket_id], now, event, comments.get(event.id))
                plan = self._plan(event, ctx, screens[event.name])
                plans.append((event, plan))
                if plan.matched:
                    changed.add(event.ticket_id)
        quiet = [(event, plan) for event, plan in plans if plan is not None and not plan.matched]
        if quiet:
            self._log_quietly(quiet)
        for event, plan in plans:
            if plan is not None and not plan.matched:
                continue
            try:
                self._act(event, plan)
            except Exception as exc:
                errors[event.id] = "".join(traceback.format_exception_only(exc)).strip()
        return errors

    def handle_event(self, event: Event) -> None:
        """Run the triggers for one committed event (once: a redelivered event is recognised by its log row)."""
        errors = self.handle_events([event])
        if errors:
            raise RuntimeError(errors[event.id])

    def _plan(self, event: Event, ctx: Context, screen: Screen | None = None) -> Plan:
        """Which listening rules match the event, and the log outcome of each (``screen``: its rules, if known)."""
        chain = event.payload.get("automation") or {}
        depth, fired = chain.get("depth", 0), set(chain.get("fired", ()))
        plan = Plan(chain={"origin": chain.get("origin", event.id), "depth": depth + 1, "fired": sorted(fired)})
        screen = screen or self.screen(event.name)
        if depth >= MAX_DEPTH:
            skipped = "the chain of rules is too long"
            plan.outcomes = [{"rule": rule.id, "matched": False, "skipped": skipped} for rule in screen.rules]
            return plan
        admitted, seen = screen.admit(ctx) if screen.index else (set(), {})
        for rule in screen.candidates(admitted):
            if rule.id in fired:
                plan.outcomes.append({"rule": rule.id, "matched": False, "skipped": "fired earlier in this chain"})
                continue
            ok, index, actual = rule.evaluate(ctx)
            if ok:
                plan.outcomes.append({"rule": rule.id, "matched": True})
                plan.matched.append(rule)
            else:  # the common case, kept small: [rule, condition, value]
                plan.outcomes.append([rule.id, index, jsonable(actual)])
        # Most rules never got past their guard: one entry per guarded field, not one per rule.
        for slot, rule_ids in screen.screened(admitted):
            plan.outcomes.append({"screened": rule_ids, "actual": jsonable(seen[slot])})
        plan.chain["fired"] = sorted(fired | {rule.id for rule in plan.matched})
        return plan

    def _act(self, event: Event, plan: Plan | None) -> None:
        """Run one event's matched rules and write its log row, in one transaction."""
        assert event.ticket_id is not None
        if plan is None:  # its ticket changed earlier in the batch: evaluate it as it is now
            with self.desk.db.reading() as session:
                if session.scalar(select(AutomationLogEntry.id).where(AutomationLogEntry.event_id == event.id)):
                    return
                ticket = load_ticket(session, event.ticket_id)
                if ticket is None:
                    return
                comment = _comments(session, [event]).get(event.id)
                plan = self._plan(event, Context(self.desk, ticket, utcnow(), event, comment))
        with self.desk.action(SYSTEM, source="automation", chain=plan.chain, deliver=False) as uow:
            self.perform(uow, event.ticket_id, plan.matched, plan.outcomes, cause=event)
            uow.session.add(
                AutomationLogEntry(
                    ticket_id=event.ticket_id, event_id=event.id, trigger=event.name, outcomes=plan.outcomes
                )
            )

    def _log_quietly(self, quiet: list[tuple[Event, Plan]]) -> None:
        """Log rows of events whose rules all passed them by, in one statement (a duplicate delivery is ignored)."""
        now = utcnow()
        rows = [
            {"ticket_id": e.ticket_id, "event_id": e.id, "trigger": e.name, "outcomes": p.outcomes, "created_at": now}
            for e, p in quiet
        ]
        insert_ = pg_insert if self.desk.db.backend == "postgresql" else sqlite_insert
        with self.desk.db.transaction() as session:
            session.execute(insert_(AutomationLogEntry.__table__).on_conflict_do_nothing(), rows)

    def perform(
        self,
        uow: UnitOfWork,
        ticket_id: int,
        rules: list[CompiledRule],
        outcomes: list[Any],
        cause: Event | None = None,
    ) -> None:
        """Run the actions of the matched ``rules`` on the ticket, each rule in its own savepoint.

        ``cause`` is the event the rules reacted to: its comment is ``{{ comment }}`` in texts, and the
        person who caused it is not notified of their own action.
        """
        by_rule = {outcome["rule"]: outcome for outcome in outcomes if isinstance(outcome, dict) and "rule" in outcome}
        extra = _event_values(uow, cause)
        for rule in rules:
            outcome = by_rule[rule.id]
            try:
                with uow.savepoint():
                    outcome["done"] = self.run_actions(
                        uow, ticket_id, rule.actions, extra=extra, caused_by=cause.actor_id if cause else None
                    )
            except FrontdeskError as exc:
                outcome["error"] = exc.message

    def run_actions(
        self,
        uow: UnitOfWork,
        ticket_id: int,
        actions: Sequence[dict[str, Any]],
        agent: Actor | None = None,
        extra: dict[str, Any] | None = None,
        caused_by: int | None = None,
    ) -> list[str]:
        """Perform actions on a ticket in ``uow``; return what each did, in words.

        ``agent`` is who applies a macro (``{{ agent.name }}``); ``extra`` adds template values;
        ``caused_by`` is the user whose action the rules react to (not notified about it).
        """
        done = []
        for action in actions:
            ticket = uow.session.get(Ticket, ticket_id)
            if ticket is None:
                break
            kind = self.actions.get(action["type"])
            if kind is None:
                raise FrontdeskError(f"action type {action['type']!r} is not available (is its plugin disabled?)")
            ctx = ActionContext(uow=uow, ticket=ticket, caused_by=caused_by, agent=agent, extra=extra or {})
            done.append(kind.perform(ctx, {k: v for k, v in action.items() if k != "type"}))
        return done

    # Explaining

    def explain(self, session: Session, entries: list[AutomationLogEntry]) -> list[dict[str, Any]]:
        """Log entries in words: for each rule, matched or not and why, and what it did."""
        guards = {
            rule.id: guard.index for rule in self.rules(RuleKind.TRIGGER) if (guard := guard_of(rule)) is not None
        }
        expanded = {entry.id: [o for item in entry.outcomes for o in _expand(item, guards)] for entry in entries}
        rule_ids = {o["rule"] for outcomes in expanded.values() for o in outcomes if o.get("rule") is not None}
        rules = {r.id: r for r in session.scalars(select(Rule).where(Rule.id.in_(rule_ids)))} if rule_ids else {}
        order = {rule_id: (rule.position, rule_id) for rule_id, rule in rules.items()}
        shown = []
        for entry in entries:
            lines = []
            outcomes = sorted(expanded[entry.id], key=lambda o: order.get(o.get("rule"), (float("inf"), 0)))
            for outcome in outcomes:
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

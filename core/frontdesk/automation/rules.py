"""Rules as data: validating what an admin (or a YAML file) wrote, and the compiled form the engine evaluates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from frontdesk.automation.actions import ActionType, validate_action
from frontdesk.automation.conditions import ANCHORS, CHANGE_OPS, OPERATORS, VALUELESS, Context, Field, fold, predicate
from frontdesk.errors import ValidationError
from frontdesk.models import Rule, RuleKind
from frontdesk.schemas import load

MAX_CONDITIONS = 50
MAX_ACTIONS = 20


class RuleSchema(Schema):
    """A rule as admins write it (API, form, YAML)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    kind = fields.String(load_default=RuleKind.TRIGGER.value, validate=validate.OneOf([k.value for k in RuleKind]))
    enabled = fields.Boolean(load_default=True)
    events = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list)
    match = fields.String(load_default="all", validate=validate.OneOf(["all", "any"]))
    conditions = fields.List(fields.Dict(), load_default=list, validate=validate.Length(max=MAX_CONDITIONS))
    actions = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=MAX_ACTIONS))


def validate_rule(
    data: dict[str, Any], known_fields: dict[str, Field], known_actions: dict[str, ActionType], *, partial: bool = False
) -> dict[str, Any]:
    """The rule's values, checked: fields, operators and values of conditions; types and parameters of actions."""
    values = load(RuleSchema(), data, partial=partial)
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            raise ValidationError({"name": ["must not be blank"]})
    if "conditions" in values:
        values["conditions"] = [
            _condition(condition, known_fields, f"conditions.{n}") for n, condition in enumerate(values["conditions"])
        ]
    if "actions" in values:
        values["actions"] = [
            validate_action(action, known_actions, f"actions.{n}") for n, action in enumerate(values["actions"])
        ]
    kind = values.get("kind")
    if kind == RuleKind.TRIGGER and not partial and not values["events"]:
        raise ValidationError({"events": ["a trigger needs at least one event, e.g. ticket.created"]})
    if kind == RuleKind.TIME and not partial:
        if values["events"]:
            raise ValidationError({"events": ["time rules run on a schedule, not on events"]})
        if not any(c["field"] in ANCHORS for c in values["conditions"]):
            raise ValidationError({"conditions": ["a time rule needs an 'hours since ...' condition"]})
    return values


def _condition(raw: dict[str, Any], known: dict[str, Field], where: str) -> dict[str, Any]:
    name, op = raw.get("field"), raw.get("op")
    unknown = sorted(set(raw) - {"field", "op", "value"})
    if unknown:
        raise ValidationError({where: [f"unknown keys: {', '.join(unknown)}"]})
    if name not in known:
        raise ValidationError({f"{where}.field": [f"unknown field {name!r}; known: {', '.join(sorted(known))}"]})
    found = known[name]
    if op not in OPERATORS or found.kind not in OPERATORS[op][1]:
        allowed = [o for o, (_, kinds) in OPERATORS.items() if found.kind in kinds]
        raise ValidationError({f"{where}.op": [f"{op!r} does not apply to {name}; use one of: {', '.join(allowed)}"]})
    condition: dict[str, Any] = {"field": name, "op": op}
    if op in VALUELESS:
        return condition
    if "value" not in raw:
        raise ValidationError({f"{where}.value": ["a value is required"]})
    condition["value"] = _value(raw["value"], op, found, f"{where}.value")
    return condition


def _value(value: Any, op: str, found: Field, where: str) -> Any:
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ValidationError({where: ["a list of texts is required"]})
        return value
    if found.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError({where: ["a number is required"]})
        return value
    if found.kind == "boolean":
        if not isinstance(value, bool):
            raise ValidationError({where: ["true or false is required"]})
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > 1000:
        raise ValidationError({where: ["a text of 1 to 1000 characters is required"]})
    return value.strip()


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to evaluate: its conditions bound to their fields."""

    id: int
    name: str
    kind: str
    events: frozenset[str]
    match: str
    conditions: tuple[tuple[Field, str, Any, Callable[[Any], bool]], ...]
    actions: tuple[dict[str, Any], ...]
    anchor: str | None

    @classmethod
    def of(cls, rule: Rule, known: dict[str, Field]) -> CompiledRule | None:
        """Compile a stored rule; None when it names a field no loaded plugin provides (it cannot match)."""
        if any(c.get("field") not in known for c in rule.conditions):
            return None
        conditions = tuple(
            (known[c["field"]], c["op"], c.get("value"), predicate(c["op"], c.get("value"))) for c in rule.conditions
        )
        return cls(
            id=rule.id,
            name=rule.name,
            kind=rule.kind,
            events=frozenset(rule.events),
            match=rule.match,
            conditions=conditions,
            actions=tuple(rule.actions),
            anchor=next((ANCHORS[c[0].name] for c in conditions if c[0].name in ANCHORS), None),
        )

    def evaluate(self, ctx: Context) -> tuple[bool, int | None, Any]:
        """``(matched, index of the deciding failed condition, its actual value)``."""
        if not self.conditions:
            return True, None, None
        last_failed: tuple[int | None, Any] = (None, None)
        for index, (found, op, _, test) in enumerate(self.conditions):
            if op in CHANGE_OPS:
                ok = test(actual := ctx.changes.get(found.name))
            else:
                ok = test(ctx.folded(found))
                actual = ctx.value(found)
            if self.match == "all" and not ok:
                return False, index, actual
            if self.match == "any" and ok:
                return True, None, None
            last_failed = (index, actual)
        if self.match == "all":
            return True, None, None
        return False, *last_failed


@dataclass(frozen=True)
class Guard:
    """A condition of an "all" rule that an index can check for many rules at once.

    ``slot`` names what is looked up: the field's value (``is``/``in``), its new value in the event
    (``changed_to``), each of its values (``contains`` on a list, e.g. tags) or a text it must contain
    (``contains`` on text); ``keys`` are the folded values that let the rule through to a full evaluation.
    """

    index: int
    slot: tuple[str, str]
    keys: frozenset[Any]


def guard_of(rule: CompiledRule) -> Guard | None:
    """The first condition of ``rule`` an index can screen, if the rule needs all its conditions."""
    if rule.match != "all":
        return None
    for index, (found, op, expected, _) in enumerate(rule.conditions):
        if op in ("is", "changed_to", "contains") and isinstance(expected, str):
            mode = {"is": "value", "changed_to": "change", "contains": "each"}[op]
            if op == "contains" and found.kind == "text":
                mode = "text"
            elif (mode == "value" and found.kind != "text") or (mode == "each" and found.kind != "list"):
                continue
            return Guard(index, (found.name, mode), frozenset({expected.casefold()}))
        if op == "in" and found.kind == "text":
            return Guard(index, (found.name, "value"), frozenset(item.casefold() for item in expected))
    return None


class Screen:
    """The triggers of one event name with an index of their guards, so most rules are never evaluated.

    A rule whose guard does not let the ticket through cannot match; it is logged, with the others its
    guard's field screened out, as failing on that condition. The others are evaluated in full. The
    outcome is the same as evaluating every rule.
    """

    def __init__(self, rules: list[CompiledRule], fields: dict[str, Field]) -> None:
        self.rules = rules
        self.guards = {rule.id: guard_of(rule) for rule in rules}
        self.fields = fields
        self.index: dict[tuple[str, str], dict[Any, set[int]]] = {}
        self._position = {rule.id: n for n, rule in enumerate(rules)}
        self._by_id = {rule.id: rule for rule in rules}
        self._unguarded = [rule for rule in rules if self.guards[rule.id] is None]
        self._guarded: dict[tuple[str, str], list[int]] = {}  # rule ids by guard slot, in rule order
        for rule in rules:
            guard = self.guards[rule.id]
            if guard is not None:
                self._guarded.setdefault(guard.slot, []).append(rule.id)
                by_key = self.index.setdefault(guard.slot, {})
                for key in guard.keys:
                    by_key.setdefault(key, set()).add(rule.id)

    def candidates(self, admitted: set[int]) -> list[CompiledRule]:
        """The rules to evaluate in full, in rule order: those with no guard and those let through."""
        if not admitted:
            return self._unguarded
        chosen = [*self._unguarded, *(self._by_id[rule_id] for rule_id in admitted)]
        return sorted(chosen, key=lambda rule: self._position[rule.id])

    def screened(self, admitted: set[int]) -> list[tuple[tuple[str, str], list[int]]]:
        """The rules screened out, by the slot of their guard: ``[(slot, [rule ids])]``."""
        found = []
        for slot, rule_ids in self._guarded.items():
            left_out = [rule_id for rule_id in rule_ids if rule_id not in admitted]
            if left_out:
                found.append((slot, left_out))
        return found

    def admit(self, ctx: Context) -> tuple[set[int], dict[tuple[str, str], Any]]:
        """The ids of guarded rules the ticket gets past, and the value each slot had."""
        admitted: set[int] = set()
        seen: dict[tuple[str, str], Any] = {}
        for slot, by_key in self.index.items():
            name, mode = slot
            if mode == "change":
                change = ctx.changes.get(name)
                seen[slot] = change
                keys = [fold(change[1])] if change else []
            else:
                seen[slot] = ctx.value(self.fields[name])
                folded = ctx.folded(self.fields[name])
                if mode == "text":  # substrings: each rule's text is looked for once in the value
                    if isinstance(folded, str):
                        for key, rule_ids in by_key.items():
                            if key in folded:
                                admitted.update(rule_ids)
                    continue
                keys = (folded or ()) if mode == "each" else [folded]
            for key in keys:
                admitted.update(by_key.get(key, ()))
        return admitted, seen

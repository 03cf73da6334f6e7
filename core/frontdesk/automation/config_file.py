"""Automation as code: triggers, time rules and shared macros exported to and imported from YAML.

The export of an unchanged desk is the same bytes every time (fixed key order, rules in evaluation
order), so it can live in version control. An import validates the whole file before it changes
anything, and changes everything in one transaction; errors name the rule and the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select

from frontdesk.errors import ValidationError
from frontdesk.models import Macro, RuleKind
from frontdesk.services import automation, macros
from frontdesk.uow import UnitOfWork

FORMAT_VERSION = 1
SECTIONS = {"triggers": RuleKind.TRIGGER.value, "time_rules": RuleKind.TIME.value}
RULE_KEYS = ("name", "description", "enabled", "events", "match", "conditions", "actions")
MACRO_KEYS = ("name", "description", "body", "public", "actions")


def export_yaml(uow: UnitOfWork) -> str:
    """The desk's rules and shared macros as a YAML document."""
    uow.require("automation.manage")
    document: dict[str, Any] = {"version": FORMAT_VERSION}
    for section, kind in SECTIONS.items():
        rules = [automation.rule_data(rule) for rule in automation.list_rules(uow, kind)]
        keys = [key for key in RULE_KEYS if key != "events" or kind == RuleKind.TRIGGER]
        document[section] = [{key: rule[key] for key in keys} for rule in rules]
    shared = uow.session.scalars(select(Macro).where(Macro.owner_id.is_(None)).order_by(Macro.position, Macro.name))
    document["macros"] = [{key: getattr(macro, key) for key in MACRO_KEYS} for macro in shared]
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def import_yaml(uow: UnitOfWork, text: str, *, replace: bool = False) -> dict[str, int]:
    """Create or update rules and shared macros by name, in the file's order; with ``replace``, delete the rest.

    Return counts of ``created``, ``updated`` and ``deleted``. Run it inside one action: if any item is
    invalid, the :class:`ValidationError` names it and nothing is changed.
    """
    uow.require("automation.manage")
    document = _parse(text)
    counts = {"created": 0, "updated": 0, "deleted": 0}
    for section, kind in SECTIONS.items():
        kept = []
        for index, item in enumerate(_items(document, section)):
            where = f"{section}[{index + 1}] {item.get('name', '')!r}"
            with _naming(where):
                existing = automation.rule_named(uow, str(item.get("name", "")))
                if existing is None:
                    rule = automation.create_rule(uow, {**item, "kind": kind})
                    counts["created"] += 1
                else:
                    if existing.kind != kind:
                        raise ValidationError({"name": [f"is a {existing.kind} rule on this desk"]})
                    before = automation.rule_data(existing)
                    rule = automation.update_rule(uow, existing.id, {"events": [], **item})
                    counts["updated"] += automation.rule_data(rule) != before
                kept.append(rule)
        for position, rule in enumerate(kept, start=1):
            if rule.position != position:
                automation.move_rule(uow, rule.id, position)
        if replace:
            for rule in automation.list_rules(uow, kind):
                if rule not in kept:
                    automation.delete_rule(uow, rule.id)
                    counts["deleted"] += 1
    _import_macros(uow, _items(document, "macros"), replace, counts)
    return counts


def install_defaults(uow: UnitOfWork) -> dict[str, int]:
    """Give a new desk the default rules (``defaults.yaml``): notifications and closing solved tickets."""
    text = resources.files("frontdesk.automation").joinpath("defaults.yaml").read_text(encoding="utf-8")
    return import_yaml(uow, text)


def _import_macros(uow: UnitOfWork, items: list[dict[str, Any]], replace: bool, counts: dict[str, int]) -> None:
    shared = {m.name.lower(): m for m in uow.session.scalars(select(Macro).where(Macro.owner_id.is_(None)))}
    seen = set()
    for index, item in enumerate(items):
        name = str(item.get("name", ""))
        with _naming(f"macros[{index + 1}] {name!r}"):
            existing = shared.get(name.strip().lower())
            if existing is None:
                macro = macros.create_macro(uow, {**item, "shared": True})
                counts["created"] += 1
            else:
                before = [getattr(existing, key) for key in MACRO_KEYS]
                macro = macros.update_macro(uow, existing.id, item)
                counts["updated"] += [getattr(macro, key) for key in MACRO_KEYS] != before
            macro.position = index + 1
            seen.add(macro.id)
    if replace:
        for macro in shared.values():
            if macro.id not in seen:
                macros.delete_macro(uow, macro.id)
                counts["deleted"] += 1


def _parse(text: str) -> dict[str, Any]:
    try:
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise ValidationError({"file": ["YAML aliases (*name) are not accepted; write the values out"]})
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValidationError({"file": [f"not valid YAML{where}"]}) from None
    if not isinstance(document, dict):
        raise ValidationError({"file": ["expected a mapping with triggers, time_rules and macros"]})
    if document.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise ValidationError({"version": [f"this desk reads version {FORMAT_VERSION}"]})
    unknown = sorted(set(document) - {"version", *SECTIONS, "macros"})
    if unknown:
        raise ValidationError({"file": [f"unknown sections: {', '.join(map(str, unknown))}"]})
    return document


def _items(document: dict[str, Any], section: str) -> list[dict[str, Any]]:
    items = document.get(section) or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValidationError({section: ["must be a list of mappings"]})
    names = [str(item.get("name", "")).strip().lower() for item in items]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValidationError({section: [f"names appear twice: {', '.join(duplicates)}"]})
    return items


@contextmanager
def _naming(where: str) -> Iterator[None]:
    """Prefix the fields of a validation error with the item it came from."""
    try:
        yield
    except ValidationError as exc:
        raise ValidationError({f"{where}.{field}": messages for field, messages in exc.errors.items()}) from None

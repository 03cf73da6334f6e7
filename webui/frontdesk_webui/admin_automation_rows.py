"""The condition and action rows of the admin's rule and macro forms: what they offer, and how typed rows
become the services' input.

Rows are built from what the desk offers (``desk.automation.fields`` and ``.actions``, the core's and
the enabled plugins'), so a plugin's condition fields and action types show up too; an action type's
parameters become inputs from its marshmallow schema. Rows post as ``conditions-<n>-<key>`` and
``actions-<n>-<param>`` and are renumbered from 0 when a form comes back, so the services' error keys
(``actions.1.tags``) name them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from flask import request
from marshmallow import fields as mm
from marshmallow import missing, validate

from frontdesk.automation.conditions import CORE_FIELDS, OPERATORS, VALUELESS
from frontdesk.errors import ValidationError
from frontdesk.text import whole_number
from frontdesk_webui.admin_base import number
from frontdesk_webui.context import desk

LIST_OPS = frozenset({"in", "not_in"})
TEXT_PARAMS = frozenset({"body", "reason"})  # template texts: a textarea with the placeholder hint
PARAM_LABELS = {"to": "Send to", "template": "Notification", "field": "Field", "tags": "Tags", "url": "URL"}
CHOICE_LABELS = {
    "to": {"requester": "Requester", "assignee": "Assignee", "group": "The group's agents", "ccs": "CCs"},
    "strategy": {"round_robin": "Round robin", "least_open": "Fewest open tickets"},
    "field": {"status": "Status", "priority": "Priority", "type": "Type", "group": "Group", "assignee": "Assignee"},
}


# --- What rows can offer ----------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter of an action type, as a form input (``input`` says which kind)."""

    name: str
    label: str
    input: str  # text, textarea, url, number, decimal, checkbox, select, checks, list, json
    required: bool
    choices: tuple[tuple[str, str], ...] = ()
    default: Any = ""
    datalist: str | None = None  # the automation field whose choices the input suggests ("@field": follow it)


def _choices(found: mm.Field) -> tuple[str, ...]:
    for validator in found.validators:
        if isinstance(validator, validate.OneOf):
            return tuple(str(choice) for choice in validator.choices)
    return ()


def _param(name: str, found: mm.Field, names: set[str], listed: set[str]) -> Param:
    """The form input of one schema field (see the module docstring of :mod:`frontdesk.automation.actions`)."""
    label = found.metadata.get("label") or PARAM_LABELS.get(name) or name.replace("_", " ").capitalize()
    labels = CHOICE_LABELS.get(name, {})
    default = found.load_default if found.load_default is not missing and not callable(found.load_default) else None
    kind, choices, datalist = "text", (), None
    if isinstance(found, mm.List):
        inner = _choices(found.inner)
        kind, choices = ("checks", inner) if inner else ("list", ())
    elif isinstance(found, mm.Boolean):
        kind = "checkbox"
    elif isinstance(found, mm.Integer):
        kind = "number"
    elif isinstance(found, mm.Number):
        kind = "decimal"
    elif _choices(found):
        kind, choices = "select", _choices(found)
    elif isinstance(found, mm.Url):
        kind = "url"
    elif isinstance(found, mm.String):
        kind = "textarea" if name in TEXT_PARAMS else "text"
        datalist = "@field" if name == "value" and "field" in names else (name if name in listed else None)
    else:
        kind = "json"
    return Param(
        name=name,
        label=label,
        input=kind,
        required=found.required,
        choices=tuple((choice, labels.get(choice, choice)) for choice in choices),
        default=_form_value(kind, default),
        datalist=datalist,
    )


def _form_value(kind: str, value: Any) -> Any:
    """A stored parameter as its input shows it."""
    if kind == "checks":
        return [str(v) for v in value] if isinstance(value, list) else []
    if kind == "checkbox":
        return bool(value)
    if value is None:
        return ""
    if kind == "list":
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if kind == "json":
        return json.dumps(value)
    return str(value)


@dataclass
class Palette:
    """The condition fields and action types a form offers, the core's and the enabled plugins'."""

    fields: dict[str, dict[str, Any]]
    actions: dict[str, dict[str, Any]]
    datalists: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of_desk(cls, only: Any = None) -> Palette:
        """Everything ``desk.automation`` knows; ``only(name)`` narrows the action types (macros)."""
        automation = desk().automation
        the_desk = desk()
        found = {
            name: {
                "name": name,
                "label": f.label[:1].upper() + f.label[1:],
                "kind": f.kind,
                "choices": list(f.choices(the_desk)) if f.choices else [],
            }
            for name, f in automation.fields.items()
        }
        listed = {name for name, info in found.items() if info["choices"]}
        actions = {}
        for name, kind in automation.actions.items():
            if only is not None and not only(name):
                continue
            schema = kind.schema()
            names = set(schema.fields)
            actions[name] = {
                "name": name,
                "label": kind.label,
                "params": [_param(key, f, names, listed) for key, f in schema.fields.items() if not f.dump_only],
            }
        return cls(found, actions, {name: found[name]["choices"] for name in sorted(listed)})

    @property
    def field_groups(self) -> list[tuple[str, list[dict[str, Any]]]]:
        core = {f.name for f in CORE_FIELDS}
        groups = [
            ("Ticket", [f for n, f in self.fields.items() if n in core and not n.startswith(("comment.", "hours_"))]),
            ("Comment", [f for n, f in self.fields.items() if n.startswith("comment.")]),
            ("Time", [f for n, f in self.fields.items() if n.startswith("hours_")]),
            ("From plugins", [f for n, f in self.fields.items() if n not in core]),
        ]
        return [(label, items) for label, items in groups if items]

    def operators_for(self, name: str) -> list[tuple[str, str]]:
        info = self.fields.get(name)
        return [(op, label) for op, (label, kinds) in OPERATORS.items() if info is None or info["kind"] in kinds]

    def value_input(self, name: str, op: str) -> str:
        """How a condition's value is typed: none, list, number, boolean, select or text."""
        info = self.fields.get(name)
        if op in VALUELESS:
            return "none"
        if op in LIST_OPS:
            return "list"
        if info is None:
            return "text"
        if info["kind"] in ("number", "boolean"):
            return str(info["kind"])
        return "select" if info["choices"] else "text"

    def params_of(self, kind: str) -> list[Param]:
        return self.actions[kind]["params"] if kind in self.actions else []

    def meta(self) -> dict[str, Any]:
        """What the page script needs to rebuild a row's inputs when its field changes."""
        return {
            "fields": self.fields,
            "operators": {op: {"label": label, "kinds": sorted(kinds)} for op, (label, kinds) in OPERATORS.items()},
            "valueless": sorted(VALUELESS),
            "listOps": sorted(LIST_OPS),
        }


# --- Rows: stored data <-> typed form values <-> service input ---------------------------------

ROW_KEY = re.compile(r"^(conditions|actions)-(\d+)-([\w.]+)$")


def _condition_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def condition_row(condition: dict[str, Any]) -> dict[str, str]:
    return {
        "field": condition.get("field", ""),
        "op": condition.get("op", ""),
        "value": _condition_text(condition.get("value")),
    }


def action_row(stored: dict[str, Any], palette: Palette) -> dict[str, Any]:
    kind = stored.get("type", "")
    params = {key: value for key, value in stored.items() if key != "type"}
    if kind not in palette.actions:
        return {"type": kind, "params": {"json": json.dumps(params)}}
    return {"type": kind, "params": {p.name: _form_value(p.input, params.get(p.name)) for p in palette.params_of(kind)}}


def blank_action(kind: str, palette: Palette) -> dict[str, Any]:
    return {"type": kind, "params": {p.name: p.default for p in palette.params_of(kind)}}


def _posted_rows(section: str, removed: int | None) -> list[dict[str, list[str]]]:
    """The posted rows of ``section`` in index order, without the one being removed."""
    rows: dict[int, dict[str, list[str]]] = {}
    for key in request.form:
        found = ROW_KEY.match(key)
        if found and found.group(1) == section and int(found.group(2)) != removed:
            rows.setdefault(int(found.group(2)), {})[found.group(3)] = request.form.getlist(key)
    return [rows[index] for index in sorted(rows)]


def _last(values: dict[str, list[str]], key: str) -> str:
    return (values.get(key) or [""])[-1]


def posted_conditions(removed: int | None) -> list[dict[str, str]]:
    """The condition rows as typed; rows without a field are left out."""
    rows = [
        {key: _last(values, key) for key in ("field", "op", "value")} for values in _posted_rows("conditions", removed)
    ]
    return [row for row in rows if row["field"]]


def posted_actions(removed: int | None, palette: Palette) -> list[dict[str, Any]]:
    """The action rows as typed; rows without a type are left out."""
    rows = []
    for values in _posted_rows("actions", removed):
        kind = _last(values, "type")
        if not kind:
            continue
        if kind not in palette.actions:
            rows.append({"type": kind, "params": {"json": _last(values, "json")}})
            continue
        params: dict[str, Any] = {}
        for p in palette.params_of(kind):
            if p.input == "checks":
                params[p.name] = values.get(p.name, [])
            elif p.input == "checkbox":
                params[p.name] = _last(values, p.name) in ("on", "true", "1", "yes")
            else:
                params[p.name] = _last(values, p.name)
        rows.append({"type": kind, "params": params})
    return rows


def split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _decimal(value: str) -> float | str | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def condition_data(row: dict[str, str], palette: Palette) -> dict[str, Any]:
    """A typed condition row as the service takes it (values the service refuses are passed as typed)."""
    condition: dict[str, Any] = {"field": row["field"], "op": row["op"]}
    shape = palette.value_input(row["field"], row["op"])
    if shape == "none":
        return condition
    value = row["value"].strip()
    if shape == "list":
        condition["value"] = split(value)
    elif shape == "number":
        condition["value"] = _decimal(value) if value else ""
        if isinstance(condition["value"], float) and condition["value"].is_integer():
            condition["value"] = int(condition["value"])
    elif shape == "boolean":
        condition["value"] = {"true": True, "false": False}.get(value.lower(), value)
    else:
        condition["value"] = value
    return condition


def action_data(row: dict[str, Any], palette: Palette) -> dict[str, Any]:
    """A typed action row as the service takes it; blank optional parameters are left to their defaults."""
    data: dict[str, Any] = {"type": row["type"]}
    if row["type"] not in palette.actions:
        try:
            extra = json.loads(row["params"].get("json") or "{}")
        except ValueError:
            extra = None
        if not isinstance(extra, dict):
            raise ValidationError({"actions": ["the parameters of an unavailable action type must be a JSON object"]})
        return {**extra, "type": row["type"]}
    for p in palette.params_of(row["type"]):
        value = row["params"].get(p.name, "")
        if p.input in ("checks", "checkbox"):
            data[p.name] = value
        elif p.input == "list":
            if split(value) or p.required:
                data[p.name] = split(value)
        elif p.input in ("number", "decimal"):
            converted = number(value) if p.input == "number" else _decimal(value)
            if converted is not None:
                data[p.name] = converted
        elif p.input == "json":
            if value.strip():
                try:
                    data[p.name] = json.loads(value)
                except ValueError:
                    data[p.name] = value
        elif value.strip() or p.required:
            data[p.name] = value
    return data


def intent() -> tuple[str, str | None, int | None]:
    """Which button sent the form: ``save``, ``dry_run``, ``refresh``, ``add`` or ``remove`` (with section and row)."""
    value = request.form.get("intent", "save")
    if value.startswith("add:"):
        return "add", value[4:], None
    if value.startswith("remove:"):
        _, section, index = [*value.split(":"), "", ""][:3]
        return "remove", section, whole_number(index)
    return value if value in ("save", "dry_run", "refresh") else "save", None, None


def place_errors(errors: dict[str, list[str]], slots: set[str]) -> dict[str, list[str]]:
    """Errors moved to the nearest input that shows them (``actions.1.to.0`` → ``actions.1.to``)."""
    placed: dict[str, list[str]] = {}
    for key, messages in errors.items():
        slot = key
        while slot not in slots and "." in slot:
            slot = slot.rsplit(".", 1)[0]
        placed.setdefault(slot if slot in slots else key, []).extend(messages)
    return placed


def row_slots(form: dict[str, Any], palette: Palette) -> set[str]:
    """Every error key the rows of ``form`` can show next to an input."""
    slots = {"conditions", "actions"}
    for n, _row in enumerate(form.get("conditions", [])):
        slots |= {f"conditions.{n}", f"conditions.{n}.field", f"conditions.{n}.op", f"conditions.{n}.value"}
    for n, row in enumerate(form["actions"]):
        slots |= {
            f"actions.{n}",
            f"actions.{n}.type",
            *(f"actions.{n}.{p.name}" for p in palette.params_of(row["type"])),
        }
    return slots

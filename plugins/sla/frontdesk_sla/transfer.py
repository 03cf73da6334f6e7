"""YAML export and import of calendars and policies: validated as a whole, written all or nothing."""

from __future__ import annotations

from typing import Any

import yaml

from frontdesk.errors import ValidationError
from frontdesk.uow import UnitOfWork
from frontdesk_sla import services
from frontdesk_sla.models import SlaCalendar, SlaPolicy


def calendar_data(calendar: SlaCalendar) -> dict[str, Any]:
    """A calendar as the data :func:`services.save_calendar` takes."""
    return {
        "name": calendar.name,
        "timezone": calendar.timezone,
        "hours": list(calendar.hours),
        "holidays": list(calendar.holidays),
        "closed": list(calendar.closed),
        "exceptions": dict(calendar.exceptions),
    }


def policy_data(policy: SlaPolicy) -> dict[str, Any]:
    """A policy as the data :func:`services.save_policy` takes."""
    return {
        "name": policy.name,
        "position": policy.position,
        "active": policy.active,
        "calendar": policy.calendar.name if policy.calendar else None,
        "conditions": dict(policy.conditions),
        "targets": [dict(target) for target in policy.targets],
        "pause_on": list(policy.pause_on),
    }


def export_yaml(uow: UnitOfWork) -> str:
    """Every calendar and policy as a YAML document."""
    uow.require(services.MANAGE)
    data = {
        "calendars": [calendar_data(c) for c in services.list_calendars(uow)],
        "policies": [policy_data(p) for p in services.list_policies(uow)],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def import_yaml(uow: UnitOfWork, text: str) -> tuple[int, int]:
    """Create or replace (by name) the calendars and policies of a YAML document; return how many of each.

    Runs in the caller's transaction: one bad entry raises a :class:`ValidationError` naming it
    (``policies[2].targets``) and nothing is written.
    """
    uow.require(services.MANAGE)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError({"file": [f"not valid YAML: {exc}"]}) from None
    if not isinstance(data, dict) or set(data) - {"calendars", "policies"}:
        raise ValidationError({"file": ["expected a mapping with 'calendars' and 'policies' lists"]})
    sections = {key: data.get(key) or [] for key in ("calendars", "policies")}
    for key, items in sections.items():
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ValidationError({key: ["expected a list of mappings"]})
    existing_calendars = {c.name: c.id for c in services.list_calendars(uow)}
    existing_policies = {p.name: p.id for p in services.list_policies(uow)}
    for key, items, existing, save in (
        ("calendars", sections["calendars"], existing_calendars, services.save_calendar),
        ("policies", sections["policies"], existing_policies, services.save_policy),
    ):
        for index, item in enumerate(items):
            try:
                save(uow, item, existing.get(str(item.get("name", "")).strip()))
            except ValidationError as exc:
                errors = {f"{key}[{index}].{field}": messages for field, messages in exc.errors.items()}
                raise ValidationError(errors) from None
    return len(sections["calendars"]), len(sections["policies"])

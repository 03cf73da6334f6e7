"""Calendars and policies: creating, changing, listing them, and choosing the policy of a ticket."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from frontdesk.db import utcnow
from frontdesk.errors import Conflict, NotFound, ValidationError
from frontdesk.models import Ticket
from frontdesk.schemas import load
from frontdesk.uow import UnitOfWork
from frontdesk_sla.calendar import BusinessCalendar, CalendarSpec, parse_hours, parse_intervals
from frontdesk_sla.models import SlaCalendar, SlaPolicy
from frontdesk_sla.schemas import CalendarSchema, PolicySchema

MANAGE = "sla.manage"
VIEW = "sla.view"

# --- Calendars ------------------------------------------------------------------------------------

_CALENDARS: OrderedDict[tuple[Any, ...], BusinessCalendar] = OrderedDict()
_CALENDAR_CACHE_SIZE = 64


def spec_of(calendar: SlaCalendar) -> CalendarSpec:
    """The arithmetic definition of a stored calendar."""
    return CalendarSpec(
        timezone=calendar.timezone,
        hours=parse_hours(calendar.hours),
        holidays=tuple(calendar.holidays),
        closed=frozenset(date.fromisoformat(day) for day in calendar.closed),
        exceptions={date.fromisoformat(day): parse_intervals(hours) for day, hours in calendar.exceptions.items()},
    )


def business_time(calendar: SlaCalendar) -> BusinessCalendar:
    """The arithmetic of a stored calendar, shared per definition so its per-date cache is reused."""
    key = (
        calendar.timezone,
        tuple(calendar.hours),
        tuple(calendar.holidays),
        tuple(calendar.closed),
        tuple(sorted(calendar.exceptions.items())),
    )
    found = _CALENDARS.get(key)
    if found is None:
        found = _CALENDARS[key] = BusinessCalendar(spec_of(calendar))
        while len(_CALENDARS) > _CALENDAR_CACHE_SIZE:
            _CALENDARS.popitem(last=False)
    else:
        _CALENDARS.move_to_end(key)
    return found


def list_calendars(uow: UnitOfWork) -> list[SlaCalendar]:
    """Every calendar, by name."""
    uow.require(VIEW)
    return list(uow.session.scalars(select(SlaCalendar).order_by(SlaCalendar.name)))


def get_calendar(uow: UnitOfWork, name_or_id: str | int) -> SlaCalendar:
    """The calendar with this name (or id)."""
    uow.require(VIEW)
    column = SlaCalendar.id if isinstance(name_or_id, int) else SlaCalendar.name
    found = uow.session.scalar(select(SlaCalendar).where(column == name_or_id))
    if found is None:
        raise NotFound(f"no SLA calendar {name_or_id!r}")
    return found


def _calendar_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": values["name"].strip(),
        "timezone": values["timezone"],
        "hours": list(values["hours"]),
        "holidays": sorted({code.strip().upper() for code in values["holidays"]}),
        "closed": sorted({day.isoformat() for day in values["closed"]}),
        "exceptions": {day.isoformat(): hours for day, hours in sorted(values["exceptions"].items())},
    }


def save_calendar(uow: UnitOfWork, data: dict[str, Any], existing: str | int | None = None) -> SlaCalendar:
    """Create a calendar, or replace the definition of calendar ``existing`` (name or id; its version goes up).

    Editing a calendar re-times the clocks still running on it; clocks already fulfilled or
    breached keep their stored outcome.
    """
    uow.require(MANAGE)
    calendar_id = None if existing is None else get_calendar(uow, existing).id
    values = _calendar_values(load(CalendarSchema(), data))
    clash = uow.session.scalar(select(SlaCalendar.id).where(SlaCalendar.name == values["name"]))
    if clash is not None and clash != calendar_id:
        raise ValidationError({"name": [f"a calendar named {values['name']!r} exists"]})
    if calendar_id is None:
        calendar = SlaCalendar(**values, version=1, updated_at=utcnow())
        uow.session.add(calendar)
    else:
        calendar = get_calendar(uow, calendar_id)
        for key, value in values.items():
            setattr(calendar, key, value)
        calendar.version += 1
        calendar.updated_at = utcnow()
    _flush(uow, "name")
    if calendar_id is not None:
        uow.enqueue("sla.retime", calendar_id=calendar.id)
    return calendar


def delete_calendar(uow: UnitOfWork, name: str) -> None:
    """Delete a calendar no policy uses."""
    uow.require(MANAGE)
    calendar = get_calendar(uow, name)
    used = uow.session.scalar(select(func.count(SlaPolicy.id)).where(SlaPolicy.calendar_id == calendar.id))
    if used:
        raise Conflict(f"calendar {name!r} is used by {used} polic{'y' if used == 1 else 'ies'}")
    uow.session.delete(calendar)


# --- Policies ------------------------------------------------------------------------------------


def list_policies(uow: UnitOfWork, *, active_only: bool = False) -> list[SlaPolicy]:
    """The policies in the order they are tried."""
    uow.require(VIEW)
    query = select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)
    if active_only:
        query = query.where(SlaPolicy.active.is_(True))
    return list(uow.session.scalars(query))


def get_policy(uow: UnitOfWork, name_or_id: str | int) -> SlaPolicy:
    """The policy with this name (or id)."""
    uow.require(VIEW)
    column = SlaPolicy.id if isinstance(name_or_id, int) else SlaPolicy.name
    found = uow.session.scalar(select(SlaPolicy).where(column == name_or_id))
    if found is None:
        raise NotFound(f"no SLA policy {name_or_id!r}")
    return found


def save_policy(uow: UnitOfWork, data: dict[str, Any], existing: str | int | None = None) -> SlaPolicy:
    """Create a policy (placed last unless ``position`` is given), or replace policy ``existing`` (name or id).

    The clocks of open tickets are recomputed in the background with the policies as they are now.
    """
    uow.require(MANAGE)
    policy_id = None if existing is None else get_policy(uow, existing).id
    values = load(PolicySchema(), data)
    name = values["name"].strip()
    clash = uow.session.scalar(select(SlaPolicy.id).where(SlaPolicy.name == name))
    if clash is not None and clash != policy_id:
        raise ValidationError({"name": [f"a policy named {name!r} exists"]})
    calendar_id = None
    if values["calendar"]:
        found = uow.session.scalar(select(SlaCalendar.id).where(SlaCalendar.name == values["calendar"]))
        if found is None:
            raise ValidationError({"calendar": [f"no calendar named {values['calendar']!r}"]})
        calendar_id = found
    policy = SlaPolicy() if policy_id is None else get_policy(uow, policy_id)
    position = values["position"]
    if position is None:
        position = policy.position if policy_id is not None else _next_position(uow)
    policy.name = name
    policy.position = position
    policy.active = values["active"]
    policy.calendar_id = calendar_id
    policy.conditions = {key: [str(v) for v in names] for key, names in values["conditions"].items() if names}
    policy.targets = [dict(target) for target in values["targets"]]
    policy.pause_on = [name.strip() for name in values["pause_on"] if name.strip()]
    policy.updated_at = utcnow()
    if policy_id is None:
        uow.session.add(policy)
    _flush(uow, "name")
    _recompute_open_later(uow)
    return policy


def delete_policy(uow: UnitOfWork, name: str) -> None:
    """Delete a policy; clocks it settled keep their outcomes, open tickets are recomputed without it."""
    uow.require(MANAGE)
    uow.session.delete(get_policy(uow, name))
    _recompute_open_later(uow)


def _recompute_open_later(uow: UnitOfWork) -> None:
    """Queue one recomputation of the open tickets for this transaction, however many policies it changes."""
    if not any(record.name == "sla.recompute_open" for record, _ in uow.queued):
        uow.enqueue("sla.recompute_open")


def _next_position(uow: UnitOfWork) -> int:
    last = uow.session.scalar(select(func.max(SlaPolicy.position)))
    return 0 if last is None else last + 10


def _flush(uow: UnitOfWork, field: str) -> None:
    try:
        with uow.savepoint():
            uow.session.flush()
    except IntegrityError:
        raise Conflict(f"the {field} was taken meanwhile; try again") from None


def ticket_facts(ticket: Ticket) -> dict[str, set[str]]:
    """What policy conditions test on a ticket, as sets of lower-case names."""
    organization = ticket.organization.name if ticket.organization else None
    values = {
        "priority": ticket.priority.name,
        "type": ticket.type.name if ticket.type else None,
        "group": ticket.group.name if ticket.group else None,
        "organization": organization,
        "channel": ticket.channel,
    }
    facts = {key: {value.lower()} if value else set() for key, value in values.items()}
    facts["tags"] = {tag.name.lower() for tag in ticket.tags}
    return facts


def matches(policy: SlaPolicy, facts: dict[str, set[str]]) -> bool:
    """Whether a ticket with these facts meets every condition of the policy (any listed name per condition)."""
    return all(
        facts.get(key, set()) & {name.lower() for name in names} for key, names in policy.conditions.items() if names
    )


def first_matching(policies: list[SlaPolicy], ticket: Ticket) -> SlaPolicy | None:
    """The first active policy in order whose conditions the ticket meets."""
    facts = ticket_facts(ticket)
    return next((policy for policy in policies if policy.active and matches(policy, facts)), None)

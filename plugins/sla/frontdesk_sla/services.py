"""Calendars and policies: creating, changing, listing them, and choosing the policy of a ticket."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any, TypeVar

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

_Record = TypeVar("_Record", SlaCalendar, SlaPolicy)

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


def _get(uow: UnitOfWork, model: type[_Record], noun: str, name_or_id: str | int) -> _Record:
    """The ``model`` row with this name (or id); ``noun`` names it in the error when there is none."""
    uow.require(VIEW)
    column = model.id if isinstance(name_or_id, int) else model.name
    found = uow.session.scalar(select(model).where(column == name_or_id))
    if found is None:
        raise NotFound(f"no SLA {noun} {name_or_id!r}")
    return found


def get_calendar(uow: UnitOfWork, name_or_id: str | int) -> SlaCalendar:
    """The calendar with this name (or id)."""
    return _get(uow, SlaCalendar, "calendar", name_or_id)


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
    breached keep their stored outcome. Saving an unchanged definition changes nothing (no new
    version, no re-timing), so re-importing every calendar after one small edit stays cheap.
    """
    uow.require(MANAGE)
    stored = None if existing is None else get_calendar(uow, existing)
    values = _calendar_values(load(CalendarSchema(), data))
    clash = uow.session.scalar(select(SlaCalendar.id).where(SlaCalendar.name == values["name"]))
    if clash is not None and (stored is None or clash != stored.id):
        raise ValidationError({"name": [f"a calendar named {values['name']!r} exists"]})
    if stored is None:
        calendar = SlaCalendar(**values, version=1, updated_at=utcnow())
        uow.session.add(calendar)
        _flush(uow, "name")
        return calendar
    if _unchanged(stored, values):  # re-saving the same definition must not re-time every clock on it
        return stored
    for key, value in values.items():
        setattr(stored, key, value)
    stored.version += 1
    stored.updated_at = utcnow()
    _flush(uow, "name")
    uow.enqueue("sla.retime", calendar_id=stored.id)
    return stored


def _unchanged(record: SlaCalendar | SlaPolicy, values: dict[str, Any]) -> bool:
    """Whether the stored record already holds exactly these values."""
    return all(getattr(record, key) == value for key, value in values.items())


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
    return _get(uow, SlaPolicy, "policy", name_or_id)


def save_policy(uow: UnitOfWork, data: dict[str, Any], existing: str | int | None = None) -> SlaPolicy:
    """Create a policy (placed last unless ``position`` is given), or replace policy ``existing`` (name or id).

    The clocks of open tickets are recomputed in the background with the policies as they are now,
    unless the policy is saved unchanged.
    """
    uow.require(MANAGE)
    stored = None if existing is None else get_policy(uow, existing)
    loaded = load(PolicySchema(), data)
    name = loaded["name"].strip()
    clash = uow.session.scalar(select(SlaPolicy.id).where(SlaPolicy.name == name))
    if clash is not None and (stored is None or clash != stored.id):
        raise ValidationError({"name": [f"a policy named {name!r} exists"]})
    calendar_id = None
    if loaded["calendar"]:
        calendar_id = uow.session.scalar(select(SlaCalendar.id).where(SlaCalendar.name == loaded["calendar"]))
        if calendar_id is None:
            raise ValidationError({"calendar": [f"no calendar named {loaded['calendar']!r}"]})
    position = loaded["position"]
    if position is None:
        position = stored.position if stored is not None else _next_position(uow)
    values = {
        "name": name,
        "position": position,
        "active": loaded["active"],
        "calendar_id": calendar_id,
        "conditions": {key: [str(v) for v in names] for key, names in loaded["conditions"].items() if names},
        "targets": [dict(target) for target in loaded["targets"]],
        "pause_on": [pause.strip() for pause in loaded["pause_on"] if pause.strip()],
    }
    if stored is not None and _unchanged(stored, values):  # re-saving must not recompute every open ticket
        return stored
    policy = SlaPolicy() if stored is None else stored
    for key, value in values.items():
        setattr(policy, key, value)
    policy.updated_at = utcnow()
    if stored is None:
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

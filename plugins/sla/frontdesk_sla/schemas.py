"""Marshmallow schemas of calendars and policies: one definition for the API, forms, CLI and YAML import."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from frontdesk_sla.calendar import CalendarError, check_holiday_code, parse_hours, parse_intervals, zone
from frontdesk_sla.models import Metric

CONDITION_KEYS = ("priority", "type", "group", "organization", "tags", "channel")
METRICS = [metric.value for metric in Metric]


def _check(function: Any, value: Any) -> None:
    try:
        function(value)
    except CalendarError as exc:
        raise ValidationError(str(exc)) from None


class CalendarSchema(Schema):
    """A business-hours calendar."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    timezone = fields.String(required=True)
    hours = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    holidays = fields.List(fields.String(), load_default=list)
    closed = fields.List(fields.Date(), load_default=list)
    exceptions = fields.Dict(keys=fields.Date(), values=fields.String(), load_default=dict)

    @validates("timezone")
    def _timezone(self, value: str, **_: Any) -> None:
        _check(zone, value)

    @validates("hours")
    def _hours(self, value: list[str], **_: Any) -> None:
        _check(parse_hours, value)
        if not any(parse_hours(value).values()):
            raise ValidationError("a calendar needs business hours on at least one weekday")

    @validates("holidays")
    def _holidays(self, value: list[str], **_: Any) -> None:
        for code in value:
            _check(check_holiday_code, code)

    @validates("exceptions")
    def _exceptions(self, value: dict[Any, str], **_: Any) -> None:
        for hours in value.values():
            _check(parse_intervals, hours)


class TargetSchema(Schema):
    """One promise: ``minutes`` for ``metric`` at ``priority``, in business or calendar minutes."""

    priority = fields.String(required=True, validate=validate.Length(min=1, max=50))
    metric = fields.String(required=True, validate=validate.OneOf(METRICS))
    minutes = fields.Float(required=True, validate=validate.Range(min=1, max=60 * 24 * 366))
    business = fields.Boolean(load_default=True)
    warn_percent = fields.Integer(load_default=80, validate=validate.Range(min=1, max=100))


class PolicySchema(Schema):
    """An SLA policy: match conditions, a calendar, targets per priority and what pauses the clocks."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    position = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100_000))
    active = fields.Boolean(load_default=True)
    calendar = fields.String(load_default=None, allow_none=True)
    conditions = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CONDITION_KEYS)),
        values=fields.List(fields.String()),
        load_default=dict,
    )
    targets = fields.List(fields.Nested(TargetSchema), required=True, validate=validate.Length(min=1))
    pause_on = fields.List(fields.String(), load_default=lambda: ["pending"])

    @validates_schema
    def _targets(self, data: dict[str, Any], **_: Any) -> None:
        seen = set()
        for target in data.get("targets", []):
            key = (target["priority"], target["metric"])
            if key in seen:
                raise ValidationError(f"two targets for {key[1]} at priority {key[0]}", "targets")
            seen.add(key)
            if target["business"] and not data.get("calendar"):
                raise ValidationError("business-minute targets need a calendar", "calendar")

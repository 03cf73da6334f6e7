"""Business-time arithmetic against a minute-by-minute reference, across DST changes, holidays and closed days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from frontdesk_sla.calendar import (
    ALWAYS_OPEN,
    BusinessCalendar,
    CalendarError,
    CalendarSpec,
    format_hours,
    from_us,
    merge_intervals,
    parse_hours,
    to_us,
)
from frontdesk_sla.clocks import reach
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney")
HOLIDAYS = {"Europe/Berlin": "DE-BY", "America/New_York": "US-NY", "Australia/Sydney": "AU-NSW"}
# Days around the 2026 DST changes of the three zones (and one quiet week).
PIVOTS = [
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 4, 5, tzinfo=UTC),
    datetime(2026, 10, 4, tzinfo=UTC),
    datetime(2026, 12, 23, tzinfo=UTC),
]
MINUTE = timedelta(minutes=1)


def reference_open(spec: CalendarSpec, calendar: BusinessCalendar, at: datetime) -> bool:
    """Whether the minute starting at ``at`` is business time, read off the local wall clock."""
    local = at.astimezone(calendar.tz)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in spec.hours_on(local.date()))


def reference_add(spec: CalendarSpec, calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    at, left = start, minutes
    while True:
        if reference_open(spec, calendar, at):
            left -= 1
            if left == 0:
                return at + MINUTE
        at += MINUTE


def reference_elapsed(spec: CalendarSpec, calendar: BusinessCalendar, start: datetime, end: datetime) -> int:
    count, at = 0, start
    while at < end:
        count += reference_open(spec, calendar, at)
        at += MINUTE
    return count


boundaries = st.integers(0, 48).map(lambda n: n * 30)


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    points = sorted(set(draw(st.lists(boundaries, min_size=0, max_size=6))))
    return merge_intervals(zip(points[::2], points[1::2], strict=False))


@st.composite
def calendars(draw: st.DrawFn) -> CalendarSpec:
    timezone = draw(st.sampled_from(ZONES))
    hours = {day: draw(day_hours()) for day in range(7)}
    if not any(hours.values()):
        hours[0] = ((0, 1440),)
    closed = draw(st.frozensets(st.dates(date(2026, 3, 1), date(2026, 12, 31)), max_size=4))
    with_holidays = draw(st.booleans())
    return CalendarSpec(timezone, hours, (HOLIDAYS[timezone],) if with_holidays else (), closed)


starts = st.builds(
    lambda pivot, offset: pivot + timedelta(minutes=offset),
    st.sampled_from(PIVOTS),
    st.integers(-3 * 1440, 3 * 1440),
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(calendars(), starts, st.integers(1, 2400))
def test_add_agrees_with_the_minute_by_minute_reference(spec: CalendarSpec, start: datetime, minutes: int) -> None:
    calendar = BusinessCalendar(spec)
    assert calendar.add(start, minutes) == reference_add(spec, calendar, start, minutes)


@SETTINGS
@given(calendars(), starts, st.integers(0, 6 * 1440))
def test_elapsed_agrees_with_the_reference(spec: CalendarSpec, start: datetime, length: int) -> None:
    calendar = BusinessCalendar(spec)
    end = start + timedelta(minutes=length)
    assert calendar.elapsed(start, end) == reference_elapsed(spec, calendar, start, end)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), starts, st.integers(6 * 1440, 12 * 1440))
def test_elapsed_over_many_days_agrees_with_the_reference(spec: CalendarSpec, start: datetime, length: int) -> None:
    calendar = BusinessCalendar(spec)
    end = start + timedelta(minutes=length)
    assert calendar.elapsed(start, end) == reference_elapsed(spec, calendar, start, end)


@SETTINGS
@given(calendars(), starts, st.integers(0, 90 * 1440), st.integers(0, 90 * 1440))
def test_elapsed_adds_up_over_long_spans(spec: CalendarSpec, start: datetime, first: int, second: int) -> None:
    calendar = BusinessCalendar(spec)
    middle, end = start + timedelta(minutes=first), start + timedelta(minutes=first + second)
    assert calendar.elapsed(start, end) == calendar.elapsed(start, middle) + calendar.elapsed(middle, end)
    assert calendar.add(start, calendar.elapsed(start, end)) <= end


@SETTINGS
@given(calendars(), starts, st.integers(0, 10_000), st.integers(0, 59_999_999))
def test_add_and_elapsed_are_inverse(spec: CalendarSpec, start: datetime, minutes: int, micros: int) -> None:
    calendar = BusinessCalendar(spec)
    start += timedelta(microseconds=micros)
    due = calendar.add(start, minutes)
    assert calendar.elapsed(start, due) == minutes
    end = start + timedelta(minutes=minutes)
    back = calendar.add(start, calendar.elapsed(start, end))
    assert back <= end
    assert calendar.elapsed(back, end) == 0


def berlin_office() -> BusinessCalendar:
    return BusinessCalendar(CalendarSpec("Europe/Berlin", parse_hours(["mon-fri 08:00-12:00,13:00-17:00"]), ("DE-BY",)))


def test_friday_afternoon_with_a_four_hour_target_ends_on_monday() -> None:
    start = datetime.fromisoformat("2026-03-27T16:30:00+01:00")
    assert berlin_office().add(start, 240) == datetime.fromisoformat("2026-03-30T11:30:00+02:00")


def test_easter_monday_in_bavaria_is_skipped() -> None:
    start = datetime.fromisoformat("2026-04-02T16:00:00+02:00")  # Thursday; Good Friday and Easter Monday closed
    assert berlin_office().add(start, 120) == datetime.fromisoformat("2026-04-07T09:00:00+02:00")


def test_exceptions_open_a_holiday_and_closed_dates_close_a_workday() -> None:
    hours = parse_hours(["mon-fri 09:00-17:00"])
    spec = CalendarSpec(
        "Europe/Berlin", hours, ("DE-BY",), frozenset({date(2026, 12, 23)}), {date(2026, 12, 24): ((9 * 60, 12 * 60),)}
    )
    calendar = BusinessCalendar(spec)
    start = datetime.fromisoformat("2026-12-22T16:00:00+01:00")
    assert calendar.add(start, 120) == datetime.fromisoformat("2026-12-24T10:00:00+01:00")


def test_calendar_minutes_and_twenty_four_seven() -> None:
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert ALWAYS_OPEN.add(start, 90) == start + timedelta(minutes=90)
    always = BusinessCalendar(CalendarSpec("Europe/Berlin", parse_hours(["24x7"])))
    assert always.add(start, 3 * 1440) == start + timedelta(days=3)
    assert always.elapsed(start, start + timedelta(days=2)) == 2 * 1440


def test_hours_round_trip_and_bad_input() -> None:
    hours = parse_hours(["mon-fri 08:00-12:00,13:00-17:00", "sat 10:00-14:00"])
    assert format_hours(hours) == ["mon-fri 08:00-12:00,13:00-17:00", "sat 10:00-14:00"]
    assert parse_hours(format_hours(hours)) == hours
    for bad in ["mon-fri 17:00-08:00", "someday 08:00-12:00", "mon 8-12", "mon 08:00-25:00"]:
        with pytest.raises(CalendarError):
            parse_hours([bad])
    with pytest.raises(CalendarError):
        BusinessCalendar(CalendarSpec("Mars/Olympus", hours))
    with pytest.raises(CalendarError):
        BusinessCalendar(CalendarSpec("Europe/Berlin", hours, ("XX-YY",)))
    with pytest.raises(CalendarError):
        BusinessCalendar(CalendarSpec("Europe/Berlin", parse_hours([])))
    with pytest.raises(CalendarError):
        berlin_office().add(datetime(2026, 1, 1), 10)


@st.composite
def pause_lists(draw: st.DrawFn, start: datetime) -> list[tuple[datetime, datetime | None]]:
    # Half-hour steps, like the calendars' hours: pauses often begin or end exactly where a target does.
    offsets = sorted({30 * n for n in draw(st.lists(st.integers(0, 6 * 48), max_size=6))})
    pauses: list[tuple[datetime, datetime | None]] = [
        (start + timedelta(minutes=a), start + timedelta(minutes=b))
        for a, b in zip(offsets[::2], offsets[1::2], strict=False)
    ]
    if len(offsets) % 2 and draw(st.booleans()):  # the last pause still running
        pauses.append((start + timedelta(minutes=offsets[-1]), None))
    return pauses


half_hour_starts = st.builds(
    lambda pivot, offset: pivot + timedelta(minutes=30 * offset), st.sampled_from(PIVOTS), st.integers(-144, 144)
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), half_hour_starts, st.integers(1, 80).map(lambda n: n * 30), st.data())
def test_due_times_skip_pauses_like_the_reference(
    spec: CalendarSpec, start: datetime, minutes: int, data: st.DataObject
) -> None:
    calendar = BusinessCalendar(spec)
    pauses = data.draw(pause_lists(start))
    as_us = [(to_us(a), None if b is None else to_us(b)) for a, b in pauses]
    due = reach(calendar, to_us(start), minutes * 60_000_000, as_us)

    def paused(at: datetime) -> bool:
        return any(a <= at and (b is None or at < b) for a, b in pauses)

    at, left = start, minutes
    while True:
        if reference_open(spec, calendar, at) and not paused(at):
            left -= 1
            if left == 0:
                assert due is not None
                assert from_us(due) == at + MINUTE
                return
        if pauses and pauses[-1][1] is None and at >= pauses[-1][0]:
            break  # paused for good before the target was reached
        at += MINUTE
    assert due is None

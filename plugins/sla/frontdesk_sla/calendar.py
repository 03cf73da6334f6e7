"""Business-time arithmetic: when N business minutes after an instant end, and how many lie between two instants.

Instants are timezone-aware datetimes; the arithmetic runs on integer microseconds in UTC. A
calendar turns each local date into its open intervals in UTC once (weekly hours, holidays, closed
dates and exceptions, converted with zoneinfo at the edges of each interval) and caches them, so a
due-time calculation walks a handful of precomputed intervals. An instant is business time when
its local wall-clock time lies in one of the intervals of its local date: on a DST change an
interval loses the skipped hour or gains the repeated one, exactly as a clock on the wall shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
US_PER_MINUTE = 60_000_000
US_PER_DAY = 86_400_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
ONE_US = timedelta(microseconds=1)
# A calendar without a single open minute in this many days is treated as never open (bad data).
MAX_CLOSED_DAYS = 3700
# Offsets change at most once in this window around a local day (true of every zone in use).
_SEARCH_MARGIN_US = 30 * 3_600_000_000

Interval = tuple[int, int]  # minutes after local midnight: [start, end), end at most 1440
_CHANGES = object()  # marks a UTC day on which the zone's offset changes


class CalendarError(ValueError):
    """A calendar definition that cannot be used (unknown time zone, malformed hours, unknown holidays)."""


def to_us(instant: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (naive ones are refused: their zone is unknown)."""
    if instant.tzinfo is None:
        raise CalendarError("a naive datetime has no time zone; pass an aware one")
    return (instant - EPOCH) // ONE_US


def from_us(us: int) -> datetime:
    """The aware UTC datetime of microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=us)


def minutes_to_us(minutes: float) -> int:
    """Whole microseconds of a (possibly fractional) number of minutes."""
    return round(minutes * US_PER_MINUTE)


# --- Parsing weekly hours ---------------------------------------------------------------------

_HOURS = re.compile(r"^\s*(?P<days>[a-z0-9,\-]+)\s+(?P<intervals>\S.*)$", re.IGNORECASE)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_time(text: str) -> int:
    """Minutes after midnight of ``HH:MM`` (``24:00`` is the end of the day)."""
    match = _TIME.match(text.strip())
    if not match:
        raise CalendarError(f"{text!r} is not a time of day (HH:MM)")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise CalendarError(f"{text!r} is not a time of day (00:00 to 24:00)")
    return hours * 60 + minutes


def format_time(minutes: int) -> str:
    """``HH:MM`` of minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_intervals(text: str) -> tuple[Interval, ...]:
    """``08:00-12:00,13:00-17:00`` as sorted, merged intervals; ``closed`` or an empty text is none."""
    if text.strip().lower() in {"", "closed"}:
        return ()
    found = []
    for part in text.split(","):
        start, sep, end = part.partition("-")
        if not sep:
            raise CalendarError(f"{part.strip()!r} is not an interval (HH:MM-HH:MM)")
        begin, finish = parse_time(start), parse_time(end)
        if finish <= begin:
            raise CalendarError(f"{part.strip()!r} ends before it starts")
        found.append((begin, finish))
    return merge_intervals(found)


def merge_intervals(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted intervals with overlapping or touching ones joined."""
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def _parse_days(text: str) -> list[int]:
    text = text.lower()
    if text in {"daily", "all"}:
        return list(range(7))
    days: list[int] = []
    for part in text.split(","):
        first, sep, last = part.partition("-")
        try:
            begin = WEEKDAYS.index(first)
            end = WEEKDAYS.index(last) if sep else begin
        except ValueError:
            raise CalendarError(f"{part!r} is not a weekday or range of weekdays (mon-fri)") from None
        days.extend(range(begin, end + 1) if begin <= end else [*range(begin, 7), *range(0, end + 1)])
    return days


def parse_hours(specs: Iterable[str]) -> dict[int, tuple[Interval, ...]]:
    """Weekly hours from specs like ``mon-fri 08:00-12:00,13:00-17:00`` or ``24x7``: ``{weekday: intervals}``.

    Specs naming the same weekday add to it; weekdays no spec names are closed.
    """
    collected: dict[int, list[Interval]] = {day: [] for day in range(7)}
    for spec in specs:
        if spec.strip().lower() in {"24x7", "24/7"}:
            for day in range(7):
                collected[day].append((0, MINUTES_PER_DAY))
            continue
        match = _HOURS.match(spec)
        if not match:
            raise CalendarError(f"{spec!r} is not weekly hours (e.g. 'mon-fri 08:00-17:00')")
        intervals = parse_intervals(match["intervals"])
        for day in _parse_days(match["days"]):
            collected[day].extend(intervals)
    return {day: merge_intervals(found) for day, found in collected.items()}


def format_hours(hours: Mapping[int, tuple[Interval, ...]]) -> list[str]:
    """Weekly hours as specs :func:`parse_hours` reads, consecutive days with equal hours grouped."""
    specs: list[str] = []
    day = 0
    while day < 7:
        intervals = hours.get(day, ())
        last = day
        while last + 1 < 7 and hours.get(last + 1, ()) == intervals:
            last += 1
        if intervals:
            days = WEEKDAYS[day] if last == day else f"{WEEKDAYS[day]}-{WEEKDAYS[last]}"
            specs.append(f"{days} " + ",".join(f"{format_time(a)}-{format_time(b)}" for a, b in intervals))
        day = last + 1
    return specs


def zone(name: str) -> ZoneInfo:
    """The IANA time zone called ``name``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)") from None


@cache
def _holiday_dates(code: str, year: int) -> frozenset[date]:
    country, _, subdivision = code.partition("-")
    try:
        found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        raise CalendarError(f"{code!r} is not a country (and subdivision) the holidays package knows") from None
    return frozenset(found)


def check_holiday_code(code: str) -> str:
    """``code`` (``DE`` or ``DE-BY``) upper-cased, if the holidays package knows it."""
    code = code.strip().upper()
    _holiday_dates(code, 2026)
    return code


# --- Calendars -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarSpec:
    """What a calendar is: a time zone, weekly hours, holiday sets, closed dates and exceptional days.

    ``exceptions`` give a date its own hours (``()`` closes it), winning over weekly hours,
    holidays and closed dates; ``closed`` dates and holidays are otherwise closed all day.
    """

    timezone: str
    hours: Mapping[int, tuple[Interval, ...]]
    holidays: tuple[str, ...] = ()
    closed: frozenset[date] = frozenset()
    exceptions: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """The open intervals of local date ``day``."""
        if day in self.exceptions:
            return self.exceptions[day]
        if day in self.closed or any(day in _holiday_dates(code, day.year) for code in self.holidays):
            return ()
        return self.hours.get(day.weekday(), ())


class BusinessCalendar:
    """Business-time arithmetic over a :class:`CalendarSpec`, with each date's UTC intervals cached."""

    def __init__(self, spec: CalendarSpec) -> None:
        if not any(spec.hours.get(day) for day in range(7)) and not any(spec.exceptions.values()):
            raise CalendarError("a calendar needs business hours on at least one weekday")
        self.spec = spec
        self.tz = zone(spec.timezone)
        for code in spec.holidays:
            check_holiday_code(code)
        self._days: dict[int, tuple[tuple[int, int], ...]] = {}
        self._totals: dict[int, int] = {}
        self._cumulative_at: dict[int, int] = {}
        self._day_offsets: dict[int, int | object] = {}

    # Per-date intervals

    def _offset_us(self, us: int) -> int:
        """The zone's UTC offset (µs) at an instant."""
        offset = from_us(us).astimezone(self.tz).utcoffset()
        return 0 if offset is None else offset // ONE_US

    def _offset_on_utc_day(self, us: int) -> int:
        """:meth:`_offset_us`, remembered per UTC day when the offset is the same at both ends of it.

        Zones change their offset at most once a day, so a day with equal offsets at its ends has
        that offset throughout; the few days with a change are computed exactly every time.
        """
        day = us // US_PER_DAY
        found = self._day_offsets.get(day)
        if found is None:
            first, last = self._offset_us(day * US_PER_DAY), self._offset_us((day + 1) * US_PER_DAY - 1)
            found = self._day_offsets[day] = first if first == last else _CHANGES
        return self._offset_us(us) if found is _CHANGES else found

    def _pieces(self, wall_lo: int, wall_hi: int) -> list[tuple[int, int, int]]:
        """UTC stretches ``(start, end, offset)`` of constant offset covering wall times ``[wall_lo, wall_hi)``."""
        lo, hi = wall_lo - _SEARCH_MARGIN_US, wall_hi + _SEARCH_MARGIN_US
        first, last = self._offset_us(lo), self._offset_us(hi)
        if first == last:
            return [(lo, hi, first)]
        low, high = lo // 1_000_000, hi // 1_000_000  # the change happens on a whole second
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset_us(middle * 1_000_000) == first:
                low = middle
            else:
                high = middle
        change = high * 1_000_000
        return [(lo, change, first), (change, hi, last)]

    def _compute_day(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        hours = self.spec.hours_on(date.fromordinal(ordinal))
        if not hours:
            return ()
        midnight = (ordinal - EPOCH_ORDINAL) * US_PER_DAY  # local wall time as if it were UTC
        pieces = self._pieces(midnight, midnight + US_PER_DAY)
        found = []
        for start, end in hours:
            wall_start, wall_end = midnight + start * US_PER_MINUTE, midnight + end * US_PER_MINUTE
            for piece_start, piece_end, offset in pieces:
                begin, finish = max(wall_start - offset, piece_start), min(wall_end - offset, piece_end)
                if begin < finish:
                    found.append((begin, finish))
        return merge_intervals(found)

    def day(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        """The open intervals (UTC microseconds) of the local date with this ordinal, computed once."""
        intervals = self._days.get(ordinal)
        if intervals is None:
            intervals = self._days[ordinal] = self._compute_day(ordinal)
        return intervals

    def _ordinal(self, us: int) -> int:
        """The ordinal of the local date of an instant."""
        return (us + self._offset_on_utc_day(us)) // US_PER_DAY + EPOCH_ORDINAL

    # Arithmetic on microseconds

    def add_us(self, start: int, amount: int) -> int:
        """The instant (µs) at which ``amount`` µs of business time after ``start`` have passed."""
        if amount <= 0:
            return start
        ordinal = self._ordinal(start) - 1  # a wall time repeated by DST may belong to the day before
        closed_days = 0
        days = self._days
        while True:
            intervals = days.get(ordinal)
            if intervals is None:
                intervals = self.day(ordinal)
            if not intervals:
                closed_days += 1
                if closed_days > MAX_CLOSED_DAYS:
                    raise CalendarError("the calendar has no business hours in ten years")
            for begin, end in intervals:
                if end <= start:
                    continue
                if begin < start:
                    begin = start
                available = end - begin
                if amount <= available:
                    return begin + amount
                amount -= available
                closed_days = 0
            ordinal += 1

    def _total(self, ordinal: int) -> int:
        """Business time (µs) of one local date."""
        found = self._totals.get(ordinal)
        if found is None:
            found = self._totals[ordinal] = sum(end - begin for begin, end in self.day(ordinal))
        return found

    def _cumulative(self, ordinal: int) -> int:
        """Business time (µs) from the start of the first date asked for to the start of date ``ordinal``.

        Filled outwards one date at a time and kept, so long spans cost two look-ups.
        """
        cumulative = self._cumulative_at
        found = cumulative.get(ordinal)
        if found is not None:
            return found
        if not cumulative:
            cumulative[ordinal] = 0
            return 0
        low, high = min(cumulative), max(cumulative)
        if ordinal > high:
            for day in range(high, ordinal):
                cumulative[day + 1] = cumulative[day] + self._total(day)
        else:
            for day in range(low - 1, ordinal - 1, -1):
                cumulative[day] = cumulative[day + 1] - self._total(day)
        return cumulative[ordinal]

    def _overlap(self, first: int, last: int, start: int, end: int) -> int:
        """Business time (µs) of dates ``first`` to ``last`` inside ``[start, end)``."""
        total = 0
        for ordinal in range(first, last + 1):
            for begin, finish in self.day(ordinal):
                if finish > start and begin < end:
                    total += min(finish, end) - max(begin, start)
        return total

    def elapsed_us(self, start: int, end: int) -> int:
        """Business time (µs) in ``[start, end)``.

        The dates at either end are clipped (a wall time repeated by DST may sit on the date next
        to the one it names); the whole dates between come from cumulative sums.
        """
        if end <= start:
            return 0
        first, last = self._ordinal(start), self._ordinal(end)
        if last - first < 5:
            return self._overlap(first - 1, last + 1, start, end)
        middle = self._cumulative(last - 2) - self._cumulative(first + 2)
        return self._overlap(first - 1, first + 1, start, end) + middle + self._overlap(last - 2, last + 1, start, end)

    # The public, datetime-based interface

    def add(self, start: datetime, minutes: float) -> datetime:
        """The instant ``minutes`` business minutes after ``start`` (UTC); ``start`` itself for 0."""
        return from_us(self.add_us(to_us(start), minutes_to_us(minutes)))

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Business minutes between ``start`` and ``end``."""
        return self.elapsed_us(to_us(start), to_us(end)) / US_PER_MINUTE


class AlwaysOpen:
    """Calendar minutes: every minute counts (targets given in calendar rather than business minutes)."""

    def add_us(self, start: int, amount: int) -> int:
        """``start`` plus ``amount`` µs."""
        return start + max(amount, 0)

    def elapsed_us(self, start: int, end: int) -> int:
        """``end`` minus ``start``, never negative."""
        return max(end - start, 0)

    def add(self, start: datetime, minutes: float) -> datetime:
        """``start`` plus ``minutes``, in UTC."""
        return from_us(self.add_us(to_us(start), minutes_to_us(minutes)))

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Minutes between ``start`` and ``end``."""
        return self.elapsed_us(to_us(start), to_us(end)) / US_PER_MINUTE


ALWAYS_OPEN = AlwaysOpen()

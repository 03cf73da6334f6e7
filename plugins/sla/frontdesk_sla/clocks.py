"""Computing a ticket's SLA clocks from what happened to it: pure functions, no database.

A ticket's history is reduced to :class:`Fact` objects (created, replies, status changes with
whether the new status pauses the clocks). Clocks run from their start to the event that fulfils
them, minus the paused stretches, measured on the policy's calendar (or in calendar minutes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from frontdesk_sla.calendar import US_PER_MINUTE, from_us, minutes_to_us, to_us
from frontdesk_sla.models import ClockState, Metric

T = TypeVar("T", datetime, int)
CREATED, AGENT_REPLY, REQUESTER_REPLY, STATUS = "created", "agent_reply", "requester_reply", "status"
DONE_CATEGORIES = frozenset({"solved", "closed"})


class Arithmetic(Protocol):
    """The microsecond interface of :class:`~frontdesk_sla.calendar.BusinessCalendar` and ``AlwaysOpen``."""

    def add_us(self, start: int, amount: int) -> int:
        """The instant ``amount`` µs of running time after ``start``."""

    def elapsed_us(self, start: int, end: int) -> int:
        """Running time (µs) between two instants."""


@dataclass(frozen=True)
class Fact:
    """One thing that happened to a ticket: ``kind`` is created, agent_reply, requester_reply or status.

    Status facts carry the new status ``category`` and whether it ``pauses`` the clocks.
    """

    at: datetime
    kind: str
    category: str | None = None
    pauses: bool = False


@dataclass(frozen=True)
class Target:
    """A policy's promise for one metric at the ticket's priority."""

    minutes: float
    business: bool = True
    warn_percent: int = 80


@dataclass
class Episode:
    """One run of a metric: from ``start`` to ``stop`` (None while it runs)."""

    metric: str
    number: int
    start: int
    stop: int | None = None


@dataclass
class Clock:
    """A computed clock: due and warning times, pauses, elapsed business minutes and state at ``now``."""

    metric: str
    episode: int
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    paused_minutes: float = 0.0
    elapsed_minutes: float = 0.0
    fulfilled_at: datetime | None = None
    breached_at: datetime | None = None
    state: str = ClockState.OK.value


def episodes(facts: Sequence[Fact]) -> tuple[list[Episode], list[tuple[int, int | None]]]:
    """The metric episodes and the paused stretches (µs; the last may be open) of a ticket's facts.

    First response runs from creation to the first public agent reply (or the ticket being solved);
    a next response starts with a requester's public reply after that and ends with the next agent
    reply; resolution runs to solved and starts again when the ticket is reopened.
    """
    found: list[Episode] = []
    pauses: list[tuple[int, int | None]] = []
    first: Episode | None = None
    waiting: Episode | None = None  # the running next-response episode
    resolution: Episode | None = None
    replies = resolutions = 0
    pause_start: int | None = None
    done = False
    for fact in sorted(facts, key=lambda f: f.at):
        at = to_us(fact.at)
        if fact.kind == CREATED:
            first = Episode(Metric.FIRST_RESPONSE.value, 1, at)
            resolution = Episode(Metric.RESOLUTION.value, 1, at)
            resolutions = 1
            found += [first, resolution]
        elif fact.kind == AGENT_REPLY:
            if first is not None and first.stop is None:
                first.stop = at
            if waiting is not None:
                waiting.stop, waiting = at, None
        elif fact.kind == REQUESTER_REPLY:
            if first is not None and first.stop is not None and waiting is None and not done:
                replies += 1
                waiting = Episode(Metric.NEXT_RESPONSE.value, replies, at)
                found.append(waiting)
        elif fact.kind == STATUS:
            now_done = fact.category in DONE_CATEGORIES
            if now_done and not done:
                for running in (first, waiting, resolution):
                    if running is not None and running.stop is None:
                        running.stop = at
                waiting = None
            elif done and not now_done and resolution is not None:
                resolutions += 1
                resolution = Episode(Metric.RESOLUTION.value, resolutions, at)
                found.append(resolution)
            done = now_done
            if fact.pauses and pause_start is None:
                pause_start = at
            elif not fact.pauses and pause_start is not None:
                pauses.append((pause_start, at))
                pause_start = None
    if pause_start is not None:
        pauses.append((pause_start, None))
    return found, pauses


def reach(arithmetic: Arithmetic, start: int, amount: int, pauses: Iterable[tuple[int, int | None]]) -> int | None:
    """When ``amount`` µs of running time after ``start`` have passed, skipping pauses; None if paused first."""
    current, left = start, amount
    for pause_start, pause_end in pauses:
        if pause_end is not None and pause_end <= current:
            continue
        if pause_start > current:
            available = arithmetic.elapsed_us(current, pause_start)
            if available >= left:
                return arithmetic.add_us(current, left)
            left -= available
        if pause_end is None:
            return None
        current = max(current, pause_end)
    return arithmetic.add_us(current, left)


def clipped(
    pauses: Iterable[tuple[int, int | None]], start: int, stop: int, *, running: bool
) -> list[tuple[int, int | None]]:
    """The parts of ``pauses`` inside ``[start, stop)``; a running clock's open pause stays open."""
    inside: list[tuple[int, int | None]] = []
    for pause_start, pause_end in pauses:
        begin = max(pause_start, start)
        if pause_end is None and running:
            if begin <= stop:
                inside.append((begin, None))
            continue
        end = stop if pause_end is None else min(pause_end, stop)
        if begin < end:
            inside.append((begin, end))
    return inside


@dataclass(frozen=True)
class Measured:
    """A clock's figures in microseconds: the shared core of :func:`measure` and bulk re-timing."""

    stop: int
    due: int | None
    warn: int | None
    pauses: list[tuple[int, int | None]]
    paused: int
    elapsed: int
    state: str


def measure_us(
    start: int,
    stop: int | None,
    target: Target,
    arithmetic: Arithmetic,
    pauses: Sequence[tuple[int, int | None]],
    now: int,
) -> Measured:
    """Due and warning times, pauses, paused and elapsed time and state of a clock from ``start`` (µs)."""
    end = stop if stop is not None else max(now, start)
    own = clipped(pauses, start, end, running=stop is None)
    to_warn = minutes_to_us(target.minutes * target.warn_percent / 100)
    warn = reach(arithmetic, start, to_warn, own)
    # Running time from start to the warning is exactly ``to_warn``, so the due time walks on from there.
    due = None if warn is None else reach(arithmetic, warn, minutes_to_us(target.minutes) - to_warn, own)
    paused = sum(arithmetic.elapsed_us(a, end if b is None else b) for a, b in own) if own else 0
    elapsed = arithmetic.elapsed_us(start, end) - paused
    state = state_of(due, warn, stop, bool(own and own[-1][1] is None), now)
    return Measured(end, due, warn, own, paused, elapsed, state)


def measure(
    episode: Episode,
    target: Target,
    arithmetic: Arithmetic,
    pauses: Sequence[tuple[int, int | None]],
    now: datetime,
) -> Clock:
    """The clock of one episode against its target, as it stands at ``now``."""
    found = measure_us(episode.start, episode.stop, target, arithmetic, pauses, to_us(now))
    due = None if found.due is None else from_us(found.due)
    return Clock(
        metric=episode.metric,
        episode=episode.number,
        started_at=from_us(episode.start),
        due_at=due,
        warn_at=None if found.warn is None else from_us(found.warn),
        pauses=[(from_us(a), None if b is None else from_us(b)) for a, b in found.pauses],
        paused_minutes=found.paused / US_PER_MINUTE,
        elapsed_minutes=found.elapsed / US_PER_MINUTE,
        fulfilled_at=None if episode.stop is None else from_us(episode.stop),
        breached_at=due if found.state == ClockState.BREACHED else None,
        state=found.state,
    )


def state_of(due_at: T | None, warn_at: T | None, fulfilled_at: T | None, paused: bool, now: T) -> str:
    """The state of a clock with these times (datetimes, or microseconds) at ``now``."""
    if fulfilled_at is not None:
        late = due_at is not None and fulfilled_at > due_at
        return ClockState.BREACHED.value if late else ClockState.FULFILLED.value
    if due_at is not None and due_at <= now:
        return ClockState.BREACHED.value
    if paused:
        return ClockState.PAUSED.value
    if warn_at is not None and warn_at <= now:
        return ClockState.WARNING.value
    return ClockState.OK.value


def compute(
    facts: Sequence[Fact],
    targets: Mapping[str, Target],
    arithmetic_for: Mapping[bool, Arithmetic],
    now: datetime,
) -> list[Clock]:
    """Every clock of a ticket with these facts under these targets (by metric), as it stands at ``now``.

    ``arithmetic_for[True]`` measures business minutes, ``arithmetic_for[False]`` calendar minutes.
    """
    found, pauses = episodes(facts)
    return [
        measure(episode, targets[episode.metric], arithmetic_for[targets[episode.metric].business], pauses, now)
        for episode in found
        if episode.metric in targets
    ]

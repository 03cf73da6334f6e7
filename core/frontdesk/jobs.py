"""Background jobs: durable, retried with backoff, run by huey workers embedded in ``serve`` or on other machines.

Plugins declare jobs with :class:`Job` from ``frontdesk_register_jobs``; code queues one with
``desk.jobs.enqueue(name, **arguments)`` (or ``uow.enqueue`` to queue it only if the transaction
commits). The queue carries only ledger ids (see :mod:`frontdesk.models.jobs`): a job runs when a worker
claims its row, is retried with backoff when it raises, and lands in the failed list after its last
attempt. A job whose worker died is queued again when its lease runs out (``jobs.recover``), so jobs
run at least once and must be idempotent. Periodic jobs claim their time slot in the database, so any
number of workers run each slot once.
"""

from __future__ import annotations

import logging
import signal
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import huey
from huey import crontab
from sqlalchemy import insert, make_url, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from frontdesk.db import utcnow
from frontdesk.errors import ConfigError, NotFound
from frontdesk.models import Event, EventState, JobRecord, JobState, PeriodicRun
from frontdesk.retention import prune_job

if TYPE_CHECKING:
    from frontdesk.desk import Desk

log = logging.getLogger("frontdesk.jobs")

__all__ = ["BACKOFF", "Job", "Jobs", "backoff", "crontab"]

BACKOFF = (timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
EVENT_GRACE = timedelta(minutes=1)  # pending events younger than this are still on their way


def backoff(attempt: int) -> timedelta:
    """How long to wait before attempt ``attempt + 1`` after ``attempt`` failures (10 s, 1 min, 5 min, 30 min...)."""
    return BACKOFF[min(max(attempt, 1), len(BACKOFF)) - 1]


@dataclass(frozen=True)
class Job:
    """A job a plugin (or the core) can run in the background.

    :param name: unique, prefixed with the plugin name (``email.poll``).
    :param function: called as ``function(desk, **arguments)`` with the JSON arguments it was queued
        with; periodic jobs get ``function(desk)``. It opens its own ``desk.action`` transactions.
    :param attempts: how many times to try before the job lands in the failed list.
    :param schedule: a :func:`crontab` for periodic jobs (``crontab(minute="*/5")``); None for queued jobs.
    :param lease: how long one run may take; a run still unfinished after it counts as lost (its
        worker died) and is started again.
    """

    name: str
    function: Callable[..., Any]
    attempts: int = 5
    schedule: Callable[[datetime], bool] | None = None
    lease: timedelta = timedelta(minutes=10)


def make_queue(url: str, name: str = "frontdesk") -> huey.Huey:
    """The huey instance for a queue URL: ``sqlite:///FILE``, ``postgresql://...`` or ``memory://``."""
    if url == "memory://":
        return huey.MemoryHuey(name, immediate=True, results=False)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database:
            raise ConfigError(f"the queue URL {url!r} names no file")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return huey.SqliteHuey(name, filename=parsed.database, results=False)
    if backend == "postgresql":
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        return huey.PostgresHuey(name, dsn=dsn, results=False, table_prefix="frontdesk_queue")
    raise ConfigError(f"unsupported queue URL {url!r}: use sqlite:///FILE, postgresql://... or memory://")


class Jobs:
    """The jobs of one desk: what is registered, the queue they travel on, and running them."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.registered: dict[str, Job] = {}

    @cached_property
    def queue(self) -> huey.Huey:
        """The huey instance, created on first use (so commands that queue nothing create no queue file)."""
        queue = make_queue(self.desk.config.queue)
        self._run_task = queue.task(name="frontdesk.run_job")(self.run)
        self._deliver_task = queue.task(name="frontdesk.deliver_events")(self._deliver)
        for job in self.registered.values():
            if job.schedule is not None:
                queue.periodic_task(job.schedule, name=f"periodic:{job.name}")(partial(self.run_periodic, job.name))
        return queue

    def register(self, jobs: Iterable[Job]) -> None:
        """Make these jobs known (before the queue is first used); names must be unique."""
        for job in jobs:
            if job.name in self.registered:
                raise ValueError(f"job {job.name!r} is registered twice")
            if job.attempts < 1:
                raise ValueError(f"job {job.name!r} needs at least one attempt")
            self.registered[job.name] = job

    def job(self, name: str) -> Job:
        """The registered job called ``name``."""
        try:
            return self.registered[name]
        except KeyError:
            raise NotFound(f"no job named {name!r}") from None

    # Queueing

    def record(self, name: str, arguments: dict[str, Any], *, delay: timedelta | None = None) -> JobRecord:
        """A ledger row for a new job, to add to a session; :meth:`send` queues it after commit."""
        self.job(name)
        now = utcnow()
        return JobRecord(
            name=name,
            arguments=arguments,
            state=JobState.QUEUED.value,
            queued_at=now,
            run_after=now + (delay or timedelta(0)),
        )

    def enqueue(self, job: str, /, *, delay: timedelta | None = None, **arguments: Any) -> int:
        """Queue job ``job`` with JSON ``arguments`` in its own transaction; return its id."""
        with self.desk.db.transaction() as session:
            record = self.record(job, arguments, delay=delay)
            session.add(record)
            session.flush()
            job_id = record.id
        self.send([(job_id, delay)])
        return job_id

    def send(self, jobs: Sequence[tuple[int, timedelta | None]]) -> None:
        """Put committed ledger rows on the queue (a lost send is repaired by ``jobs.recover``)."""
        self.queue  # noqa: B018 (creates the queue and its tasks)
        for job_id, delay in jobs:
            try:
                if delay:
                    self._run_task.schedule((job_id,), delay=delay.total_seconds())
                else:
                    self._run_task(job_id)
            except Exception:
                log.exception("queueing job %d failed; jobs.recover will queue it", job_id)

    def deliver_events(self, event_ids: Sequence[int]) -> None:
        """Have these committed events delivered by a worker (at once when the queue is in memory)."""
        try:
            self.queue  # noqa: B018 (creates the queue and its tasks)
            self._deliver_task(list(event_ids))
        except Exception:
            log.exception("queueing delivery of events %s failed; events.sweep delivers them", event_ids)

    # Running

    def _deliver(self, event_ids: list[int]) -> None:
        self.desk.dispatcher.deliver(event_ids)

    def run(self, job_id: int, now: datetime | None = None) -> str:
        """Run one queued job if nobody else is running it; return ``done``, ``retrying``, ``failed`` or ``skipped``."""
        now = now or utcnow()
        with self.desk.db.transaction() as session:
            record = session.get(JobRecord, job_id)
            if record is None or record.state == JobState.FAILED:
                return "skipped"
            if record.name not in self.registered:
                record.state = JobState.FAILED.value
                record.error = f"no job named {record.name!r} is registered here (is its plugin disabled?)"
                return "failed"
            job = self.registered[record.name]
            claimed = session.execute(
                update(JobRecord)
                .where(
                    JobRecord.id == job_id,
                    (JobRecord.state == JobState.QUEUED)
                    | ((JobRecord.state == JobState.RUNNING) & (JobRecord.lease_until < now)),
                )
                .values(
                    state=JobState.RUNNING.value,
                    attempts=JobRecord.attempts + 1,
                    started_at=now,
                    lease_until=now + job.lease,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            arguments = dict(record.arguments)
        if not claimed:
            return "skipped"
        error = _call(job.function, self.desk, arguments)
        return self._finish(job, job_id, error)

    def _finish(self, job: Job, job_id: int, error: str | None) -> str:
        now = utcnow()
        with self.desk.db.transaction() as session:
            record = session.get(JobRecord, job_id)
            if record is None:
                return "skipped"
            if error is None:
                session.delete(record)
                return "done"
            record.error = error
            record.finished_at = now
            record.lease_until = None
            log.error(
                "job %s #%d failed (attempt %d of %d): %s", job.name, job_id, record.attempts, job.attempts, error
            )
            if record.attempts >= job.attempts:
                record.state = JobState.FAILED.value
                return "failed"
            delay = backoff(record.attempts)
            record.state = JobState.QUEUED.value
            record.run_after = now + delay
        self.send([(job_id, delay)])
        return "retrying"

    def run_periodic(self, name: str, now: datetime | None = None) -> str:
        """Run periodic job ``name`` for the current minute unless another worker took that minute already."""
        job = self.job(name)
        now = now or utcnow()
        slot = now.replace(second=0, microsecond=0)
        with self.desk.db.transaction() as session:
            insert_ = pg_insert if self.desk.db.backend == "postgresql" else sqlite_insert
            session.execute(
                insert_(PeriodicRun)
                .values(name=name, slot=slot - timedelta(minutes=1), finished_at=slot)
                .on_conflict_do_nothing()
            )
            claimed = session.execute(
                update(PeriodicRun)
                .where(
                    PeriodicRun.name == name,
                    PeriodicRun.slot < slot,
                    PeriodicRun.finished_at.is_not(None) | (PeriodicRun.lease_until < now),
                )
                .values(slot=slot, started_at=now, lease_until=now + job.lease, finished_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount
        if not claimed:
            return "skipped"
        error = _call(job.function, self.desk, {})
        with self.desk.db.transaction() as session:
            session.execute(
                update(PeriodicRun)
                .where(PeriodicRun.name == name)
                .values(finished_at=utcnow(), lease_until=None, error=error or "")
            )
            if error is not None:  # listed with the failed jobs, where it can be retried by hand
                session.execute(
                    insert(JobRecord).values(
                        name=name,
                        arguments={},
                        state=JobState.FAILED.value,
                        attempts=1,
                        error=error,
                        queued_at=now,
                        run_after=now,
                        finished_at=utcnow(),
                    )
                )
                log.error("periodic job %s failed: %s", name, error)
        return "failed" if error else "done"

    # Operating

    def recover(self, now: datetime | None = None) -> int:
        """Queue again jobs whose worker died (lease ran out) or whose queue message was lost; return how many.

        A queued job is only taken for lost while the queue itself is empty: during a long backlog its
        message is still waiting there, and sending it again every minute would pile up duplicates.
        """
        now = now or utcnow()
        dead = (JobRecord.state == JobState.RUNNING) & (JobRecord.lease_until < now)
        if self.queue.pending_count() == 0:
            dead |= (JobRecord.state == JobState.QUEUED) & (JobRecord.run_after < now - EVENT_GRACE)
        with self.desk.db.reading() as session:
            lost = session.scalars(select(JobRecord.id).where(dead)).all()
        self.send([(job_id, None) for job_id in lost])
        return len(lost)

    def close(self) -> None:
        """Release the queue's connection, if the queue was used."""
        if "queue" in self.__dict__:
            self.queue.storage.close()

    def consumer(self, *, workers: int = 2, periodic: bool = True) -> Any:
        """A huey consumer of this desk's queue, running jobs in ``workers`` threads."""
        return self.queue.create_consumer(workers=workers, worker_type="thread", periodic=periodic)

    def start_embedded(self, workers: int = 2) -> Any:
        """Run a consumer inside this process (``frontdesk serve``) without taking over its signals."""
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        consumer = self.consumer(workers=workers)
        consumer.start()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        return consumer


def _call(function: Callable[..., Any], desk: Desk, arguments: dict[str, Any]) -> str | None:
    """Run a job function; return the error text (last line of the traceback first) if it raised."""
    try:
        function(desk, **arguments)
    except Exception as exc:
        return "".join(traceback.format_exception_only(exc)).strip()
    return None


def sweep_events(desk: Desk) -> None:
    """Deliver events still pending a minute after they were written (a crash, a lost message, retries due)."""
    with desk.db.reading() as session:
        stale = session.scalar(
            select(Event.id)
            .where(Event.state == EventState.PENDING, Event.created_at < utcnow() - EVENT_GRACE)
            .limit(1)
        )
    if stale is not None:
        desk.dispatcher.dispatch_pending()


def recover_jobs(desk: Desk) -> None:
    """Queue again jobs lost with their worker."""
    desk.jobs.recover()


CORE_JOBS = (
    Job("events.sweep", sweep_events, schedule=crontab(minute="*"), attempts=1),
    Job("jobs.recover", recover_jobs, schedule=crontab(minute="*"), attempts=1),
    Job("housekeeping.prune", prune_job, schedule=crontab(minute="17", hour="3"), attempts=1),
)

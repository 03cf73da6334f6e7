"""Looking after background jobs (admins): what is registered and queued, what failed, and retrying it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from frontdesk.db import utcnow
from frontdesk.errors import NotFound, ValidationError
from frontdesk.models import JobRecord, JobState
from frontdesk.uow import UnitOfWork

PERMISSION = "desk.configure"


def job_summary(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every job by name with whether it is periodic and how many of its runs are queued, running or failed.

    Names found only in the ledger (their plugin is not loaded here) are listed too, as not ``registered``,
    so their failures do not go unnoticed.
    """
    uow.require(PERMISSION)
    query = select(JobRecord.name, JobRecord.state, func.count()).group_by(JobRecord.name, JobRecord.state)
    counts = {(name, state): count for name, state, count in uow.session.execute(query)}
    registered = uow.desk.jobs.registered
    names = sorted(set(registered) | {name for name, _ in counts})
    rows = []
    for name in names:
        job = registered.get(name)
        rows.append(
            {
                "name": name,
                "registered": job is not None,
                "periodic": job is not None and job.schedule is not None,
                "attempts": job.attempts if job is not None else None,
                **{state.value: counts.get((name, state.value), 0) for state in JobState},
            }
        )
    return rows


def list_failed(uow: UnitOfWork, limit: int = 100) -> list[JobRecord]:
    """Jobs that failed on every attempt, newest first, with their last error."""
    uow.require(PERMISSION)
    query = select(JobRecord).where(JobRecord.state == JobState.FAILED).order_by(JobRecord.id.desc()).limit(limit)
    return list(uow.session.scalars(query))


def retry_job(uow: UnitOfWork, job_id: int) -> JobRecord:
    """Queue a failed job again with a fresh set of attempts, when ``uow`` commits.

    The same change as :meth:`frontdesk.jobs.Jobs.retry`, made in the caller's transaction (that method
    opens its own), with the row locked so two admins retrying at once queue it once.
    """
    uow.require(PERMISSION)
    record = uow.session.get(JobRecord, job_id, with_for_update=True)
    if record is None:
        raise NotFound(f"no job #{job_id}")
    if record.state != JobState.FAILED:
        raise ValidationError({"job": [f"job #{job_id} is {record.state}, not failed"]})
    record.state = JobState.QUEUED.value
    record.attempts = 0
    record.run_after = utcnow()
    uow.queued.append((record, None))  # sent to the queue after commit, like uow.enqueue
    uow.emit("job.retried", payload={"job_id": record.id, "name": record.name})
    return record

"""The job ledger: every durable job and every periodic run, kept in the desk's database.

The queue (huey) only carries job ids. The ledger row is what makes a job durable: it is written
before the job is queued, claimed with a lease when a worker starts it, deleted when it succeeds and
kept with its error when it fails for good, so a worker killed mid-job loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.db import Base, UTCDateTime, utcnow


class JobState(StrEnum):
    """Where a durable job stands; a job that succeeded has no row any more."""

    QUEUED = "queued"
    RUNNING = "running"
    FAILED = "failed"


class JobRecord(Base):
    """One durable job: which registered job to run, with which JSON arguments, and how it went."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PeriodicRun(Base):
    """The claim of a periodic job: the last time slot taken, so N workers run each slot once."""

    __tablename__ = "periodic_runs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    slot: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")

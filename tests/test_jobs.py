"""Background jobs: the ledger, retries, the failed list, periodic claims, and real worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text, update

from frontdesk import hookimpl
from frontdesk.config import Config
from frontdesk.db import utcnow
from frontdesk.desk import Desk
from frontdesk.errors import NotFound, ValidationError
from frontdesk.jobs import Job, backoff, crontab
from frontdesk.models import JobRecord, JobState, PeriodicRun
from frontdesk.permissions import SYSTEM
from frontdesk.services.jobs import retry_job


class Worklog:
    """A plugin with a job that records its calls, one that fails until told otherwise, and a periodic one."""

    NAME = "worklog"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failing = True

    def record(self, desk: Desk, **arguments: Any) -> None:
        self.calls.append(("record", arguments))

    def flaky(self, desk: Desk, **arguments: Any) -> None:
        self.calls.append(("flaky", arguments))
        if self.failing:
            raise RuntimeError("the mail server said no")

    def tick(self, desk: Desk) -> None:
        self.calls.append(("tick", {}))

    @hookimpl
    def frontdesk_register_jobs(self) -> list[Job]:
        return [
            Job("worklog.record", self.record),
            Job("worklog.flaky", self.flaky, attempts=3),
            Job("worklog.tick", self.tick, schedule=crontab(minute="*/5")),
        ]


@pytest.fixture
def worklog() -> Worklog:
    return Worklog()


@pytest.fixture
def frontdesk_plugins(worklog: Worklog) -> list[Any]:
    return ["webui", worklog]


def ledger(desk: Desk) -> list[tuple[str, str, int]]:
    with desk.db.reading() as session:
        return [(r.name, r.state, r.attempts) for r in session.scalars(select(JobRecord).order_by(JobRecord.id))]


def test_hook_frontdesk_register_jobs_runs_a_plugin_job_and_forgets_it(desk: Desk, worklog: Worklog) -> None:
    job_id = desk.jobs.enqueue("worklog.record", ticket=7)
    assert job_id > 0
    assert worklog.calls == [("record", {"ticket": 7})]
    assert ledger(desk) == [], "a job that succeeded leaves no row behind"


def test_a_job_queued_in_a_transaction_runs_only_if_it_commits(desk: Desk, worklog: Worklog) -> None:
    with pytest.raises(RuntimeError), desk.action(SYSTEM, source="test") as uow:
        uow.enqueue("worklog.record", n=1)
        raise RuntimeError("the action failed")
    assert worklog.calls == []
    with desk.action(SYSTEM, source="test") as uow:
        uow.enqueue("worklog.record", n=2)
        assert worklog.calls == [], "not before commit"
    assert worklog.calls == [("record", {"n": 2})]


def test_unknown_jobs_are_refused(desk: Desk) -> None:
    with pytest.raises(NotFound, match=r"no job named 'worklog\.nope'"):
        desk.jobs.enqueue("worklog.nope")


def test_a_failing_job_is_retried_with_backoff_then_listed_as_failed(desk: Desk, worklog: Worklog, cli: Any) -> None:
    before = utcnow()
    job_id = desk.jobs.enqueue("worklog.flaky", message=3)
    assert ledger(desk) == [("worklog.flaky", "queued", 1)]
    with desk.db.reading() as session:
        record = session.get(JobRecord, job_id)
        assert record is not None
        assert "RuntimeError: the mail server said no" in record.error
        assert record.run_after >= before + backoff(1) - timedelta(seconds=1)
    assert desk.jobs.run(job_id) == "retrying"
    assert desk.jobs.run(job_id) == "failed"
    assert desk.jobs.run(job_id) == "skipped", "a failed job does not run again by itself"
    assert ledger(desk) == [("worklog.flaky", "failed", 3)]
    assert [name for name, _ in worklog.calls] == ["flaky"] * 3

    listed = cli("jobs", "failed").output
    assert "worklog.flaky" in listed
    assert "the mail server said no" in listed
    worklog.failing = False
    assert cli("jobs", "retry", str(job_id)).output.strip() == f"Job #{job_id} is queued again."
    assert ledger(desk) == []
    assert cli("jobs", "failed").output.strip() == "No failed jobs."
    again = cli("jobs", "retry", str(job_id))
    assert (again.exit_code, again.output.strip()) == (1, f"Error: no job #{job_id}")


def test_backoff_grows_and_stays_bounded() -> None:
    delays = [backoff(n) for n in range(1, 8)]
    assert delays == sorted(delays)
    assert delays[0] == timedelta(seconds=10)
    assert delays[-1] == timedelta(minutes=30)


def test_only_failed_jobs_can_be_retried(desk: Desk, worklog: Worklog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(desk.jobs, "send", lambda jobs: None)  # queued, never delivered
    job_id = desk.jobs.enqueue("worklog.record")
    with pytest.raises(ValidationError, match="is queued, not failed"), desk.action(SYSTEM, source="test") as uow:
        retry_job(uow, job_id)


def test_a_job_whose_worker_died_runs_again_after_its_lease(desk: Desk, worklog: Worklog) -> None:
    with desk.db.transaction() as session:
        session.add(
            JobRecord(
                name="worklog.record",
                arguments={"n": 1},
                state=JobState.RUNNING.value,
                attempts=1,
                lease_until=utcnow() + timedelta(minutes=5),
            )
        )
    assert desk.jobs.recover() == 0, "its lease still runs: the worker may be alive"
    assert desk.jobs.run(1) == "skipped"
    with desk.db.transaction() as session:
        session.execute(update(JobRecord).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert desk.jobs.recover() == 1
    assert worklog.calls == [("record", {"n": 1})]
    assert ledger(desk) == []


def test_a_job_whose_queue_message_was_lost_is_queued_again(
    desk: Desk, worklog: Worklog, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(desk.jobs, "send", lambda jobs: None)
        desk.jobs.enqueue("worklog.record", n=5)
    assert desk.jobs.recover() == 0, "just queued: give the queue a moment"
    assert desk.jobs.recover(now=utcnow() + timedelta(minutes=2)) == 1
    assert worklog.calls == [("record", {"n": 5})]


def test_a_job_waiting_in_a_backlog_is_not_sent_twice(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(desk.jobs, "send", lambda jobs: None)
        desk.jobs.enqueue("worklog.record", n=6)
    monkeypatch.setattr(desk.jobs.queue, "pending_count", lambda: 40_000)
    assert desk.jobs.recover(now=utcnow() + timedelta(minutes=2)) == 0, "its message still waits in the queue"


def test_a_job_of_a_plugin_not_loaded_here_fails_with_a_reason(desk: Desk) -> None:
    with desk.db.transaction() as session:
        session.add(JobRecord(name="gone.job", arguments={}))
    assert desk.jobs.run(1) == "failed"
    with desk.db.reading() as session:
        assert "is its plugin disabled?" in session.get(JobRecord, 1).error


def test_a_periodic_job_runs_once_per_time_slot(desk: Desk, worklog: Worklog) -> None:
    now = utcnow().replace(second=5)
    assert desk.jobs.run_periodic("worklog.tick", now=now) == "done"
    assert desk.jobs.run_periodic("worklog.tick", now=now + timedelta(seconds=30)) == "skipped"
    assert desk.jobs.run_periodic("worklog.tick", now=now + timedelta(minutes=5)) == "done"
    assert worklog.calls == [("tick", {}), ("tick", {})]


def test_a_periodic_job_still_running_is_not_started_again(desk: Desk, worklog: Worklog) -> None:
    now = utcnow()
    with desk.db.transaction() as session:
        session.add(
            PeriodicRun(
                name="worklog.tick",
                slot=now - timedelta(minutes=1),
                started_at=now,
                lease_until=now + timedelta(minutes=10),
            )
        )
    assert desk.jobs.run_periodic("worklog.tick", now=now) == "skipped"
    assert desk.jobs.run_periodic("worklog.tick", now=now + timedelta(minutes=11)) == "done", "lease ran out"


def test_a_failed_periodic_run_is_listed_and_can_be_retried(desk: Desk, cli: Any) -> None:
    class Broken:
        @staticmethod
        def boom(desk: Desk) -> None:
            raise OSError("disk full")

    desk.jobs.register([Job("worklog.boom", Broken.boom, schedule=crontab())])
    assert desk.jobs.run_periodic("worklog.boom") == "failed"
    assert ledger(desk) == [("worklog.boom", "failed", 1)]
    assert "OSError: disk full" in cli("jobs", "failed").output


def test_jobs_list_and_run(cli: Any, worklog: Worklog) -> None:
    listed = cli("jobs", "list").output
    for name in ("events.sweep", "jobs.recover", "worklog.record", "worklog.tick"):
        assert name in listed
    assert cli("jobs", "run", "worklog.tick").output.strip() == "worklog.tick: done."
    assert worklog.calls == [("tick", {})]
    refused = cli("jobs", "run", "worklog.record")
    assert (refused.exit_code, refused.output.strip()) == (
        1,
        "Error: 'worklog.record' is not a periodic job; it runs when something queues it",
    )
    assert cli("jobs", "run", "nope").output.strip() == "Error: no job named 'nope'"


def test_registering_a_job_twice_is_an_error(desk: Desk) -> None:
    with pytest.raises(ValueError, match="registered twice"):
        desk.jobs.register([Job("worklog.record", print)])


# --- Real queues and real worker processes ------------------------------------------------------------


@pytest.fixture
def shared_config(desk_config: Config, with_hello: Path) -> Config:
    """The test desk with its real queue: a SQLite file next to the database, or PostgreSQL itself."""
    return replace(desk_config, queue_url=None, strict_plugins=True)


@pytest.fixture
def hello_desk(shared_config: Config) -> Iterator[Desk]:
    from frontdesk import migrate

    with Desk(shared_config, plugins=["webui", "hello"]) as desk:
        migrate.upgrade_all(desk)
        yield desk


@pytest.fixture
def start_worker(
    shared_config: Config, hello_site: Path, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``frontdesk worker`` processes on the test desk; their output goes to ``worker-N.log``."""
    started: list[subprocess.Popen[str]] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env |= {
        "FRONTDESK_INSTANCE": str(shared_config.instance_path),
        "FRONTDESK_DATABASE_URL": shared_config.database_url,
        "FRONTDESK_SECRET_KEY": "test-secret-key",
        "FRONTDESK_LOAD_PLUGINS": "webui,hello",
        "PYTHONPATH": os.pathsep.join([str(hello_site), env.get("PYTHONPATH", "")]),
    }

    def start(*args: str) -> subprocess.Popen[str]:
        with open(tmp_path / f"worker-{len(started)}.log", "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "frontdesk", "worker", *args], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def greetings(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return sorted(connection.scalars(text("SELECT name FROM hello_greetings")))
    finally:
        engine.dispose()


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_two_worker_processes_run_each_job_exactly_once(
    hello_desk: Desk, start_worker: Callable[..., subprocess.Popen[str]], shared_config: Config
) -> None:
    names = [f"guest-{n:03}" for n in range(60)]
    for name in names:
        hello_desk.jobs.enqueue("hello.greet", name=name)
    first, second = start_worker("--workers", "2"), start_worker("--workers", "2")
    wait_for(lambda: len(greetings(shared_config.database_url)) >= len(names))
    time.sleep(1)  # a double run would show up now
    assert greetings(shared_config.database_url) == names
    assert ledger(hello_desk) == []
    assert first.poll() is None, "both workers keep running"
    assert second.poll() is None


def test_a_job_survives_its_worker_being_killed(
    hello_desk: Desk, start_worker: Callable[..., subprocess.Popen[str]], shared_config: Config
) -> None:
    job_id = hello_desk.jobs.enqueue("hello.greet_slowly", name="patient", seconds=30)
    doomed = start_worker("--workers", "1", "--no-periodic")
    wait_for(lambda: ledger(hello_desk) == [("hello.greet_slowly", "running", 1)])
    doomed.kill()  # SIGKILL in the middle of the job
    doomed.wait(timeout=10)
    with hello_desk.db.transaction() as session:  # run quickly this time
        session.execute(update(JobRecord).where(JobRecord.id == job_id).values(arguments={"name": "patient"}))
    start_worker("--workers", "1")
    wait_for(lambda: hello_desk.jobs.recover() > 0, timeout=10)  # the lease (2 s) runs out; recovery re-queues
    wait_for(lambda: greetings(shared_config.database_url) == ["patient"])
    wait_for(lambda: ledger(hello_desk) == [])
    assert greetings(shared_config.database_url) == ["patient"]


def test_the_queue_follows_the_database(desk_config: Config) -> None:
    config = replace(desk_config, queue_url=None)
    expected = config.database_url if config.database_url.startswith("postgresql") else "sqlite:///"
    assert config.queue.startswith(expected)
    with Desk(config, plugins=["webui"]) as desk:
        assert type(desk.jobs.queue).__name__ in ("SqliteHuey", "PostgresHuey")

"""``frontdesk worker`` and ``frontdesk jobs``: run background jobs, and look after the ones that failed."""

from __future__ import annotations

import logging

import click
from sqlalchemy import func, select

from frontdesk.cli.base import CliState, echo_json, echo_table
from frontdesk.models import JobRecord, JobState
from frontdesk.permissions import SYSTEM
from frontdesk.services.jobs import retry_job


@click.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also start periodic jobs (safe on every worker: each time slot runs once).",
)
@click.pass_obj
def worker(state: CliState, workers: int, periodic: bool) -> None:
    """Run background jobs from the queue until stopped (Ctrl+C or SIGTERM finish the running jobs first).

    Start any number of workers, on any machines that share the database and FRONTDESK_QUEUE_URL
    (PostgreSQL); `frontdesk serve --workers 0` then leaves the jobs to them.
    """
    logging.getLogger("huey").setLevel(logging.INFO)
    desk = state.desk
    click.echo(f"Frontdesk worker: {workers} threads, {len(desk.jobs.registered)} jobs known (Ctrl+C stops it).")
    desk.jobs.consumer(workers=workers, periodic=periodic).run()


@click.group()
def jobs() -> None:
    """Background jobs: what is registered, queued and failed; retry or run one by hand."""


@jobs.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(state: CliState, as_json: bool) -> None:
    """Registered jobs with their schedule, and how many of each are queued, running or failed."""
    desk = state.desk
    counts: dict[tuple[str, str], int] = {}
    if desk.db.exists() and desk.db.has_table(JobRecord.__tablename__):
        with desk.db.reading() as session:
            query = select(JobRecord.name, JobRecord.state, func.count()).group_by(JobRecord.name, JobRecord.state)
            counts = {(name, job_state): count for name, job_state, count in session.execute(query)}
    rows = [
        {
            "name": job.name,
            "schedule": "queued" if job.schedule is None else "periodic",
            "attempts": job.attempts,
            **{s.value: counts.get((job.name, s.value), 0) for s in JobState},
        }
        for job in sorted(desk.jobs.registered.values(), key=lambda job: job.name)
    ]
    if as_json:
        echo_json(rows)
    else:
        echo_table(rows, ["name", "schedule", "attempts", *(s.value for s in JobState)])


@jobs.command()
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000), help="Newest N failures.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def failed(state: CliState, limit: int, as_json: bool) -> None:
    """Jobs that failed on every attempt, newest first, with their last error."""
    with state.desk.db.reading() as session:
        records = session.scalars(
            select(JobRecord).where(JobRecord.state == JobState.FAILED).order_by(JobRecord.id.desc()).limit(limit)
        ).all()
        rows = [
            {
                "id": r.id,
                "name": r.name,
                "arguments": r.arguments,
                "attempts": r.attempts,
                "failed_at": r.finished_at.isoformat(timespec="seconds") if r.finished_at else "",
                "error": r.error,
            }
            for r in records
        ]
    if as_json:
        echo_json(rows)
    elif rows:
        echo_table(rows, ["id", "name", "arguments", "attempts", "failed_at", "error"])
    else:
        click.echo("No failed jobs.")


@jobs.command()
@click.argument("job_id", type=int)
@click.pass_obj
def retry(state: CliState, job_id: int) -> None:
    """Queue failed job JOB_ID again (a worker or `frontdesk serve` runs it)."""
    with state.desk.action(SYSTEM, source="cli") as uow:
        retry_job(uow, job_id)
    click.echo(f"Job #{job_id} is queued again.")


@jobs.command()
@click.pass_obj
def recover(state: CliState) -> None:
    """Queue again jobs whose worker died mid-job or whose queue message was lost (also runs every minute)."""
    count = state.desk.jobs.recover()
    click.echo(f"Queued {count} lost job{'s' if count != 1 else ''} again.")


@jobs.command()
@click.argument("name")
@click.pass_obj
def run(state: CliState, name: str) -> None:
    """Run periodic job NAME now, in this process (e.g. after a long outage)."""
    desk = state.desk
    job = desk.jobs.job(name)
    if job.schedule is None:
        raise click.ClickException(f"{name!r} is not a periodic job; it runs when something queues it")
    outcome = desk.jobs.run_periodic(name)
    if outcome == "failed":
        raise click.ClickException(f"{name} failed: see `frontdesk jobs failed`")
    click.echo(f"{name}: {outcome}{' (another worker is running it this minute)' if outcome == 'skipped' else ''}.")

"""The email channel's background jobs: sending queued mail, polling mailboxes every minute."""

from __future__ import annotations

from datetime import timedelta

from frontdesk.jobs import Job, crontab
from frontdesk_email import imap, outbound

JOBS = [
    Job(outbound.SEND_JOB, outbound.send_queued, attempts=outbound.SEND_ATTEMPTS, lease=timedelta(minutes=2)),
    Job("email.poll", imap.poll_job, schedule=crontab(minute="*"), attempts=1, lease=timedelta(minutes=10)),
]

"""The admin console's jobs page: registered background jobs, their counts by state, and retrying failed ones."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from frontdesk.errors import NotFound, ValidationError
from frontdesk.services import jobs as job_service
from frontdesk_webui.admin_base import action, bp, reading


@bp.route("/jobs")
def jobs() -> tuple[str, int]:
    """What runs in the background: each job with its queued/running/failed counts, and the failed list with errors."""
    with reading() as uow:
        html = render_template(
            "admin/jobs.html", summary=job_service.job_summary(uow), failed=job_service.list_failed(uow)
        )
    return html, 200


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
def retry_job(job_id: int) -> Response:
    """Queue a failed job again with a fresh set of attempts (it runs when a worker picks it up)."""
    try:
        with action() as uow:
            name = job_service.retry_job(uow, job_id).name
    except NotFound:
        flash(f"There is no job #{job_id} any more.", "warning")
    except ValidationError as exc:
        flash(" ".join(m for messages in exc.errors.values() for m in messages), "warning")
    else:
        flash(f"Job #{job_id} ({name}) is queued again.", "success")
    return redirect(url_for("admin.jobs"))

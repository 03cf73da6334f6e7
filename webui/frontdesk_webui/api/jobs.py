"""``/api/v1/jobs``: background jobs, the ones that failed, and retrying them (``desk.configure``: admins).

With an API token, retrying needs the ``admin`` scope.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from frontdesk.models import JobState
from frontdesk.services import jobs
from frontdesk_webui.api.auth import SAFE_METHODS, actor, require_actor, require_scope
from frontdesk_webui.context import desk

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Background jobs (admins).")


@blp.before_request
def authorize() -> None:
    """Refuse who may not call before anything is validated: 403 comes before 422."""
    user = require_actor()
    if request.method not in SAFE_METHODS:
        require_scope("admin")
    desk().permissions.require(user, jobs.PERMISSION)


class JobSummarySchema(Schema):
    """A job by name: how it runs and how many of its runs are queued, running or failed."""

    name = fields.String()
    registered = fields.Boolean(metadata={"description": "False: only in the ledger (is its plugin disabled?)"})
    periodic = fields.Boolean(metadata={"description": "Runs on a schedule rather than when queued"})
    attempts = fields.Integer(allow_none=True, metadata={"description": "Tries before a run lands in the failed list"})
    queued = fields.Integer()
    running = fields.Integer()
    failed = fields.Integer()


class FailedListArgs(Schema):
    """How many failures to show, newest first."""

    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class JobSchema(Schema):
    """One run of a job in the ledger."""

    id = fields.Integer()
    name = fields.String()
    state = fields.String(validate=validate.OneOf([state.value for state in JobState]))
    arguments = fields.Dict()
    attempts = fields.Integer()
    error = fields.String(metadata={"description": "The last error (its last line first)"})
    queued_at = fields.DateTime()
    failed_at = fields.DateTime(attribute="finished_at", allow_none=True)


@blp.route("")
class Jobs(MethodView):
    @blp.response(200, JobSummarySchema(many=True))
    def get(self) -> Any:
        """Every job with whether it is periodic and its runs by state (queued, running, failed)."""
        with desk().reading(actor()) as uow:
            return jobs.job_summary(uow)


@blp.route("/failed")
class FailedJobs(MethodView):
    @blp.arguments(FailedListArgs, location="query")
    @blp.response(200, JobSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Runs that failed on every attempt, newest first, with their last error."""
        with desk().reading(actor()) as uow:
            return jobs.list_failed(uow, args["limit"])


@blp.route("/<int:job_id>/retry")
class RetryJob(MethodView):
    @blp.response(202, JobSchema)
    def post(self, job_id: int) -> Any:
        """Queue a failed run again with a fresh set of attempts (422 if it is not failed); a worker runs it."""
        with desk().action(require_actor(), source="api") as uow:
            record = jobs.retry_job(uow, job_id)
        return record, 202  # as queued: a worker may have run it already

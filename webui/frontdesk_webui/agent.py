"""The agent workspace (``/agent``): queues, ticket pages and the dashboard."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

bp = Blueprint("agent", __name__, url_prefix="/agent")


@bp.before_request
@login_required
def staff_only() -> None:
    """Requesters belong in the portal."""
    if not current_user.is_staff:
        abort(403)


@bp.route("/")
def index() -> str:
    return "Agent workspace"

"""In-app notifications (``/notifications``): the bell's count in the header, the list, marking them read."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from frontdesk import notifications
from frontdesk.text import whole_number
from frontdesk_webui.context import desk

bp = Blueprint("notices", __name__, url_prefix="/notifications")
SHOWN = 50


@bp.before_request
@login_required
def signed_in() -> None:
    """Everyone has notifications; only signed-in people see theirs."""


@bp.route("/")
def index() -> str:
    """The newest notifications of the signed-in user, unread first in bold."""
    with desk().reading(current_user._get_current_object()) as uow:
        unread, items = notifications.unread(uow, SHOWN)
        return render_template("notifications.html", unread=unread, items=items)


@bp.route("/read", methods=["POST"])
def read() -> Response:
    """Mark one notification (``id``) or all of them read, then go back to the list or open its ticket."""
    raw = request.form.get("id", "")
    number = whole_number(raw)
    ids = None if number is None else [number]
    with desk().action(current_user._get_current_object(), source="web") as uow:
        count = notifications.mark_read(uow, ids)
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    if ids is None:
        flash(f"{count} notification{'s' if count != 1 else ''} marked read.", "success")
    return redirect(url_for(".index"))


def unread_count() -> int:
    """The signed-in user's unread notifications, for the bell in the header."""
    if not current_user.is_authenticated:
        return 0
    with desk().reading(current_user._get_current_object()) as uow:
        return notifications.unread(uow, 0)[0]

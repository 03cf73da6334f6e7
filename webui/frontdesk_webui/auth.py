"""Signing in and out of the browser session."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from frontdesk.errors import TooManyAttempts
from frontdesk.models import User
from frontdesk.permissions import SYSTEM
from frontdesk.services.sessions import end_all_sessions, sign_in
from frontdesk_webui.context import desk

bp = Blueprint("auth", __name__)


def configure(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to continue."
    manager.session_protection = "strong"

    @manager.user_loader
    def load_user(identity: str) -> User | None:
        user_id, _, epoch = identity.partition(":")
        if not user_id.isdigit() or not epoch.isdigit():
            return None
        with desk().reading(SYSTEM) as uow:
            user = uow.session.get(User, int(user_id))
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        return user

    app.register_blueprint(bp)


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths; anything else could send the user elsewhere after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        try:
            with desk().action(SYSTEM, source="web") as uow:
                user = sign_in(uow, email, request.form.get("password", ""), request.remote_addr)
        except TooManyAttempts as exc:
            response = make_response(render_template("login.html", error=exc.message, email=email), 429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if user is None:
            error = "Wrong e-mail or password."
        else:
            session.clear()  # a fresh session at sign-in: no fixation
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("core.home"))
    return render_template("login.html", error=error, email=email), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere() -> Response:
    """End every session of the current user, on every device."""
    with desk().action(current_user, source="web") as uow:
        end_all_sessions(uow, current_user.id)
    logout_user()
    session.clear()
    flash("You are signed out on every device.")
    return redirect(url_for("auth.login"))

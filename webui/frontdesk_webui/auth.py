"""Signing in and out of the browser session, and signing up when the desk allows it."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from frontdesk.errors import Conflict, TooManyAttempts, ValidationError
from frontdesk.models import User
from frontdesk.permissions import SYSTEM
from frontdesk.services.sessions import end_all_sessions, sign_in
from frontdesk.services.signup import sign_up
from frontdesk.text import whole_number
from frontdesk_webui.context import desk, desk_settings

bp = Blueprint("auth", __name__)


def configure(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to continue."
    manager.session_protection = "strong"

    @manager.user_loader
    def load_user(identity: str) -> User | None:
        user_id, _, epoch = identity.partition(":")
        user_number, epoch_number = whole_number(user_id), whole_number(epoch)
        if user_number is None or epoch_number is None:
            return None
        with desk().reading(SYSTEM) as uow:
            user = uow.session.get(User, user_number)
        if user is None or not user.active or user.session_epoch != epoch_number:
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
    page = render_template("login.html", error=error, email=email, signup=desk_settings().signup_policy().offered)
    return page, (401 if error else 200)


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response | tuple[str, int]:
    """Requesters create their own account when the desk's sign-up policy allows it (admin console)."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    policy = desk_settings().signup_policy()
    if not policy.offered:
        abort(404)
    form = {key: request.form.get(key, "") for key in ("name", "email")}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = {**form, "password": request.form.get("password", "")}
        try:
            with desk().action(SYSTEM, source="web") as uow:
                user = sign_up(uow, data, policy, request.remote_addr)
        except TooManyAttempts as exc:
            response = make_response(
                render_template("signup.html", form=form, errors={}, error=exc.message, policy=policy), 429
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except (ValidationError, Conflict) as exc:
            errors = exc.errors if isinstance(exc, ValidationError) else {"email": [exc.message]}
        else:
            session.clear()
            login_user(user)
            flash("Welcome! Your account is ready: tell us what you need.", "success")
            return redirect(url_for("portal.new"))
    page = render_template("signup.html", form=form, errors=errors, error=None, policy=policy)
    return page, (422 if errors else 200)


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

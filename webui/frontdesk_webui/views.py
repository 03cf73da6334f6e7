"""Core pages of the web layer: home and health."""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from frontdesk import __version__
from frontdesk_webui.context import desk
from frontdesk_webui.errors import CSP

bp = Blueprint("core", __name__)


@bp.route("/")
@login_required
def home() -> Response:
    """Agents and admins work in the agent workspace; requesters use the portal."""
    return redirect(url_for("agent.index" if current_user.is_staff else "portal.index"))


@bp.route("/account")
@login_required
def account() -> str:
    """The signed-in user's account: who they are, and signing out everywhere."""
    return render_template("home.html")


@bp.route("/api/docs")
def api_docs() -> Response:
    """The API reference, rendered by the vendored Swagger UI from ``/api/openapi.json``."""
    response = make_response(render_template("api_docs.html"))
    # Swagger UI sets style attributes; scripts stay locked to our own files.
    response.headers["Content-Security-Policy"] = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    return response


@bp.route("/health")
def health() -> tuple[Response, int]:
    """Liveness for load balancers and admins: version, database reachability, enabled plugins."""
    the_desk = desk()
    try:
        with the_desk.db.reading() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as exc:
        database = f"error: {type(exc).__name__}"
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "version": __version__,
        "database": database,
        "backend": the_desk.db.backend,
        "plugins": the_desk.plugins.enabled,
    }
    return jsonify(body), 200 if database == "ok" else 503

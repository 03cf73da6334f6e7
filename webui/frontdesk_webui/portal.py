"""The requester portal (``/portal``): submit requests, follow them, answer and close them."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.before_request
@login_required
def signed_in() -> None:
    """Every portal page needs a signed-in user."""


@bp.route("/")
def index() -> str:
    return "Requester portal"

"""The admin console's blueprint and the helpers its page modules share.

Every page needs an admin: anonymous visitors are sent to sign in, anyone else gets 403. Writes go
through the services inside ``desk().action(user, source="web")``; forms are CSRF-protected by the
application's ``CSRFProtect``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from frontdesk.models import User
from frontdesk_webui.context import desk

bp = Blueprint("admin", __name__, url_prefix="/admin")

SOURCE = "web"

# The console's sections, in the order of its side navigation: (endpoint, label).
SECTIONS = (
    ("admin.plugins", "Plugins"),
    ("admin.users", "Users"),
    ("admin.groups", "Groups"),
    ("admin.organizations", "Organizations"),
    ("admin.workflow", "Workflow"),
    ("admin.tokens", "API tokens"),
)


@bp.before_request
@login_required
def admins_only() -> None:
    """Every admin page needs a signed-in admin (anonymous visitors are redirected by ``login_required``)."""
    if not current_user.is_admin:
        abort(403)


@bp.context_processor
def admin_helpers() -> dict[str, Any]:
    return {"admin_sections": SECTIONS}


def me() -> User:
    """The signed-in user itself (not Flask-Login's proxy), to act and read with."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def action() -> Any:
    """A service action of the signed-in admin from the web."""
    return desk().action(me(), source=SOURCE)


def reading() -> Any:
    return desk().reading(me())


def text(name: str) -> str:
    return request.form.get(name, "")


def checked(name: str) -> bool:
    """A checkbox: present in the form when ticked."""
    return request.form.get(name) in ("on", "true", "1", "yes")


def number(value: str) -> int | str | None:
    """A number field for a strict Integer schema field: blank → None, digits → int, else the text (refused)."""
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value

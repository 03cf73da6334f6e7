"""The admin console's blueprint and the helpers its page modules share.

Every page needs an admin: anonymous visitors are sent to sign in, anyone else gets 403. Writes go
through the services inside ``desk().action(user, source="web")``; forms are CSRF-protected by the
application's ``CSRFProtect``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from frontdesk.errors import Conflict, ValidationError
from frontdesk.models import User
from frontdesk_webui.context import desk

bp = Blueprint("admin", __name__, url_prefix="/admin")
T = TypeVar("T")

SOURCE = "web"
CONFIRM_PAGE = "admin/confirm.html"  # the shared question, within the console's navigation

# The console's sections, in the order of its side navigation: (endpoint, label).
SECTIONS = (
    ("admin.plugins", "Plugins"),
    ("admin.users", "Users"),
    ("admin.groups", "Groups"),
    ("admin.organizations", "Organizations"),
    ("admin.workflow", "Workflow"),
    ("admin.automation", "Automation"),
    ("admin.macros", "Shared macros"),
    ("admin.notifications_page", "Notifications"),
    ("admin.tokens", "API tokens"),
    ("admin.jobs", "Jobs"),
    ("admin.desk_settings_page", "Desk settings"),
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


class Refused(Exception):
    """A service refused a submitted form; ``page`` is the form shown again with the reasons."""

    def __init__(self, page: tuple[str, int]) -> None:
        super().__init__("form refused")
        self.page = page


@bp.errorhandler(Refused)
def show_refused_form(exc: Refused) -> tuple[str, int]:
    return exc.page


def submit(work: Callable[[Any], T], again: Callable[..., tuple[str, int]], form: dict[str, Any]) -> T:
    """Run one service action for a form; if refused, raise :class:`Refused` carrying ``again(form, ...)``.

    Validation errors come back next to their fields (422), conflicts as an alert (409), typed values kept.
    """
    try:
        with action() as uow:
            return work(uow)
    except ValidationError as exc:
        raise Refused(again(form, exc.errors, status=422)) from None
    except Conflict as exc:
        raise Refused(again(form, conflict=exc.message, status=409)) from None


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

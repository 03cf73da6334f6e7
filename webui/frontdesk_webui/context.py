"""Access to the desk behind the current Flask application."""

from __future__ import annotations

from flask import current_app

from frontdesk.desk import Desk
from frontdesk_webui.desk_settings import SettingsCache


def desk() -> Desk:
    """The desk the current application serves."""
    return current_app.extensions["frontdesk"]


def desk_settings() -> SettingsCache:
    """The desk's settings (name, sign-up policy) as this process last read them."""
    return current_app.extensions["frontdesk_settings"]

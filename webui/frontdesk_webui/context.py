"""Access to the desk behind the current Flask application."""

from __future__ import annotations

from flask import current_app

from frontdesk.desk import Desk


def desk() -> Desk:
    """The desk the current application serves."""
    return current_app.extensions["frontdesk"]

"""The plugin's two blueprints, both named ``email``: pages under ``/email``, the API under ``/api/v1/email``.

View modules attach their routes to these; ``plugin.frontdesk_register_blueprints`` imports them.
"""

from __future__ import annotations

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

pages = Blueprint("email", __name__, url_prefix="/email", template_folder="templates")
api = ApiBlueprint("email", __name__, url_prefix="/api/v1/email", description="Mailboxes, inbound mail and the outbox.")

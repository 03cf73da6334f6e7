"""Automation: triggers on events, time rules on a schedule, macros applied by agents, and their jobs.

Rules are data (``frontdesk.models.Rule``) validated by :mod:`frontdesk.automation.rules`; the engine
(:mod:`frontdesk.automation.engine`) evaluates them with condition fields and action types that
plugins extend through ``frontdesk_automation_fields`` and ``frontdesk_automation_actions``.
"""

from __future__ import annotations

import urllib.request
from typing import TYPE_CHECKING

from frontdesk import notifications
from frontdesk.automation.actions import ActionContext, ActionType
from frontdesk.automation.conditions import Context, Field
from frontdesk.automation.engine import Automation
from frontdesk.automation.time_rules import run_time_rules
from frontdesk.jobs import Job, crontab

if TYPE_CHECKING:
    from frontdesk.desk import Desk

WEBHOOK_TIMEOUT = 10  # seconds


def call_webhook(desk: Desk, url: str, body: str) -> None:
    """The background job behind the webhook action: POST the rendered JSON body; errors are retried."""
    request = urllib.request.Request(  # noqa: S310 (the rule's schema allows http and https only)
        url, data=body.encode(), headers={"Content-Type": "application/json", "User-Agent": "Frontdesk"}
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # noqa: S310
        response.read(1024)


def _time_rules(desk: Desk) -> None:
    run_time_rules(desk)


AUTOMATION_JOBS = (
    Job("automation.time_rules", _time_rules, schedule=crontab(minute="*/5"), attempts=1),
    Job("automation.webhook", call_webhook, attempts=5),
    Job("notifications.deliver", notifications.deliver, attempts=5),
)

__all__ = ["AUTOMATION_JOBS", "ActionContext", "ActionType", "Automation", "Context", "Field", "run_time_rules"]

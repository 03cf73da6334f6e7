"""The SLA plugin's tests load the web layer and the plugin."""

from __future__ import annotations

from typing import Any

import pytest
from frontdesk_sla import services

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM


@pytest.fixture
def frontdesk_plugins() -> list[Any]:
    return ["webui", "sla"]


OFFICE = {
    "name": "Office",
    "timezone": "Europe/Berlin",
    "hours": ["mon-fri 08:00-12:00,13:00-17:00"],
    "holidays": ["DE-BY"],
}


def target(priority: str, metric: str, minutes: float, business: bool = True) -> dict[str, Any]:
    return {"priority": priority, "metric": metric, "minutes": minutes, "business": business}


@pytest.fixture
def office() -> dict[str, Any]:
    """The definition of an office calendar in Bavaria."""
    return dict(OFFICE)


@pytest.fixture
def standard_policies(desk: Desk) -> None:
    """An office calendar, a 24x7 policy for urgent tickets and a business-hours default."""
    with desk.action(SYSTEM, source="test") as uow:
        services.save_calendar(uow, OFFICE)
        services.save_policy(
            uow,
            {
                "name": "Round the clock",
                "conditions": {"tags": ["vip"]},
                "targets": [target("normal", "first_response", 30, business=False)],
            },
        )
        services.save_policy(
            uow,
            {
                "name": "Standard",
                "calendar": "Office",
                "targets": [
                    target(p, m, minutes, business=False)
                    for p, m, minutes in [
                        ("normal", "first_response", 480),
                        ("normal", "resolution", 2880),
                        ("normal", "next_response", 240),
                        ("urgent", "first_response", 60),
                        ("urgent", "resolution", 240),
                    ]
                ],
            },
        )

"""Every test of the plugin loads the web layer and the assets plugin."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM


@pytest.fixture
def frontdesk_plugins() -> list[str]:
    return ["webui", "assets"]


@pytest.fixture
def as_system(desk: Desk) -> Any:
    """``with as_system() as uow:`` runs services as the desk itself (the CLI operator)."""
    return lambda: desk.action(SYSTEM, source="test")

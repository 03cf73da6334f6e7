"""The email plugin's tests load the web layer and this plugin."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def frontdesk_plugins() -> list[Any]:
    return ["webui", "email"]

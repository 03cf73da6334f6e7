"""Repository-wide test setup: the core's pytest plugin provides the fixtures; here we pick the plugins."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def frontdesk_plugins() -> list[Any]:
    """Core and web tests load the web layer and nothing else installed."""
    return ["webui"]

"""Small value types that hooks return to the core."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation; ``endpoint`` is a Flask endpoint name or a URL path."""

    label: str
    endpoint: str
    weight: int = 100
    permission: str | None = None
    icon: str | None = None
    staff_only: bool = False

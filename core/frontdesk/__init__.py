"""Frontdesk: a plugin-based help desk and service desk engine."""

import pluggy

__version__ = "0.1.0"

hookspec = pluggy.HookspecMarker("frontdesk")
hookimpl = pluggy.HookimplMarker("frontdesk")

__all__ = ["__version__", "hookimpl", "hookspec"]

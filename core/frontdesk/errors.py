"""Errors raised by services and the plugin platform; entry points turn them into 4xx answers or CLI lines."""

from __future__ import annotations


class FrontdeskError(Exception):
    """Base of every expected error: its message is meant for the person who caused it."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(FrontdeskError):
    """Input was rejected; ``errors`` maps each field name to its messages."""

    code = "invalid"

    def __init__(self, errors: dict[str, list[str]], message: str | None = None) -> None:
        self.errors = errors
        if message is None:
            message = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in sorted(errors.items()))
        super().__init__(message)


class NotFound(FrontdeskError):
    """The object does not exist, or the actor may not know that it exists."""

    code = "not_found"


class PermissionDenied(FrontdeskError):
    """The actor lacks the permission the action needs."""

    code = "forbidden"


class Conflict(FrontdeskError):
    """The action clashes with the current state (a duplicate, a stale version)."""

    code = "conflict"


class TooLarge(FrontdeskError):
    """An upload is bigger than the desk accepts (or brings too many files)."""

    code = "too_large"
    http_status = 413


class ConfigError(FrontdeskError):
    """The configuration (environment variables, instance folder) is unusable."""

    code = "config_error"


class PluginError(FrontdeskError):
    """A plugin could not be loaded, enabled or disabled."""

    code = "plugin_error"


class TooManyAttempts(FrontdeskError):
    """Too many failed sign-ins: refused until ``retry_after`` seconds have passed."""

    code = "too_many_attempts"
    http_status = 429  # the web layer answers 429 with a Retry-After header

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        if message is None:
            minutes = -(-self.retry_after // 60)
            unit = "minute" if minutes == 1 else "minutes"
            message = f"Too many failed sign-ins for this account from your address; try again in {minutes} {unit}."
        super().__init__(message)

"""The desk's own settings (name, sign-up policy): the web layer's plugin settings, read at most once a second.

They are edited like any plugin's settings (admin console "Desk settings", ``frontdesk plugins set webui
KEY VALUE``); pages read them from a per-process copy refreshed once a second, so no page pays a query.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services.plugins import get_settings
from frontdesk.services.signup import SignupPolicy

REFRESH_SECONDS = 1.0
DOMAIN = r"^@?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"


class DeskSettings(Schema):
    """What admins set for the whole desk."""

    desk_name = fields.String(
        load_default="Frontdesk",
        validate=validate.Length(min=1, max=80),
        metadata={"description": "Shown in the header, page titles and notifications."},
    )
    signup = fields.String(
        load_default="closed",
        validate=validate.OneOf(["closed", "open", "domains"]),
        metadata={
            "description": "Who may create a requester account on the sign-in page: nobody, anyone, "
            "or people with an address of the domains below."
        },
    )
    signup_domains = fields.String(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"description": "Comma-separated, e.g. example.com, example.org (for the 'domains' policy)."},
    )

    @validates("signup_domains")
    def domains_are_domains(self, value: str, **_: Any) -> None:
        """Each entry must look like a domain name."""
        bad = [d for d in split(value) if not re.match(DOMAIN, d)]
        if bad:
            raise ValidationError(f"not a domain: {', '.join(bad)}")


def split(raw: str) -> list[str]:
    """Comma-separated domains, trimmed, lower case, without a leading @."""
    return [part.strip().lower().lstrip("@") for part in raw.split(",") if part.strip().lstrip("@")]


class SettingsCache:
    """The desk settings of this process, re-read when older than a second."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._values: dict[str, Any] | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def current(self) -> dict[str, Any]:
        """The settings as they were at most a second ago."""
        with self._lock:
            if self._values is None or time.monotonic() - self._read_at >= REFRESH_SECONDS:
                if "webui" in self.desk.plugins.enabled:
                    with self.desk.reading(SYSTEM) as uow:
                        self._values = get_settings(uow, "webui")
                else:  # an application built for a desk that did not load the web layer's plugin (tests)
                    self._values = DeskSettings().load({})
                self._read_at = time.monotonic()
            return self._values

    def forget(self) -> None:
        """Read them again next time (this process just changed them)."""
        with self._lock:
            self._values = None

    def signup_policy(self) -> SignupPolicy:
        """The sign-up policy the settings describe."""
        values = self.current()
        return SignupPolicy(values["signup"], tuple(split(values["signup_domains"])))

"""The desk's configuration: environment variables over defaults, with the instance folder holding local state."""

from __future__ import annotations

import math
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from sqlalchemy.engine import make_url

from frontdesk.errors import ConfigError
from frontdesk.text import whole_number

ENV_PREFIX = "FRONTDESK_"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)
ATTACHMENTS_FOLDER = "attachments"
QUEUE_FILE = "queue.db"
MIB = 1024 * 1024
DEFAULT_MAX_ATTACHMENT_BYTES = 25 * MIB
DEFAULT_RETENTION_DAYS = 90


def _env_list(name: str) -> tuple[str, ...] | None:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None:
        return None
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _env_flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_count(name: str, default: int = 0) -> int:
    """A whole number of zero or more."""
    raw = os.environ.get(ENV_PREFIX + name, "").strip()
    if not raw:
        return default
    value = whole_number(raw)
    if value is None:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, not {raw!r}")
    return value


def _env_path(name: str) -> Path | None:
    raw = os.environ.get(ENV_PREFIX + name)
    return Path(raw).resolve() if raw and raw.strip() else None


def _env_megabytes(name: str, default: int) -> int:
    """A size given in MiB (decimals allowed), as bytes."""
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or not raw.strip():
        return default
    try:
        megabytes = float(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a number of megabytes, not {raw!r}") from None
    if not (megabytes > 0 and math.isfinite(megabytes)):
        raise ConfigError(f"{ENV_PREFIX}{name} must be more than 0, not {raw!r}")
    return int(megabytes * MIB)


@dataclass(frozen=True)
class Config:
    """Everything the desk needs to start; built by :meth:`from_env` and passed around, never global.

    ``load_plugins`` is an allow-list of plugin names (``None`` means every installed plugin);
    ``disable_plugins`` blocks plugins for this process whatever the database says.
    ``attachments_path`` None means ``<instance>/attachments`` (see :attr:`attachments_root`).
    ``trusted_proxies`` is how many reverse proxies (TLS terminators) stand in front of the desk;
    their ``X-Forwarded-*`` headers are believed, so cookies are ``Secure`` behind HTTPS.
    ``queue_url`` None means the job queue lives next to the database (see :attr:`queue`).
    ``retention_days``: delivered events, the automation log and read notifications older than this
    are deleted nightly (0 keeps them forever).
    """

    instance_path: Path
    database_url: str
    secret_key: str | None = field(default=None, repr=False)
    strict_plugins: bool = False
    load_plugins: tuple[str, ...] | None = None
    disable_plugins: tuple[str, ...] = ()
    debug: bool = False
    attachments_path: Path | None = None
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    max_attachments_per_comment: int = 20
    trusted_proxies: int = 0
    queue_url: str | None = None
    retention_days: int = DEFAULT_RETENTION_DAYS

    @classmethod
    def from_env(cls, instance_path: str | Path | None = None, **overrides: object) -> Config:
        """Read ``FRONTDESK_*`` variables; ``overrides`` win over them (tests and the CLI use this)."""
        instance = Path(instance_path or os.environ.get(ENV_PREFIX + "INSTANCE", "instance")).resolve()
        database_url = os.environ.get(ENV_PREFIX + "DATABASE_URL") or f"sqlite:///{instance / 'frontdesk.db'}"
        secret_key = os.environ.get(ENV_PREFIX + "SECRET_KEY") or _read_secret_key(instance)
        config = cls(
            instance_path=instance,
            database_url=database_url,
            secret_key=secret_key,
            strict_plugins=_env_flag("STRICT_PLUGINS"),
            load_plugins=_env_list("LOAD_PLUGINS"),
            disable_plugins=_env_list("DISABLE_PLUGINS") or (),
            debug=_env_flag("DEBUG"),
            attachments_path=_env_path("ATTACHMENTS_PATH"),
            max_attachment_bytes=_env_megabytes("MAX_ATTACHMENT_MB", DEFAULT_MAX_ATTACHMENT_BYTES),
            trusted_proxies=_env_count("TRUSTED_PROXIES"),
            queue_url=os.environ.get(ENV_PREFIX + "QUEUE_URL") or None,
            retention_days=_env_count("RETENTION_DAYS", DEFAULT_RETENTION_DAYS),
        )
        return replace(config, **overrides) if overrides else config

    @property
    def attachments_root(self) -> Path:
        """The folder attachment files are stored in."""
        return Path(self.attachments_path or Path(self.instance_path) / ATTACHMENTS_FOLDER)

    @property
    def queue(self) -> str:
        """Where jobs are queued: ``sqlite:///<instance>/queue.db`` beside a SQLite database (a separate
        file, so queue traffic never waits on the desk's write lock), the desk's own PostgreSQL database
        otherwise, or ``memory://`` (jobs run at once, in the caller's thread: tests)."""
        if self.queue_url:
            return self.queue_url
        if make_url(self.database_url).get_backend_name() == "postgresql":
            return self.database_url
        return f"sqlite:///{Path(self.instance_path) / QUEUE_FILE}"

    def masked(self) -> dict[str, str]:
        """The configuration as strings for display, with passwords and keys hidden."""
        shown: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "secret_key":
                value = "(set)" if value else "(not set: run `frontdesk init`)"
            elif f.name in ("database_url", "queue_url"):
                value = make_url(self.queue if f.name == "queue_url" else value).render_as_string(hide_password=True)
            elif f.name == "attachments_path":
                value = self.attachments_root
            elif isinstance(value, tuple):
                value = ",".join(value) or "(none)"
            elif value is None:
                value = "(all)"
            shown[f.name] = str(value)
        return shown


def _read_secret_key(instance: Path) -> str | None:
    path = instance / SECRET_KEY_FILE
    return path.read_text().strip() if path.exists() else None


def ensure_secret_key(instance: Path) -> tuple[str, bool]:
    """Create the instance folder and a random secret key file unless one exists; return (key, created)."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip(), False
    path.touch(mode=0o600)
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    return key, True

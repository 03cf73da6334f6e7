"""Configuration from the environment, masking, and the secret key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from frontdesk.config import Config, ensure_secret_key


def test_defaults_put_sqlite_in_the_instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "SECRET_KEY", "LOAD_PLUGINS", "DISABLE_PLUGINS", "STRICT_PLUGINS", "INSTANCE"):
        monkeypatch.delenv(f"FRONTDESK_{name}", raising=False)
    config = Config.from_env(tmp_path / "inst")
    assert config.database_url == f"sqlite:///{tmp_path / 'inst' / 'frontdesk.db'}"
    assert config.secret_key is None
    assert config.load_plugins is None
    assert config.disable_plugins == ()


def test_environment_variables_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_DATABASE_URL", "postgresql+psycopg://desk:hunter2@db.example/desk")
    monkeypatch.setenv("FRONTDESK_LOAD_PLUGINS", "webui, sla")
    monkeypatch.setenv("FRONTDESK_DISABLE_PLUGINS", "email")
    monkeypatch.setenv("FRONTDESK_STRICT_PLUGINS", "yes")
    config = Config.from_env(tmp_path)
    assert config.load_plugins == ("webui", "sla")
    assert config.disable_plugins == ("email",)
    assert config.strict_plugins is True
    masked = config.masked()
    assert "hunter2" not in masked["database_url"]
    assert masked["database_url"] == "postgresql+psycopg://desk:***@db.example/desk"


def test_secret_key_is_created_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRONTDESK_SECRET_KEY", raising=False)
    key, created = ensure_secret_key(tmp_path / "inst")
    assert created
    assert len(key) > 40
    assert ensure_secret_key(tmp_path / "inst") == (key, False)
    mode = stat.S_IMODE((tmp_path / "inst" / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert Config.from_env(tmp_path / "inst").secret_key == key
    assert Config.from_env(tmp_path / "inst").masked()["secret_key"] == "(set)"


def test_a_bad_setting_stops_the_cli_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from frontdesk.cli import main

    monkeypatch.setenv("FRONTDESK_MAX_ATTACHMENT_MB", "lots")
    with pytest.raises(SystemExit) as stopped:
        main()
    assert str(stopped.value) == "Error: FRONTDESK_MAX_ATTACHMENT_MB must be a number of megabytes, not 'lots'"

"""Enabling, disabling and configuring plugins through the service layer, and the registration hooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from marshmallow import Schema, fields
from sqlalchemy import select

from frontdesk import hookimpl
from frontdesk.desk import Desk
from frontdesk.errors import PermissionDenied, PluginError, ValidationError
from frontdesk.models import PluginSetting, PluginState
from frontdesk.permissions import SYSTEM, Permission
from frontdesk.plugins import PluginStatus
from frontdesk.services import people
from frontdesk.services import plugins as plugin_service
from frontdesk.services import tickets as tickets_service


class TunableSettings(Schema):
    colour = fields.String(load_default="blue")
    retries = fields.Integer(load_default=3)


class Tunable:
    NAME = "tunable"

    @hookimpl
    def frontdesk_register_settings(self) -> type[Schema]:
        return TunableSettings

    @hookimpl
    def frontdesk_register_permissions(self) -> list[Permission]:
        return [Permission("tunable.tune", "Tune things", roles=frozenset({"agent"}))]

    @hookimpl
    def frontdesk_register_commands(self, cli: click.Group) -> None:
        @cli.group("tunable")
        def group() -> None:
            """Tune things."""

        @group.command()
        def ping() -> None:
            """Answer pong."""
            click.echo("pong")


class Dependent:
    NAME = "dependent"
    REQUIRES = ("tunable",)


@pytest.fixture
def frontdesk_plugins() -> list[Any]:
    return ["webui", Tunable(), Dependent()]


def test_hook_frontdesk_register_settings_defaults_and_stored_values(desk: Desk) -> None:
    with desk.reading(SYSTEM) as uow:
        assert plugin_service.get_settings(uow, "tunable") == {"colour": "blue", "retries": 3}
    with desk.action(SYSTEM, source="test") as uow:
        assert plugin_service.set_setting(uow, "tunable", "retries", "5") == 5
    with desk.reading(SYSTEM) as uow:
        assert plugin_service.get_settings(uow, "tunable") == {"colour": "blue", "retries": 5}
        assert plugin_service.get_settings(uow, "webui") == {
            "desk_name": "Frontdesk",
            "signup": "closed",
            "signup_domains": "",
        }


def test_settings_are_validated(desk: Desk) -> None:
    with (
        pytest.raises(ValidationError, match=r"retries: Not a valid integer\."),
        desk.action(SYSTEM, source="t") as uow,
    ):
        plugin_service.set_setting(uow, "tunable", "retries", "many")
    unknown = r"has no setting 'size' \(settings: colour, retries\)"
    with pytest.raises(ValidationError, match=unknown), desk.action(SYSTEM, source="test") as uow:
        plugin_service.set_setting(uow, "tunable", "size", "XL")
    with desk.db.reading() as session:
        assert session.scalars(select(PluginSetting)).all() == []


def test_only_admins_change_plugins(desk: Desk, make_user: Any) -> None:
    agent = make_user(role="agent")
    with pytest.raises(PermissionDenied), desk.action(agent, source="test") as uow:
        plugin_service.set_setting(uow, "tunable", "colour", "red")
    with pytest.raises(PermissionDenied), desk.action(agent, source="test") as uow:
        plugin_service.record_decision(uow, "tunable", False)


def test_hook_frontdesk_register_permissions_maps_roles(desk: Desk, make_user: Any) -> None:
    agent, requester, admin = make_user(role="agent"), make_user(), make_user(role="admin")
    assert "tunable.tune" in desk.permissions
    assert desk.permissions.can(agent, "tunable.tune")
    assert not desk.permissions.can(requester, "tunable.tune")
    assert desk.permissions.can(admin, "tunable.tune")
    assert not desk.permissions.can(None, "tunable.tune")
    with pytest.raises(KeyError, match="unknown permission"):
        desk.permissions.can(admin, "tunable.typo")


def test_hook_frontdesk_register_commands_adds_a_plugin_group(cli: Any) -> None:
    assert cli("tunable", "ping").output == "pong\n"
    assert "tunable" in cli("--help").output


def test_disable_and_enable_round_trip(desk: Desk) -> None:
    with pytest.raises(PluginError, match="required by dependent; disable those first"):
        plugin_service.disable_plugin(desk, SYSTEM, "tunable")
    plugin_service.disable_plugin(desk, SYSTEM, "dependent")
    with desk.reload() as fresh:
        assert fresh.plugins.get("dependent").status is PluginStatus.DISABLED
        info = plugin_service.enable_plugin(fresh, SYSTEM, "dependent")
    assert info.status is PluginStatus.ENABLED
    with desk.reload() as fresh:
        assert fresh.plugins.get("dependent").status is PluginStatus.ENABLED


def test_enabling_a_plugin_whose_requirement_is_disabled_changes_nothing(desk: Desk) -> None:
    plugin_service.disable_plugin(desk, SYSTEM, "dependent")
    with desk.reload() as fresh:
        plugin_service.disable_plugin(fresh, SYSTEM, "tunable")
    with desk.reload() as fresh, pytest.raises(PluginError, match="requires 'tunable'"):
        plugin_service.enable_plugin(fresh, SYSTEM, "dependent")
    with desk.db.reading() as session:
        assert session.get(PluginState, "dependent").enabled is False


class BrokenMigrations:
    NAME = "brokenmig"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def frontdesk_register_migrations(self) -> Path:
        return self.folder


def test_a_plugin_whose_migration_fails_is_left_disabled(desk_config: Any, tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "0001_bad.py").write_text(
        'revision = "0001"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n'
        "def upgrade():\n    raise RuntimeError('migration bug')\n\ndef downgrade():\n    pass\n"
    )
    with Desk(desk_config, plugins=["webui", BrokenMigrations(versions)]) as desk:
        plugin_service.disable_plugin(desk, SYSTEM, "brokenmig")
        with desk.reload() as fresh, pytest.raises(RuntimeError, match="migration bug"):
            plugin_service.enable_plugin(fresh, SYSTEM, "brokenmig")
        with desk.reload() as fresh:
            assert fresh.plugins.get("brokenmig").status is PluginStatus.DISABLED


class Visible:
    """A plugin with a nav entry, a ticket panel, a page and an event listener."""

    NAME = "visible"

    def __init__(self) -> None:
        self.events: list[str] = []

    @hookimpl
    def frontdesk_nav_items(self, user: Any) -> list[Any]:
        from frontdesk.plugins import NavItem

        return [NavItem("Visible page", "/visible/")]

    @hookimpl
    def frontdesk_register_blueprints(self) -> list[Any]:
        from flask import Blueprint

        bp = Blueprint("visible", __name__, url_prefix="/visible")
        bp.add_url_rule("/", "index", lambda: "visible page")
        return [bp]

    @hookimpl
    def frontdesk_ticket_created(self, event: Any) -> None:
        self.events.append(event.name)


def test_a_plugin_disabled_while_running_vanishes_at_once_and_returns(desk_config: Any, make_user: Any) -> None:
    plugin = Visible()
    with Desk(desk_config, plugins=["webui", plugin]) as desk:
        app = desk.plugins.calls.first("frontdesk_make_wsgi_app", desk=desk)
        app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
        with desk.action(SYSTEM, source="test") as uow:
            people.create_user(
                uow, {"email": "boss@example.com", "name": "Boss", "role": "admin", "password": "password123"}
            )
        client = app.test_client()
        client.post("/login", data={"email": "boss@example.com", "password": "password123"})
        assert "Visible page" in client.get("/account").text
        assert client.get("/visible/").text == "visible page"

        plugin_service.disable_plugin(desk, SYSTEM, "visible")
        assert "Visible page" not in client.get("/account").text
        assert client.get("/visible/").status_code == 404
        with desk.action(SYSTEM, source="test") as uow:
            tickets_service.create_ticket(uow, {"subject": "Quiet", "requester": "r@example.com"})
        assert plugin.events == [], "a disabled plugin hears no events"

        plugin_service.enable_plugin(desk, SYSTEM, "visible")
        assert "Visible page" in client.get("/account").text
        with desk.action(SYSTEM, source="test") as uow:
            tickets_service.create_ticket(uow, {"subject": "Loud", "requester": "r@example.com"})
        assert plugin.events == ["ticket.created"]

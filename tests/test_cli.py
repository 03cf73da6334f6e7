"""The ``frontdesk`` command line: every command documented, errors as one line with the right exit code."""

from __future__ import annotations

import json
import re
from typing import Any

import click
import pytest

from frontdesk import hookimpl
from frontdesk.cli import CliState, make_cli


def walk(command: click.Command, ctx: click.Context, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            found += walk(sub, ctx, (*path, name))
    return found


def test_every_command_has_help(cli: Any, desk_config: Any, request: pytest.FixtureRequest) -> None:
    root = make_cli()
    state = CliState(desk_config, plugins=["webui"])
    request.addfinalizer(state.reset)
    ctx = click.Context(root, obj=state)
    paths = walk(root, ctx)
    assert ("serve",) in paths
    assert ("plugins", "enable") in paths
    for path in paths:
        result = cli(*path, "--help")
        assert result.exit_code == 0, path
        assert "Usage: " in result.output
        command = root
        for name in path:
            command = command.get_command(ctx, name)  # type: ignore[attr-defined]
        assert command.help, f"`frontdesk {' '.join(path)}` has no help text"


def test_init_creates_the_first_admin_once(cli: Any) -> None:
    result = cli("init", "--admin-email", "Boss@Example.com", "--admin-password", "s3cret-pass")
    assert result.exit_code == 0
    assert "Created admin boss@example.com." in result.output
    again = cli("init")
    assert "An admin exists already." in again.output
    assert "Database is up to date." in again.output


def test_init_without_an_admin_and_no_terminal_explains_what_to_do(cli: Any) -> None:
    result = cli("init")
    assert result.exit_code == 0
    assert "No admin yet: run `frontdesk init --admin-email E --admin-password P`." in result.output


def test_people_commands(cli: Any) -> None:
    assert cli("group", "create", "Support", "--description", "First line").exit_code == 0
    assert cli("org", "create", "ACME", "--shared").exit_code == 0
    result = cli(
        "user", "create", "--email", "agent@example.com", "--name", "Ann", "--role", "agent", "--group", "support"
    )
    assert result.exit_code == 0, result.output
    assert cli("user", "create", "--email", "req@example.com", "--name", "Rob", "--organization", "acme").exit_code == 0
    assert cli("user", "create", "--email", "lead@example.com", "--name", "Lee", "--role", "admin").exit_code == 0
    assert cli("group", "add-member", "Support", "lead@example.com").exit_code == 0
    users = {u["email"]: u for u in json.loads(cli("user", "list", "--json").output)}
    assert users["agent@example.com"]["groups"] == ["Support"]
    assert users["req@example.com"]["organization"] == "ACME"
    groups = json.loads(cli("group", "list", "--json").output)
    assert groups[0]["members"] == ["agent@example.com", "lead@example.com"]
    table = cli("group", "list").output.splitlines()
    assert table[0].split() == ["NAME", "DESCRIPTION", "MEMBERS"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "create", "--email", "nope", "--name", "N"), "Error: email: Not a valid email address."),
        (("user", "create", "--email", "a@example.com", "--name", " "), "Error: name: Must not be blank."),
        (
            ("user", "create", "--email", "a@example.com", "--name", "A", "--password", "short"),
            "Error: password: Between 8 and 1024 characters.",
        ),
        (
            ("user", "create", "--email", "a@example.com", "--name", "A", "--role", "agent", "--group", "Ghosts"),
            "Error: groups: no group named 'Ghosts'",
        ),
        (
            ("user", "create", "--email", "a@example.com", "--name", "A", "--group", "Support"),
            "Error: groups: requesters cannot be members of groups",
        ),
        (("group", "add-member", "Nowhere", "x@example.com"), "Error: no group named 'Nowhere'"),
        (("group", "create", "support"), "Error: a group named 'support' already exists"),
        (("plugins", "info", "nope"), "Error: no plugin named 'nope' is installed"),
        (("plugins", "disable", "webui"), "Error: plugin 'webui' is essential to the desk and cannot be disabled"),
        (("plugins", "enable", "webui"), "Error: plugin 'webui' is already enabled"),
        (
            ("db", "history", "--plugin", "nope"),
            "Error: no migrations named 'nope' (the core or an enabled plugin with migrations)",
        ),
    ],
)
def test_errors_are_one_line_with_exit_code_1(cli: Any, args: tuple[str, ...], message: str) -> None:
    cli("group", "create", "Support")
    result = cli(*args)
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_duplicate_users_are_refused(cli: Any) -> None:
    cli("user", "create", "--email", "a@example.com", "--name", "A")
    result = cli("user", "create", "--email", "A@EXAMPLE.COM", "--name", "Again")
    assert (result.exit_code, result.output.strip()) == (1, "Error: a user with e-mail 'a@example.com' already exists")


def test_usage_errors_exit_with_2(cli: Any) -> None:
    result = cli("user", "create", "--name", "No Mail")
    assert result.exit_code == 2
    assert "Missing option '--email'" in result.output
    assert cli("no-such-command").exit_code == 2


def test_unexpected_errors_are_one_line_too(desk_config: Any) -> None:
    class Faulty:
        NAME = "faulty"

        @hookimpl
        def frontdesk_register_commands(self, cli: click.Group) -> None:
            @cli.command("explode")
            def explode() -> None:
                """Fail unexpectedly."""
                raise ZeroDivisionError("division by zero")

    from click.testing import CliRunner

    state = CliState(desk_config, plugins=[Faulty()])
    result = CliRunner().invoke(make_cli(), ["explode"], obj=state)
    state.reset()
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: ZeroDivisionError: division by zero (FRONTDESK_DEBUG=1 shows the traceback)"
    )


def test_config_masks_secrets(cli: Any) -> None:
    output = cli("config").output
    assert "test-secret-key" not in output
    assert re.search(r"^secret_key\s+\(set\)$", output, re.MULTILINE)
    assert json.loads(cli("config", "--json").output)["strict_plugins"] == "True"


def test_db_current_and_history(cli: Any) -> None:
    current = cli("db", "current").output.splitlines()
    assert current[1].split()[:3] == ["core", "0008", "0008"]
    assert "up to date" in current[1]
    assert cli("db", "history").output.splitlines() == [
        "0008  a revision token for the ticket catalog, changed by triggers",
        "0007  an index on the history's event, so old events can be pruned",
        "0006  saved views and the group queue index",
        "0005  jobs, automation, notifications and escalation levels",
        "0004  case-insensitive look-ups of users and organizations by index",
        "0003  api tokens and login throttle",
        "0002  tickets",
        "0001  people and plugins",
    ]
    assert cli("db", "upgrade").output.strip() == "Everything is up to date."


def test_plugins_list_and_info(cli: Any) -> None:
    listed = json.loads(cli("plugins", "list", "--json").output)
    assert [(p["name"], p["status"], p["essential"]) for p in listed] == [("webui", "enabled", True)]
    text = cli("plugins", "list").output.splitlines()
    assert text[0].split() == ["NAME", "VERSION", "STATUS", "TITLE", "ERROR"]
    info = cli("plugins", "info", "webui").output
    assert "title: Web interface" in info
    assert "status: enabled" in info

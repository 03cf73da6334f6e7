"""A real third-party plugin distribution, found through its entry point, from install to uninstall.

The sample plugin (``tests/sample_plugin``) brings a table through its own migration, a setting, a
permission, a CLI command and a page. The CLI runs as a separate process, as an admin would run it.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from frontdesk import migrate
from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.permissions import SYSTEM
from frontdesk.services import people

pytestmark = pytest.mark.slow


def greetings(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM hello_greetings")).scalar_one()
    engine.dispose()
    return count


def test_install_enable_disable_uninstall(
    hello_site: Path, database_url: str, tmp_path: Path, frontdesk_process: Callable[..., Any]
) -> None:
    def run(*args: str, installed: bool = True) -> subprocess.CompletedProcess[str]:
        return frontdesk_process(
            *args, instance=tmp_path / "instance", database_url=database_url, path=[hello_site] if installed else []
        )

    result = run("init", "--admin-email", "admin@example.com", "--admin-password", "correct horse")
    assert result.returncode == 0, result.stderr
    assert "Database upgraded: hello." in result.stdout
    engine = create_engine(database_url)
    assert "hello_greetings" in inspect(engine).get_table_names()
    engine.dispose()

    listed = {p["name"]: p for p in json.loads(run("plugins", "list", "--json").stdout)}
    assert listed["hello"]["status"] == "enabled"
    assert listed["hello"]["version"] == "1.2.0"
    assert listed["hello"]["distribution"] == "frontdesk-hello"

    assert run("hello", "greet", "Ada").stdout.strip() == "Hello, Ada!"
    assert run("plugins", "set", "hello", "shout", "yes").stdout.strip() == "hello.shout = true"
    assert run("hello", "greet", "Bob").stdout.strip() == "HELLO, BOB!"
    bad = run("plugins", "set", "hello", "shout", "maybe")
    assert (bad.returncode, bad.stderr.strip()) == (1, "Error: shout: Not a valid boolean.")
    info = json.loads(run("plugins", "info", "hello", "--json").stdout)
    assert info["settings"] == {"greeting": "Hello", "shout": True}
    assert info["permissions"] == ["hello.greet"]

    assert run("plugins", "disable", "hello").returncode == 0
    gone = run("hello", "greet", "Cyd")
    assert gone.returncode == 2
    assert "No such command 'hello'" in gone.stderr
    assert greetings(database_url) == 2, "disabling keeps the plugin's data"

    assert run("plugins", "enable", "hello").returncode == 0
    assert run("hello", "greet", "Cyd").returncode == 0
    assert greetings(database_url) == 3

    # Uninstalled: the desk, its CLI and core upgrades carry on; the plugin's tables stay behind.
    upgrade = run("db", "upgrade", installed=False)
    assert (upgrade.returncode, upgrade.stdout.strip()) == (0, "Everything is up to date.")
    assert "hello" not in run("plugins", "list", installed=False).stdout
    assert run("db", "current", installed=False).returncode == 0
    assert greetings(database_url) == 3


def write_distribution(root: Path, name: str, plugin_source: str) -> Path:
    package = root / f"frontdesk_{name}"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(textwrap.dedent(plugin_source))
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (root / "setup.cfg").write_text(
        f"[metadata]\nname = frontdesk-{name}\nversion = 0.0.1\n\n[options]\npackages = find:\n\n"
        f"[options.entry_points]\nfrontdesk =\n    {name} = frontdesk_{name}.plugin\n"
    )
    return root


def test_broken_plugins_never_take_the_cli_down(
    hello_site: Path,
    database_url: str,
    tmp_path: Path,
    install: Callable[[Path, Path], Path],
    frontdesk_process: Callable[..., Any],
) -> None:
    site = tmp_path / "site"
    install(write_distribution(tmp_path / "src1", "broken", "raise ImportError('no module named ldap')\n"), site)
    install(
        write_distribution(
            tmp_path / "src2",
            "clumsy",
            """
            from frontdesk import hookimpl
            @hookimpl
            def frontdesk_register_commands(cli):
                raise RuntimeError("clumsy commands")
            """,
        ),
        site,
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return frontdesk_process(
            *args, instance=tmp_path / "instance", database_url=database_url, path=[site, hello_site]
        )

    listed = run("plugins", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    states = {p["name"]: (p["status"], p["error"]) for p in json.loads(listed.stdout)}
    assert states["broken"] == ("failed", "ImportError: no module named ldap")
    assert states["hello"] == ("enabled", None)

    help_text = run("--help")
    assert help_text.returncode == 0
    assert "warning: plugin 'clumsy' could not add its commands: clumsy commands" in help_text.stderr
    assert "  hello " in help_text.stdout
    assert "  plugins " in help_text.stdout

    assert run("plugins", "disable", "broken").returncode == 0
    assert run("plugins", "disable", "clumsy").returncode == 0
    after = run("plugins", "list", "--json")
    assert after.stderr == ""
    assert {p["name"]: p["status"] for p in json.loads(after.stdout)}["broken"] == "disabled"
    assert run("hello", "greet", "Dee").returncode == 1, "hello's table was never created in this database"


def test_the_plugin_page_nav_and_permission_in_process(
    with_hello: Path, desk_config: Config, request: pytest.FixtureRequest
) -> None:
    desk = Desk(desk_config, plugins=["webui", "hello"])
    request.addfinalizer(desk.close)
    migrate.upgrade_all(desk)
    app = desk.plugins.calls.first("frontdesk_make_wsgi_app", desk=desk)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    with desk.action(SYSTEM, source="test") as uow:
        agent = people.create_user(
            uow, {"email": "agent@example.com", "name": "Agent", "role": "agent", "password": "password123"}
        )
        requester = people.create_user(uow, {"email": "req@example.com", "name": "Req"})
    client = app.test_client()
    client.post("/login", data={"email": "agent@example.com", "password": "password123"})
    page = client.get("/hello/")
    assert page.status_code == 200
    assert "0 greetings so far." in page.text
    assert 'href="/hello/">Hello</a>' in page.text
    assert desk.permissions.can(agent, "hello.greet")
    assert not desk.permissions.can(requester, "hello.greet")

"""Pytest fixtures for testing Frontdesk and its plugins (installed as the ``frontdesk`` pytest plugin).

Browser fixtures for tests marked ``e2e`` come from :mod:`frontdesk.testing.browser`.
Choose the plugins a test loads by overriding the ``frontdesk_plugins`` fixture in a conftest, or per
test with ``@pytest.mark.frontdesk_plugins("webui", my_plugin_module)``. Nothing else installed is
loaded, so a stray installed plugin cannot change a test. Set ``FRONTDESK_TEST_DATABASE_URL`` to a
PostgreSQL server URL to run every test against PostgreSQL instead of SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from frontdesk import migrate
from frontdesk.cli import CliState, make_cli
from frontdesk.config import Config
from frontdesk.desk import Desk
from frontdesk.models import User
from frontdesk.permissions import SYSTEM
from frontdesk.services import people
from frontdesk.services.passwords import hash_password
from frontdesk.testing.databases import TemplateDatabase

# Browser fixtures (live_server, chromium_browser, browser_page, screenshot) for tests marked e2e.
pytest_plugins = ["frontdesk.testing.browser"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "frontdesk_plugins(*plugins): plugins (names or objects) the test loads")
    config.addinivalue_line("markers", "e2e: drives a real browser (Debian's Chromium)")


@pytest.fixture(scope="session")
def frontdesk_template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemplateDatabase]:
    """The core schema, migrated once per test run."""
    template = TemplateDatabase(tmp_path_factory.mktemp("frontdesk-template"))
    yield template
    template.drop()


@pytest.fixture
def frontdesk_plugins() -> list[Any]:
    """Plugins every test loads (override in your conftest); none by default."""
    return []


@pytest.fixture
def database_url(frontdesk_template_db: TemplateDatabase, tmp_path: Path) -> Iterator[str]:
    """A fresh database for this test, with the core schema."""
    with frontdesk_template_db.copy(tmp_path / "db") as url:
        yield url


@pytest.fixture
def desk_config(tmp_path: Path, database_url: str) -> Config:
    """Configuration of the test desk: strict plugins, a fixed secret key, a temporary instance folder,
    and jobs run at once in the calling thread (a queue in memory)."""
    return Config(
        instance_path=tmp_path / "instance",
        database_url=database_url,
        secret_key="test-secret-key",  # noqa: S106
        strict_plugins=True,
        queue_url="memory://",
    )


@pytest.fixture
def loaded_plugins(request: pytest.FixtureRequest, frontdesk_plugins: list[Any]) -> list[Any]:
    """The plugins of this test: the marker's if present, else the ``frontdesk_plugins`` fixture's."""
    marker = request.node.get_closest_marker("frontdesk_plugins")
    return list(marker.args) if marker else list(frontdesk_plugins)


@pytest.fixture
def desk(desk_config: Config, loaded_plugins: list[Any]) -> Iterator[Desk]:
    """A started desk with its plugins loaded and every lineage migrated."""
    the_desk = Desk(desk_config, plugins=loaded_plugins)
    migrate.upgrade_all(the_desk)
    yield the_desk
    the_desk.close()


@pytest.fixture
def db(desk: Desk) -> Iterator[Session]:
    """A session on the test database for assertions (writes belong in services)."""
    with desk.db.sessionmaker() as session:
        yield session


@pytest.fixture
def app(desk: Desk) -> Any:
    """The web application, built by whichever loaded plugin implements ``frontdesk_make_wsgi_app``."""
    application = desk.plugins.calls.first("frontdesk_make_wsgi_app", desk=desk)
    if application is None:
        pytest.fail("no loaded plugin builds a web application: add the web layer to frontdesk_plugins")
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def client(app: Any) -> Any:
    """A test client of the web application."""
    return app.test_client()


class CliInvoker:
    """Runs ``frontdesk`` commands in-process against the test desk's configuration."""

    def __init__(self, config: Config, plugins: list[Any]) -> None:
        self.config = config
        self.plugins = plugins

    def __call__(self, *args: str, input: str | None = None) -> Result:
        state = CliState(self.config, plugins=self.plugins)
        try:
            return CliRunner().invoke(make_cli(), list(args), obj=state, input=input, catch_exceptions=False)
        finally:
            state.reset()


@pytest.fixture
def cli(desk: Desk, desk_config: Config, loaded_plugins: list[Any]) -> CliInvoker:
    """``cli("plugins", "list")`` runs a command and returns click's result (exit_code, output)."""
    return CliInvoker(desk_config, loaded_plugins)


DEFAULT_PASSWORD = "password123"  # noqa: S105


@pytest.fixture(scope="session")
def default_password_hash() -> str:
    """The hash of ``DEFAULT_PASSWORD``, computed once: argon2 is slow on purpose."""
    return hash_password(DEFAULT_PASSWORD)


@pytest.fixture
def make_user(desk: Desk, default_password_hash: str) -> Any:
    """``make_user(role="agent", groups=["Support"])`` creates a user through the service layer.

    Without ``password`` the user signs in with ``DEFAULT_PASSWORD`` (hashed once per run).
    """
    counter = iter(range(1, 1_000_000))

    def make(**values: Any) -> User:
        n = next(counter)
        data = {"email": f"user{n}@example.com", "name": f"User {n}", **values}
        with desk.action(SYSTEM, source="test") as uow:
            user = people.create_user(uow, data)
            if "password" not in values:
                user.password_hash = default_password_hash
            return user

    return make


@pytest.fixture
def register_plugin(desk: Desk) -> Iterator[Any]:
    """``register_plugin(obj, name)`` adds a plugin to the running desk; it is removed after the test."""
    added: list[str] = []

    def register(plugin: Any, name: str) -> Any:
        desk.plugins.add(name, plugin)
        added.append(name)
        return plugin

    yield register
    for name in added:
        desk.plugins.remove(name)

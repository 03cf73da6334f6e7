"""Browser-test fixtures for Frontdesk and its plugins: the test desk served by waitress on a free
local port, driven by Debian's Chromium through playwright (a test dependency, imported when used).

Fixtures: ``live_server`` (the base URL), ``chromium_browser`` (one browser per test session),
``browser_page`` (a fresh context and page per test, 1280x900) and ``screenshot(page, name)``,
which saves ``test-artifacts/screenshots/<name>.png`` under the test run's root folder. Mark such
tests ``@pytest.mark.e2e``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path("test-artifacts") / "screenshots"


class LiveServer:
    """A waitress server for a WSGI app in a background thread."""

    def __init__(self, app: Any) -> None:
        from waitress.server import create_server

        self.server = create_server(app, host="127.0.0.1", port=0, threads=8, asyncore_loop_timeout=0.1)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, name="e2e-waitress", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Close the listening socket and every connection from the server's own loop thread.

        The loop ends once nothing is left to watch; closing sockets from another thread could
        pull them from under a running ``select``.
        """

        from waitress.channel import HTTPChannel

        def close_everything() -> None:
            for dispatcher in list(self.server._map.values()):
                if isinstance(dispatcher, HTTPChannel):
                    dispatcher.handle_close()  # also wakes a task thread waiting to write
                else:
                    dispatcher.close()

        self.server.trigger.pull_trigger(close_everything)
        self.thread.join(timeout=10)
        self.server.task_dispatcher.shutdown()
        assert not self.thread.is_alive(), "the test server did not stop"


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The test desk's web application on ``http://127.0.0.1:<free port>`` (CSRF on); yields the base URL."""
    app.config.update(WTF_CSRF_ENABLED=True)
    server = LiveServer(app)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), shared by the session's browser tests."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium, or `make chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium_browser: Any) -> Iterator[Any]:
    """A page in a fresh browser context (own cookies), 1280x900; closed after the test."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``screenshot(page, "portal-new")`` saves ``test-artifacts/screenshots/portal-new.png`` under the
    test run's root folder (the whole page unless ``full_page=False``) and returns its path."""
    folder = request.config.rootpath / SCREENSHOTS

    def save(page: Any, name: str, *, full_page: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save

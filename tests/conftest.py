"""Repository-wide test setup: the core's pytest plugin provides the fixtures; here we pick the plugins."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SAMPLE = Path(__file__).parent / "sample_plugin"


def install_distribution(source: Path, target: Path) -> Path:
    """Build the distribution in ``source`` and install it into the folder ``target``, as pip would."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture
def frontdesk_plugins() -> list[Any]:
    """Core and web tests load the web layer and nothing else installed."""
    return ["webui"]


@pytest.fixture(scope="session")
def hello_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where the sample third-party plugin ``frontdesk-hello`` is installed."""
    return install_distribution(SAMPLE, tmp_path_factory.mktemp("hello-site"))


@pytest.fixture
def with_hello(hello_site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the installed sample plugin importable and discoverable for this test."""
    monkeypatch.syspath_prepend(str(hello_site))
    return hello_site


@pytest.fixture(scope="session")
def install() -> Any:
    """``install(source, target)`` builds a distribution folder and installs it into ``target``."""
    return install_distribution


def plugins_in(folders: list[Path]) -> list[str]:
    """Names of the Frontdesk plugins installed in these folders (their distributions' entry points)."""
    found = []
    for folder in folders:
        for entry_points in folder.glob("*.dist-info/entry_points.txt"):
            parser = configparser.ConfigParser()
            parser.read(entry_points)
            found += list(parser["frontdesk"]) if parser.has_section("frontdesk") else []
    return found


def run_frontdesk(*args: str, instance: Path, database_url: str, path: list[Path]) -> subprocess.CompletedProcess[str]:
    """Run the ``frontdesk`` command in a fresh process with ``path`` as the only extra install folders.

    The process loads the web layer and the plugins installed in ``path``; the bundled plugins
    installed beside the core are left out, so the outcome does not depend on them.
    """
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")},
        "FRONTDESK_INSTANCE": str(instance),
        "FRONTDESK_DATABASE_URL": database_url,
        "FRONTDESK_LOAD_PLUGINS": ",".join(["webui", *plugins_in(path)]),
        "PYTHONPATH": os.pathsep.join(str(p) for p in path),
    }
    return subprocess.run(
        [sys.executable, "-m", "frontdesk", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="session")
def frontdesk_process() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``frontdesk_process(*args, instance=, database_url=, path=[...])`` runs the CLI as its own process."""
    return run_frontdesk

"""Repository-wide test setup: the core's pytest plugin provides the fixtures; here we pick the plugins."""

from __future__ import annotations

import subprocess
import sys
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

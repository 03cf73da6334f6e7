"""The documentation stays true: the README's plugin example works, the hook reference matches the specs."""

from __future__ import annotations

import configparser
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from frontdesk import hookspecs
from frontdesk.plugins.reference import hook_names, render_hook_reference

ROOT = Path(__file__).parent.parent


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


@pytest.mark.slow
def test_the_readme_first_plugin_works(
    tmp_path: Path, database_url: str, install: Callable[[Path, Path], Path], frontdesk_process: Callable[..., Any]
) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Write your first plugin", 1)[1]
    module, setup_cfg = code_blocks(section, "python")[0], code_blocks(section, "ini")[0]
    assert len(module.strip().splitlines()) <= 32, "the first-plugin example stays short"
    source = tmp_path / "motd"
    source.mkdir()
    (source / "frontdesk_motd.py").write_text(module)
    (source / "setup.cfg").write_text(setup_cfg)
    (source / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    site = install(source, tmp_path / "site")

    def run(*args: str) -> str:
        result = frontdesk_process(*args, instance=tmp_path / "instance", database_url=database_url, path=[site])
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert run("motd") == "Welcome to the desk!"
    run("plugins", "set", "motd", "message", "Hello!")
    assert run("motd") == "Hello!"


def test_the_hook_reference_is_generated_from_the_hookspecs() -> None:
    assert (ROOT / "docs" / "hooks.md").read_text() == render_hook_reference(), (
        "run: python -m frontdesk.plugins.reference > docs/hooks.md"
    )


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_is_documented_and_keyword_only_friendly(name: str) -> None:
    spec = getattr(hookspecs, name)
    doc = inspect.getdoc(spec) or ""
    assert len(doc.splitlines()) >= 3, f"{name} needs a docstring: summary, when it is called, what it returns"
    for parameter in inspect.signature(spec).parameters:
        assert f":param {parameter}:" in doc or "Return" in doc or not parameter, f"{name} documents {parameter}"


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_has_a_test(name: str) -> None:
    files = [*ROOT.glob("tests/**/test_*.py"), *ROOT.glob("plugins/*/tests/**/test_*.py")]
    tests = {test for path in files for test in re.findall(r"def (test_hook_\w+)\(", path.read_text())}
    assert any(test.startswith(f"test_hook_{name}") for test in tests), f"add a test named test_hook_{name}..."


def test_every_bundled_plugin_is_a_distribution_with_a_matching_entry_point() -> None:
    for folder in sorted(path for path in ROOT.glob("plugins/*") if path.is_dir()):
        config = configparser.ConfigParser()
        assert config.read(folder / "setup.cfg"), f"{folder.name} has no setup.cfg"
        assert config["metadata"]["name"] == f"frontdesk-{folder.name}"
        entry_points = config["options.entry_points"]["frontdesk"].strip().splitlines()
        assert [line.split("=")[0].strip() for line in entry_points] == [folder.name]
        assert (folder / f"frontdesk_{folder.name}" / "plugin.py").exists()
        assert (folder / "tests").is_dir(), f"{folder.name} has no tests of its own"

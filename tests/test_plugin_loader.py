"""Discovering, ordering and registering plugins, and containing the broken ones."""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from frontdesk import hookimpl
from frontdesk.errors import PluginError
from frontdesk.plugins import NavItem, PluginStatus, load_plugins
from frontdesk.plugins import loader as loader_module

MakePlugins = Callable[..., None]


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakePlugins:
    """``installed(name=source, ...)`` makes plugin modules and presents them as installed entry points."""
    monkeypatch.syspath_prepend(str(tmp_path))
    points: list[EntryPoint] = []

    def install(**sources: str) -> None:
        for name, source in sources.items():
            module = f"fd_test_{name}_{tmp_path.name}"
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            points.append(EntryPoint(name=name, value=module, group="frontdesk"))
            monkeypatch.delitem(sys.modules, module, raising=False)

    monkeypatch.setattr(loader_module, "entry_points", lambda group: [ep for ep in points if ep.group == group])
    return install


GOOD = """
    from frontdesk import hookimpl
    from frontdesk.plugins import NavItem
    TITLE = "Good plugin"
    @hookimpl
    def frontdesk_nav_items(user):
        return [NavItem("Good", "/good")]
"""


def module_of(plugins, name: str) -> str:  # type: ignore[no-untyped-def]
    return plugins.infos[name].module.__name__


def test_installed_plugins_are_loaded_and_described(installed: MakePlugins) -> None:
    installed(good=GOOD)
    plugins = load_plugins(enabled={})
    assert plugins.enabled == ["good"]
    info = plugins.get("good")
    assert info.title == "Good plugin"
    assert info.status is PluginStatus.ENABLED
    assert [item.label for _name, items in plugins.calls.each("frontdesk_nav_items", user=None) for item in items] == [
        "Good"
    ]


def test_a_disabled_plugin_is_never_imported(installed: MakePlugins) -> None:
    installed(good=GOOD, off="raise RuntimeError('imported although disabled')")
    plugins = load_plugins(enabled={"off": False}, strict=True)
    assert plugins.get("off").status is PluginStatus.DISABLED
    assert plugins.enabled == ["good"]
    assert not any(name.startswith("fd_test_off_") for name in sys.modules)


def test_a_plugin_that_fails_to_import_is_recorded_and_the_rest_load(installed: MakePlugins) -> None:
    installed(good=GOOD, broken="raise RuntimeError('boom at import')")
    plugins = load_plugins(enabled={})
    assert plugins.enabled == ["good"]
    broken = plugins.get("broken")
    assert broken.status is PluginStatus.FAILED
    assert broken.error == "RuntimeError: boom at import"


def test_strict_mode_raises_on_the_first_failure(installed: MakePlugins) -> None:
    installed(broken="raise RuntimeError('boom at import')")
    with pytest.raises(PluginError, match="plugin 'broken' failed: RuntimeError: boom at import"):
        load_plugins(enabled={}, strict=True)


def test_plugins_load_after_what_they_require(installed: MakePlugins) -> None:
    installed(
        alpha="REQUIRES = ('omega',)",
        omega="",
        middle="OPTIONAL = ('alpha', 'not_installed')",
    )
    plugins = load_plugins(enabled={}, strict=True)
    order = plugins.enabled
    assert order.index("omega") < order.index("alpha") < order.index("middle")
    assert order == [name for name in order if plugins.pm.get_plugin(name) is not None]


def test_a_missing_or_disabled_requirement_fails_the_plugin(installed: MakePlugins) -> None:
    installed(needs_off="REQUIRES = ('off',)", off="", needs_ghost="REQUIRES = ('ghost',)")
    plugins = load_plugins(enabled={"off": False})
    assert plugins.get("needs_off").error == "requires 'off' (disabled)"
    assert plugins.get("needs_ghost").error == "requires 'ghost' (not installed)"
    assert plugins.enabled == []


def test_a_dependency_cycle_fails_both_plugins(installed: MakePlugins) -> None:
    installed(egg="REQUIRES = ('hen',)", hen="REQUIRES = ('egg',)", bystander="")
    plugins = load_plugins(enabled={})
    assert plugins.enabled == ["bystander"]
    assert "dependency cycle" in (plugins.get("egg").error or "")
    assert "dependency cycle" in (plugins.get("hen").error or "")


def test_a_misspelt_hook_fails_the_plugin(installed: MakePlugins) -> None:
    installed(
        typo="""
        from frontdesk import hookimpl
        @hookimpl
        def frontdesk_nav_itemz(user):
            return []
        """
    )
    plugins = load_plugins(enabled={})
    assert plugins.get("typo").error == "implements unknown hooks (misspelt?): frontdesk_nav_itemz"
    assert plugins.pm.get_plugin("typo") is None
    plugins.pm.check_pending()


def test_hook_frontdesk_startup_failure_fails_the_plugin_and_its_dependents(installed: MakePlugins) -> None:
    installed(
        shaky="""
        from frontdesk import hookimpl
        @hookimpl
        def frontdesk_startup(desk):
            raise ValueError("no licence key")
        """,
        leaning="REQUIRES = ('shaky',)",
        steady="""
        from frontdesk import hookimpl
        STARTED = []
        @hookimpl
        def frontdesk_startup(desk):
            STARTED.append(desk)
        """,
    )
    plugins = load_plugins(enabled={})
    plugins.start(desk="the desk")
    assert plugins.get("shaky").error == "ValueError: no licence key"
    assert plugins.get("leaning").error == "requires 'shaky', which failed"
    assert plugins.enabled == ["steady"]
    assert plugins.get("steady").module.STARTED == ["the desk"]


def test_plugin_tables_must_carry_the_plugin_prefix(installed: MakePlugins, tmp_path: Path) -> None:
    installed(
        gadget=f"""
        from sqlalchemy.orm import Mapped, mapped_column
        from frontdesk.db import Base
        class Widget(Base):
            __tablename__ = "widgets_{tmp_path.name.replace("-", "_")}"
            id: Mapped[int] = mapped_column(primary_key=True)
        """
    )
    plugins = load_plugins(enabled={})
    assert (plugins.get("gadget").error or "").startswith("tables must be prefixed 'gadget_': widgets_")


def test_allow_list_and_blocked_names_limit_what_loads(installed: MakePlugins) -> None:
    installed(one="", two="", three="")
    assert load_plugins(enabled={}, only=["one", "two"]).enabled == ["one", "two"]
    plugins = load_plugins(enabled={}, blocked=["two"])
    assert plugins.enabled == ["one", "three"]
    assert plugins.get("two").status is PluginStatus.DISABLED


def test_explicit_plugin_objects_and_unknown_names() -> None:
    class Helper:
        NAME = "helper"

        @hookimpl
        def frontdesk_nav_items(self, user: object) -> list[NavItem]:
            return [NavItem("Help", "/help")]

    plugins = load_plugins(enabled={}, explicit=[Helper()])
    assert plugins.enabled == ["helper"]
    with pytest.raises(PluginError, match="no plugin named 'nope' is installed"):
        load_plugins(enabled={}, explicit=["nope"])


def test_hook_frontdesk_nav_items_contains_a_failing_plugin(caplog: pytest.LogCaptureFixture) -> None:
    class Menu:
        NAME = "menu"

        @hookimpl
        def frontdesk_nav_items(self, user: object) -> list[NavItem]:
            return [
                NavItem("Reports", "/reports", weight=20, permission="desk.configure"),
                NavItem("Queue", "/queue", weight=10, staff_only=True),
                NavItem("Help", "/help", weight=30),
            ]

    class Crashing:
        NAME = "crashing"

        @hookimpl
        def frontdesk_nav_items(self, user: object) -> list[NavItem]:
            raise RuntimeError("menu exploded")

    plugins = load_plugins(enabled={}, explicit=[Menu(), Crashing()])
    with caplog.at_level(logging.ERROR, logger="frontdesk.plugins"):
        anonymous = plugins.calls.nav_items(None, can=lambda permission: False)
    assert [item.label for item in anonymous] == ["Help"]
    assert "plugin 'crashing' failed in frontdesk_nav_items" in caplog.text

    class Staff:
        is_staff = True

    staff = plugins.calls.nav_items(Staff(), can=lambda permission: True)
    assert [item.label for item in staff] == ["Queue", "Reports", "Help"]


def test_hook_frontdesk_add_hookspecs_lets_plugins_offer_hooks_to_each_other(installed: MakePlugins) -> None:
    installed(
        offering="""
        import types
        from frontdesk import hookimpl, hookspec
        specs = types.ModuleType("offering_specs")
        @hookspec
        def frontdesk_offering_happened(what):
            "Called when something happens in the offering plugin."
        specs.frontdesk_offering_happened = frontdesk_offering_happened
        @hookimpl
        def frontdesk_add_hookspecs(pm):
            pm.add_hookspecs(specs)
        """,
        listening="""
        from frontdesk import hookimpl
        HEARD = []
        @hookimpl
        def frontdesk_offering_happened(what):
            HEARD.append(what)
        """,
    )
    plugins = load_plugins(enabled={}, strict=True)
    assert plugins.calls.notify("frontdesk_offering_happened", what="breach") == []
    assert plugins.get("listening").module.HEARD == ["breach"]
    plugins.pm.check_pending()


def test_every_installed_plugin_loads_with_no_pending_hooks() -> None:
    """With everything installed together, all plugins load strictly and implement only known hooks."""
    plugins = load_plugins(enabled={}, strict=True)
    assert "webui" in plugins.enabled
    plugins.pm.check_pending()

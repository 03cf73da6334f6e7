"""The hook reference (``docs/hooks.md``), written from ``frontdesk.hookspecs`` so the two never drift.

Run ``python -m frontdesk.plugins.reference > docs/hooks.md`` after changing a hookspec.
"""

from __future__ import annotations

import inspect
import re

from frontdesk import hookspecs

SECTION = re.compile(r"^# --- (?P<title>.+?) -+$")
HOOK = re.compile(r"^def (?P<name>frontdesk_\w+)\(")


def hook_names() -> list[str]:
    """Every hook the core specifies, in the order of ``hookspecs.py``."""
    return [m["name"] for line in inspect.getsource(hookspecs).splitlines() if (m := HOOK.match(line))]


def render_hook_reference() -> str:
    """The Markdown reference of every hook, grouped by theme as in ``hookspecs.py``."""
    lines = [
        "# Hook reference",
        "",
        "Generated from `core/frontdesk/hookspecs.py` by `python -m frontdesk.plugins.reference`; do not edit.",
        "",
        inspect.getdoc(hookspecs) or "",
    ]
    for line in inspect.getsource(hookspecs).splitlines():
        if section := SECTION.match(line):
            lines += ["", f"## {section['title']}"]
        elif hook := HOOK.match(line):
            lines += ["", *_describe(getattr(hookspecs, hook["name"]))]
    return "\n".join(lines) + "\n"


def _describe(spec: object) -> list[str]:
    name = spec.__name__  # type: ignore[attr-defined]
    signature = inspect.signature(spec)  # type: ignore[arg-type]
    arguments = ", ".join(signature.parameters)
    options = getattr(spec, "frontdesk_spec", {}) or {}
    flags = [flag for flag in ("firstresult", "historic") if options.get(flag)]
    lines = [f"### `{name}({arguments})`", ""]
    returns = signature.return_annotation
    lines.append(f"Returns `{returns}`" + (f" · {', '.join(flags)}" if flags else "") + ".")
    lines += ["", inspect.getdoc(spec) or ""]
    return lines


if __name__ == "__main__":
    print(render_hook_reference(), end="")

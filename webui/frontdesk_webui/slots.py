"""Template slots: places in core pages where plugins add HTML, through ``frontdesk_slot_<name>`` hooks."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from frontdesk.desk import Desk


def render_slot(desk: Desk, name: str, **context: Any) -> Markup:
    """The HTML every plugin contributes to slot ``name``, ordered by weight.

    An implementation returns ``Markup``, plain text (escaped here), ``(weight, content)`` or None.
    A failing implementation is logged and skipped: the page still renders.
    """
    hook = f"frontdesk_slot_{name}"
    if not hasattr(desk.plugins.pm.hook, hook):
        raise KeyError(f"no template slot named {name!r}")
    pieces: list[tuple[int, Markup]] = []
    for _plugin, result in desk.plugins.calls.each(hook, **context):
        weight, content = result if isinstance(result, tuple) else (100, result)
        pieces.append((weight, content if isinstance(content, Markup) else escape(content)))
    return Markup("").join(content for _weight, content in sorted(pieces, key=lambda piece: piece[0]))

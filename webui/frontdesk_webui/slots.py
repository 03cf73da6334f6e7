"""Template slots: places in core pages where plugins add HTML, through ``frontdesk_slot_<name>`` hooks."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from frontdesk.desk import Desk
from frontdesk.plugins import ListColumn

log = logging.getLogger("frontdesk.webui.slots")


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


def list_columns(desk: Desk, user: Any, tickets: Sequence[Any]) -> list[tuple[str, dict[int, Markup], str | None]]:
    """Plugins' extra columns of a ticket list: ``(label, {ticket id: cell}, sort name or None)``, by weight.

    A plugin whose hook or ``cells`` fails is logged and its column left out.
    """
    columns: list[tuple[str, ListColumn]] = []
    for plugin, found in desk.plugins.calls.each("frontdesk_ticket_list_columns", user=user):
        columns.extend((plugin, column) for column in found)
    shown = []
    for plugin, column in sorted(columns, key=lambda pair: pair[1].weight):
        try:
            cells = column.cells(tickets)
        except Exception:
            log.exception("list column %r failed; the list is shown without it", column.key)
            continue
        escaped = {i: v if isinstance(v, Markup) else escape(v) for i, v in cells.items() if v is not None}
        shown.append((column.label, escaped, f"{plugin}.{column.key}" if column.sort else None))
    return shown

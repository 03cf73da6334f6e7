"""A simple picture of an impact walk: server-rendered SVG, one column per depth, arrows along relations."""

from __future__ import annotations

from collections import defaultdict

from markupsafe import Markup, escape

from frontdesk_assets.cmdb import Impact
from frontdesk_assets.lifecycle import RELATION_LABELS

MAX_SHOWN = 60
BOX_W, BOX_H = 170, 40
GAP_X, GAP_Y = 70, 14
PAD = 10


def impact_svg(result: Impact) -> Markup:
    """The root and the items reached (up to ``MAX_SHOWN``), placed by depth, with their relations."""
    columns: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    columns[0].append((result.root.id, result.root.asset_tag, result.root.name))
    for node in result.nodes[:MAX_SHOWN]:
        columns[node.depth].append((node.asset.id, node.asset.asset_tag, node.asset.name))
    place: dict[int, tuple[int, int]] = {}
    for depth, items in columns.items():
        for row, (asset_id, _tag, _name) in enumerate(items):
            place[asset_id] = (PAD + depth * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    width = PAD * 2 + (max(columns) + 1) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max(len(items) for items in columns.values()) * (BOX_H + GAP_Y) - GAP_Y
    title = "What is affected if it fails" if result.direction == "impact" else "What it depends on"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="assets-graph" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}: {escape(result.root.asset_tag)}">',
        '<defs><marker id="assets-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#6c757d"/></marker></defs>',
    ]
    drawn = set()
    for origin, reached, kind in result.edges:
        if origin not in place or reached not in place or (origin, reached) in drawn:
            continue
        drawn.add((origin, reached))
        (x1, y1), (x2, y2) = place[origin], place[reached]
        if x1 == x2:  # same column (an edge between items at the same depth): skip to keep the picture clear
            continue
        start, end = (x1 + BOX_W, x2) if x2 > x1 else (x1, x2 + BOX_W)
        label = RELATION_LABELS.get(kind, kind)
        parts.append(
            f'<line x1="{start}" y1="{y1 + BOX_H // 2}" x2="{end}" y2="{y2 + BOX_H // 2}" stroke="#6c757d" '
            f'stroke-width="1.2" marker-end="url(#assets-arrow)"><title>{escape(label)}</title></line>'
        )
    for depth, items in columns.items():
        for asset_id, tag, name in items:
            x, y = place[asset_id]
            fill = "#cfe2ff" if depth == 0 else "#f8f9fa"
            parts.append(
                f'<g><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="#495057"/>'
                f'<text x="{x + 8}" y="{y + 16}" font-size="12" font-weight="bold">{escape(tag)}</text>'
                f'<text x="{x + 8}" y="{y + 32}" font-size="11">{escape(name[:26])}</text></g>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in it is escaped above)

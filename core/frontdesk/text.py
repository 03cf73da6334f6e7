"""Turning user text into safe HTML and back into plain text (for search, CLI and mail), and into safe CSV cells."""

from __future__ import annotations

import html
import re
from typing import Any

import nh3

# The largest number a 64-bit integer column holds.
MAX_WHOLE_NUMBER = 2**63 - 1

# Remote images are left out here; a later "show images" choice is the web layer's business.
_URL_SCHEMES = {"http", "https", "mailto", "cid"}
_BLANK_LINES = re.compile(r"\n\s*\n")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def sanitize_html(markup: str) -> str:
    """HTML stripped of scripts, event handlers, styles and dangerous URLs; safe to render as is."""
    return nh3.clean(markup, url_schemes=_URL_SCHEMES, link_rel="noopener noreferrer nofollow")


def text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs: blank lines separate paragraphs, single newlines become breaks."""
    paragraphs = [p.strip("\n") for p in _BLANK_LINES.split(text.replace("\r\n", "\n").strip())]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs if p.strip()
    )


def to_html(body: str, body_format: str = "text") -> str:
    """The stored form of a body given as ``text`` or ``html``: always sanitized HTML."""
    return sanitize_html(body if body_format == "html" else text_to_html(body))


def html_to_text(markup: str) -> str:
    """Readable plain text of (sanitized) HTML: paragraphs and breaks become newlines."""
    spaced = re.sub(r"(?i)<br\s*/?>", "\n", markup)
    spaced = re.sub(r"(?i)</(p|div|li|h[1-6]|blockquote|tr)>", "\n\n", spaced)
    text = html.unescape(nh3.clean(spaced, tags=set()))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value for a CSV export that spreadsheets show as text and never run as a formula.

    Such a text gets a leading quote (as does one that already starts with a quote, so that
    :func:`from_csv_cell` can tell the two apart).
    """
    if isinstance(value, str) and value.startswith((*FORMULA_PREFIXES, "'")):
        return "'" + value
    return value


def from_csv_cell(text: str) -> str:
    """An imported CSV cell as it was before :func:`csv_cell` protected it, so exports import back unchanged."""
    if text.startswith("'") and text[1:].startswith((*FORMULA_PREFIXES, "'")):
        return text[1:]
    return text


def whole_number(raw: str) -> int | None:
    """The number ``raw`` spells in ASCII digits, from 0 to 2**63 - 1; None for anything else.

    ``str.isdigit`` alone also admits characters such as "²" that ``int`` refuses, and numbers too
    large for any database column: both would end as a server error instead of a clear answer.
    """
    if not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= MAX_WHOLE_NUMBER else None

"""Property tests: header decoding never fails and round-trips; the HTML sanitizer is idempotent and safe."""

from __future__ import annotations

from email.header import Header

from frontdesk_email.parse import Limits, clean_html, decode_bytes, decode_header_value, envelope, parse
from hypothesis import given, settings
from hypothesis import strategies as st

LIMITS = Limits(max_bytes=1_000_000, max_parts=200, max_depth=10)
CHARSETS = st.sampled_from(["utf-8", "iso-8859-1", "koi8-r", "shift_jis", "x-unknown", "", "gb2312", "big5"])
# Text a header can carry: no control characters (they are dropped on purpose), no surrounding blanks.
HEADER_TEXT = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"),
        min_size=1,
        max_size=80,
    )
    .map(lambda text: " ".join(text.split()))
    .filter(bool)
)


@given(HEADER_TEXT)
@settings(max_examples=200, deadline=None)
def test_encoded_headers_decode_to_what_was_encoded(text: str) -> None:
    for charset in ("utf-8", "iso-8859-1"):
        if charset == "iso-8859-1" and not (all(ord(char) < 256 for char in text) and looks_like_latin1(text)):
            continue
        encoded = Header(text, charset, maxlinelen=60).encode()
        assert decode_header_value(encoded) == text


def looks_like_latin1(text: str) -> bool:
    """Whether Latin-1 ``text`` cannot pass for UTF-8: Latin-1 labels are mostly put on UTF-8 mail,
    so bytes valid as both are read as UTF-8 ("Â¡" is taken for "¡"), a trade-off made on purpose."""
    data = text.encode("iso-8859-1")
    try:
        return data.decode("utf-8") == text
    except UnicodeDecodeError:
        return True


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_header_value_decodes_without_error(value: str) -> None:
    decoded = decode_header_value(value)
    assert "\n" not in decoded
    assert "\r" not in decoded


@given(st.binary(max_size=200), CHARSETS)
@settings(max_examples=300, deadline=None)
def test_any_bytes_decode_in_any_declared_charset(data: bytes, charset: str) -> None:
    assert isinstance(decode_bytes(data, charset), str)


@given(st.binary(max_size=2000))
@settings(max_examples=200, deadline=None)
def test_any_bytes_parse_or_quarantine_but_never_raise(data: bytes) -> None:
    envelope(data)
    message = parse(b"From: a@example.org\nSubject: x\n" + data, LIMITS)
    assert isinstance(message.text, str)


MARKUP = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<script>alert(1)</script>",
            '<img src="https://tracker.example/x.gif">',
            '<img src="cid:logo@x">',
            '<a href="javascript:alert(1)">x</a>',
            '<a href="https://example.org" onclick="evil()">link</a>',
            "<svg onload=alert(1)>",
            "<style>body{}</style>",
            '<div style="background:url(javascript:1)">',
            "</div>",
            "<b>bold",
            "&amp; &lt; &#x3c;script",
            "<!-- comment -->",
            "<iframe src=x></iframe>",
            "plain text ",
            "<table><tr><td>cell</td></tr></table>",
        ]
    ),
    max_size=25,
).map("".join)


@given(st.one_of(MARKUP, st.text(max_size=300)))
@settings(max_examples=300, deadline=None)
def test_sanitizing_is_idempotent_and_leaves_nothing_that_runs(markup: str) -> None:
    once = clean_html(markup)
    assert clean_html(once) == once
    lowered = once.lower()
    for forbidden in ("<script", "javascript:", "onload=", "onclick=", "onerror=", "<iframe", "tracker.example"):
        assert forbidden not in lowered

"""Reading a raw RFC 5322 message into what the pipeline needs: addresses, threading headers, bodies, files.

Mail in the wild is broken in every possible way (undeclared or unknown charsets, malformed
encoded words, truncated MIME, absurd nesting), so nothing here raises on bad input except
:class:`Quarantine`, for a message over the size, part or nesting limits.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from functools import lru_cache

import nh3
from inscriptis import get_text
from mailparser_reply import EmailReplyParser


class _ReusedHeaders(HeaderRegistry):
    """The standard header classes, handing out one parsed header object per distinct name and value.

    Under ``policy.default`` every read of a header parses it again, and reading a MIME part reads
    its Content-Type and Content-Disposition several times (type, charset, file name, payload),
    mostly with values every other message repeats. Header objects are immutable strings, so a
    parsed one can be handed out again: the results are those of the standard registry.
    """

    def __init__(self) -> None:
        super().__init__()
        self._parsed = lru_cache(maxsize=256)(super().__call__)

    def __call__(self, name: str, value: str) -> BaseHeader:
        return self._parsed(name, value)


_POLICY = policy.default.clone(header_factory=_ReusedHeaders())
_PARSER = BytesParser(policy=_POLICY)
_HEADER_PARSER = BytesParser(policy=_POLICY)
_REPLY_PARSER = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl", "pl", "sv"])
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_BARE_ID = re.compile(r"[^<>\s@]+@[^<>\s]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")  # unfolding a header removes the line break before white space
_LINE_BREAK = re.compile(r"[\r\n]")
_SURROGATE = re.compile("[\udc80-\udcff]")  # an 8-bit byte the parser could not decode
_FALLBACK_CHARSET = "cp1252"
# Charsets mail software declares that Python knows under another name, or not at all.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "unknown-8bit": "cp1252",
    "x-unknown": "cp1252",
    "ks_c_5601-1987": "euc-kr",
    "x-user-defined": "cp1252",
}
_HTML_TAGS = nh3.ALLOWED_TAGS | {"font", "center"}


class Quarantine(Exception):
    """The message is over a limit (size, MIME parts, nesting) and is kept aside unprocessed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """How big and how deep a message may be before it is quarantined."""

    max_bytes: int
    max_parts: int
    max_depth: int


@dataclass(frozen=True)
class Part:
    """A file from the message: an attachment, an inline (``cid:``) image or a forwarded message."""

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass
class ParsedMessage:
    """What the pipeline reads from one message; every text field is already decoded to ``str``."""

    message_id: str | None
    subject: str
    from_address: str | None
    from_name: str | None
    to: list[str]
    cc: list[str]
    delivered_to: list[str]
    in_reply_to: list[str]
    references: list[str]
    headers: dict[str, str]
    content_type: str
    text: str
    html: str | None
    parts: list[Part] = field(default_factory=list)
    report_type: str | None = None

    @property
    def visible_text(self) -> str:
        """The new part of a reply: quoted text and the signature removed (the full text stays in ``text``)."""
        return strip_reply(self.text)

    @property
    def recipients(self) -> list[str]:
        """Every address the message was sent to (To, Cc, Delivered-To), in that order, without repeats."""
        return list(dict.fromkeys([*self.to, *self.cc, *self.delivered_to]))


def decode_header_value(value: object) -> str:
    """A header as readable text: encoded words decoded, folding undone, control characters removed.

    Never raises: undecodable pieces are replaced rather than refused.
    """
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:
        text = _decode_words_leniently(text)
    text = _LINE_BREAK.sub(" ", _FOLD.sub("", text))
    return _CONTROL.sub("", text).strip()


def _decode_words_leniently(text: str) -> str:
    pieces = []
    try:
        decoded = decode_header(text)
    except (ValueError, AssertionError, UnicodeError):
        return text
    for chunk, charset in decoded:
        if isinstance(chunk, str):
            pieces.append(chunk)
        else:
            pieces.append(decode_bytes(chunk, charset))
    return "".join(pieces)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset as text; never raises.

    ASCII and Latin-1 labels are often wrong: such bytes are read as UTF-8 when they are valid
    UTF-8, else as Windows-1252 (what those senders really use). Other charsets are tried as
    declared, then as UTF-8; anything left is Windows-1252 with replacement characters.
    """
    declared = (charset or "").strip().lower()
    name = _CHARSET_ALIASES.get(declared, declared) or _FALLBACK_CHARSET
    candidates = ("utf-8", name) if name == _FALLBACK_CHARSET else (name, "utf-8")
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode(_FALLBACK_CHARSET, errors="replace")


@dataclass(frozen=True)
class Envelope:
    """What is read from the headers alone, before the message is processed: enough to record it."""

    message_id: str | None
    dedupe_key: str
    sender: str | None
    subject: str | None


def envelope(raw: bytes) -> Envelope:
    """The envelope of ``raw``; the dedupe key is SHA-256 of the Message-ID, or of the bytes without one."""
    try:
        headers = Headers(_HEADER_PARSER.parsebytes(raw, headersonly=True))
        message_id = normalize_message_id(headers.get("message-id"))
        sender = headers.sender()[1]
        subject = headers.get("subject")[:2000] or None
    except Exception:  # headers the parser cannot even split: a message without id, sender or subject
        message_id = sender = subject = None
    if message_id:
        key = hashlib.sha256(f"id:{message_id}".encode()).hexdigest()
    else:
        key = hashlib.sha256(b"raw:" + raw).hexdigest()
    return Envelope(message_id, key, sender, subject)


def normalize_message_id(value: str | None) -> str | None:
    """``<id@host>`` from a header value (brackets added when missing); None when there is no id."""
    if not value:
        return None
    found = _MESSAGE_ID.search(value)
    if found:
        return found.group()[:998]
    bare = _BARE_ID.search(value)
    return f"<{bare.group()}>"[:998] if bare else None


def message_ids(value: str | None) -> list[str]:
    """Every ``<id>`` in an In-Reply-To or References header, in order, without repeats."""
    return list(dict.fromkeys(found[:998] for found in _MESSAGE_ID.findall(value or "")))


def _raw_text(value: object) -> str:
    """A header value as stored: 8-bit bytes the parser kept as surrogates are decoded properly."""
    text = str(value)
    if _SURROGATE.search(text):
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    return text


class Headers:
    """A message's headers read once, raw, and decoded on demand (cheaper than the policy's header objects)."""

    def __init__(self, message: Message) -> None:
        self._raw: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self._raw.setdefault(name.lower(), []).append(_raw_text(value))

    def __contains__(self, name: str) -> bool:
        return name in self._raw

    def raw(self, name: str) -> list[str]:
        """Every value of the header, undecoded (encoded words intact)."""
        return self._raw.get(name, [])

    def get(self, name: str) -> str:
        """The first value of the header, decoded; "" when absent."""
        values = self._raw.get(name)
        return decode_header_value(values[0]) if values else ""

    def addresses(self, *names: str) -> list[str]:
        """The lower-case addresses in these headers, in order, without repeats."""
        values = [value for name in names for value in self.raw(name)]
        found = []
        for _name, address in getaddresses([value.replace("\n", " ").replace("\r", "") for value in values]):
            address = decode_header_value(address).lower()
            if "@" in address and " " not in address:
                found.append(address)
        return list(dict.fromkeys(found))

    def sender(self) -> tuple[str | None, str | None]:
        """The From header's display name (decoded) and address (lower case), each None when missing."""
        name, address = parseaddr(" ".join(self.raw("from")[:1]).replace("\n", " ").replace("\r", ""))
        address = decode_header_value(address).lower()
        valid = "@" in address and " " not in address and len(address) <= 320
        return decode_header_value(name) or None, address if valid else None


def _get(part: Message, name: str) -> str:
    """One header of a MIME part, decoded; "" when absent."""
    for key, value in part.raw_items():
        if key.lower() == name:
            return decode_header_value(_raw_text(value))
    return ""


def measure(message: Message, depth: int = 1, *, stop: int = 100) -> tuple[int, int]:
    """The number of MIME parts and the deepest nesting of a message (forwarded messages included).

    Counting stops descending below ``stop`` levels, so absurd nesting cannot exhaust the stack.
    """
    if not message.is_multipart():
        return 1, depth
    parts, deepest = 1, depth
    payload = message.get_payload()
    for child in payload if isinstance(payload, list) and depth < stop else []:
        if not isinstance(child, Message):
            continue
        count, level = measure(child, depth + 1, stop=stop)
        parts += count
        deepest = max(deepest, level)
    return parts, deepest if depth < stop else depth + 1


def parse(raw: bytes, limits: Limits, *, allow_remote_images: bool = False) -> ParsedMessage:
    """Parse ``raw``; :class:`Quarantine` when it is over ``limits``, otherwise never an exception."""
    if len(raw) > limits.max_bytes:
        raise Quarantine(f"message of {len(raw)} bytes is over the limit of {limits.max_bytes} bytes")
    try:
        message = _PARSER.parsebytes(raw)
    except RecursionError:  # the standard parser recurses once per nesting level
        raise Quarantine("message nests MIME parts too deep to read") from None
    parts, depth = measure(message, stop=limits.max_depth)
    if parts > limits.max_parts:
        raise Quarantine(f"message has {parts} MIME parts, over the limit of {limits.max_parts}")
    if depth > limits.max_depth:
        raise Quarantine(f"message nests MIME parts {depth} deep, over the limit of {limits.max_depth}")
    headers = Headers(message)
    from_name, from_address = headers.sender()
    collected = _Collector()
    collected.walk(message)
    html = collected.html
    text = collected.text or (html_to_text(html) if html else "")
    return ParsedMessage(
        message_id=normalize_message_id(headers.get("message-id")),
        subject=headers.get("subject")[:2000],
        from_address=from_address,
        from_name=from_name,
        to=headers.addresses("to"),
        cc=headers.addresses("cc"),
        delivered_to=headers.addresses("delivered-to", "x-original-to"),
        in_reply_to=message_ids(headers.get("in-reply-to")),
        references=message_ids(headers.get("references")),
        headers={name: headers.get(name) for name in CLASSIFY_HEADERS if name in headers},
        content_type=message.get_content_type(),
        text=_CONTROL.sub("", text).strip(),
        html=clean_html(_CONTROL.sub("", html), allow_remote_images=allow_remote_images) if html else None,
        parts=collected.parts,
        report_type=collected.report_type,
    )


_RETURNED_TYPES = ("text/rfc822-headers", "message/rfc822", "message/rfc822-headers", "message/global-headers")


def _message_id_in(data: bytes) -> str | None:
    try:
        return normalize_message_id(Headers(_HEADER_PARSER.parsebytes(data, headersonly=True)).get("message-id"))
    except Exception:  # a report's attachment can be as broken as anything else
        return None


def returned_message_id(message: ParsedMessage) -> str | None:
    """The Message-ID of the mail a delivery report returns (from its attached headers or message), if any."""
    found = (_message_id_in(part.data) for part in message.parts if part.content_type in _RETURNED_TYPES)
    return next((message_id for message_id in found if message_id), None)


# Headers the classifier and explanations read; kept decoded on the parsed message.
CLASSIFY_HEADERS = (
    "auto-submitted",
    "precedence",
    "list-id",
    "list-unsubscribe",
    "x-auto-response-suppress",
    "x-autoreply",
    "x-autorespond",
    "return-path",
    "sender",
    "x-loop",
    "x-spam-flag",
    "x-spam-status",
    "date",
    "reply-to",
)


class _Collector:
    """Walks the MIME tree once: the first plain and HTML bodies, further text inline, files aside."""

    def __init__(self) -> None:
        self.plain: list[str] = []
        self.html_parts: list[str] = []
        self.parts: list[Part] = []
        self.report_type: str | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(piece.strip("\n") for piece in self.plain if piece.strip())

    @property
    def html(self) -> str | None:
        return "\n".join(self.html_parts) if self.html_parts else None

    def walk(self, part: Message) -> None:
        content_type = part.get_content_type()
        if content_type == "multipart/report" and self.report_type is None:
            self.report_type = (part.get_param("report-type") or "").lower() or "unknown"
        if part.is_multipart() and content_type != "message/rfc822":
            children = [child for child in part.get_payload() if isinstance(child, Message)]
            if content_type == "multipart/alternative":
                self._alternative(children)
            else:
                for child in children:
                    self.walk(child)
            return
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        if content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            body = _text_of(part)
            (self.plain if content_type == "text/plain" else self.html_parts).append(body)
            return
        if content_type.startswith("message/"):  # delivery reports, forwarded messages
            self.parts.append(Part(filename or "message.eml", content_type, _bytes_of(part)))
            return
        self.parts.append(
            Part(
                filename=filename or _default_name(content_type),
                content_type=content_type,
                data=_bytes_of(part),
                inline=disposition == "inline" or bool(part.get("content-id")),
                content_id=normalize_message_id(_get(part, "content-id")),
            )
        )

    def _alternative(self, children: list[Message]) -> None:
        """Of an alternative, the text comes from the plain part and the HTML from the HTML one."""
        plain = [c for c in children if c.get_content_type() == "text/plain"]
        rich = [c for c in children if c.get_content_type() != "text/plain"]
        if plain:
            self.plain.append(_text_of(plain[0]))
        for child in rich:
            before = len(self.plain)
            self.walk(child)
            if plain:  # a multipart/related inside may add its own text: the plain part already has it
                del self.plain[before:]


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return decode_header_value(name) or None if name else None


def _default_name(content_type: str) -> str:
    main, _, sub = content_type.partition("/")
    return f"{main or 'part'}.{re.sub(r'[^a-z0-9]+', '', sub.lower())[:10] or 'bin'}"


def _bytes_of(part: Message) -> bytes:
    if part.get_content_type().startswith("message/"):
        payload = part.get_payload()
        if isinstance(payload, list):
            return b"".join(p.as_bytes(policy=policy.SMTP) for p in payload if isinstance(p, Message))
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "replace") if isinstance(payload, str) else b""
    return data


def _text_of(part: Message) -> str:
    data = _bytes_of(part)
    try:
        charset = part.get_content_charset()
    except Exception:  # a Content-Type header too broken to read
        charset = None
    return decode_bytes(data, charset).replace("\r\n", "\n")


def html_to_text(markup: str) -> str:
    """The text a reader sees in an HTML body (layout approximated by inscriptis)."""
    try:
        return get_text(markup).strip()
    except Exception:  # inscriptis chokes on some pathological markup: fall back to tag stripping
        return nh3.clean(markup, tags=set()).strip()


def _image_filter(allow_remote: bool):  # type: ignore[no-untyped-def]
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute in ("src", "srcset") and not allow_remote:
            return value if value.strip().lower().startswith("cid:") else None
        return value

    return keep


def clean_html(markup: str, *, allow_remote_images: bool = False) -> str:
    """Sanitized HTML of a mail body: nothing that runs, and remote images blocked unless allowed.

    Idempotent: cleaning cleaned HTML changes nothing.
    """
    return nh3.clean(
        markup,
        tags=_HTML_TAGS,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_image_filter(allow_remote_images),
    )


def strip_reply(text: str) -> str:
    """The latest reply of a mail thread: quoted history and signature removed; the whole text if that empties it."""
    if not text.strip():
        return ""
    try:
        replies = _REPLY_PARSER.read(text).replies
        body = replies[0].body.strip() if replies else ""
    except Exception:  # the reply parser is heuristics: never let it lose the mail
        body = ""
    return body or text.strip()

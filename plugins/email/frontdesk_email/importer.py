"""Importing mail in bulk: a Maildir, an mbox file, a directory of ``.eml`` files, or one ``.eml`` file.

Every message goes through the same pipeline as live mail, so an import killed half-way and
started again files each message exactly once (the dedupe key recognises the ones already done).
"""

from __future__ import annotations

import mailbox
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from frontdesk.desk import Desk
from frontdesk_email.pipeline import Outcome, ingest

SOURCE = "import"


class ImportSourceError(ValueError):
    """The path is not a Maildir, an mbox file, or a folder or file of ``.eml`` messages."""


@dataclass
class Summary:
    """What an import did: counts by result, and the reasons messages were held or refused."""

    total: int = 0
    results: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        self.total += 1
        self.results[outcome.outcome if outcome.status == "processed" else outcome.status] += 1
        if outcome.status in ("review", "rejected", "quarantined", "failed") and outcome.reason:
            self.reasons[f"{outcome.status}: {outcome.reason}"] += 1


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new"))


def _is_mbox(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as stream:
        return stream.read(5) == b"From "


def _open(path: Path) -> mailbox.Mailbox | list[Path]:
    """The mailbox at ``path`` (Maildir or mbox), or the ``.eml`` files it names."""
    if _is_maildir(path):
        return mailbox.Maildir(path, factory=None, create=False)
    if _is_mbox(path):
        return mailbox.mbox(path, factory=None, create=False)
    if path.is_dir():
        return sorted(p for p in path.rglob("*.eml") if p.is_file())
    if path.is_file() and path.suffix.lower() == ".eml":
        return [path]
    raise ImportSourceError(f"{path} is not a Maildir, an mbox file, or a folder or file of .eml messages")


def count_messages(path: Path) -> int:
    """How many messages ``path`` holds (see :func:`messages`)."""
    source = _open(path)
    if isinstance(source, list):
        return len(source)
    try:
        return len(source.keys())
    finally:
        source.close()


def messages(path: Path) -> Iterator[bytes]:
    """The raw bytes of every message under ``path``, in a stable order (so a rerun walks the same way)."""
    source = _open(path)
    if isinstance(source, list):
        yield from (file.read_bytes() for file in source)
        return
    try:
        keys = sorted(source.keys()) if isinstance(source, mailbox.Maildir) else list(source.keys())
        for key in keys:
            yield source.get_bytes(key)
    finally:
        source.close()


def import_path(desk: Desk, path: Path, *, progress: Callable[[int], None] | None = None) -> Summary:
    """Feed every message under ``path`` through the pipeline; a transient failure stops the import (rerun it)."""
    summary = Summary()
    for raw in messages(path):
        summary.add(ingest(desk, raw, source=SOURCE))
        if progress is not None:
            progress(1)
    return summary

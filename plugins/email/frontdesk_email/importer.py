"""Importing mail in bulk: a Maildir, an mbox file, a directory of ``.eml`` files, or one ``.eml`` file.

Every message goes through the same pipeline as live mail, in batches that each commit as one
transaction (see :func:`frontdesk_email.pipeline.ingest_batch`), so an import killed half-way and
started again files each message exactly once (the dedupe key recognises the ones already done).
"""

from __future__ import annotations

import mailbox
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from frontdesk.desk import Desk
from frontdesk_email.pipeline import Outcome, ingest_batch

SOURCE = "import"
# A batch is one transaction: big enough to spread its cost over many messages, small enough to
# hold the write lock only briefly and to keep the batch's raw bytes in memory.
BATCH_MESSAGES = 100
BATCH_BYTES = 16 * 1024 * 1024


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


def batches(raws: Iterable[bytes], *, size: int, max_bytes: int) -> Iterator[list[bytes]]:
    """The messages in order, in lists of at most ``size`` messages and ``max_bytes`` (a bigger message goes alone)."""
    batch: list[bytes] = []
    total = 0
    for raw in raws:
        if batch and (len(batch) >= size or total + len(raw) > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(raw)
        total += len(raw)
    if batch:
        yield batch


def import_path(desk: Desk, path: Path, *, progress: Callable[[int], None] | None = None) -> Summary:
    """Feed every message under ``path`` through the pipeline; a transient failure stops the import (rerun it).

    Progress is reported per batch once it is committed, so what was reported survives a kill.
    """
    summary = Summary()
    for batch in batches(messages(path), size=BATCH_MESSAGES, max_bytes=BATCH_BYTES):
        for outcome in ingest_batch(desk, batch, source=SOURCE):
            summary.add(outcome)
        if progress is not None:
            progress(len(batch))
    return summary

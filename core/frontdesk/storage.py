"""Attachment storage: where the bytes of uploaded files live, behind a small interface.

The default :class:`FilesystemStorage` keeps each file under a key it generates itself (a random
hex id, fanned out into two levels of two-character folders). The uploader's file name never
reaches the file system, so no name can climb out of the storage folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from frontdesk.errors import TooLarge

CHUNK_SIZE = 64 * 1024
_KEY = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class StoredFile:
    """A file as storage keeps it: its key, size in bytes and SHA-256 hex digest."""

    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Upload:
    """A file someone sends: the name they gave it (untrusted, for display only) and its bytes."""

    filename: str
    stream: BinaryIO


class AttachmentStorage(Protocol):
    """What the desk needs from a place that keeps attachment bytes."""

    def save(self, stream: BinaryIO, *, max_size: int, durable: bool = True) -> StoredFile:
        """Store the stream's bytes under a new key; :class:`TooLarge` (storing nothing) past ``max_size``.

        ``durable=False`` lets the storage return before the bytes are safe from a power cut: only
        for a copy of data its source still keeps (see :meth:`FilesystemStorage.save`).
        """
        ...

    def open(self, key: str) -> BinaryIO:
        """The stored bytes for reading; :class:`FileNotFoundError` for an unknown key."""
        ...

    def delete(self, key: str) -> None:
        """Remove the stored bytes; an unknown key is not an error."""
        ...


def too_large_message(max_size: int) -> str:
    """The sentence for a file over the limit, with the limit in readable units."""
    if max_size >= 1024 * 1024:
        limit = f"{max_size / (1024 * 1024):g} MiB"
    elif max_size >= 1024:
        limit = f"{max_size / 1024:g} KiB"
    else:
        limit = f"{max_size} bytes"
    return f"The file is larger than the limit of {limit}."


class FilesystemStorage:
    """Files in a folder tree: ``<root>/ab/cd/abcd...``; written to a temporary file, then renamed."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Where the file for ``key`` lives; only keys this storage makes are accepted."""
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(f"not an attachment storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def save(self, stream: BinaryIO, *, max_size: int, durable: bool = True) -> StoredFile:
        """Write to a temporary file, fsync it (when ``durable``) and rename it into place.

        The fsyncs (of the file, then of the folder it was renamed into) are what make the file
        survive a power cut or a kernel crash once ``save`` has returned, and they are the expensive
        part (milliseconds per file on a busy disk). Skipping them is safe only where the caller
        could write the bytes again from a source that still holds them, such as a folder of mail
        being imported; anything acknowledged to its sender (an upload, a message then deleted from
        the mail server) must stay durable. A process that is killed loses nothing either way: the
        written bytes are in the operating system's cache.
        """
        key = uuid.uuid4().hex
        target = self.path(key)
        made = [folder for folder in (self.root, target.parent.parent, target.parent) if not folder.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(descriptor, "wb") as out:
                while chunk := stream.read(CHUNK_SIZE):
                    size += len(chunk)
                    if size > max_size:
                        raise TooLarge(too_large_message(max_size))
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                if durable:
                    os.fsync(out.fileno())
            os.replace(temporary, target)
            if durable:  # the rename, and any folder made for it, are entries of their folders
                for folder in {target.parent, *(made_folder.parent for made_folder in made)}:
                    _sync_folder(folder)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        with suppress(FileNotFoundError):
            self.path(key).unlink()


def _sync_folder(folder: Path) -> None:
    """Write a folder's entries to disk, so a file renamed or a folder made in it survives a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

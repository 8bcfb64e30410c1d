"""Durable atomic file writes: the one writer behind snapshots, the state file and frozen answers.

A file is written to a temporary file beside its target, flushed to disk (``fsync``), renamed
into place (atomic on one filesystem), and then the directory is flushed too, so the rename
itself survives a crash or power loss. A reader sees the old complete file or the new complete
one, never half of one, and after this returns, a crash does not bring the old one back.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def fsync_directory(folder: Path) -> None:
    """Flush a directory's entries (a rename or a new file in it) to disk."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(
    target: Path, write: Callable[[BinaryIO], object], durable: bool = True
) -> Path:
    """Write ``target`` with ``write(handle)`` via a temporary file and a rename.

    ``durable=False`` skips both fsyncs (still atomic, not crash-safe); the write benchmark
    uses it to measure what durability costs.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; readers may be other users
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_directory(target.parent)
    return target

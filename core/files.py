"""Durable file writes: one atomic write used for the state, saved plans and the lab's files.

Owns: ``write_atomic`` (temp file in the same folder → write → fsync → rename → fsync the folder)
and ``fsync_dir``. Callers map ``OSError`` to their own errors.
Must not: know what it writes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, text: str, mode: int = 0o600, *,
                 before_replace: Callable[[], None] | None = None) -> None:
    """Replace ``path`` with ``text`` so a reader sees the old or the new file, never half of one.

    ``before_replace`` runs after the new content is durable and before the rename (the state
    keeps its backup and its crash-test hook there). The temp file never outlives a failure.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def fsync_dir(directory: Path) -> None:
    """Make a rename or link in ``directory`` durable (a no-op where directories cannot be synced)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # the rename is still atomic
    finally:
        os.close(fd)

"""Side records of a state: small named documents a backend keeps beside the state itself.

Owns: the ``SideRecords`` interface — ``record(name)`` gives a ``Record`` read and written whole
(the run history ``history.jsonl``, the last verify ``verify.json``) — and the file and in-memory
forms (the PostgreSQL form is the ``netsot_record`` table of ``state.postgres``). A record is
never the state: losing one loses no state, and writing one never touches the state document.
The apply journal is not a side record: it must be written in the same atomic save as the
resources it describes, so it stays in the state document (``state.model.JournalEntry``).
Must not: hold a secret (callers store only what plans and the state hold), or raise anything but
``StateError`` for a record that cannot be read or written.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from core.errors import StateError
from core.files import write_atomic
from state.lock import FILE_MODE

NAME_RE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9]+)?$")  # history.jsonl, verify.json


def check_name(name: str) -> str:
    """A record name is a short file-name-safe word (it becomes ``<state>.<name>`` for files)."""
    if not NAME_RE.fullmatch(name):
        raise StateError(f"{name!r} is not a side record name (a-z, 0-9, '-', one '.EXT')")
    return name


@runtime_checkable
class Record(Protocol):
    """One named side record."""

    def describe(self) -> str:
        """Where it is kept (a path, or the table and key), for messages."""
        ...

    def read(self) -> str | None:
        """Its text; None when nothing was written yet. ``StateError`` when it cannot be read."""
        ...

    def write(self, text: str) -> None:
        """Replace it with ``text`` atomically (a reader sees the old or the new text)."""
        ...


@runtime_checkable
class SideRecords(Protocol):
    """The side records of one state."""

    def record(self, name: str) -> Record: ...


@dataclass(frozen=True)
class FileRecord:
    """``<state>.<name>`` next to a state file, mode 0600, replaced atomically."""

    path: Path

    def describe(self) -> str:
        return str(self.path)

    def read(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise StateError(f"the side record {self.path} is not UTF-8 text") from None
        except OSError as err:
            raise StateError(f"cannot read the side record {self.path}: {err.strerror}") from None

    def write(self, text: str) -> None:
        try:
            write_atomic(self.path, text, FILE_MODE)
        except OSError as err:
            raise StateError(f"cannot write the side record {self.path}: {err.strerror}") from None


@dataclass
class MemoryRecords:
    """Side records in memory (the memory backend's, for tests)."""

    name: str = "memory"
    texts: dict[str, str] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, name: str) -> Record:
        return _MemoryRecord(self, check_name(name))


@dataclass(frozen=True)
class _MemoryRecord:
    store: MemoryRecords
    name: str

    def describe(self) -> str:
        return f"memory {self.store.name} record {self.name}"

    def read(self) -> str | None:
        with self.store._guard:
            return self.store.texts.get(self.name)

    def write(self, text: str) -> None:
        with self.store._guard:
            self.store.texts[self.name] = text

"""netsot's state: the model, the file format and the backends that store it.

Owns: everything about persisting what netsot owns between runs (see the submodules).
Must not: import the engine beyond ``core.errors``.
"""

from typing import TYPE_CHECKING

from core.errors import LineageMismatch, StateCorrupt, StateError, StateLocked, UnsupportedStateVersion
from state.backend import (
    FileBackend,
    FileSide,
    MemoryBackend,
    StateBackend,
    StateStorage,
    file_side,
    next_state,
)
from state.codec import dumps, loads
from state.lock import LockInfo, StateLock
from state.model import STATE_VERSION, JournalEntry, ResourceState, State
from state.records import Record, SideRecords

if TYPE_CHECKING:
    from state.postgres import PostgresBackend

__all__ = [
    "STATE_VERSION",
    "FileBackend",
    "FileSide",
    "JournalEntry",
    "LineageMismatch",
    "LockInfo",
    "MemoryBackend",
    "PostgresBackend",
    "Record",
    "ResourceState",
    "SideRecords",
    "State",
    "StateBackend",
    "StateCorrupt",
    "StateError",
    "StateLock",
    "StateLocked",
    "StateStorage",
    "UnsupportedStateVersion",
    "dumps",
    "file_side",
    "loads",
    "next_state",
]


def __getattr__(name: str) -> object:
    # psycopg costs ~150 ms to import; only runs that use the PostgreSQL backend pay for it.
    if name == "PostgresBackend":
        from state.postgres import PostgresBackend

        return PostgresBackend
    raise AttributeError(f"module 'state' has no attribute {name!r}")

"""Where the state lives: the small interfaces a backend is made of, the file backend and an in-memory one.

The interfaces: ``StateStorage`` (load, save, replace), ``state.lock.StateLock`` and
``state.records.SideRecords`` (the run history, the last verify), together ``StateBackend``; a file
state also has a ``FileSide`` (its backup, files beside it), which nothing but the file backend has.

Owns: loading, saving with the serial/lineage rules (``next_state``), atomic file writes with a
backup of the previous file, file modes, and the lock of each backend.
Must not: interpret resources (the engine does) or overwrite a state it cannot read.

Crash tests: ``FileBackend`` passes the fault point ``state-before-rename`` of the test-only seam
``core.faults`` after the new state is written and fsynced to its temp file but before the rename —
the tests end the process there to prove the old state survives a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from core import faults
from core.errors import LineageMismatch, StateCorrupt, StateError, StateLocked, StateRegressed
from core.files import write_atomic
from state import codec
from state.lock import FILE_MODE, FileLock, LockInfo, StateLock, acquire_within
from state.model import STATE_VERSION, State
from state.records import FileRecord, MemoryRecords, Record, SideRecords, check_name


@runtime_checkable
class StateStorage(Protocol):
    """Persistence of one state document (after Terraform's ``statemgr.Full``)."""

    def load(self) -> State:
        """The stored state; a fresh one (new lineage, serial 0) when nothing is stored yet."""
        ...

    def save(self, state: State) -> State:
        """Store ``state``; ``serial`` moves only on real change. Returns what is stored now."""
        ...

    def replace(self, state: State) -> tuple[State, list[str]]:
        """Store ``state`` even when it belongs to another lineage (``state push --force``); same
        lineage: ``save``. Returns what is stored now and where the replaced copies were kept."""
        ...

    def describe(self) -> str: ...


@runtime_checkable
class StateBackend(StateStorage, StateLock, SideRecords, Protocol):
    """What the engine holds: the storage, the lock (``state.lock.StateLock``) and the side records
    (``state.records.SideRecords``: the run history, the last verify) of one state. Every backend has
    all three; what only a file has (a backup, files beside it) is ``FileSide``."""


@runtime_checkable
class FileSide(Protocol):
    """What only a state kept in a file has: the backup of the previous state and files beside it."""

    @property
    def backup_path(self) -> Path: ...

    def sidecar(self, name: str) -> Path:
        """The file ``<state>.<name>`` beside the state (the plan key)."""
        ...


def file_side(backend: object) -> FileSide | None:
    """``backend``'s file side, or None when it keeps no files (PostgreSQL, memory)."""
    return backend if isinstance(backend, FileSide) else None


def next_state(
    stored: State | None, state: State, where: str, stored_version: int = STATE_VERSION
) -> State | None:
    """What to store for ``save(state)`` over ``stored``: None when nothing needs writing.

    The lineage must match; the serial becomes one more than the highest one seen, so it never
    goes backwards even when ``state`` was loaded before somebody else saved. A document stored in
    an older version is rewritten in the latest one with its serial unchanged: same state, new format.
    """
    if stored is None:
        return replace(state, serial=state.serial + 1, version=STATE_VERSION)
    if stored.lineage != state.lineage:
        raise LineageMismatch(
            f"the state in {where} has lineage {stored.lineage}, but the state being saved has lineage "
            f"{state.lineage}; refusing to overwrite a different state"
        )
    if same_content(stored, state):
        if stored_version < STATE_VERSION:
            return stored
        return None
    return replace(state, serial=max(stored.serial, state.serial) + 1, version=STATE_VERSION)


def same_content(a: State, b: State) -> bool:
    """``a.content() == b.content()`` (serial and version aside), fast for thousands of resources.

    A state derived from the stored one shares its unchanged ``ResourceState`` objects, so an
    identity check settles most resources without building their dictionaries.
    """
    if a.lineage != b.lineage or a.resources.keys() != b.resources.keys():
        return False
    if [j.to_dict() for j in a.journal] != [j.to_dict() for j in b.journal] or a.forgotten != b.forgotten:
        return False
    return all(
        ra is rb or ra.to_dict() == rb.to_dict()
        for ra, rb in ((a.resources[k], b.resources[k]) for k in a.resources)
    )


class FileBackend:
    """A JSON state file, written atomically with ``<path>.backup`` and guarded by ``<path>.lock``.

    The backup is the previous state, so it is never newer than the state: a state file whose
    serial is lower than its backup's (or of another lineage, or missing beside a backup) was
    replaced or edited by hand, and reading or writing it is refused with ``StateRegressed``
    (the next write would otherwise replace the newer backup). ``force=True`` (``--force-state``)
    accepts the current file; its first write then moves the old backup aside, never over it.
    """

    def __init__(self, path: Path | str, *, force: bool = False) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._backup = self.path.with_name(self.path.name + ".backup")
        self._lock = FileLock(self.lock_path, str(self.path))
        self._force = force
        # the backup's (dev, inode, mtime_ns, size) → its (lineage, serial), or None when unreadable
        self._backup_seen: tuple[tuple[int, int, int, int], tuple[str, int] | None] | None = None
        # (dev, inode, mtime_ns, size) of the file we last read or wrote → its State and the version
        # it was written in: saving after every apply batch must not re-parse and re-validate
        # thousands of resources.
        self._cache: tuple[tuple[int, int, int, int], State, int] | None = None

    @property
    def backup_path(self) -> Path:
        return self._backup

    def describe(self) -> str:
        return f"file {self.path}"

    def sidecar(self, name: str) -> Path:
        return self.path.with_name(f"{self.path.name}.{name}")

    def record(self, name: str) -> Record:
        """The side record ``<state>.<name>`` (mode 0600, replaced atomically)."""
        return FileRecord(self.sidecar(check_name(name)))

    def load(self) -> State:
        stored = self._stored()
        return stored if stored is not None else State()

    def save(self, state: State) -> State:
        self._lock.check_held()  # fencing: a run that lost its lock writes nothing
        stored = self._stored()
        stored_version = self._cache[2] if self._cache is not None else STATE_VERSION
        new = next_state(stored, state, str(self.path), stored_version)
        if new is None:
            assert stored is not None
            return stored
        text = codec.dumps(new, previous=stored)
        if self._newer_backup(stored) is not None:  # only when forced: _stored() refuses otherwise
            self._set_backup_aside()
        self._write(text)
        self._remember(new)
        self._remember_backup(stored)
        return new

    def replace(self, state: State) -> tuple[State, list[str]]:
        """Another lineage: the old backup and the current file are kept aside as
        ``<state>.backup.<serial>`` (a ``.backup`` of another lineage would make every later run
        refuse the file), then ``state`` is written with its own serial."""
        self._lock.check_held()
        stored = self._stored()
        if stored is None or stored.lineage == state.lineage:
            return self.save(state), []
        kept: list[str] = []
        if self._backup.exists():
            header = self._backup_header()
            kept.append(str(self._aside_name(header[1] if header is not None else 0)))
            self._set_backup_aside()
        target = self._aside_name(stored.serial)
        try:
            os.link(self.path, target)
        except OSError as err:
            raise StateError(f"cannot keep the current state {self.path} as {target}: {err.strerror}") \
                from None
        kept.append(str(target))
        new = replace(state, version=STATE_VERSION)
        try:
            write_atomic(self.path, codec.dumps(new), FILE_MODE)
        except OSError as err:
            raise StateError(f"cannot write the state file {self.path}: {err.strerror}") from None
        self._remember(new)
        self._backup_seen = None
        return new, kept

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        return self._lock.hold(operation, timeout)

    def lock_info(self) -> LockInfo | None:
        return self._lock.holder()

    def force_unlock(self, lock_id: str) -> None:
        self._lock.force_unlock(lock_id)

    def check_unlockable(self, lock_id: str) -> LockInfo:
        return self._lock.check_unlockable(lock_id)

    # -- reading -------------------------------------------------------------------------------

    def _stored(self) -> State | None:
        state = self._stored_unchecked()
        if not self._force:
            newer = self._newer_backup(state)
            if newer is not None:
                raise StateRegressed(self._regressed(state, *newer))
        return state

    def _stored_unchecked(self) -> State | None:
        key = self._stat_key()
        if key is None:
            return None
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        state, version = self._read(self.path)
        self._cache = (key, state, version)
        return state

    # -- the backup must not be newer than the state ------------------------------------------

    def _newer_backup(self, stored: State | None) -> tuple[str, int] | None:
        """The backup's (lineage, serial) when it is newer than ``stored`` or of another lineage."""
        header = self._backup_header()
        if header is None:
            return None
        lineage, serial = header
        if stored is None or lineage != stored.lineage or serial > stored.serial:
            return header
        return None

    def _backup_header(self) -> tuple[str, int] | None:
        """(lineage, serial) of the backup; None when there is none or it cannot be read (then it is
        no state to protect: a corrupt state file's error says so)."""
        try:
            st = os.stat(self._backup)
        except OSError:
            return None
        key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        if self._backup_seen is not None and self._backup_seen[0] == key:
            return self._backup_seen[1]
        try:
            data = json.loads(self._backup.read_text(encoding="utf-8"))
            lineage, serial = data["lineage"], data["serial"]
            header = (lineage, serial) if isinstance(lineage, str) and type(serial) is int else None
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            header = None
        self._backup_seen = (key, header)
        return header

    def _remember_backup(self, previous: State | None) -> None:
        """After a write the backup is ``previous`` (a link to the file we replaced): no re-read."""
        try:
            st = os.stat(self._backup)
        except OSError:
            self._backup_seen = None
            return
        key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        self._backup_seen = (key, (previous.lineage, previous.serial)) if previous is not None else None

    def _regressed(self, stored: State | None, lineage: str, serial: int) -> str:
        backup = f"its backup {self._backup} (lineage {lineage}, serial {serial})"
        if stored is None:
            what = f"the state file {self.path} does not exist, but {backup} does"
        elif lineage != stored.lineage:
            what = (f"the state in {self.path} has lineage {stored.lineage} (serial {stored.serial}), "
                    f"but {backup} belongs to another lineage")
        else:
            what = (f"the state in {self.path} (lineage {stored.lineage}, serial {stored.serial}) is older "
                    f"than {backup}")
        return (f"{what}: the state file was replaced or edited by hand, and writing it would overwrite the "
                f"newer backup; refusing to use it. Restore the backup with `cp {self._backup} {self.path}`, "
                f"or run with --force-state to keep the current file (the old backup is then kept as "
                f"{self._aside_name(serial)})")

    def _aside_name(self, serial: int) -> Path:
        candidate = self._backup.with_name(f"{self._backup.name}.{serial}")
        n = 1
        while candidate.exists():
            candidate = self._backup.with_name(f"{self._backup.name}.{serial}.{n}")
            n += 1
        return candidate

    def _set_backup_aside(self) -> None:
        header = self._backup_header()
        target = self._aside_name(header[1] if header is not None else 0)
        try:
            os.link(self._backup, target)  # never replaces anything: fails if the name exists
            os.unlink(self._backup)
        except OSError as err:
            raise StateError(f"cannot keep the old backup {self._backup} as {target}: {err.strerror}") \
                from None
        self._backup_seen = None

    def _stat_key(self) -> tuple[int, int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StateError(f"cannot read the state file {self.path}: {err.strerror}") from None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    def _read(self, path: Path) -> tuple[State, int]:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            err = StateCorrupt(f"the state in {path} is corrupt: it is not UTF-8 text")
            raise self._corrupt(err) from None
        except OSError as err:
            raise StateError(f"cannot read the state file {path}: {err.strerror}") from None
        try:
            return codec.loads_versioned(text, str(path))
        except StateCorrupt as err:
            raise self._corrupt(err) from None

    def _corrupt(self, err: StateCorrupt) -> StateCorrupt:
        """Add the recovery advice: the backup, when it is there and readable."""
        try:
            codec.loads(self._backup.read_text(encoding="utf-8"), str(self._backup))
        except FileNotFoundError:
            return StateCorrupt(f"{err}; there is no backup ({self._backup} does not exist)")
        except (OSError, UnicodeDecodeError, StateError):
            return StateCorrupt(f"{err}; the backup {self._backup} is not readable either")
        return StateCorrupt(
            f"{err}; the previous state is in {self._backup} — inspect it and copy it over "
            f"{self.path} to recover",
            backup=str(self._backup),
        )

    def _remember(self, state: State) -> None:
        key = self._stat_key()
        self._cache = (key, state, STATE_VERSION) if key is not None else None

    # -- writing -------------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        """temp file in the same directory → fsync → keep the old file as backup → rename → fsync dir."""

        def before_replace() -> None:
            faults.point(faults.BEFORE_RENAME)
            if self.path.exists():
                self._keep_backup()

        try:
            write_atomic(self.path, text, FILE_MODE, before_replace=before_replace)
        except OSError as err:
            raise StateError(f"cannot write the state file {self.path}: {err.strerror}") from None

    def _keep_backup(self) -> None:
        # A hard link keeps the old inode as the backup without copying megabytes; the temp name
        # plus rename keeps the previous backup intact until the new one is complete.
        tmp = self._backup.with_name(f".{self._backup.name}.tmp")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        try:
            os.link(self.path, tmp)
        except OSError:  # no hard links on this filesystem: copy instead
            data = self.path.read_bytes()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, self._backup)


class MemoryBackend:
    """The same contract in memory, for tests; the document is kept as text so the codec runs too."""

    def __init__(self, text: str | None = None, name: str = "memory") -> None:
        self._text = text
        self._parsed: tuple[State, int] | None = None  # the State of _text and its version, once read
        self._name = name
        self._guard = threading.Lock()
        self._holder: LockInfo | None = None
        self._records = MemoryRecords(name)

    @property
    def text(self) -> str | None:
        """The stored document, exactly as a file would hold it."""
        return self._text

    def describe(self) -> str:
        return f"memory {self._name}"

    def record(self, name: str) -> Record:
        return self._records.record(name)

    def load(self) -> State:
        stored = self._stored()
        return stored if stored is not None else State()

    def save(self, state: State) -> State:
        with self._guard:
            stored = self._stored()
            version = self._parsed[1] if self._parsed is not None else STATE_VERSION
            new = next_state(stored, state, self.describe(), version)
            if new is None:
                assert stored is not None
                return stored
            self._text = codec.dumps(new, previous=stored)
            self._parsed = (new, STATE_VERSION)
            return new

    def replace(self, state: State) -> tuple[State, list[str]]:
        with self._guard:
            stored = self._stored()
        if stored is None or stored.lineage == state.lineage:
            return self.save(state), []
        new = replace(state, version=STATE_VERSION)
        with self._guard:
            self._text = codec.dumps(new)
            self._parsed = (new, STATE_VERSION)
        return new, []

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        info = LockInfo.new(operation, self.describe())

        def take() -> None:
            with self._guard:
                if self._holder is not None:
                    raise StateLocked(self._holder, f"the state {self.describe()} is locked: {self._holder}")
                self._holder = info

        acquire_within(take, timeout)
        try:
            yield info
        finally:
            with self._guard:
                if self._holder is not None and self._holder.id == info.id:
                    self._holder = None

    def lock_info(self) -> LockInfo | None:
        return self._holder

    def force_unlock(self, lock_id: str) -> None:
        with self._guard:
            self._check_id(lock_id)
            self._holder = None

    def check_unlockable(self, lock_id: str) -> LockInfo:
        with self._guard:
            return self._check_id(lock_id)

    def _check_id(self, lock_id: str) -> LockInfo:
        if self._holder is None:
            raise StateError(f"the state {self.describe()} is not locked; nothing to unlock")
        if self._holder.id != lock_id:
            raise StateError(
                f"lock id {lock_id} does not match the current {self._holder}; nothing was unlocked"
            )
        return self._holder

    def _stored(self) -> State | None:
        if self._text is not None and self._parsed is None:
            self._parsed = codec.loads_versioned(self._text, self.describe())
        return None if self._parsed is None else self._parsed[0]

"""The state lock: who holds it (``LockInfo``) and the file lock next to a state file.

Owns: the ``StateLock`` interface every backend implements, ``LockInfo``, ``FileLock``
(``<state>.lock``) and ``force_unlock`` by lock id.
Must not: wait for a lock longer than the caller's ``timeout`` (0 by default: it fails fast,
naming the holder; ``--lock-timeout`` polls with backoff, ``acquire_within``), or break a lock whose
holder might
still live — not even by ``force_unlock``, which refuses a holder on this host whose ``flock`` is
held. A lock left by a run that died on THIS host is provably stale — the kernel released its
``flock`` — and is broken automatically with a warning, so the next run can finish or revert the
interrupted work. Anything unprovable (another host, an unreadable file) needs an operator:
``netsot force-unlock ID``.

How the file lock works: the holder writes its ``LockInfo`` as JSON into a private temp file,
takes ``flock`` on it, and hard-links it to ``<state>.lock`` (atomic; fails if the name exists).
So the lock file is never seen half-written, and its ``flock`` tells whether the holder still lives.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import logging
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from core.errors import StateError, StateLocked, StateLockLost
from core.files import fsync_dir

FILE_MODE = 0o600
FIRST_WAIT, MAX_WAIT = 0.05, 1.0  # --lock-timeout's polling: from 50 ms, doubling, at most 1 s apart

T = TypeVar("T")


def acquire_within(acquire: Callable[[], T], timeout: float, *,
                   sleep: Callable[[float], None] = time.sleep) -> T:
    """``acquire()``, retried while it raises ``StateLocked`` until ``timeout`` seconds have passed
    (with backoff); the last ``StateLocked`` then says how long it waited. ``timeout`` 0: one try."""
    deadline = time.monotonic() + max(0.0, timeout)
    wait = FIRST_WAIT
    while True:
        try:
            return acquire()
        except StateLocked as err:
            left = deadline - time.monotonic()
            if left <= 0:
                if timeout > 0:
                    raise StateLocked(err.holder, f"{err}; gave up after waiting {timeout:g} s "
                                                  "(--lock-timeout)") from None
                raise
            sleep(min(wait, left))
            wait = min(wait * 2, MAX_WAIT)

log = logging.getLogger("netsot.state")


@runtime_checkable
class StateLock(Protocol):
    """The lock of one state, whatever keeps it (a ``<state>.lock`` file, a PostgreSQL advisory lock)."""

    def lock(self, operation: str, timeout: float = 0.0) -> AbstractContextManager[LockInfo]:
        """Hold the lock for ``operation``; when somebody else holds it, wait up to ``timeout``
        seconds (0: not at all), then raise ``StateLocked`` naming the holder."""
        ...

    def lock_info(self) -> LockInfo | None: ...

    def force_unlock(self, lock_id: str) -> None: ...

    def check_unlockable(self, lock_id: str) -> LockInfo:
        """The holder ``force_unlock(lock_id)`` would break; raise ``StateError`` if it is not
        locked, the id is another, or the holder is provably alive (so a CLI refuses before asking)."""
        ...


@dataclass(frozen=True)
class LockInfo:
    """The holder of a state lock (after Terraform's ``statemgr.LockInfo``)."""

    id: str
    pid: int
    host: str
    user: str
    operation: str
    created: str  # ISO-8601 UTC, e.g. 2026-11-28T12:00:00Z
    path: str  # what is locked: a state file path or a backend description

    @classmethod
    def new(cls, operation: str, path: str) -> LockInfo:
        return cls(
            id=str(uuid.uuid4()),
            pid=os.getpid(),
            host=socket.gethostname(),
            user=_user(),
            operation=operation,
            created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            path=path,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> LockInfo:
        if not isinstance(data, dict):
            raise ValueError("lock info is not a JSON object")
        try:
            return cls(
                id=str(data["id"]),
                pid=int(data["pid"]),
                host=str(data["host"]),
                user=str(data["user"]),
                operation=str(data["operation"]),
                created=str(data["created"]),
                path=str(data.get("path", "")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"lock info is incomplete ({err})") from None

    def on_this_host(self) -> bool:
        return self.host == socket.gethostname()

    def __str__(self) -> str:
        return (
            f"lock {self.id} held by {self.user}@{self.host} (pid {self.pid}) "
            f"for {self.operation!r} since {self.created}"
        )


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


def lock_age(holder: LockInfo, now: datetime | None = None) -> str:
    """``held for 3 min`` (or ``since <created>`` when the time cannot be read)."""
    try:
        created = datetime.strptime(holder.created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return f"since {holder.created}"
    seconds = max(0, int(((now or datetime.now(UTC)) - created).total_seconds()))
    if seconds < 120:
        return f"held for {seconds} s"
    if seconds < 7200:
        return f"held for {seconds // 60} min"
    if seconds < 172800:
        return f"held for {seconds // 3600} h {seconds % 3600 // 60} min"
    return f"held for {seconds // 86400} days"


def dead_holder_hint(holder: LockInfo) -> str:
    return (
        f"holder pid {holder.pid} is no longer running; if no other netsot run is active, "
        f"use `netsot force-unlock {holder.id}`"
    )


class FileLock:
    """An exclusive, non-blocking lock file (``<state>.lock``) that records its holder."""

    def __init__(self, lock_path: Path, what: str) -> None:
        self.lock_path = Path(lock_path)
        self.what = what  # the state file this lock guards (LockInfo.path)
        self._held: tuple[LockInfo, int] | None = None  # while ``hold`` holds it: the holder and its fd

    @contextlib.contextmanager
    def hold(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        """Take the lock for ``operation`` (waiting up to ``timeout`` seconds for another holder) or
        raise ``StateLocked``; release it on exit."""
        info, fd = acquire_within(lambda: self._acquire(operation), timeout)
        self._held = (info, fd)
        try:
            yield info
        finally:
            self._held = None
            self._release(fd)

    def check_held(self) -> None:
        """While this lock is held: prove the lock file is still ours (an operator's force-unlock, or a
        hand, may have removed it and another run may hold it now), else raise ``StateLockLost``."""
        if self._held is None:
            return
        info, fd = self._held
        try:
            mine, current = os.fstat(fd), os.stat(self.lock_path)
            ours = (mine.st_dev, mine.st_ino) == (current.st_dev, current.st_ino)
        except OSError:
            ours = False
        if not ours:
            raise StateLockLost(
                f"this run lost its lock on the state {self.what} ({info.id}, taken for {info.operation!r}): "
                f"the lock file {self.lock_path} was removed or replaced; another run may hold the lock and "
                "may have changed the systems, so this run stopped before writing the state or touching a "
                "system again. Run plan again"
            )

    def holder(self) -> LockInfo | None:
        """The current holder, or None when the state is not locked."""
        try:
            text = self.lock_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StateError(f"cannot read the state lock {self.lock_path}: {err.strerror}") from None
        try:
            return LockInfo.from_dict(json.loads(text))
        except ValueError as err:  # JSONDecodeError is a ValueError
            raise StateLocked(
                None,
                f"the state lock {self.lock_path} exists but cannot be read ({err}); if no netsot run "
                f"is active, delete that file by hand",
            ) from None

    def force_unlock(self, lock_id: str) -> None:
        """Remove the lock, but only if ``lock_id`` is the current holder's id and the holder is
        not provably alive (see ``check_unlockable``)."""
        self.check_unlockable(lock_id)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.lock_path)

    def check_unlockable(self, lock_id: str) -> LockInfo:
        """The holder ``force_unlock(lock_id)`` would remove, or the reason it must not.

        A holder on this host whose ``flock`` is still held is provably alive: breaking its lock
        would let two runs write at once, so that is refused even with ``--force``. A holder on
        another host (whose processes we cannot see) stays breakable by an operator.
        """
        holder = self.holder()
        if holder is None:
            raise StateError(f"the state {self.what} is not locked; nothing to unlock")
        if holder.id != lock_id:
            raise StateError(
                f"lock id {lock_id} does not match the current {holder}; nothing was unlocked"
            )
        if holder.on_this_host() and self._flock_held():
            running = ("is running" if pid_alive(holder.pid)
                       else "has exited, but a process it started still holds")
            raise StateLocked(
                holder,
                f"refusing to force-unlock the state {self.what}: lock {holder.id} is held by a live run on "
                f"this host (pid {holder.pid} {running} the lock; {holder.user}@{holder.host}, operation "
                f"{holder.operation!r}, {lock_age(holder)}); wait for it to finish or stop it — breaking "
                f"the lock of a live run would let two runs change the state and the systems at once",
            )
        return holder

    def _flock_held(self) -> bool:
        """Whether some process holds ``flock`` on the lock file (a live holder always does)."""
        return self._flock() is True

    def _flock(self) -> bool | None:
        """True: some process holds ``flock`` on the lock file; False: nobody does; None: cannot tell."""
        try:
            fd = os.open(self.lock_path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return None
        finally:
            os.close(fd)  # closing also drops the shared lock we may have taken
        return False

    # -- internals ---------------------------------------------------------------------------

    def _acquire(self, operation: str) -> tuple[LockInfo, int]:
        info = LockInfo.new(operation, self.what)
        directory = self.lock_path.parent
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.lock_path.name}.", suffix=".tmp", dir=directory)
        except OSError as err:
            raise StateError(f"cannot create the state lock {self.lock_path} (a temporary file in "
                             f"{directory}): {err.strerror}") from None
        try:
            try:
                os.fchmod(fd, FILE_MODE)
                os.write(fd, (json.dumps(info.to_dict(), indent=2, sort_keys=True) + "\n").encode())
                os.fsync(fd)
            except OSError as err:  # a full disk, a quota, a file size limit
                raise StateError(f"cannot write the state lock {self.lock_path} (its temporary file {tmp}): "
                                 f"{err.strerror}; free some space in {directory} and try again") from None
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh inode: always granted
            try:
                self._link(tmp)
            except FileExistsError:
                os.close(fd)
                fd = -1
                raise self._locked_error() from None
            except OSError as err:
                raise StateError(f"cannot create the state lock {self.lock_path}: {err.strerror}") from None
        except BaseException:
            if fd >= 0:
                os.close(fd)
            raise
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        fsync_dir(directory)
        return info, fd

    def _link(self, tmp: str) -> None:
        """Publish our lock file; break a provably dead holder's lock once and retry."""
        try:
            os.link(tmp, self.lock_path)  # atomic: fails when somebody holds the lock
        except FileExistsError:
            if not self._break_dead_lock():
                raise
            os.link(tmp, self.lock_path)  # a concurrent run may win the race: FileExistsError again

    def _break_dead_lock(self) -> bool:
        """Remove the lock file if its holder is provably gone (same host, its flock released)."""
        try:
            holder = self.holder()
        except StateLocked:
            return False  # unreadable: not provable
        if holder is None:
            return True  # released meanwhile
        if not holder.on_this_host():
            return False
        try:
            fd = os.open(self.lock_path, os.O_RDONLY)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # only possible if nobody holds it
            if os.fstat(fd).st_ino != os.stat(self.lock_path).st_ino:
                return False  # replaced by a new holder meanwhile
            os.unlink(self.lock_path)
        except OSError:
            return False
        finally:
            os.close(fd)
        log.warning("broke a stale state lock: %s ended without releasing it", holder)
        return True

    def _release(self, fd: int) -> None:
        try:
            # Unlink only our own lock: after a force-unlock the name may belong to another run.
            mine = os.fstat(fd)
            try:
                current = os.stat(self.lock_path)
            except FileNotFoundError:
                return
            if (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino):
                os.unlink(self.lock_path)
        finally:
            os.close(fd)

    def _locked_error(self) -> StateLocked:
        try:
            holder = self.holder()
        except StateLocked as err:
            return err
        if holder is None:  # released between our link() and our read: report, never retry forever
            return StateLocked(None, f"the state {self.what} was locked by another run; try again")
        message = f"the state {self.what} is locked: {holder}"
        reason = self._stale_reason(holder)
        if reason:
            message += f"; {reason}"
        return StateLocked(holder, message)

    def _stale_reason(self, holder: LockInfo) -> str | None:
        """Why the recorded holder cannot be holding the lock any more, if we can tell."""
        if not holder.on_this_host():
            return None  # another machine's pids and locks are not ours to judge
        if not pid_alive(holder.pid):
            return dead_holder_hint(holder)
        # A live holder keeps flock on the lock file; if we can take it, that pid is another process.
        if self._flock() is not False:
            return None
        return (
            f"pid {holder.pid} no longer holds it (the run that took it ended without releasing it); "
            f"if no other netsot run is active, use `netsot force-unlock {holder.id}`"
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())

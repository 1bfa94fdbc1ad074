"""The file lock: across processes, fails fast naming the holder; dead holders; force-unlock."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import StateError, StateLocked
from state.backend import FileBackend
from state.lock import LockInfo, pid_alive
from tests.state.conftest import Holder, as_if_held_elsewhere


def test_lock_info_reads_like_a_sentence() -> None:
    info = LockInfo("3f2a", 1234, "host", "root", "apply", "2026-11-28T12:00:00Z", "/s.json")
    assert str(info) == "lock 3f2a held by root@host (pid 1234) for 'apply' since 2026-11-28T12:00:00Z"
    assert LockInfo.from_dict(info.to_dict()) == info
    with pytest.raises(ValueError, match="incomplete"):
        LockInfo.from_dict({"id": "x"})


def test_lock_file_holds_the_holder_and_goes_away(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "s.json")
    assert backend.lock_info() is None
    with backend.lock("apply") as info:
        on_disk = json.loads(backend.lock_path.read_text())
        assert on_disk["id"] == info.id and on_disk["pid"] == os.getpid()
        assert on_disk["host"] == socket.gethostname() and on_disk["operation"] == "apply"
        assert on_disk["path"] == str(tmp_path / "s.json")
        assert backend.lock_info() == info
    assert not backend.lock_path.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temp files left either


def test_released_on_exception(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "s.json")
    with pytest.raises(RuntimeError), backend.lock("apply"):
        raise RuntimeError("boom")
    assert backend.lock_info() is None
    with backend.lock("apply"):
        pass


@pytest.mark.slow
def test_lock_contention_across_two_processes(tmp_path: Path, lock_holder: Callable[..., Holder]) -> None:
    path = tmp_path / "s.json"
    holder = lock_holder("file", str(path), "apply")
    backend = FileBackend(path)
    start = time.monotonic()
    with pytest.raises(StateLocked) as info, backend.lock("plan"):
        pass
    assert time.monotonic() - start < 1.0  # fails fast, never waits
    assert info.value.holder == holder.info
    message = str(info.value)
    assert f"pid {holder.pid}" in message and socket.gethostname() in message and "'apply'" in message
    assert holder.info.id in message
    assert "no longer running" not in message
    holder.release()
    with backend.lock("plan") as mine:
        assert mine.pid == os.getpid()


@pytest.mark.slow
def test_lock_of_a_killed_holder_is_broken_automatically(
    tmp_path: Path, lock_holder: Callable[..., Holder], caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.json"
    holder = lock_holder("file", str(path), "apply")
    holder.kill()
    assert not pid_alive(holder.pid)
    backend = FileBackend(path)
    with caplog.at_level("WARNING", logger="netsot.state"), backend.lock("apply") as mine:
        assert mine.pid == os.getpid()
        assert backend.lock_info() == mine
    assert f"broke a stale state lock: lock {holder.info.id}" in caplog.text
    assert backend.lock_info() is None


def test_lock_file_nobody_holds_is_broken(tmp_path: Path) -> None:
    # Written by a process that is gone (pid far beyond pid_max on Linux), never flocked.
    backend = FileBackend(tmp_path / "s.json")
    gone = LockInfo("abc", 2**30, socket.gethostname(), "root", "apply", "2026-11-28T12:00:00Z", "s")
    backend.lock_path.write_text(json.dumps(gone.to_dict()))
    with backend.lock("plan") as mine:
        assert backend.lock_info() == mine


def test_dead_pid_whose_flock_is_still_held_is_reported_not_broken(tmp_path: Path) -> None:
    # e.g. a child process inherited the lock: not provably free, so an operator decides
    import fcntl

    backend = FileBackend(tmp_path / "s.json")
    gone = LockInfo("abc", 2**30, socket.gethostname(), "root", "apply", "2026-11-28T12:00:00Z", "s")
    backend.lock_path.write_text(json.dumps(gone.to_dict()))
    fd = os.open(backend.lock_path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        with pytest.raises(StateLocked, match=f"holder pid {2**30} is no longer running") as info:
            backend.lock("plan").__enter__()
        assert "`netsot force-unlock abc`" in str(info.value)
    finally:
        os.close(fd)


def test_holder_on_another_host_is_not_called_dead(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "s.json")
    other = LockInfo("abc", 2**30, "elsewhere.example", "ops", "apply", "2026-11-28T12:00:00Z", "s")
    backend.lock_path.write_text(json.dumps(other.to_dict()))
    with pytest.raises(StateLocked) as info:
        backend.lock("plan").__enter__()
    assert "no longer running" not in str(info.value)
    assert "ops@elsewhere.example" in str(info.value)


def test_unreadable_lock_file_is_a_clear_error(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "s.json")
    backend.lock_path.write_text("{")
    with pytest.raises(StateLocked, match=r"exists but cannot be read.*delete that file by hand"):
        backend.lock("plan").__enter__()


def test_force_unlock_needs_the_right_id(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "s.json")
    with pytest.raises(StateError, match="not locked"):
        backend.force_unlock("nope")
    with backend.lock("apply") as info:
        with pytest.raises(StateError, match=f"lock id wrong does not match the current lock {info.id}"):
            backend.force_unlock("wrong")
        assert backend.lock_info() == info
        as_if_held_elsewhere(backend.lock_path)  # a live holder on this host is never broken
        backend.force_unlock(info.id)
        assert backend.lock_info() is None
        with backend.lock("plan") as other:  # somebody else takes it meanwhile…
            pass
        with backend.lock("plan") as other:
            pass  # …and exits cleanly
    assert backend.lock_info() is None
    assert other.id != info.id


def test_release_after_force_unlock_leaves_the_new_holder_alone(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "s.json")
    first = backend.lock("apply")
    info = first.__enter__()
    as_if_held_elsewhere(backend.lock_path)
    backend.force_unlock(info.id)
    second = backend.lock("apply")
    new = second.__enter__()
    first.__exit__(None, None, None)  # the old holder finishes: must not remove the new lock
    assert backend.lock_info() == new
    second.__exit__(None, None, None)
    assert backend.lock_info() is None


@pytest.mark.slow
def test_force_unlock_refuses_a_holder_alive_on_this_host(
    tmp_path: Path, lock_holder: Callable[..., Holder]
) -> None:
    """Another process on this host holds the lock (its flock is held): breaking it would let two
    applies run at once, so force-unlock refuses, naming the holder, and the lock stays."""
    path = tmp_path / "s.json"
    holder = lock_holder("file", str(path), "apply")
    backend = FileBackend(path)
    with pytest.raises(StateLocked, match="refusing to force-unlock") as info:
        backend.force_unlock(holder.info.id)
    message = str(info.value)
    assert f"pid {holder.pid} is running" in message and socket.gethostname() in message
    assert "'apply'" in message and "held for " in message and holder.info.id in message
    assert backend.lock_info() == holder.info
    with pytest.raises(StateLocked):  # still held: another run cannot start
        backend.lock("apply").__enter__()
    holder.release()
    assert backend.lock_info() is None


def test_force_unlock_breaks_a_lock_from_another_host(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path / "s.json")
    other = LockInfo("abc", os.getpid(), "elsewhere.example", "ops", "apply", "2026-11-28T12:00:00Z", "s")
    backend.lock_path.write_text(json.dumps(other.to_dict()))
    backend.force_unlock("abc")  # another host's processes are not ours to judge: an operator decides
    assert backend.lock_info() is None


def test_lock_age_reads_like_a_duration() -> None:
    from datetime import UTC, datetime

    from state.lock import lock_age

    info = LockInfo("a", 1, "h", "u", "apply", "2026-11-28T12:00:00Z", "s")
    at = datetime(2026, 11, 28, 12, 3, 30, tzinfo=UTC)
    assert lock_age(info, at) == "held for 3 min"
    assert lock_age(info, datetime(2026, 11, 28, 12, 0, 42, tzinfo=UTC)) == "held for 42 s"
    assert lock_age(LockInfo("a", 1, "h", "u", "apply", "yesterday", "s")) == "since yesterday"

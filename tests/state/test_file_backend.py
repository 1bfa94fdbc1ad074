"""FileBackend: atomic writes, the backup, file modes, corrupt files, and speed with many resources."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import MappingProxyType

import pytest

from core import faults
from core.errors import StateCorrupt, StateRegressed, UnsupportedStateVersion
from state import codec
from state.backend import FileBackend
from state.model import STATE_VERSION, ResourceState, State

REPO = Path(__file__).resolve().parents[2]


def res(name: str, **attrs: object) -> ResourceState:
    return ResourceState(f"nipap_address.lan.{name}", "nipap", name, attrs or {"ip": "10.0.0.1"})


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "netsot.state.json"


def test_first_save_creates_the_file_without_a_backup(path: Path) -> None:
    backend = FileBackend(path)
    stored = backend.save(backend.load().with_resource(res("a")))
    assert stored.serial == 1
    assert path.read_text() == codec.dumps(stored)
    assert not backend.backup_path.exists()


def test_save_keeps_the_previous_file_as_backup(path: Path) -> None:
    backend = FileBackend(path)
    first = backend.save(backend.load().with_resource(res("a")))
    first_text = path.read_text()
    second = backend.save(first.with_resource(res("b")))
    assert backend.backup_path.read_text() == first_text
    assert codec.loads(path.read_text(), "x").to_dict() == second.to_dict()
    backend.save(second)  # no change: nothing written, backup untouched
    assert backend.backup_path.read_text() == first_text


def test_files_are_private(path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        backend = FileBackend(path)
        state = backend.save(backend.load().with_resource(res("a")))
        backend.save(state.with_resource(res("b")))
        with backend.lock("apply"):
            assert mode(backend.lock_path) == 0o600
    finally:
        os.umask(old_umask)
    assert mode(path) == 0o600
    assert mode(backend.backup_path) == 0o600


def test_a_world_readable_state_becomes_private_on_save(path: Path) -> None:
    path.write_text(codec.dumps(State(lineage="l", serial=1)))
    path.chmod(0o644)
    backend = FileBackend(path)
    backend.save(backend.load().with_resource(res("a")))
    assert mode(path) == 0o600 and mode(backend.backup_path) == 0o600


@pytest.mark.parametrize(
    "content", ["", "\n", '{"version": 1, "serial": 3, "lineage": "l", "resources": [{"addr', "not json"]
)
def test_corrupt_file_is_refused_and_never_replaced(path: Path, content: str) -> None:
    path.write_text(content)
    backend = FileBackend(path)
    with pytest.raises(StateCorrupt) as info:
        backend.load()
    assert str(path) in str(info.value)
    assert "no backup" in str(info.value) and info.value.backup is None
    with pytest.raises(StateCorrupt):
        backend.save(State(lineage="l"))
    assert path.read_text() == content


def test_corrupt_file_offers_the_backup(path: Path) -> None:
    backend = FileBackend(path)
    state = backend.save(backend.load().with_resource(res("a")))
    backend.save(state.with_resource(res("b")))
    good_backup = backend.backup_path.read_text()
    path.write_text(path.read_text()[:100])  # truncated, e.g. by a full disk
    with pytest.raises(StateCorrupt) as info:
        FileBackend(path).load()
    message = str(info.value)
    assert "truncated" in message
    assert f"the previous state is in {backend.backup_path}" in message
    assert f"copy it over {path} to recover" in message
    assert info.value.backup == str(backend.backup_path)
    assert backend.backup_path.read_text() == good_backup  # offered, never used or touched
    recovered = codec.loads(good_backup, "backup")
    assert set(recovered.resources) == {"nipap_address.lan.a"}


def test_unreadable_backup_is_said_so(path: Path) -> None:
    path.write_text("{")
    (path.parent / (path.name + ".backup")).write_text("garbage")
    with pytest.raises(StateCorrupt, match="is not readable either") as info:
        FileBackend(path).load()
    assert info.value.backup is None


def test_state_from_a_newer_netsot_is_refused(path: Path) -> None:
    doc = State(lineage="l").to_dict() | {"version": 99}
    path.write_text(json.dumps(doc))
    with pytest.raises(UnsupportedStateVersion, match="version 99"):
        FileBackend(path).load()
    with pytest.raises(UnsupportedStateVersion):
        FileBackend(path).save(State(lineage="l"))
    assert json.loads(path.read_text())["version"] == 99


def test_v0_file_is_upgraded_and_rewritten_in_the_latest_version(path: Path) -> None:
    path.write_text((Path(__file__).parent / "data" / "v0-simple.json").read_text())
    backend = FileBackend(path)
    state = backend.load()
    assert state.serial == 7
    stored = backend.save(state)  # the upgrade changes the document, so it is written once
    assert json.loads(path.read_text())["version"] == STATE_VERSION
    assert json.loads(backend.backup_path.read_text())["format"] == 0
    assert backend.save(stored).serial == stored.serial


def test_changes_made_by_another_process_are_seen(path: Path) -> None:
    ours = FileBackend(path)
    state = ours.save(ours.load().with_resource(res("a")))
    theirs = FileBackend(path)
    theirs.save(theirs.load().with_resource(res("b")))
    assert set(ours.load().resources) == {"nipap_address.lan.a", "nipap_address.lan.b"}
    assert ours.save(state.with_resource(res("c"))).serial == 3


@pytest.mark.slow
def test_crash_before_rename_leaves_the_old_state_intact(path: Path) -> None:
    backend = FileBackend(path)
    old = backend.save(backend.load().with_resource(res("a")))
    old_text = path.read_text()
    script = (
        "import sys; from state import FileBackend, ResourceState\n"
        "b = FileBackend(sys.argv[1]); s = b.load()\n"
        "b.save(s.with_resource(ResourceState('nipap_address.lan.z', 'nipap', 'z', {'ip': '10.0.0.9'})))\n"
        "print('saved')\n"
    )
    env = {**os.environ, faults.ENV: faults.BEFORE_RENAME}
    proc = subprocess.run([sys.executable, "-c", script, str(path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == faults.BEFORE_RENAME_EXIT, proc.stderr
    assert "saved" not in proc.stdout
    assert path.read_text() == old_text
    assert FileBackend(path).load().to_dict() == old.to_dict()
    leftovers = [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1  # the fully written temp file the crash left behind…
    assert mode(leftovers[0]) == 0o600  # …was private from its first byte
    assert "nipap_address.lan.z" in leftovers[0].read_text()
    # The next run saves normally over the surviving state.
    after = FileBackend(path).save(old.with_resource(res("b")))
    assert after.serial == old.serial + 1


@pytest.mark.slow
def test_saving_5000_resources_is_one_fast_write(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    resources = {}
    for i in range(5000):
        r = ResourceState(
            f"nipap_address.lan.h{i}", "nipap", str(i),
            {"prefix": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}/32", "hostname": f"h{i}",
             "mac": f"bc:24:11:00:{i // 256 % 256:02x}:{i % 256:02x}", "tags": ["netsot"]},
            ("nipap_prefix.lan",),
        )
        resources[r.address] = r
    backend = FileBackend(path)
    state = backend.save(State(lineage="l", resources=MappingProxyType(resources)))
    timings, fsyncs = [], []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    for i in range(5):  # one apply batch after another: each changes a few resources
        state = state.with_resource(res(f"new{i}"))
        start = time.perf_counter()
        state = backend.save(state)
        timings.append(time.perf_counter() - start)
    assert state.serial == 6
    assert len(fsyncs) == 5 * 2  # per save: the temp file and its directory, nothing per resource
    # About 0.3 s each on an idle 2-core machine; the bound leaves room for a busy CI runner.
    assert max(timings) < 2.5, timings
    assert len(FileBackend(path).load().resources) == 5005


def _two_saves(path: Path) -> tuple[FileBackend, State]:
    backend = FileBackend(path)
    first = backend.save(backend.load().with_resource(res("a")))
    second = backend.save(first.with_resource(res("b")))
    assert (first.serial, second.serial) == (1, 2)
    return backend, second


def _set_serial(path: Path, serial: int) -> None:
    doc = json.loads(path.read_text())
    doc["serial"] = serial
    path.write_text(json.dumps(doc))


def test_a_state_older_than_its_backup_is_refused_and_the_backup_kept(path: Path) -> None:
    backend, second = _two_saves(path)
    backup = backend.backup_path.read_text()
    _set_serial(path, 0)  # e.g. an old copy restored over the state file
    edited = path.read_text()
    for fresh in (FileBackend(path), backend):  # a new process, and one that read the newer state
        with pytest.raises(StateRegressed) as info:
            fresh.load()
        message = str(info.value)
        assert f"(lineage {second.lineage}, serial 0) is older than its backup" in message
        assert f"{backend.backup_path} (lineage {second.lineage}, serial 1)" in message
        assert f"cp {backend.backup_path} {path}" in message and "--force-state" in message
        with pytest.raises(StateRegressed):
            fresh.save(second.with_resource(res("c")))
    assert backend.backup_path.read_text() == backup and path.read_text() == edited


def test_a_backup_of_another_lineage_or_without_a_state_is_refused(path: Path) -> None:
    _two_saves(path)
    doc = json.loads(path.read_text())
    doc["lineage"] = "another-lineage"
    path.write_text(json.dumps(doc))
    with pytest.raises(StateRegressed, match=r"lineage another-lineage \(serial 2\), but its backup .* "
                                             "belongs to another lineage"):
        FileBackend(path).load()
    path.unlink()
    with pytest.raises(StateRegressed, match=f"the state file {path} does not exist, but its backup"):
        FileBackend(path).load()


def test_force_accepts_the_current_file_and_sets_the_old_backup_aside(path: Path) -> None:
    backend, _ = _two_saves(path)
    old_backup = backend.backup_path.read_text()
    _set_serial(path, 0)
    forced = FileBackend(path, force=True)
    state = forced.load()
    assert state.serial == 0
    saved = forced.save(state.with_resource(res("c")))
    assert saved.serial == 1
    aside = path.with_name(path.name + ".backup.1")
    assert aside.read_text() == old_backup  # moved aside, never overwritten
    assert json.loads(backend.backup_path.read_text())["serial"] == 0  # the file that was accepted
    assert FileBackend(path).load().serial == 1  # consistent again: no force needed

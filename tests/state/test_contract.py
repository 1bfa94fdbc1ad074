"""The StateBackend contract: every backend (file, memory, PostgreSQL) passes the same tests.

After Terraform's ``statemgr.TestFull``: a new backend is done when this module passes for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import pytest

from core.errors import LineageMismatch, StateError, StateLocked
from state import FileBackend, MemoryBackend, Record, SideRecords, StateBackend, codec, file_side
from state.model import JournalEntry, ResourceState, State
from tests.state.conftest import as_if_held_elsewhere

BACKENDS = ["file", "memory", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateBackend]:
    if request.param == "file":
        yield FileBackend(tmp_path / "netsot.state.json")
    elif request.param == "memory":
        yield MemoryBackend()
    else:
        from state.postgres import PostgresBackend

        dsn = request.getfixturevalue("pg_dsn")
        yield PostgresBackend(dsn, key=request.getfixturevalue("pg_key"))


def res(name: str, **attrs: object) -> ResourceState:
    return ResourceState(
        f"nipap_address.lan.{name}", "nipap", f"id-{name}", attrs or {"ip": "10.0.0.1"}, ("nipap_prefix.lan",)
    )


def test_is_a_state_backend(backend: StateBackend) -> None:
    assert isinstance(backend, StateBackend)
    assert backend.describe()


def test_load_when_nothing_is_stored_gives_a_fresh_state(backend: StateBackend) -> None:
    first, second = backend.load(), backend.load()
    assert first.serial == 0 and not first.resources and not first.journal
    assert first.lineage and first.lineage != second.lineage  # nothing stored: each is new


def test_save_then_load_round_trips(backend: StateBackend) -> None:
    state = backend.load().with_resource(res("a", ip="10.0.0.5", tags=["x"], nested={"k": [1, 2]}))
    state = state.with_journal(
        (JournalEntry("op1", "nipap_address.lan.a", "create", "confirmed", "nipap",
                      MappingProxyType({"ip": "10.0.0.5"}), "2026-11-28T12:00:00Z"),)
    )
    stored = backend.save(state)
    assert stored.serial == 1
    loaded = backend.load()
    assert loaded.to_dict() == stored.to_dict()
    assert loaded.lineage == state.lineage
    assert loaded.resources["nipap_address.lan.a"].attributes["nested"] == {"k": [1, 2]}


def test_serial_moves_only_on_real_change(backend: StateBackend) -> None:
    s1 = backend.save(backend.load().with_resource(res("a")))
    assert backend.save(s1).serial == 1
    assert backend.save(backend.load()).serial == 1
    same_again = s1.without("nipap_address.lan.a").with_resource(res("a"))
    assert backend.save(same_again).serial == 1
    s2 = backend.save(s1.with_resource(res("a", ip="10.0.0.2")))
    assert s2.serial == 2
    s3 = backend.save(s2.without("nipap_address.lan.a"))
    assert s3.serial == 3 and not backend.load().resources
    assert backend.load().serial == 3


def test_serial_never_goes_backwards(backend: StateBackend) -> None:
    s1 = backend.save(backend.load().with_resource(res("a")))
    backend.save(s1.with_resource(res("b")))  # serial 2 by somebody else
    s3 = backend.save(s1.with_resource(res("c")))  # a change based on the serial-1 state
    assert s3.serial == 3


def test_other_lineage_is_refused(backend: StateBackend) -> None:
    stored = backend.save(backend.load().with_resource(res("a")))
    stranger = State(lineage="another-lineage", serial=99).with_resource(res("z"))
    with pytest.raises(LineageMismatch, match=f"lineage {stored.lineage}.*another-lineage"):
        backend.save(stranger)
    assert backend.load().to_dict() == stored.to_dict()


def test_invalid_state_is_refused_and_nothing_is_stored(backend: StateBackend) -> None:
    stored = backend.save(backend.load().with_resource(res("a")))
    bad = stored.with_resource(ResourceState("x.y", "nipap", None, {}, status="bogus"))
    with pytest.raises(StateError, match="status"):
        backend.save(bad)
    assert backend.load().to_dict() == stored.to_dict()


def test_lock_is_exclusive_and_fails_fast(backend: StateBackend) -> None:
    assert backend.lock_info() is None
    with backend.lock("apply") as info:
        assert info.operation == "apply"
        assert backend.lock_info() == info
        start = time.monotonic()
        with pytest.raises(StateLocked) as err, backend.lock("plan"):
            pass
        assert time.monotonic() - start < 2.0
        assert err.value.holder == info
        assert info.id in str(err.value) and "'apply'" in str(err.value)
    assert backend.lock_info() is None
    with backend.lock("plan"):
        pass


def test_lock_is_released_on_exception(backend: StateBackend) -> None:
    with pytest.raises(KeyError), backend.lock("apply"):
        raise KeyError("boom")
    assert backend.lock_info() is None


def test_save_works_while_locked(backend: StateBackend) -> None:
    with backend.lock("apply"):
        stored = backend.save(backend.load().with_resource(res("a")))
    assert backend.load().to_dict() == stored.to_dict()


def test_force_unlock_right_and_wrong_id(backend: StateBackend) -> None:
    with pytest.raises(StateError, match="not locked"):
        backend.force_unlock("whatever")
    with backend.lock("apply") as info:
        with pytest.raises(StateError, match="does not match"):
            backend.force_unlock("not-" + info.id)
        assert backend.lock_info() == info
        if isinstance(backend, FileBackend):  # a live holder on this host is never broken (test_lock)
            as_if_held_elsewhere(backend.lock_path)
        backend.force_unlock(info.id)
        assert backend.lock_info() is None
        with backend.lock("plan") as other:
            assert other.id != info.id
    assert backend.lock_info() is None


def test_stored_document_is_the_codec_output(backend: StateBackend) -> None:
    stored = backend.save(backend.load().with_resource(res("a")))
    fresh = type(backend).__name__
    assert codec.loads(codec.dumps(backend.load()), fresh).to_dict() == stored.to_dict()


@pytest.mark.slow
def test_many_resources_save_quickly(backend: StateBackend) -> None:
    state = backend.load()
    resources = {r.address: r for r in (res(f"h{i}", ip=f"10.0.{i // 256}.{i % 256}") for i in range(5000))}
    state = backend.save(State(lineage=state.lineage, resources=MappingProxyType(resources)))
    start = time.perf_counter()
    state = backend.save(state.with_resource(res("h1", ip="10.9.9.9")))
    assert time.perf_counter() - start < 2.5  # ~0.3 s idle; room for a busy machine
    assert state.serial == 2
    assert backend.load().resources["nipap_address.lan.h1"].attributes["ip"] == "10.9.9.9"


def test_side_records_round_trip_beside_the_state(backend: StateBackend) -> None:
    """Every backend keeps side records (the run history, the last verify): read back whole, None
    before the first write, and never part of the state document."""
    assert isinstance(backend, SideRecords)
    history = backend.record("history.jsonl")
    assert isinstance(history, Record)
    assert history.read() is None
    history.write('{"run": "r1"}\n')
    history.write('{"run": "r1"}\n{"run": "r2"}\n')
    assert backend.record("history.jsonl").read() == '{"run": "r1"}\n{"run": "r2"}\n'
    assert backend.record("verify.json").read() is None  # each name is its own record
    one = res("a")
    stored = backend.save(State(resources={one.address: one}))
    assert backend.load() == stored and "r2" not in codec.dumps(backend.load())
    assert backend.record("history.jsonl").read() == '{"run": "r1"}\n{"run": "r2"}\n'


@pytest.mark.parametrize("name", ["../state", "History", "a/b", "", "x.y.z"])
def test_a_side_record_name_is_one_safe_word(backend: StateBackend, name: str) -> None:
    with pytest.raises(StateError, match="is not a side record name"):
        backend.record(name)


def test_only_a_file_state_has_a_file_side(backend: StateBackend) -> None:
    side = file_side(backend)
    assert (side is not None) == isinstance(backend, FileBackend)
    if side is not None:
        assert side.sidecar("plan-key").name.endswith(".plan-key")

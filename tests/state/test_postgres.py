"""PostgresBackend specifics: advisory locks across processes, crash release, force-unlock of another
session, corrupt rows, and errors that never show the password."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable

import psycopg
import pytest
from psycopg.types.json import Jsonb

from core.errors import StateCorrupt, StateError, StateLocked, StateRegressed, UnsupportedStateVersion
from state.model import STATE_VERSION, ResourceState, State
from state.postgres import PostgresBackend
from tests.state.conftest import Holder

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _store_body(dsn: str, key: str, body: object) -> None:
    PostgresBackend(dsn, key).load()  # creates the tables
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO netsot_state (key, lineage, serial, body) VALUES (%s, 'l', 1, %s)",
            (key, Jsonb(body)),
        )


@pytest.mark.slow
def test_lock_contention_across_processes_names_the_holder(
    pg_dsn: str, pg_key: str, lock_holder: Callable[..., Holder]
) -> None:
    holder = lock_holder("postgres", pg_dsn, "apply", pg_key)
    backend = PostgresBackend(pg_dsn, pg_key)
    start = time.monotonic()
    with pytest.raises(StateLocked) as info, backend.lock("plan"):
        pass
    assert time.monotonic() - start < 2.0
    assert info.value.holder == holder.info
    message = str(info.value)
    assert f"pid {holder.pid}" in message and socket.gethostname() in message and "'apply'" in message
    assert backend.lock_info() == holder.info
    holder.release()
    assert backend.lock_info() is None
    with backend.lock("plan"):
        pass


@pytest.mark.slow
def test_killed_holder_releases_the_advisory_lock(
    pg_dsn: str, pg_key: str, lock_holder: Callable[..., Holder]
) -> None:
    holder = lock_holder("postgres", pg_dsn, "apply", pg_key)
    backend = PostgresBackend(pg_dsn, pg_key)
    with pytest.raises(StateLocked):
        backend.lock("plan").__enter__()
    holder.kill()  # SIGKILL: no cleanup runs in the child
    deadline = time.monotonic() + 10  # the server notices the closed socket almost at once
    while backend.lock_info() is not None:
        assert time.monotonic() < deadline, "the advisory lock outlived its killed holder"
        time.sleep(0.05)
    with backend.lock("apply") as info:
        assert backend.lock_info() == info  # the stale row of the dead holder was replaced


@pytest.mark.slow
def test_force_unlock_terminates_another_process_session(
    pg_dsn: str, pg_key: str, lock_holder: Callable[..., Holder]
) -> None:
    holder = lock_holder("postgres", pg_dsn, "apply", pg_key)
    backend = PostgresBackend(pg_dsn, pg_key)
    with pytest.raises(StateError, match="does not match"):
        backend.force_unlock("wrong-id")
    assert backend.lock_info() == holder.info
    backend.force_unlock(holder.info.id)
    assert backend.lock_info() is None
    with backend.lock("apply"):
        holder.release()  # the old holder finishes without error and without touching our lock
        assert backend.lock_info() is not None


def test_keys_are_independent(pg_dsn: str, pg_key: str) -> None:
    a, b = PostgresBackend(pg_dsn, pg_key + "-a"), PostgresBackend(pg_dsn, pg_key + "-b")
    sa = a.save(a.load().with_resource(ResourceState("x.y", "nipap", None, {})))
    assert not b.load().resources
    with a.lock("apply"), b.lock("apply"):
        pass
    assert a.load().to_dict() == sa.to_dict()


def test_row_columns_follow_the_body(pg_dsn: str, pg_key: str) -> None:
    backend = PostgresBackend(pg_dsn, pg_key)
    stored = backend.save(backend.load().with_resource(ResourceState("x.y", "nipap", None, {})))
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "SELECT lineage, serial, body->>'version', updated_at IS NOT NULL"
            " FROM netsot_state WHERE key = %s",
            (pg_key,),
        ).fetchone()
    assert row == (stored.lineage, 1, str(STATE_VERSION), True)


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        ({"version": 1}, StateCorrupt, "'serial' is a required property"),
        ([1, 2], StateCorrupt, "expected a JSON object"),
        ({"version": 42}, UnsupportedStateVersion, "version 42"),
    ],
)
def test_bad_rows_are_refused_and_kept(
    pg_dsn: str, pg_key: str, body: object, error: type[Exception], message: str
) -> None:
    _store_body(pg_dsn, pg_key, body)
    backend = PostgresBackend(pg_dsn, pg_key)
    with pytest.raises(error, match=message) as info:
        backend.load()
    assert pg_key in str(info.value)
    with pytest.raises(error):
        backend.save(State(lineage="l"))
    with psycopg.connect(pg_dsn) as conn:
        kept = conn.execute("SELECT body FROM netsot_state WHERE key = %s", (pg_key,)).fetchone()
    assert kept is not None and kept[0] == body


def test_v0_body_is_upgraded_and_rewritten(pg_dsn: str, pg_key: str) -> None:
    v0 = {"format": 0, "serial": 4, "lineage": "l0", "objects": {"a.b": {"system": "nipap", "id": 1}}}
    _store_body(pg_dsn, pg_key, v0)
    backend = PostgresBackend(pg_dsn, pg_key)
    state = backend.load()
    assert state.serial == 4 and state.resources["a.b"].provider_id == "1"
    assert backend.save(state).serial == 4
    with psycopg.connect(pg_dsn) as conn:
        body = conn.execute("SELECT body FROM netsot_state WHERE key = %s", (pg_key,)).fetchone()[0]
    assert body["version"] == STATE_VERSION and "objects" not in body


@pytest.mark.parametrize(
    "dsn",
    [
        "host=127.0.0.1 port={port} user=netsot password=s3cr3t-Pw dbname=netsot connect_timeout=2",
        "postgresql://netsot:s3cr3t-Pw@127.0.0.1:{port}/netsot?connect_timeout=2",
    ],
)
def test_connection_errors_never_show_the_password(dsn: str) -> None:
    backend = PostgresBackend(dsn.format(port=_free_port()), "default")
    assert "s3cr3t" not in backend.describe()
    for call in (backend.load, backend.lock_info, lambda: backend.lock("apply").__enter__()):
        with pytest.raises(StateError) as info:
            call()
        message = str(info.value)
        assert "s3cr3t" not in message and "cannot connect" in message and "127.0.0.1" in message
        assert info.value.__cause__ is None and info.value.__suppress_context__


def test_wrong_password_is_reported_without_it(pg_dsn: str, pg_key: str) -> None:
    # Trust auth ignores passwords, so use a database that does not exist to get a server error.
    backend = PostgresBackend(pg_dsn.replace("dbname=postgres", "dbname=nosuchdb") + " password=s3cr3t-Pw")
    with pytest.raises(StateError) as info:
        backend.load()
    assert "nosuchdb" in str(info.value) and "s3cr3t" not in str(info.value)


def test_unparsable_dsn_is_not_echoed() -> None:
    with pytest.raises(StateError, match="cannot be parsed") as info:
        PostgresBackend("host=x password='s3cr3t-Pw")
    assert "s3cr3t" not in str(info.value)


def test_lock_row_is_json_holder_info(pg_dsn: str, pg_key: str) -> None:
    backend = PostgresBackend(pg_dsn, pg_key)
    with backend.lock("apply") as info, psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT info FROM netsot_lock WHERE key = %s", (pg_key,)).fetchone()
        assert row is not None and row[0] == json.loads(json.dumps(info.to_dict()))
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT 1 FROM netsot_lock WHERE key = %s", (pg_key,)).fetchone() is None


def test_saves_by_another_session_are_seen(pg_dsn: str, pg_key: str) -> None:
    ours, theirs = PostgresBackend(pg_dsn, pg_key), PostgresBackend(pg_dsn, pg_key)
    s1 = ours.save(ours.load().with_resource(ResourceState("a.a", "nipap", None, {})))
    theirs.save(theirs.load().with_resource(ResourceState("b.b", "nipap", None, {})))
    s3 = ours.save(s1.with_resource(ResourceState("c.c", "nipap", None, {})))
    assert s3.serial == 3
    assert set(theirs.load().resources) == {"a.a", "c.c"}  # ours was based on serial 1: last write wins
    with pytest.raises(StateError, match="lineage"):
        theirs.save(State(lineage="other"))


def test_a_row_replaced_by_an_older_copy_is_refused_by_a_backend_that_saw_the_newer(
    pg_dsn: str, pg_key: str
) -> None:
    """No backup row to compare with, so the long-lived backend (the service) remembers what it
    read or wrote: a lower serial of the same lineage is refused rather than silently built on."""
    backend = PostgresBackend(pg_dsn, pg_key)
    state = backend.load()
    for name in ("a", "b", "c"):
        state = backend.save(state.with_resource(
            ResourceState(f"nipap_address.lan.{name}", "nipap", name, {"ip": "10.0.0.1"})))
    assert state.serial == 3
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # an older copy restored by hand
        conn.execute("UPDATE netsot_state SET serial = 1, body = jsonb_set(body, '{serial}', '1') "
                     "WHERE key = %s", (pg_key,))
    with pytest.raises(StateRegressed, match=r"serial 1\) is older than the one this netsot read or "
                                             r"wrote before \(serial 3\)"):
        backend.load()
    with pytest.raises(StateRegressed):
        backend.save(state.with_resource(ResourceState("nipap_address.lan.d", "nipap", "d", {})))
    assert PostgresBackend(pg_dsn, pg_key, force=True).load().serial == 1


def test_lock_timeout_retries_the_advisory_lock(pg_dsn: str, pg_key: str) -> None:
    import threading

    holder, waiter = PostgresBackend(pg_dsn, pg_key), PostgresBackend(pg_dsn, pg_key)
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.lock("apply"):
            taken.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(10)
    try:
        with pytest.raises(StateLocked, match=r"gave up after waiting 0\.3 s \(--lock-timeout\)"):
            waiter.lock("state push", timeout=0.3).__enter__()
        threading.Timer(0.5, release.set).start()
        started = time.monotonic()
        with waiter.lock("state push", timeout=10) as info:
            assert info.operation == "state push"
        assert time.monotonic() - started >= 0.3
    finally:
        release.set()
        thread.join()


def test_a_forced_push_of_another_lineage_replaces_the_row(pg_dsn: str, pg_key: str) -> None:
    backend = PostgresBackend(pg_dsn, pg_key)
    backend.save(backend.load().with_resource(ResourceState("x.y", "nipap", None, {})))
    other = State(serial=42)
    stored, kept = backend.replace(other)
    assert (stored.lineage, stored.serial, kept) == (other.lineage, 42, [])
    assert PostgresBackend(pg_dsn, pg_key).load().lineage == other.lineage


_OLD_DDL = """
CREATE TABLE netsot_state (key text PRIMARY KEY, lineage text NOT NULL, serial bigint NOT NULL,
                           body jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE netsot_lock (key text PRIMARY KEY, info jsonb NOT NULL);
"""


def test_a_database_of_an_older_netsot_gains_the_record_table_and_keeps_its_state(
    pg_dsn: str, pg_key: str
) -> None:
    """The tables are made with CREATE TABLE IF NOT EXISTS: a database with only the state and lock
    tables gains ``netsot_record`` on first use, its state row untouched; doing it again changes nothing."""
    dbname = f"old_{pg_key.replace('-', '_')}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    dsn = pg_dsn.replace("dbname=postgres", f"dbname={dbname}")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(_OLD_DDL)
        one = ResourceState("nipap_address.lan.a", "nipap", "1", {"ip": "10.0.0.1"})
        stored = PostgresBackend(dsn, "default").save(State(resources={one.address: one}))
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DROP TABLE netsot_record")  # as an older netsot left it
        for _ in range(2):
            backend = PostgresBackend(dsn, "default")
            assert backend.load() == stored
            backend.record("verify.json").write('{"time": "t", "checks": []}\n')
        assert PostgresBackend(dsn, "default").record("verify.json").read() == '{"time": "t", "checks": []}\n'
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def test_side_records_are_per_key_and_hold_what_they_were_given(pg_dsn: str, pg_key: str) -> None:
    one, two = PostgresBackend(pg_dsn, pg_key), PostgresBackend(pg_dsn, pg_key + "-other")
    one.record("history.jsonl").write("one\n")
    assert two.record("history.jsonl").read() is None
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT name, body FROM netsot_record WHERE key = %s", (pg_key,)).fetchall()
        state_rows = conn.execute("SELECT count(*) FROM netsot_state WHERE key = %s", (pg_key,)).fetchone()
    assert rows == [("history.jsonl", "one\n")] and state_rows == (0,)


def test_the_run_history_and_the_last_verify_are_kept_with_postgresql(pg_dsn: str, pg_key: str) -> None:
    """What `explain`, the status page and the apply recorder use works on this backend too."""
    from core.model import Action, Address, Change, ChangeOutcome, Check, Plan
    from engine.apply import history

    backend = PostgresBackend(pg_dsn, pg_key)
    address = Address.parse("nipap_address.lan.web01")
    plan = Plan(changes=(Change(Action.CREATE, address, None, {"ip": "10.0.0.2"}, reason="new"),))
    for run in ("run1", "run2"):
        history.record(history.record_of(backend, history.HISTORY),
                       history.entries_of(plan, [ChangeOutcome(address, "applied")], run, "t"))
    entries = history.read(history.record_of(PostgresBackend(pg_dsn, pg_key), history.HISTORY))
    assert [(e.run, e.address, e.status) for e in entries] == [("run1", str(address), "applied"),
                                                               ("run2", str(address), "applied")]
    check = Check("dns", "web01", True, "resolves", str(address))
    history.save_verify(history.record_of(backend, history.VERIFY), [check], when="2026-12-07T10:00:00Z")
    last = history.load_verify(history.record_of(PostgresBackend(pg_dsn, pg_key), history.VERIFY))
    assert last is not None and last.time == "2026-12-07T10:00:00Z" and last.checks == (check,)

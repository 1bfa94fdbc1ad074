"""The PostgreSQL lock cannot be lost silently: every save under the lock proves, on the lock's own
session, that the lock is still held and that nobody else wrote the row since (a real PostgreSQL,
restarted under a run that holds the lock)."""

from __future__ import annotations

import psycopg
import pytest

from core.errors import StateLockLost
from state.model import ResourceState, State
from state.postgres import PostgresBackend
from tests.state.conftest import PgCluster

pytestmark = pytest.mark.integration


def _with(state: State, address: str) -> State:
    return state.with_resource(ResourceState(address, "nipap", None, {}))


def _row(dsn: str, key: str) -> tuple[int, list[str]]:
    with psycopg.connect(dsn) as conn:
        serial, body = conn.execute("SELECT serial, body FROM netsot_state WHERE key = %s", (key,)).fetchone()
    return serial, sorted(r["address"] for r in body["resources"])


@pytest.mark.slow
def test_a_database_restart_under_a_run_stops_it_before_it_writes(pg_cluster: PgCluster, pg_key: str) -> None:
    dsn = pg_cluster.dsn
    first, second = PostgresBackend(dsn, pg_key), PostgresBackend(dsn, pg_key)
    first.save(_with(first.load(), "a.seed"))
    with first.lock("apply") as info:
        planned = _with(first.load(), "a.first")  # apply #1 has planned; now the database restarts
        pg_cluster.stop()
        assert pg_cluster.start().returncode == 0
        with second.lock("apply"):  # apply #2 takes the lock the restart freed, and applies
            second.save(_with(second.load(), "a.second"))
        with pytest.raises(StateLockLost) as lost:
            first.save(planned)  # apply #1 resumes: its write is refused
    message = str(lost.value)
    assert f"lost its lock on the state postgresql postgres@127.0.0.1:{pg_cluster.port}/postgres" in message
    assert info.id in message and "stopped before writing the state or touching a system again" in message
    assert _row(dsn, pg_key) == (2, ["a.second", "a.seed"])


def test_a_session_that_no_longer_holds_the_lock_cannot_write(pg_dsn: str, pg_key: str) -> None:
    ours, theirs = PostgresBackend(pg_dsn, pg_key), PostgresBackend(pg_dsn, pg_key)
    with ours.lock("apply") as info:
        ours.save(_with(ours.load(), "a.one"))  # the lock is ours: writes go through
        theirs.force_unlock(info.id)  # an operator breaks it (terminating our session)
        with theirs.lock("apply"):
            with pytest.raises(StateLockLost, match="the session holding it ended"):
                ours.save(_with(ours.load(), "a.two"))
            theirs.save(_with(theirs.load(), "a.theirs"))
    assert _row(pg_dsn, pg_key) == (2, ["a.one", "a.theirs"])


def test_a_row_written_by_another_run_under_our_lock_is_not_overwritten(pg_dsn: str, pg_key: str) -> None:
    ours, stray = PostgresBackend(pg_dsn, pg_key), PostgresBackend(pg_dsn, pg_key)
    ours.save(_with(ours.load(), "a.seed"))
    with ours.lock("apply"):
        stray.save(_with(stray.load(), "a.stray"))  # a writer that ignored the lock
        with pytest.raises(StateLockLost, match=r"another run wrote the state meanwhile \(serial 1 when the "
                                                r"lock was taken, serial 2 now\)"):
            ours.save(_with(ours.load(), "a.ours"))
    assert _row(pg_dsn, pg_key) == (2, ["a.seed", "a.stray"])


def test_saves_under_a_held_lock_keep_working(pg_dsn: str, pg_key: str) -> None:
    backend = PostgresBackend(pg_dsn, pg_key)
    with backend.lock("apply"):
        state = backend.save(_with(backend.load(), "a.one"))
        state = backend.save(_with(state, "a.two"))
        assert backend.save(state) == state  # nothing changed: nothing written
        replaced, _ = backend.replace(State(lineage="another"))
    assert replaced.lineage == "another" and backend.load().lineage == "another"
    assert _row(pg_dsn, pg_key)[0] == replaced.serial


def test_an_apply_that_lost_its_lock_touches_no_system(pg_cluster: PgCluster, pg_key: str) -> None:
    from engine.apply.applier import apply_plan
    from tests.engine.apply.test_apply import mixed_plan, old_state
    from tests.engine.conftest import MemProvider

    dsn = pg_cluster.dsn
    ours, theirs = PostgresBackend(dsn, pg_key), PostgresBackend(dsn, pg_key)
    ours.save(old_state())
    calls: list[tuple[str, tuple[str, ...]]] = []
    systems = {name: MemProvider(name, calls=calls) for name in ("nipap", "proxmox", "edgemax")}
    with ours.lock("apply"):
        state = ours.load()  # planned; now the database restarts and another apply runs
        pg_cluster.stop()
        assert pg_cluster.start().returncode == 0
        with theirs.lock("apply"):
            theirs.save(_with(theirs.load(), "a.theirs"))
        with pytest.raises(StateLockLost, match="stopped before writing the state or touching a system"):
            apply_plan(mixed_plan(), systems, ours, state=state)
    assert calls == []  # not one system was sent a change
    assert "a.theirs" in _row(dsn, pg_key)[1]

"""The PostgreSQL state backend, for teams: one row per state key, a session advisory lock.

Owns: the ``netsot_state``, ``netsot_lock`` and ``netsot_record`` (side records: the run history,
the last verify) tables, made on first use with ``CREATE TABLE IF NOT EXISTS`` (so a database made
by an older netsot gains the new table and running it twice changes nothing), transactional saves
(same serial/lineage rules as the file backend), the advisory lock held on a dedicated connection,
and force-unlock.
Must not: put the DSN's password in any message, or keep a lock after its holder's session ends
(the advisory lock dies with the connection, so a crashed run releases it).

Fencing: while this backend holds the lock, every save runs on the lock's own session, in one
transaction that first proves the advisory lock is still held by that session and then writes as a
compare-and-swap on (lineage, serial): the row must be exactly what it was when the lock was taken
or last written by us. A lost session (a database restart, a force-unlock) or a row another run
wrote raises ``StateLockLost``; the run stops before it touches a system again.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from core.errors import StateError, StateLocked, StateLockLost, StateRegressed
from state import codec
from state.backend import next_state
from state.lock import LockInfo, acquire_within
from state.model import STATE_VERSION, State
from state.records import Record, check_name

CONNECT_TIMEOUT = 10  # seconds
_UNLOCK_WAIT = 5.0  # seconds to wait for a terminated holder's lock to disappear

_DDL = """
CREATE TABLE IF NOT EXISTS netsot_state (
    key        text PRIMARY KEY,
    lineage    text NOT NULL,
    serial     bigint NOT NULL,
    body       jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS netsot_lock (
    key  text PRIMARY KEY,
    info jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS netsot_record (
    key        text NOT NULL,
    name       text NOT NULL,
    body       text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, name)
);
"""

# The session lock guards runs; the save lock (transaction-scoped) only serialises writers of
# one key, so a run holding the session lock on one connection can still save on another.
_LOCK_KEY = "hashtextextended('netsot:' || %s, 0)"
_SAVE_KEY = "hashtextextended('netsot-save:' || %s, 0)"
_HOLDER_PIDS = f"""
SELECT l.pid FROM pg_locks l
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND ((l.classid::bigint << 32) | l.objid::bigint) = {_LOCK_KEY}
"""


_HELD_BY_ME = f"""
SELECT 1 FROM pg_locks l
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid = pg_backend_pid()
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND ((l.classid::bigint << 32) | l.objid::bigint) = {_LOCK_KEY}
"""


class _Held:
    """The lock this backend holds: its session, its holder and the row's (lineage, serial) as this run
    last saw it under the lock (None: no row)."""

    def __init__(self, conn: psycopg.Connection[Any], info: LockInfo, seen: tuple[str, int] | None) -> None:
        self.conn, self.info, self.seen = conn, info, seen


class PostgresBackend:
    """State stored in PostgreSQL under ``key`` (several states can share one database)."""

    def __init__(self, dsn: str, key: str = "default", *, force: bool = False) -> None:
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.Error:
            # The parser's message quotes the DSN, password included: never pass it on.
            raise StateError("the PostgreSQL DSN for the state backend cannot be parsed") from None
        self._dsn = dsn
        self._password = str(params.get("password") or "")
        self._where = _describe_target(params)
        self.key = key
        self._force = force
        self._ready = False
        # (lineage, serial) of the row we last read or wrote → its State and stored version.
        self._cache: tuple[str, int, State, int] | None = None
        self._held: _Held | None = None  # while ``lock()`` holds the lock: every write is fenced

    def describe(self) -> str:
        return f"postgresql {self._where} (key {self.key!r})"

    def record(self, name: str) -> Record:
        """The side record ``name`` of this key: a row of ``netsot_record`` (the run history, the last
        verify), kept beside the state row and never in it."""
        return _PgRecord(self, check_name(name))

    def _read_record(self, name: str) -> str | None:
        with self._connection() as conn:
            row = self._query(conn, "SELECT body FROM netsot_record WHERE key = %s AND name = %s",
                              (self.key, name)).fetchone()
        return None if row is None else str(row[0])

    def _write_record(self, name: str, text: str) -> None:
        with self._connection() as conn:
            self._query(conn, """INSERT INTO netsot_record (key, name, body, updated_at)
                                 VALUES (%s, %s, %s, now())
                                 ON CONFLICT (key, name) DO UPDATE SET body = EXCLUDED.body,
                                     updated_at = EXCLUDED.updated_at""", (self.key, name, text))

    def load(self) -> State:
        with self._connection() as conn:
            row = self._query(
                conn, "SELECT lineage, serial, body FROM netsot_state WHERE key = %s", (self.key,)
            ).fetchone()
        if row is None:
            return State()
        self._check_not_older(row[0], row[1])
        state, version = codec.decode_versioned(row[2], self.describe())
        self._cache = (row[0], row[1], state, version)
        return state

    def save(self, state: State) -> State:
        if self._held is not None:
            return self._save_fenced(self._held, state)
        with self._connection() as conn, self._errors("save the state"), conn.transaction():
            conn.execute(f"SELECT pg_advisory_xact_lock({_SAVE_KEY})", (self.key,))
            row = conn.execute(
                "SELECT lineage, serial FROM netsot_state WHERE key = %s FOR UPDATE", (self.key,)
            ).fetchone()
            stored, new = self._successor(conn, row, state)
            if new is None:
                assert stored is not None
                return stored
            body = codec.encode(new, previous=stored)
            conn.execute(
                """INSERT INTO netsot_state (key, lineage, serial, body, updated_at)
                   VALUES (%s, %s, %s, %s, now())
                   ON CONFLICT (key) DO UPDATE SET lineage = EXCLUDED.lineage, serial = EXCLUDED.serial,
                       body = EXCLUDED.body, updated_at = EXCLUDED.updated_at""",
                (self.key, new.lineage, new.serial, Jsonb(body)),
            )
        self._cache = (new.lineage, new.serial, new, STATE_VERSION)
        return new

    def _save_fenced(self, held: _Held, state: State) -> State:
        """``save`` under the lock: on the lock's session, proving the lock and the row first."""
        with self._fence(held) as conn:
            row = conn.execute(
                "SELECT lineage, serial FROM netsot_state WHERE key = %s FOR UPDATE", (self.key,)
            ).fetchone()
            self._check_row(held, row)
            stored, new = self._successor(conn, row, state)
            if new is None:
                assert stored is not None
                return stored
            body = Jsonb(codec.encode(new, previous=stored))
            if row is None:
                written = conn.execute(
                    """INSERT INTO netsot_state (key, lineage, serial, body, updated_at)
                       VALUES (%s, %s, %s, %s, now()) ON CONFLICT (key) DO NOTHING""",
                    (self.key, new.lineage, new.serial, body),
                ).rowcount
            else:
                written = conn.execute(
                    """UPDATE netsot_state SET lineage = %s, serial = %s, body = %s, updated_at = now()
                       WHERE key = %s AND lineage = %s AND serial = %s""",
                    (new.lineage, new.serial, body, self.key, row[0], row[1]),
                ).rowcount
            if written != 1:
                raise self._lost(held, "another run wrote the state at the same moment")
        held.seen = (new.lineage, new.serial)
        self._cache = (new.lineage, new.serial, new, STATE_VERSION)
        return new

    def _successor(self, conn: psycopg.Connection[Any], row: Any,
                   state: State) -> tuple[State | None, State | None]:
        """(the stored state, the state to write — None when nothing changed) for the row read FOR UPDATE."""
        stored, version = None, STATE_VERSION
        if row is not None:
            self._check_not_older(row[0], row[1])
            stored, version = self._stored(conn, row[0], row[1])
        return stored, next_state(stored, state, self.describe(), version)

    @contextlib.contextmanager
    def _fence(self, held: _Held) -> Iterator[psycopg.Connection[Any]]:
        """A transaction on the lock's own session that has proved the session still holds the lock."""
        conn = held.conn
        try:
            with conn.transaction():
                if conn.execute(_HELD_BY_ME, (self.key,)).fetchone() is None:
                    raise self._lost(held, "its session no longer holds the advisory lock")
                conn.execute(f"SELECT pg_advisory_xact_lock({_SAVE_KEY})", (self.key,))
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as err:
            raise self._lost(held, f"the session holding it ended ({self._detail(err)})") from None
        except psycopg.Error as err:
            raise self._failure("save the state", err) from None

    def _check_row(self, held: _Held, row: Any) -> None:
        now = (row[0], row[1]) if row is not None else None
        if now != held.seen:
            was = f"serial {held.seen[1]}" if held.seen is not None else "no state"
            found = f"serial {now[1]}" if now is not None else "no state"
            raise self._lost(held, f"another run wrote the state meanwhile ({was} when the lock was taken, "
                                   f"{found} now)")

    def _lost(self, held: _Held, why: str) -> StateLockLost:
        return StateLockLost(
            f"this run lost its lock on the state {self.describe()} ({held.info.id}, taken for "
            f"{held.info.operation!r}): {why}; another run may hold the lock and may have changed the "
            "systems, so this run stopped before writing the state or touching a system again. Run plan again"
        )

    def replace(self, state: State) -> tuple[State, list[str]]:
        """Another lineage replaces the row as it is (this backend keeps no copy of the old one)."""
        if self._held is not None:
            return self._replace_fenced(self._held, state)
        with self._connection() as conn:
            row = self._query(conn, "SELECT lineage FROM netsot_state WHERE key = %s", (self.key,)).fetchone()
        if row is None or row[0] == state.lineage:
            return self.save(state), []
        new = replace(state, version=STATE_VERSION)
        body = codec.encode(new)
        with self._connection() as conn, self._errors("replace the state"), conn.transaction():
            conn.execute(f"SELECT pg_advisory_xact_lock({_SAVE_KEY})", (self.key,))
            conn.execute(
                "UPDATE netsot_state SET lineage = %s, serial = %s, body = %s, updated_at = now() "
                "WHERE key = %s",
                (new.lineage, new.serial, Jsonb(body), self.key),
            )
        self._cache = (new.lineage, new.serial, new, STATE_VERSION)
        return new, []

    def _replace_fenced(self, held: _Held, state: State) -> tuple[State, list[str]]:
        with self._fence(held) as conn:
            row = conn.execute(
                "SELECT lineage, serial FROM netsot_state WHERE key = %s FOR UPDATE", (self.key,)
            ).fetchone()
            self._check_row(held, row)
        if row is None or row[0] == state.lineage:
            return self._save_fenced(held, state), []
        new = replace(state, version=STATE_VERSION)
        with self._fence(held) as conn:
            written = conn.execute(
                "UPDATE netsot_state SET lineage = %s, serial = %s, body = %s, updated_at = now() "
                "WHERE key = %s AND lineage = %s AND serial = %s",
                (new.lineage, new.serial, Jsonb(codec.encode(new)), self.key, row[0], row[1]),
            ).rowcount
            if written != 1:
                raise self._lost(held, "another run wrote the state at the same moment")
        held.seen = (new.lineage, new.serial)
        self._cache = (new.lineage, new.serial, new, STATE_VERSION)
        return new, []

    def _check_not_older(self, lineage: str, serial: int) -> None:
        """The row has no backup to compare with; what this backend read or wrote before is the copy
        that must not be lost: a lower serial of the same lineage means the row was replaced by an
        older one (a restore), and the next save would silently build on it."""
        if self._force or self._cache is None or self._cache[0] != lineage or serial >= self._cache[1]:
            return
        raise StateRegressed(
            f"the state in {self.describe()} (lineage {lineage}, serial {serial}) is older than the one this "
            f"netsot read or wrote before (serial {self._cache[1]}): the row was replaced by an older copy; "
            "refusing to use it. Restart the run after checking the row, or run with --force-state to "
            "accept it"
        )

    def _stored(self, conn: psycopg.Connection[Any], lineage: str, serial: int) -> tuple[State, int]:
        # Every change moves the serial, so (lineage, serial) names one content: when they match
        # what we last read or wrote, skip fetching and re-validating thousands of resources.
        if self._cache is not None and self._cache[:2] == (lineage, serial):
            return self._cache[2], self._cache[3]
        row = conn.execute("SELECT body FROM netsot_state WHERE key = %s", (self.key,)).fetchone()
        return codec.decode_versioned(row[0], self.describe())

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        """Hold the session advisory lock on a dedicated connection for the whole block (trying again
        with backoff for up to ``timeout`` seconds while another session holds it)."""
        conn = self._connect()
        try:
            self._ensure_tables(conn)

            def take() -> None:
                got = self._query(conn, f"SELECT pg_try_advisory_lock({_LOCK_KEY})", (self.key,)).fetchone()
                if not got or not got[0]:
                    raise self._locked_error(conn)

            acquire_within(take, timeout)
            info = LockInfo.new(operation, self.describe())
            self._query(
                conn,
                """INSERT INTO netsot_lock (key, info) VALUES (%s, %s)
                   ON CONFLICT (key) DO UPDATE SET info = EXCLUDED.info""",
                (self.key, Jsonb(info.to_dict())),
            )
            row = self._query(
                conn, "SELECT lineage, serial FROM netsot_state WHERE key = %s", (self.key,)
            ).fetchone()
            self._held = _Held(conn, info, (row[0], row[1]) if row is not None else None)
            try:
                yield info
            finally:
                self._held = None
                # The connection may be gone (force-unlock terminated it): closing it frees the lock.
                with contextlib.suppress(psycopg.Error):
                    conn.execute(
                        "DELETE FROM netsot_lock WHERE key = %s AND info->>'id' = %s", (self.key, info.id)
                    )
                    conn.execute(f"SELECT pg_advisory_unlock({_LOCK_KEY})", (self.key,))
        finally:
            conn.close()

    def lock_info(self) -> LockInfo | None:
        with self._connection() as conn:
            return self._holder(conn)

    def force_unlock(self, lock_id: str) -> None:
        """Terminate the session holding the lock, but only if ``lock_id`` is its id."""
        with self._connection() as conn:
            holder = self._unlockable(conn, lock_id)
            pids = [r[0] for r in self._query(conn, _HOLDER_PIDS, (self.key,)).fetchall()]
            for pid in pids:
                self._query(conn, "SELECT pg_terminate_backend(%s)", (pid,))
            deadline = time.monotonic() + _UNLOCK_WAIT
            while self._query(conn, _HOLDER_PIDS, (self.key,)).fetchone() is not None:
                if time.monotonic() > deadline:
                    raise StateError(
                        f"terminated the session holding {holder.id}, but the lock on {self.describe()} "
                        f"was still held after {_UNLOCK_WAIT:.0f} s"
                    )
                time.sleep(0.05)
            self._query(
                conn, "DELETE FROM netsot_lock WHERE key = %s AND info->>'id' = %s", (self.key, lock_id)
            )

    def check_unlockable(self, lock_id: str) -> LockInfo:
        """The holder by id. Its session is terminated by ``force_unlock``, so unlike a file lock's
        live holder, it cannot go on writing the state after the lock is broken."""
        with self._connection() as conn:
            return self._unlockable(conn, lock_id)

    # -- internals ---------------------------------------------------------------------------

    def _unlockable(self, conn: psycopg.Connection[Any], lock_id: str) -> LockInfo:
        holder = self._holder(conn)
        if holder is None:
            raise StateError(f"the state {self.describe()} is not locked; nothing to unlock")
        if holder.id != lock_id:
            raise StateError(f"lock id {lock_id} does not match the current {holder}; nothing was unlocked")
        return holder

    def _holder(self, conn: psycopg.Connection[Any]) -> LockInfo | None:
        """The recorded holder, if the advisory lock is really held (a crashed run leaves a stale row)."""
        if self._query(conn, _HOLDER_PIDS, (self.key,)).fetchone() is None:
            return None
        row = self._query(conn, "SELECT info FROM netsot_lock WHERE key = %s", (self.key,)).fetchone()
        if row is None:
            return None
        try:
            return LockInfo.from_dict(row[0])
        except ValueError:
            return None

    def _locked_error(self, conn: psycopg.Connection[Any]) -> StateLocked:
        # The holder writes its row right after taking the lock: give it a moment, boundedly.
        deadline = time.monotonic() + 1.0
        while True:
            holder = self._holder(conn)
            if holder is not None:
                return StateLocked(holder, f"the state {self.describe()} is locked: {holder}")
            if time.monotonic() > deadline:
                return StateLocked(
                    None, f"the state {self.describe()} is locked by another session that did not say who"
                )
            time.sleep(0.05)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self._connect()
        try:
            self._ensure_tables(conn)
            yield conn
        finally:
            conn.close()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as err:
            raise self._failure("connect to the server", err) from None

    def _ensure_tables(self, conn: psycopg.Connection[Any]) -> None:
        if self._ready:
            return
        with self._errors("create the state tables"), conn.transaction():
            # Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog: serialise it.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('netsot:ddl', 0))")
            conn.execute(_DDL)
        self._ready = True

    def _query(self, conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...]) -> psycopg.Cursor[Any]:
        try:
            return conn.execute(sql, params)
        except psycopg.Error as err:
            raise self._failure("query the state tables", err) from None

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """psycopg errors → ``StateError`` with one sentence and no password."""
        try:
            yield
        except psycopg.Error as err:
            raise self._failure(doing, err) from None

    def _failure(self, doing: str, err: psycopg.Error) -> StateError:
        return StateError(f"the state backend {self.describe()} failed: cannot {doing}: {self._detail(err)}")

    def _detail(self, err: psycopg.Error) -> str:
        """The error in one line, without the password."""
        lines = [" ".join(line.split()) for line in str(err).splitlines()]
        detail = "; ".join(line for line in lines if line) or type(err).__name__
        if self._password:  # libpq does not echo it today; make sure it never will through us
            detail = detail.replace(self._password, "***")
        return detail


@dataclass(frozen=True)
class _PgRecord:
    backend: PostgresBackend
    name: str

    def describe(self) -> str:
        return f"{self.backend.describe()} record {self.name}"

    def read(self) -> str | None:
        return self.backend._read_record(self.name)

    def write(self, text: str) -> None:
        self.backend._write_record(self.name, text)


def _describe_target(params: dict[str, Any]) -> str:
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    user = params.get("user")
    db = params.get("dbname") or user or ""
    who = f"{user}@" if user else ""
    return f"{who}{host}:{port}/{db}"

"""Fixtures for the state tests: a throwaway PostgreSQL cluster and the backends of the contract suite.

The cluster is started the way reference/tooling.md §8 describes (initdb + pg_ctl as the postgres
user when we run as root, a free port on 127.0.0.1, a private socket dir) and stopped at the end.
"""

from __future__ import annotations

import glob
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from state.lock import LockInfo

PG_START_ATTEMPTS = 3


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    return candidates[-1] if candidates else None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root; as another user it runs as that user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


class PgCluster:
    def __init__(self, base: Path, pg_ctl: str, port: int) -> None:
        self.base, self.pg_ctl, self.port = base, pg_ctl, port
        self.data, self.sock, self.log = base / "data", base / "sock", base / "logs" / "pg.log"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def start(self) -> subprocess.CompletedProcess[str]:
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1"
        return _run(_as_postgres([self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w",
                                  "-t", "30", "start"]))

    def stop(self) -> None:
        _run(_as_postgres([self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop"]))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        # `make test` installs them (tools/sysdeps.py): missing, the PostgreSQL tests fail, never skip
        pytest.fail("PostgreSQL server binaries not installed: no initdb/pg_ctl on PATH or in "
                    "/usr/lib/postgresql/*/bin (run `make setup`: tools/sysdeps.py installs postgresql)")
    base = Path(tempfile.mkdtemp(prefix="netsot-pg-"))
    base.chmod(0o755)  # the postgres user must reach its directories
    for sub in ("data", "sock", "logs"):
        (base / sub).mkdir()
        if os.geteuid() == 0:
            shutil.chown(base / sub, "postgres", "postgres")
    try:
        res = _run(_as_postgres([initdb, "-D", str(base / "data"), "--auth=trust", "--username=postgres",
                                 "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]))
        if res.returncode != 0:
            pytest.fail(f"initdb failed: {res.stderr.strip()}")
        cluster = None
        for _ in range(PG_START_ATTEMPTS):  # a free port can be taken between bind and start
            cluster = PgCluster(base, pg_ctl, _free_port())
            res = cluster.start()
            if res.returncode == 0:
                break
        else:
            log = cluster.log.read_text() if cluster and cluster.log.exists() else ""
            pytest.fail(f"pg_ctl start failed: {res.stderr.strip()} {log[-2000:]}")
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_dsn(pg_cluster: PgCluster) -> str:
    return pg_cluster.dsn


@pytest.fixture
def pg_key() -> str:
    """A key of its own for every test: tests share the cluster, never a state."""
    return f"test-{uuid.uuid4()}"


REPO = Path(__file__).resolve().parents[2]
HOLDER_START_TIMEOUT = 20.0


class Holder:
    """A child process holding a state lock (see ``_holder.py``)."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.state._holder", *args],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        ready = select.select([self.proc.stdout], [], [], HOLDER_START_TIMEOUT)[0]
        if not ready:
            self.proc.kill()
            raise AssertionError("the lock holder did not start in time")
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"the lock holder failed: {err}")
        self.info = LockInfo.from_dict(json.loads(line))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def release(self) -> None:
        if self.proc.poll() is None and self.proc.stdin:
            self.proc.stdin.write("done\n")
            self.proc.stdin.flush()
        assert self.proc.wait(timeout=20) == 0

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=20)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


def as_if_held_elsewhere(lock_path: Path, host: str = "elsewhere.example") -> None:
    """Rewrite a held lock file in place (same inode, its flock kept) as if its holder ran on
    another host: the one kind of live-looking lock an operator may still force-unlock."""
    data = json.loads(lock_path.read_text(encoding="utf-8"))
    data["host"] = host
    with open(lock_path, "r+", encoding="utf-8") as handle:
        handle.write(json.dumps(data))
        handle.truncate()


@pytest.fixture
def lock_holder() -> Iterator[Callable[..., Holder]]:
    """Start lock-holding child processes; every one is stopped at the end of the test."""
    started: list[Holder] = []

    def start(*args: str) -> Holder:
        holder = Holder(list(args))
        started.append(holder)
        return holder

    yield start
    for holder in started:
        holder.close()

"""A loopback double of an EdgeRouter (EdgeOS) reachable over real SSH, for tests and `netsot lab`.

Owns: starting it (``start_simulator`` in a background thread, or ``python -m`` standalone) and
the public names. The parts: ``simssh`` (SSH server, auth, host keys), ``simterm`` (echoing PTY
terminal, `:` pager), ``simshell`` (op/config-mode interpreter with EdgeOS's exact messages),
``simrules`` (value validation), ``simcommit`` (the commit checks), ``simstore`` (configs, leases,
log, faults).
Must not: parse or render configuration itself (``tree``/``parse``/``render``/``leases`` do that), or
be imported by the provider code path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from providers.edgemax.sim.rules import Rejected, commit_errors, validate_path
from providers.edgemax.sim.ssh import Simulator
from providers.edgemax.sim.store import (
    Faults,
    Router,
    SimLog,
    diff,
    leases_from_json,
    parse_boot,
    render_commands,
)

__all__ = [
    "Faults",
    "Rejected",
    "Router",
    "SimHandle",
    "SimLog",
    "Simulator",
    "commit_errors",
    "diff",
    "leases_from_json",
    "load_leases",
    "main",
    "parse_boot",
    "start_simulator",
    "validate_path",
]

# ---------------------------------------------------------------------------------------------
# running it: in a background thread (tests) or standalone (lab)
# ---------------------------------------------------------------------------------------------


class SimHandle:
    """A simulator running on its own loop in a daemon thread."""

    def __init__(self, sim: Simulator, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.sim, self._loop, self._thread = sim, loop, thread

    @property
    def port(self) -> int:
        return self.sim.port

    @property
    def known_hosts(self) -> Path:
        return self.sim.known_hosts

    @property
    def known_hosts_wrong(self) -> Path:
        return self.sim.known_hosts_wrong

    @property
    def log(self) -> SimLog:
        return self.sim.log

    @property
    def faults(self) -> Faults:
        return self.sim.faults

    @property
    def router(self) -> Router:
        return self.sim.router

    def set_on_commit(self, callback: Callable[[Any], None] | None) -> None:
        self.sim.router.on_commit = callback

    def active_tree(self) -> Any:
        with self.sim.router.lock:
            return self.sim.router.active.copy()

    def active_commands(self) -> str:
        with self.sim.router.lock:
            return render_commands(self.sim.router.active)

    def saved_text(self) -> str:
        with self.sim.router.lock:
            return self.sim.router.saved_text

    def set_leases(self, leases: Iterable[Any]) -> None:
        with self.sim.router.lock:
            self.sim.router.leases = list(leases)

    def stop(self) -> None:
        if not self._loop.is_running():
            return
        fut = asyncio.run_coroutine_threadsafe(self.sim.stop(), self._loop)
        with contextlib.suppress(Exception):
            fut.result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> SimHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_simulator(
    state_dir: Path,
    *,
    config_boot: str,
    leases: Sequence[Any] = (),
    users: Mapping[str, str] | None = None,
    authorized_keys: str | Path | None = None,
    hostname: str = "edge",
    port: int = 0,
    on_commit: Callable[[Any], None] | None = None,
    inet_multi: bool = True,
) -> SimHandle:
    """Start a simulated router on 127.0.0.1 (a free port unless ``port``) in a background thread.

    ``on_commit(active_tree)`` runs (in the simulator's thread) after every successful commit.
    ``inet_multi=False`` makes `static-host-mapping … inet` single-valued, as in every Vyatta
    template (a second `set … inet` replaces the first; edgeos.md §11.5).
    """
    sim = Simulator(
        state_dir,
        config_boot=config_boot,
        leases=leases,
        users=users,
        authorized_keys=authorized_keys,
        hostname=hostname,
    )
    sim.router.on_commit = on_commit
    sim.router.inet_multi = inet_multi
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(sim.start(port))
        except BaseException as exc:
            failure.append(exc)
            started.set()
            return
        started.set()
        loop.run_forever()
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run, name=f"edgemax-sim-{state_dir.name}", daemon=True)
    thread.start()
    if not started.wait(30) or failure:
        raise RuntimeError(f"the EdgeOS simulator did not start: {failure[0] if failure else 'timeout'}")
    return SimHandle(sim, loop, thread)


def load_leases(path: Path) -> list[Any]:
    """Leases from a JSON file: a list of objects with the fields of ``leases.Lease``."""
    return leases_from_json(json.loads(path.read_text()))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m providers.edgemax.sim.server", description=__doc__)
    ap.add_argument("--state-dir", type=Path, required=True)
    ap.add_argument("--config-boot", type=Path, required=True)
    ap.add_argument("--leases", type=Path)
    ap.add_argument("--user", default="ubnt")
    ap.add_argument("--password-file", type=Path)
    ap.add_argument("--authorized-keys", type=Path)
    ap.add_argument("--hostname", default="edge")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    password = args.password_file.read_text().strip() if args.password_file else "password"
    sim = Simulator(
        args.state_dir,
        config_boot=args.config_boot.read_text(),
        leases=load_leases(args.leases) if args.leases else (),
        users={args.user: password},
        authorized_keys=args.authorized_keys,
        hostname=args.hostname,
    )

    async def serve() -> None:
        await sim.start(args.port)
        info = {
            "port": sim.port,
            "pid": os.getpid(),
            "known_hosts": str(sim.known_hosts),
            "started": time.time(),
        }
        tmp = args.state_dir / "edgemax.json.tmp"
        tmp.write_text(json.dumps(info))
        tmp.replace(args.state_dir / "edgemax.json")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await sim.stop()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""One simulator in its own process for the benchmark, and the parent's handle on it.

Owns: the child entry ``python -m bench.simproc SPEC.json`` (starts the Proxmox, NIPAP or router
simulator with the spec's seed and latency knobs, prints its connection details as ONE JSON line,
then answers every ``counts`` line on stdin with its request counters as one JSON line, and stops
when stdin closes) and ``SimProcess``, the parent side of that pipe.
Real systems are other machines: a simulator sharing the client's interpreter also shares its GIL,
which made the Proxmox read CPU-bound. Must not: change what a simulator does, only host it.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

START_TIMEOUT = 120.0  # seconds: a 5,000-guest seed, TLS and host keys are made at start
REPLY_TIMEOUT = 60.0


# ---------------------------------------------------------------------------------- child side


def _start(spec: dict[str, Any]) -> tuple[Any, dict[str, Any], Any]:
    """(handle, connection details, counters function) of the spec's simulator."""
    system = spec["system"]
    if system == "proxmox":
        from bench.measure import pve_counts
        from providers.proxmox.sim.server import start_simulator as start_pve

        pve = start_pve(json.loads(Path(spec["seed"]).read_text()), Path(spec["state_dir"]))
        pve.knobs.delay = float(spec["latency"])
        info = {"port": pve.port, "ca_path": str(pve.ca_path), "token": list(pve.token)}
        return pve, info, lambda: {**pve_counts(pve.log), "pve_connections": pve.connections}
    if system == "nipap":
        from providers.nipap.sim.server import start_simulator as start_nipap

        nipap = start_nipap(json.loads(Path(spec["seed"]).read_text()))
        nipap.knobs.latency = float(spec["latency"])
        return nipap, {"port": nipap.port, "url": nipap.url()}, lambda: {
            "nipap_calls": sum(nipap.counts.values()), "nipap_connections": nipap.connections}
    if system == "edgemax":
        from providers.edgemax.sim.server import start_simulator as start_edge

        edge = start_edge(Path(spec["state_dir"]), config_boot=Path(spec["seed"]).read_text())
        edge.faults.command_delay = float(spec["latency"])
        edge.faults.commit_delay = float(spec["commit"])

        def counts() -> dict[str, int]:
            log = edge.log
            return {"router_commands": len(log.commands()), "sessions": log.sessions, "commits": log.commits}

        return edge, {"port": edge.port, "known_hosts": str(edge.known_hosts)}, counts
    raise ValueError(f"unknown system {system!r}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.simproc SPEC.json", file=sys.stderr)
        return 2
    # The pipe to the parent is the only stdout; anything a library prints goes to stderr.
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr
    handle, info, counts = _start(json.loads(Path(args[0]).read_text()))
    try:
        channel.write(json.dumps({**info, "pid": os.getpid()}) + "\n")
        for line in sys.stdin:  # ends when the parent closes stdin (or dies)
            if line.strip() == "counts":
                channel.write(json.dumps(counts()) + "\n")
    finally:
        handle.stop()
    return 0


# --------------------------------------------------------------------------------- parent side


class SimProcess:
    """A simulator child process: its connection details and its counters over stdin/stdout."""

    def __init__(self, system: str, workdir: Path, seed: Path, latency: float, commit: float = 0.0) -> None:
        self.system = system
        workdir.mkdir(parents=True, exist_ok=True)
        spec = {"system": system, "seed": str(seed), "state_dir": str(workdir / "state"),
                "latency": latency, "commit": commit}
        spec_path = workdir / "spec.json"
        spec_path.write_text(json.dumps(spec))
        self._stderr_path = workdir / "stderr.txt"
        self._stderr = self._stderr_path.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.simproc", str(spec_path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     text=True, bufsize=1)
        try:
            self.info: dict[str, Any] = self._reply(START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    # what ``bench.run.sim_config`` needs, named like the in-process handles
    @property
    def port(self) -> int:
        return int(self.info["port"])

    @property
    def ca_path(self) -> Path:
        return Path(self.info["ca_path"])

    @property
    def token(self) -> tuple[str, str, str]:
        user, name, value = self.info["token"]
        return user, name, value

    @property
    def known_hosts(self) -> Path:
        return Path(self.info["known_hosts"])

    def url(self) -> str:
        return str(self.info["url"])

    def cpu_seconds(self) -> float:
        """CPU time the simulator process has used so far, all its threads (Linux /proc), else 0."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def counts(self) -> dict[str, int]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("counts\n")
        self.proc.stdin.flush()
        return {k: int(v) for k, v in self._reply(REPLY_TIMEOUT).items()}

    def _reply(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            why = "did not answer in time" if not ready else "exited"
            raise RuntimeError(f"the {self.system} simulator process {why}: {self._stderr_tail()}")
        return dict(json.loads(line))

    def _stderr_tail(self) -> str:
        self._stderr.flush()
        with contextlib.suppress(OSError):
            lines = self._stderr_path.read_text(errors="replace").strip().splitlines()
            return " | ".join(lines[-3:]) or "no output"
        return "no output"

    def stop(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()


if __name__ == "__main__":
    raise SystemExit(main())

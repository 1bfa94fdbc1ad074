"""The simulated routers' DNS: a real dnsmasq serving the hosts file a router's lab hook writes.

Owns: writing files atomically, and starting / reloading (SIGHUP) / stopping dnsmasq on a free
loopback port (what goes into a router's hosts file is its kind's: ``hosts_text`` in its ``sim/lab.py``).
Must not: talk to the router or decide what netsot manages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from core.files import write_atomic as durable_write


def find_dnsmasq() -> str | None:
    """The dnsmasq binary (PATH, then /usr/sbin and /sbin), or None when it is not installed."""
    found = shutil.which("dnsmasq")
    if found:
        return found
    for candidate in ("/usr/sbin/dnsmasq", "/sbin/dnsmasq", "/usr/local/sbin/dnsmasq"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Atomically replace ``path``; world-readable by default (dnsmasq and the simulators read it)."""
    durable_write(path, text, mode)


def free_port() -> int:
    """A loopback port free for both UDP and TCP right now (dnsmasq listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise OSError("no free loopback port for dnsmasq")


def dnsmasq_command(binary: str, hosts_file: Path, port: int, domains: Iterable[str]) -> list[str]:
    """dnsmasq serving only ``hosts_file``: names of the local domains it lacks get NXDOMAIN.

    ``--no-daemon`` keeps it in the foreground as the user that started it (root may read files
    only root can read; ``--keep-in-foreground`` would drop to ``nobody``).
    """
    cmd = [binary, "--no-daemon", "--no-resolv", "--no-hosts", f"--addn-hosts={hosts_file}",
           f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--local-ttl=1",
           "--log-facility=-"]
    cmd += [f"--local=/{d}/" for d in sorted(set(domains))]
    return cmd


class Dnsmasq:
    """A dnsmasq child process. ``start`` retries on a port race; every wait is bounded."""

    def __init__(self, binary: str, hosts_file: Path, domains: Iterable[str],
                 log_file: Path | None = None) -> None:
        self.binary = binary
        self.hosts_file = hosts_file
        self.domains = tuple(domains)
        self.log_file = log_file
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self, attempts: int = 3) -> None:
        if not self.hosts_file.exists():
            write_atomic(self.hosts_file, "")
        last = ""
        for _ in range(attempts):
            self.port = free_port()
            out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
            try:
                self.proc = subprocess.Popen(
                    dnsmasq_command(self.binary, self.hosts_file, self.port, self.domains),
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                )
            finally:
                if out is not subprocess.DEVNULL:
                    out.close()  # type: ignore[union-attr]
            if self._wait_listening(5.0):
                return
            last = f"exit code {self.proc.poll()}"
            self.stop()
        raise OSError(f"dnsmasq did not start ({last}); see {self.log_file or 'its output'}")

    def _wait_listening(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.2)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return True
            time.sleep(0.05)
        return False

    def reload(self) -> None:
        """SIGHUP: dnsmasq re-reads its hosts files."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(5)
        self.proc = None

"""The real nipapd for the live tests: the URL in NETSOT_TEST_NIPAP_URL, or one started here.

When NETSOT_TEST_NIPAP_URL is not set, the ``live_nipap_url`` fixture (tests/conftest.py) starts
the unmodified nipapd 0.32.7 of ``../shared/vendor/nipap-server`` once per test run with
``../shared/tools/nipapd up DIR PORT PGPORT`` (PostgreSQL 15 on free loopback ports, a temporary
DIR) and stops it at the end. Its venv is ``NIPAPD_VENV`` when set, else ``.venv/nipapd-server``
in the repository: built by the first start (a minute or more, from PyPI), reused by later ones.
``make test`` builds it before pytest runs (``python -m tests.livenipapd prepare``: one start and
stop without a time limit), so that the first live test's setup stays within pytest's timeout.
If it cannot be started, the tests that need it fail with the reason: none is skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LIVE_ENV = "NETSOT_TEST_NIPAP_URL"
TOOL_ENV = "NETSOT_NIPAPD_TOOL"  # the `nipapd` script, when ../shared is elsewhere
REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 280.0  # seconds: the first run builds nipapd's venv (pytest's own limit is 300 s)


class NipapdUnavailable(Exception):
    """The real nipapd could not be started (the message says why)."""


@dataclass(frozen=True)
class Nipapd:
    url: str  # the read-write user's XML-RPC URL, credentials included
    directory: Path | None  # None: an external server (NETSOT_TEST_NIPAP_URL)
    tool: Path | None

    def stop(self) -> None:
        if self.tool is not None and self.directory is not None:
            # the tool finds nipapd's processes by their venv: `down` must name the one `up` used
            subprocess.run([str(self.tool), "down", str(self.directory)], stdin=subprocess.DEVNULL,
                           env={**os.environ, "NIPAPD_VENV": str(venv())}, capture_output=True,
                           timeout=120, check=False)


def find_tool() -> Path:
    candidates = [os.environ.get(TOOL_ENV, "")]
    candidates += [str(up / "shared" / "tools" / "nipapd") for up in (REPO.parent, REPO.parent.parent)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise NipapdUnavailable(
        f"{LIVE_ENV} is not set and the nipapd tool is not at ../shared/tools/nipapd beside the repository "
        f"(looked in {', '.join(c for c in candidates if c)}); set {LIVE_ENV} to a real nipapd's URL or "
        f"{TOOL_ENV} to the tool")


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def venv() -> Path:
    return Path(os.environ.get("NIPAPD_VENV") or REPO / ".venv" / "nipapd-server")


def start(directory: Path, timeout: float | None = START_TIMEOUT) -> Nipapd:
    """The external server of NETSOT_TEST_NIPAP_URL, or a real nipapd started in ``directory``."""
    url = os.environ.get(LIVE_ENV)
    if url:
        return Nipapd(url, None, None)
    tool = find_tool()
    if os.geteuid() != 0:
        raise NipapdUnavailable(f"{LIVE_ENV} is not set and starting a nipapd needs root (PostgreSQL runs "
                                "as the postgres user); run the tests as root or set it")
    env = {**os.environ, "NIPAPD_VENV": str(venv())}
    reason = ""
    for _ in range(2):  # a free port can be taken by someone else before nipapd binds it: once more
        port, pgport = free_ports(2)
        try:
            done = subprocess.run([str(tool), "up", str(directory), str(port), str(pgport)], env=env,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            Nipapd("", directory, tool).stop()
            raise NipapdUnavailable(f"{tool} up did not finish within {timeout:g} s") from None
        lines = done.stdout.strip().splitlines()
        if done.returncode == 0 and lines and lines[-1].startswith("http://"):
            return Nipapd(lines[-1], directory, tool)
        Nipapd("", directory, tool).stop()
        reason = (done.stderr or done.stdout).strip()[-2000:]
    raise NipapdUnavailable(f"{tool} up {directory} failed: {reason}")


def prepare() -> int:
    """Build the nipapd venv ahead of the tests (one start and stop); says why when it cannot."""
    if os.environ.get(LIVE_ENV) or (venv() / "bin" / "nipapd").exists():
        return 0
    print(f"==> building the real nipapd's venv for the live NIPAP tests ({venv()})", flush=True)
    directory = Path(tempfile.mkdtemp(prefix="netsot-nipapd-"))
    try:
        start(directory, timeout=None).stop()
    except NipapdUnavailable as exc:
        print(f"warning: {exc} (the live NIPAP tests will fail)", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["prepare"]:
        sys.exit("usage: python -m tests.livenipapd prepare")
    sys.exit(prepare())

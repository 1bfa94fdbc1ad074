"""The system packages `make demo` and `make test` need, installed with apt-get — visibly.

Usage: ``python3 tools/sysdeps.py demo|test [--check]`` (the Makefile runs it; stdlib only, so it
runs before the virtualenv exists). ``demo`` is what the demo uses (the OpenSSH client, dnsmasq,
python3-venv); ``test`` adds what the tests use (PostgreSQL, the real nipapd's build tools,
Chromium). Only what is missing is installed, each package listed with why it is needed; apt's
output is shown. A dpkg lock held by another process (unattended upgrades on a fresh VM) is waited
for, with a message, up to ``NETSOT_DPKG_WAIT`` seconds (default 300). On failure it says which
packages, why, and the command to run by hand. ``--check`` only lists what is missing (exit 1 if any).
"""

from __future__ import annotations

import fcntl
import glob
import math
import os
import shlex
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

DPKG_LOCKS = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock")
DEFAULT_WAIT = 300.0  # seconds to wait for another process's dpkg lock
REPORT_EVERY = 30.0  # seconds between "still waiting" lines


def _command(name: str) -> Callable[[], bool]:
    return lambda: shutil.which(name) is not None


def _dpkg(package: str) -> Callable[[], bool]:
    def installed() -> bool:
        try:
            out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True,
                                 text=True, check=False, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return out.returncode == 0 and out.stdout.strip().endswith(" installed")
    return installed


def _initdb() -> bool:
    return shutil.which("initdb") is not None or bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _ensurepip() -> bool:
    out = subprocess.run([sys.executable, "-c", "import ensurepip, venv"], capture_output=True, check=False)
    return out.returncode == 0


@dataclass(frozen=True)
class Need:
    package: str  # the Debian package
    why: str  # what netsot uses it for
    present: Callable[[], bool]


DEMO: tuple[Need, ...] = (
    Need("python3-venv", "creating .venv (make setup)", _ensurepip),
    Need("openssh-client", "the EdgeRouter connection (ssh)", _command("ssh")),
    Need("dnsmasq-base", "the lab router's DNS, which `netsot verify` asks", _command("dnsmasq")),
)
TEST: tuple[Need, ...] = (
    *DEMO,
    Need("postgresql", "the postgres state backend's tests", _initdb),
    Need("postgresql-15", "the real nipapd of the live NIPAP tests", _dpkg("postgresql-15")),
    Need("postgresql-15-ip4r", "the real nipapd's database (ip4r)", _dpkg("postgresql-15-ip4r")),
    Need("libpq-dev", "building the real nipapd's psycopg2", _dpkg("libpq-dev")),
    Need("gcc", "building the real nipapd's psycopg2", _dpkg("gcc")),
    Need("python3-dev", "building the real nipapd's psycopg2", _dpkg("python3-dev")),
    Need("chromium", "the status page's browser tests (/usr/bin/chromium)",
         lambda: os.access("/usr/bin/chromium", os.X_OK)),
    Need("systemd", "checking examples/systemd/ (systemd-analyze verify)", _command("systemd-analyze")),
)
TARGETS = {"demo": DEMO, "test": TEST}


# ----------------------------------------------------------------------------- the dpkg lock


def lock_holder(path: str) -> int | None:
    """The pid holding a write lock on ``path`` (dpkg's and apt's fcntl locks), None when free or
    unknowable (no such file, not readable: apt-get then waits itself, see ``install``)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        request = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0) + bytes(4)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
    except OSError:
        return None
    finally:
        os.close(fd)
    kind, _whence, _start, _len, pid = struct.unpack("hhqqi", answer[:28])
    if kind == fcntl.F_UNLCK:
        return None
    return pid if pid > 0 else -1  # -1: an open-file-description lock, its owner unknown


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def wait_for_locks(paths: Sequence[str], timeout: float, echo: Callable[[str], None],
                   sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.monotonic, poll: float = 1.0) -> bool:
    """Wait until no other process holds a lock in ``paths``, at most ``timeout`` seconds, saying
    who holds it (once, then every ``REPORT_EVERY`` seconds). True when free."""
    start = clock()
    said = -REPORT_EVERY
    while True:
        held = [(p, pid) for p in paths if (pid := lock_holder(p)) is not None]
        if not held:
            return True
        waited = clock() - start
        path, pid = held[0]
        who = f"pid {pid} ({process_name(pid)})" if pid > 0 else "another process"
        if waited >= timeout:
            echo(f"==> gave up after {waited:.0f} s: {path} is still held by {who}.")
            return False
        if waited - said >= REPORT_EVERY:
            echo(f"==> waiting for the package manager: {path} is held by {who} (often unattended "
                 f"upgrades on a fresh machine); waiting up to {timeout:.0f} s "
                 f"({waited:.0f} s so far; NETSOT_DPKG_WAIT=SECONDS changes it)")
            said = waited
        sleep(min(poll, max(0.0, timeout - waited)))


# ----------------------------------------------------------------------------- install


def missing(needs: Sequence[Need]) -> list[Need]:
    return [n for n in needs if not n.present()]


def by_hand(packages: Sequence[str], root: bool) -> str:
    sudo = "" if root else "sudo "
    return f"{sudo}apt-get update && {sudo}apt-get install --no-install-recommends {' '.join(packages)}"


def failure_text(target: str, needs: Sequence[Need], reason: str, root: bool) -> str:
    lines = [f"Error: `make {target}` could not install the system packages it needs: {reason}."]
    lines += [f"  {n.package:<20} {n.why}" for n in needs]
    lines.append(f"Install them by hand, then run `make {target}` again:\n  "
                 f"{by_hand([n.package for n in needs], root)}")
    return "\n".join(lines)


def install(target: str, needs: Sequence[Need], echo: Callable[[str], None] = print,
            run: Callable[..., subprocess.CompletedProcess[bytes]] = subprocess.run,
            wait: float | None = None, root: bool | None = None) -> int:
    """Install ``needs`` with apt-get (through sudo when not root). 0 when done, 1 with the reason."""
    root = os.geteuid() == 0 if root is None else root
    packages = [n.package for n in needs]
    echo(f"==> `make {target}` needs these system packages, missing here:")
    for n in needs:
        echo(f"      {n.package:<20} {n.why}")
    prefix: list[str] = []
    if not root:
        if shutil.which("sudo") is None:
            echo(failure_text(target, needs, "not running as root, and there is no sudo", root))
            return 1
        prefix = ["sudo"]
    if shutil.which("apt-get") is None:
        echo(failure_text(target, needs, "there is no apt-get here (the names are Debian's: use your "
                          "system's package manager)", root))
        return 1
    limit = wait if wait is not None else float(os.environ.get("NETSOT_DPKG_WAIT", DEFAULT_WAIT))
    started = time.monotonic()
    if not wait_for_locks(DPKG_LOCKS, limit, echo):
        echo(failure_text(target, needs, "another process holds the package manager's lock", root))
        return 1
    left = max(1, math.ceil(limit - (time.monotonic() - started)))
    lock = ["-o", f"DPkg::Lock::Timeout={left}"]  # apt waits itself too (and says so) if it is taken now
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [("apt-get update", [*prefix, "apt-get", *lock, "-q", "update"]),
             ("apt-get install", [*prefix, "apt-get", *lock, "-q", "-y", "--no-install-recommends",
                                  "install", *packages])]
    for name, command in steps:
        echo(f"==> {shlex.join(command)}")
        result = run(command, env=env, check=False)
        if result.returncode != 0:
            reason = f"{name} exited {result.returncode} (its output is above)"
            echo(failure_text(target, needs, reason, root))
            return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    targets = [a for a in args if a != "--check"]
    if len(targets) != 1 or targets[0] not in TARGETS:
        print(f"usage: python3 tools/sysdeps.py {{{'|'.join(TARGETS)}}} [--check]", file=sys.stderr)
        return 2
    target = targets[0]
    absent = missing(TARGETS[target])
    if not absent:
        return 0
    if check:
        print(f"`make {target}` needs: " + ", ".join(f"{n.package} ({n.why})" for n in absent))
        return 1
    return install(target, absent, echo=lambda text: print(text, flush=True))


if __name__ == "__main__":
    sys.exit(main())

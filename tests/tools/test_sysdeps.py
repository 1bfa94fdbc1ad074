"""tools/sysdeps.py, what `make demo` and `make test` run to install system packages: each target's
packages, the wait for a dpkg lock another process holds (a real fcntl lock on a file, held by a child
process), and what a failure says (which packages, why, the command to run by hand)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools import sysdeps
from tools.sysdeps import Need, failure_text, install, lock_holder, wait_for_locks

HOLD = textwrap.dedent("""
    import fcntl, sys, time
    f = open(sys.argv[1], "r+")
    fcntl.lockf(f, fcntl.LOCK_EX)  # dpkg and apt take fcntl write locks like this one
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
""")


@pytest.fixture
def held(tmp_path):
    lock = tmp_path / "lock-frontend"
    lock.write_text("")
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(lock), "30"], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    yield lock, child
    child.kill()
    child.wait()


def test_demo_needs_only_what_the_demo_uses_and_test_adds_the_rest():
    demo = {n.package for n in sysdeps.DEMO}
    test = {n.package for n in sysdeps.TEST}
    assert demo == {"python3-venv", "openssh-client", "dnsmasq-base"}
    assert demo < test and {"postgresql", "chromium", "postgresql-15-ip4r"} <= test
    assert not demo & {"postgresql", "chromium", "postgresql-15", "gcc"}
    assert all(n.why for n in sysdeps.TEST)


def test_lock_holder_names_the_process_holding_dpkgs_lock(held, tmp_path):
    lock, child = held
    assert lock_holder(str(lock)) == child.pid
    assert lock_holder(str(tmp_path / "absent")) is None
    child.kill()
    child.wait()
    assert lock_holder(str(lock)) is None


def test_the_wait_is_bounded_and_says_who_holds_the_lock(held):
    lock, child = held
    said: list[str] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    assert wait_for_locks([str(lock)], 65, said.append, sleep=sleep, clock=lambda: now[0], poll=5) is False
    assert said[0].startswith(f"==> waiting for the package manager: {lock} is held by pid {child.pid} (")
    assert "waiting up to 65 s" in said[0]
    assert len([s for s in said if s.startswith("==> waiting")]) == 3  # at 0, 30 and 60 s
    assert said[-1].startswith(f"==> gave up after 65 s: {lock} is still held by pid {child.pid} (")


def test_the_wait_ends_when_the_holder_lets_go(held):
    lock, child = held
    said: list[str] = []

    def sleep(_seconds: float) -> None:
        child.kill()
        child.wait()

    assert wait_for_locks([str(lock)], 300, said.append, sleep=sleep) is True
    assert len(said) == 1 and "is held by pid" in said[0]


def _needs() -> list[Need]:
    return [Need("dnsmasq-base", "the lab router's DNS", lambda: False),
            Need("chromium", "the browser tests", lambda: False)]


def test_a_failed_install_says_which_packages_why_and_the_command_to_run_by_hand(monkeypatch, tmp_path):
    monkeypatch.setattr(sysdeps, "DPKG_LOCKS", (str(tmp_path / "none"),))
    monkeypatch.setattr(sysdeps.shutil, "which", lambda name: f"/usr/bin/{name}")
    said: list[str] = []
    ran: list[list[str]] = []

    def run(command, **_kw):
        ran.append(command)
        return subprocess.CompletedProcess(command, 100 if "install" in command else 0)

    assert install("test", _needs(), echo=said.append, run=run, wait=5, root=False) == 1
    assert ran[0][:2] == ["sudo", "apt-get"] and "DPkg::Lock::Timeout=5" in ran[0][3]
    assert ran[1][-2:] == ["dnsmasq-base", "chromium"] and "-qq" not in ran[1]  # apt's output is shown
    text = "\n".join(said)
    assert "dnsmasq-base         the lab router's DNS" in text
    assert "apt-get install exited 100 (its output is above)" in text
    assert "sudo apt-get update && sudo apt-get install --no-install-recommends dnsmasq-base chromium" in text


def test_a_lock_that_stays_held_fails_with_the_reason(held, monkeypatch):
    lock, _child = held
    monkeypatch.setattr(sysdeps, "DPKG_LOCKS", (str(lock),))
    monkeypatch.setattr(sysdeps, "REPORT_EVERY", 0.1)
    said: list[str] = []
    ran: list[list[str]] = []
    assert install("demo", _needs(), echo=said.append, run=lambda c, **_k: ran.append(c), wait=0.3,
                   root=True) == 1
    assert ran == []
    text = "\n".join(said)
    assert "another process holds the package manager's lock" in text
    assert "  apt-get update && apt-get install --no-install-recommends dnsmasq-base chromium" in text


def test_failure_text_without_sudo():
    text = failure_text("demo", _needs(), "not running as root, and there is no sudo", root=False)
    assert "not running as root" in text and "sudo apt-get install" in text


def test_check_lists_what_is_missing_and_the_usage(monkeypatch, capsys):
    monkeypatch.setitem(sysdeps.TARGETS, "demo", tuple(_needs()))
    assert sysdeps.main(["demo", "--check"]) == 1
    assert "`make demo` needs: dnsmasq-base (the lab router's DNS)" in capsys.readouterr().out
    assert sysdeps.main(["nope"]) == 2


def test_the_makefile_runs_it_for_each_target():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "python3 tools/sysdeps.py demo" in makefile and "python3 tools/sysdeps.py test" in makefile
    assert "demo: setup-demo" in makefile and "-m tests.livenipapd prepare" in makefile
    assert "\t@$(PY) -m pytest\n" in makefile  # not -q: one line per test file with its share of the run

"""netsot started without a controlling terminal (systemd, cron, setsid) still reaches the router.

The EdgeMax transport runs OpenSSH in a pseudo-terminal; a terminal-less session leader would
adopt that pty and the ssh child would fail (`authenticate: open failed`, then SIGHUP).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import REPO, Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration]


@pytest.mark.parametrize("args", [("plan", "--detailed-exitcode"), ("import", "edgemax", "--dry-run")])
def test_router_commands_work_as_a_terminal_less_session_leader(lab: Lab, args: tuple[str, ...]) -> None:
    cmd = [sys.executable, "-m", "engine", "--no-color", "--config", str(lab.config), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          start_new_session=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    assert proc.returncode in (0, 2, 3), proc.stdout + proc.stderr  # 3: the lab has a conflict before import
    assert "open failed" not in proc.stderr

"""Service options without a lab: the /healthz staleness limit and the terminal guard for router sessions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine.web.service import ServiceOptions

REPO = Path(__file__).resolve().parents[2]


def test_stale_limit_defaults_to_three_intervals_but_at_least_a_minute() -> None:
    assert ServiceOptions(interval=300).stale_limit() == 900
    assert ServiceOptions(interval=1).stale_limit() == 60
    assert ServiceOptions(interval=1, stale_after=3).stale_limit() == 3


GUARD = """
import os, sys
from providers.edgemax.session import hold_controlling_terminal
took = hold_controlling_terminal()
# a pty opened later (as libscrapli does for ssh) must NOT become this process's controlling terminal
master, slave = os.openpty()
ctty = os.ttyname(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)) if took else None
print(took, ctty != os.ttyname(slave))
"""


def test_a_terminal_less_session_leader_takes_a_private_terminal() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    leader = subprocess.run([sys.executable, "-c", GUARD], capture_output=True, text=True, timeout=30,
                            env=env, start_new_session=True, stdin=subprocess.DEVNULL, check=False)
    assert leader.stdout.split() == ["True", "True"], leader.stdout + leader.stderr
    child = subprocess.run([sys.executable, "-c", GUARD], capture_output=True, text=True, timeout=30,
                           env=env, stdin=subprocess.DEVNULL, check=False)
    assert child.stdout.split()[0] == "False", child.stdout + child.stderr

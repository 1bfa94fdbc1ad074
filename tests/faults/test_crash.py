"""Crash safety: kill an apply at every fault point (and with a real SIGKILL mid-commit), then
prove the next ``apply --auto-approve`` converges with no duplicate and no orphan anywhere.

The first apply of the small homelab runs two rounds: NIPAP creates, then Proxmox write-backs
and the router's creates side by side — so two intended/sent points and three batches.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import pytest

from tests.faults.harness import FaultLab, descendants, error_sentence, kill_pids, no_traceback, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROUNDS, BATCHES = 2, 3
POINTS = (
    [f"after-intended:{n}" for n in range(1, ROUNDS + 1)]
    + [f"after-sent:{n}" for n in range(1, ROUNDS + 1)]
    + [f"after-batch:{n}" for n in range(1, BATCHES + 1)]
)


def _recover(lab: FaultLab, reference: dict[str, Any]) -> None:
    result = lab.apply_after_crash()
    assert result.code == 0, str(result)
    no_traceback(result)
    lab.assert_converged(reference)


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_fault_point_then_converge(lab: FaultLab, reference: dict[str, Any], point: str) -> None:
    crashed = lab.apply(env={"NETSOT_FAULT_AT": point})
    assert crashed.code == 137, f"the fault point {point} never fired:\n{crashed}"
    state = lab.state()  # the state written before the crash is valid JSON
    if not point.startswith("after-batch"):
        assert state["journal"], "a crash inside a round must leave the journal behind"
    assert (lab.state_path.stat().st_mode & 0o777) == 0o600
    _recover(lab, reference)


def test_fault_point_counts_match_the_plan(lab: FaultLab) -> None:
    """Guards the parametrisation above: one more occurrence than counted never fires."""
    result = lab.apply(env={"NETSOT_FAULT_AT": f"after-batch:{BATCHES + 1}"})
    assert result.code == 0, str(result)


def test_crash_before_first_state_rename(lab: FaultLab, reference: dict[str, Any]) -> None:
    crashed = lab.apply(env={"NETSOT_FAULT_AT": "state-before-rename"})
    assert crashed.code == 86, str(crashed)
    assert not lab.state_path.exists(), "the first state must not appear half-written"
    _recover(lab, reference)


def test_crash_before_rename_keeps_the_old_state(lab: FaultLab, reference: dict[str, Any]) -> None:
    first = lab.apply(env={"NETSOT_FAULT_AT": "after-batch:1"})
    assert first.code == 137, str(first)
    before = lab.state_path.read_bytes()
    crashed = lab.apply_after_crash(env={"NETSOT_FAULT_AT": "state-before-rename"})
    assert crashed.code == 86, str(crashed)
    assert lab.state_path.read_bytes() == before, "a crash before the rename changed the state file"
    json.loads(before)
    _recover(lab, reference)


def test_sigkill_during_router_commit_then_converge(lab: FaultLab, reference: dict[str, Any]) -> None:
    lab.router.faults.commit_delay = 1.5  # the kill lands while the router is committing
    proc = lab.popen("apply", "--auto-approve")
    children: list[int] = []
    try:
        assert wait_for(lambda: any(c.startswith("commit") for c in lab.router.log.commands()), 30), \
            "the apply never reached the router's commit"
        children = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
        kill_pids(children)
    assert proc.returncode == -signal.SIGKILL
    # the router finishes the commit on its own (as a real one would), without the save
    assert wait_for(lambda: lab.router.log.commits >= 1, 5)
    lab.router.faults.commit_delay = 0.0
    json.loads(lab.state_path.read_text())
    _recover(lab, reference)


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_damaged_state_names_the_backup_and_touches_nothing(lab: FaultLab, damage: str) -> None:
    assert lab.apply().code == 0
    assert lab.apply().code == 0  # nothing to do: no new serial, but the backup exists from run 1
    assert lab.backup_path.exists()
    text = lab.state_path.read_bytes()
    bad = b"{\"version\": 1, \"serial\": oops" if damage == "corrupt" else text[: len(text) // 2]
    lab.state_path.write_bytes(bad)
    backup = lab.backup_path.read_bytes()
    router, nipap = lab.router_entries(), lab.nipap_hosts()
    for args in (("plan",), ("apply", "--auto-approve"), ("state", "list")):
        result = lab.cli(*args)
        assert result.code == 1, str(result)
        no_traceback(result)
        line = error_sentence(result)
        assert ".backup" in line and "corrupt" in line, line
        assert lab.state_path.read_bytes() == bad
        assert lab.backup_path.read_bytes() == backup
    assert lab.router_entries() == router and lab.nipap_hosts() == nipap

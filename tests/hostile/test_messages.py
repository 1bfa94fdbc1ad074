"""Messages of round three, through the CLI over the lab: a full disk while taking the lock and a
100k-deep state file name the file and what went wrong; `plan` after a kill -9 says the lock is stale
and how to clear it; a second `serve` on one state warns once instead of logging every skipped cycle
as an error."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time

import pytest

from tests.faults.harness import REPO, FaultLab, Result, error_sentence, no_traceback

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _no_file_growth() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_a_failing_write_while_taking_the_lock_names_the_file(lab: FaultLab) -> None:
    args = ("apply", "--auto-approve")
    proc = subprocess.run(lab.command(*args), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=lab.env(), cwd=str(lab.paths.root), timeout=60, check=False,
                          preexec_fn=_no_file_growth)
    result = Result(proc.returncode, proc.stdout, proc.stderr, args)
    no_traceback(result)
    assert result.code == 1, str(result)
    line = error_sentence(result)
    lock = lab.state_path.with_name(lab.state_path.name + ".lock")
    assert line.startswith(f"Error: cannot write the state lock {lock} (its temporary file "), line
    assert "File too large; free some space in" in line
    assert not lock.exists() and not list(lab.state_path.parent.glob(".*.lock.*.tmp"))


def test_a_state_nested_100k_deep_is_named_as_corrupt(lab: FaultLab) -> None:
    lab.state_path.write_text("[" * 100_000 + "]" * 100_000)
    result = lab.cli("plan")
    no_traceback(result)
    assert result.code == 1, str(result)
    expected = f"Error: the state in {lab.state_path} is corrupt: its JSON is nested too deeply to be read"
    assert error_sentence(result).startswith(expected), str(result)


def _holder(lab: FaultLab) -> tuple[subprocess.Popen[str], dict[str, str]]:
    command = [sys.executable, "-m", "tests.state._holder", "file", str(lab.state_path), "apply"]
    proc = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def test_plan_after_a_kill_says_the_lock_is_stale_and_how_to_clear_it(lab: FaultLab) -> None:
    proc, info = _holder(lab)
    proc.kill()  # kill -9: the lock file stays behind
    proc.wait(timeout=10)
    result = lab.cli("plan")
    assert result.code == 0, str(result)
    notes = [line for line in result.stderr.splitlines() if line.startswith("Note:")]
    who = f"{info['user']}@{info['host']}"
    assert notes == [f"Note: the state lock is stale: it was taken by pid {proc.pid} ({who}, "
                     f"'apply' since {info['created']}), which is no longer running (killed, or the machine "
                     "restarted). The next apply breaks it and finishes or records the interrupted work; to "
                     f"clear it now, run: netsot force-unlock {info['id']}"], result.stderr
    assert "right now" not in result.stderr


def test_a_second_serve_warns_once_that_another_process_holds_the_lock(lab: FaultLab) -> None:
    proc, _ = _holder(lab)
    try:
        serve = lab.popen("serve", "--interval", "1", "--jitter", "0")
        time.sleep(4.5)  # four or five cycles, all skipped
        serve.send_signal(signal.SIGTERM)
        _, stderr = serve.communicate(timeout=30)
    finally:
        proc.communicate("done\n", timeout=10)
    lines = stderr.splitlines()
    warned = [line for line in lines if "another process holds the state lock" in line]
    assert len(warned) == 1 and "WARNING" in warned[0], stderr
    assert not [line for line in lines if "ERROR" in line], stderr

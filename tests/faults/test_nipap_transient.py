"""Fault suite, NIPAP under transient faults and a frozen nipapd (issue 19 §3), through the CLI.

The simulator's seeded fault mode injects deadlocks, serialization failures, resets (before and
after the call ran) and 502/503s; every one is resent, counted in the apply summary, and a create
that landed before its reply was lost is recognised, not doubled. A frozen nipapd is given up
after ``give_up_after_timeouts`` timeouts in a row: the rest of NIPAP's changes are abandoned and
reported as such, the state records exactly what happened, the next run converges."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.faults.harness import FaultLab, assert_clear, no_traceback, outcome_lines, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_transient_fault_storm_is_resent_counted_and_converges(
    lab: FaultLab, reference: dict[str, Any]
) -> None:
    lab.nipap.knobs.fault_mode(0.35, seed=3, writes_only=True)
    result = lab.apply()
    assert result.code == 0, str(result)
    no_traceback(result)
    injected = sum(lab.nipap.knobs.injected.values())
    assert injected > 0
    assert re.search(rf"^Retries: nipap {injected} \(calls resent", result.stdout, re.M), result.stdout
    lab.nipap.knobs.fault_mode(0.0)
    assert len({h["ip"] for h in lab.nipap_hosts()}) == len(lab.nipap_hosts())  # none doubled
    lab.assert_converged(reference)


def test_a_frozen_nipapd_is_given_up_and_the_state_records_what_happened(
    lab: FaultLab, reference: dict[str, Any]
) -> None:
    frozen = lab.write_config("frozen.yaml", lambda d: d["providers"]["nipap"].update(
        timeout=0.5, give_up_after_timeouts=2))
    before = lab.nipap.knobs.calls
    assert lab.cli("plan", config=frozen).code == 0
    reads = lab.nipap.knobs.calls - before
    hosts_before = len(lab.nipap_hosts())
    for n in range(1, 40):  # every call after the reads hangs (the hung creates land 2 s later)
        lab.nipap.knobs.hang_call(reads + n, seconds=2.0)
    started = time.monotonic()
    result = lab.apply(config=frozen)
    elapsed = time.monotonic() - started
    lab.nipap.knobs.reset()
    assert result.code == 1, str(result)
    no_traceback(result)
    assert elapsed < 15, elapsed  # not 7 creates × (create + look-up) × 0.5 s, nor 2 s per call
    lines = outcome_lines(result)
    nipap_failed = {a: e for a, e in lines["failed"].items() if a.startswith("nipap_")}
    abandoned = {a: w for a, w in lines["skipped"].items() if w.startswith("(abandoned: ")}
    assert nipap_failed and abandoned, lines
    assert len(nipap_failed) + len(abandoned) == 7, lines
    assert all("2 calls in a row got no answer" in w for w in abandoned.values()), abandoned
    for why in [*nipap_failed.values(), *abandoned.values()]:
        assert_clear(why)
    assert not {a for a in lab.state_addresses() if a.startswith("nipap_")}  # nothing confirmed
    journal = {e["address"] for e in lab.state().get("journal", [])}
    assert set(nipap_failed) <= journal and not set(abandoned) & journal  # only what was sent
    lab.assert_consistent(after_failure=True)
    # the creates that were sent land late; the next run adopts them and makes the rest
    assert wait_for(lambda: len(lab.nipap_hosts()) == hosts_before + len(nipap_failed), 6)
    result = lab.apply()
    assert result.code == 0, str(result)
    lab.assert_converged(reference)

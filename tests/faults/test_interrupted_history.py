"""A run killed mid-apply leaves a history: what it confirmed is written as it goes, and the next run's
recovery records what the killed run had sent (or only intended) and never confirmed (the lab over
the real protocols; the process is ended by the apply's crash switch, like kill -9)."""

from __future__ import annotations

import json

import pytest

from tests.faults.harness import FaultLab

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _history(lab: FaultLab) -> list[dict[str, object]]:
    path = lab.state_path.with_name(lab.state_path.name + ".history.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_killed_apply_is_in_the_history_after_the_next_run(lab: FaultLab) -> None:
    killed = lab.apply(env={"NETSOT_FAULT_AT": "after-sent:2"})  # the second batch is sent, then the end
    assert killed.code == 137, str(killed)
    sent = {e["address"] for e in lab.state()["journal"] if e["phase"] == "sent"}
    assert sent
    confirmed = _history(lab)
    assert confirmed and {e["status"] for e in confirmed} == {"applied"}  # the first batch, as it went
    assert not sent & {e["address"] for e in confirmed}

    recovered = lab.apply_after_crash()
    assert recovered.code == 0, str(recovered)
    entries = _history(lab)
    interrupted = [e for e in entries if e["status"] == "interrupted"]
    assert {e["address"] for e in interrupted} == sent
    for entry in interrupted:
        assert ("the run was interrupted: this change was sent, but the run ended before the system's answer "
                "was recorded") in str(entry["reason"])
        assert entry["changed"], entry  # what was sent
    assert len({e["run"] for e in entries}) >= 3  # the killed run, its leftovers, and the recovering run
    assert lab.state()["journal"] == []


def test_a_failed_change_already_in_the_history_is_not_repeated_as_interrupted() -> None:
    from engine.apply.history import Entry, interrupted_entries
    from state.model import JournalEntry

    journal = [JournalEntry("1", "nipap_address.lan.a", "create", "sent", "nipap", {"ip": "10.0.0.5"},
                            "2026-12-07T06:40:00+00:00"),
               JournalEntry("2", "nipap_address.lan.b", "create", "intended", "nipap", {"ip": "10.0.0.6"},
                            "2026-12-07T06:40:00+00:00")]
    past = [Entry("2026-12-07T06:40:02Z", "r1", "create", "nipap_address.lan.a", "nipap", "failed",
                  error="timeout")]
    entries = interrupted_entries(journal, "2026-12-07T07:00:00Z", past)
    assert [(e.address, e.status) for e in entries] == [("nipap_address.lan.b", "interrupted")]
    assert "was intended, but the run ended before sending it" in entries[0].reason
    assert entries[0].changed == {"ip": {"before": None, "after": "10.0.0.6"}}
    assert len(interrupted_entries(journal, "2026-12-07T07:00:00Z")) == 2

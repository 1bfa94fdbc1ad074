"""The run history's run ids: one per run, never shared by two runs of one process, even when the clock
gives both the same instant (a recovering run starting a moment after the run it recovers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.apply import history


class _FrozenClock:
    """datetime with a ``now`` that never moves."""

    at = datetime(2026, 12, 7, 21, 9, 8, 500_000, tzinfo=UTC)

    @classmethod
    def now(cls, tz: Any = None) -> datetime:
        return cls.at


def test_two_runs_started_at_the_same_instant_have_different_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "datetime", _FrozenClock)
    monkeypatch.setattr(history, "_last_run", [])
    first, second = history.run_id(), history.run_id()
    assert first == "2026-12-07T21:09:08.500000Z"
    assert second == "2026-12-07T21:09:08.500001Z"


def test_run_ids_keep_to_the_microsecond_and_grow() -> None:
    ids = [history.run_id() for _ in range(2_000)]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    assert all(len(i) == len("2026-12-07T21:09:08.500000Z") and i.endswith("Z") for i in ids)


def test_two_runs_within_a_second_stay_two_runs_in_the_history(tmp_path: Any) -> None:
    from state.records import FileRecord

    path = FileRecord(tmp_path / "state.json.history.jsonl")
    for run in (history.run_id(), history.run_id()):
        address = "nipap_address.lan.a"
        entry = history.Entry("2026-12-07T21:09:08Z", run, "create", address, "nipap", "applied")
        history.record(path, [entry])
    assert len({e.run for e in history.read(path)}) == 2

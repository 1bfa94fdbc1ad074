"""The file backend fences its writes too: a run whose lock file was removed (by hand, or broken) and
taken by another run writes nothing more."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import StateLockLost
from state.backend import FileBackend
from state.model import ResourceState


def test_a_run_whose_lock_file_was_taken_over_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "netsot.state.json"
    ours, theirs = FileBackend(path), FileBackend(path)
    with ours.lock("apply") as info:
        state = ours.save(ours.load().with_resource(ResourceState("a.one", "nipap", None, {})))
        os.unlink(ours.lock_path)  # someone removed the lock by hand
        with theirs.lock("apply"):
            theirs.save(theirs.load().with_resource(ResourceState("a.theirs", "nipap", None, {})))
            with pytest.raises(StateLockLost) as lost:
                ours.save(state.with_resource(ResourceState("a.two", "nipap", None, {})))
    assert info.id in str(lost.value) and str(ours.lock_path) in str(lost.value)
    assert set(FileBackend(path).load().resources) == {"a.one", "a.theirs"}

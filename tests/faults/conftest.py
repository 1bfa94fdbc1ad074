"""Fixtures of the fault suites: a fresh in-process lab per test and an unfaulted reference run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.faults.harness import FaultLab, lab_at


@pytest.fixture
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultLab]:
    yield from lab_at(tmp_path_factory.mktemp("faultlab"))


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the systems hold after one clean apply of the same seed (deterministic allocation)."""
    for ref in lab_at(tmp_path_factory.mktemp("reference")):
        result = ref.apply()
        assert result.code == 0, str(result)
        ref.assert_converged()
        return ref.snapshot()
    raise AssertionError("unreachable")

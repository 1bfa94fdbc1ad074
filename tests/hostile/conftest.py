"""Fixtures of the hostile-input suites: the fault lab (tests/faults/harness.py), one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import FaultLab, lab_at


@pytest.fixture
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultLab]:
    yield from lab_at(tmp_path_factory.mktemp("hostile"))

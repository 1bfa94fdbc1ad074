"""Shared fixtures for the EdgeMax pure-part tests: the real EdgeOS files."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path("/work/shared/fixtures/edgeos")
CONFIG_FILES = sorted(p for p in FIXTURES.iterdir() if "config.boot" in p.name)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


def read_fixture(name: str) -> str:
    return (FIXTURES / name).read_text()

"""Shared fixtures for the EdgeMax pure-part tests: the real EdgeOS files, and our own.

``CONFIG_FILES`` are the real configs EdgeOS loads; ``REFUSED_FILES`` maps the real files EdgeOS's
own parser refuses to the line it stops at (britannic's template holds the author's placeholder
``key <create one!>``: two values on one leaf line, edgeos.md §3.2). ``OWN`` holds the fixtures
written for issue #13 (dual-stack host names, kept children, names, set-format dumps).
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path("/work/shared/fixtures/edgeos")
OWN = Path(__file__).with_name("fixtures")
REFUSED_FILES = {"britannic__AdBlock_config.boot": 134}
CONFIG_FILES = sorted(p for p in FIXTURES.iterdir()
                      if "config.boot" in p.name and p.name not in REFUSED_FILES)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


def read_fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def read_own(name: str) -> str:
    return (OWN / name).read_text()

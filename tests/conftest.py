"""Suite-wide settings.

Hypothesis explores new random inputs on every developer run (and keeps failures in
``.hypothesis/``); under CI (``CI=true``) it is derandomized, so a CI verdict can be reproduced.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests import livenipapd

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def live_nipap_url() -> Iterator[str]:
    """A real nipapd's read-write URL for the live tests (tests/livenipapd.py): NETSOT_TEST_NIPAP_URL, or
    the unmodified nipapd 0.32.7 started once for the whole run. If it cannot be had, those tests fail."""
    directory = Path(tempfile.mkdtemp(prefix="netsot-nipapd-"))  # not in pytest's 0700 tmp dir
    try:
        try:
            server = livenipapd.start(directory)
        except livenipapd.NipapdUnavailable as exc:
            pytest.fail(f"the live NIPAP tests need a real nipapd: {exc}", pytrace=False)
        try:
            yield server.url
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)

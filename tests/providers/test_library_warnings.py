"""The one library warning netsot silences: asyncssh's import names cryptography's DSA classes, and
cryptography warns "DSA is deprecated" for it — noise in the demo's and the tests' output."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import REPO


def _import(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True,
                          cwd=str(REPO), timeout=60, check=False)


def test_importing_asyncssh_after_providers_prints_no_dsa_warning():
    quiet = _import("import providers, asyncssh, providers.lab")
    assert quiet.returncode == 0, quiet.stderr
    assert "DSA" not in quiet.stderr, quiet.stderr


def test_only_asyncssh_dsa_warning_is_silenced():
    other = _import("import warnings, providers; warnings.warn('DSA is deprecated', UserWarning)")
    assert "DSA is deprecated" in other.stderr  # the same text from anywhere else still shows

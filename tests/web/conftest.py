"""The browser lab: the e2e lab (reused), `netsot ui` / `netsot serve` as real subprocesses, and headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright through ``executable_path``).

Owns: starting a page server and finding its port from its log, the browser (one per module), and a
fresh page per test. A missing Chromium fails every test here with how to install it: never a skip.
Must not: reach into a server's memory; the page is observed as a person would, through the browser.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, Lab, start_lab

CHROMIUM = Path(os.environ.get("NETSOT_CHROMIUM", "/usr/bin/chromium"))
# As root on a closed network Chromium needs these, or it stalls on background connections.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
# where the screenshots go: a scratch directory, so a test run never rewrites tracked files;
# `make screenshots` points it at docs/ to refresh the README's pictures
DOCS = Path(os.environ.get("NETSOT_SCREENSHOTS") or Path(tempfile.gettempdir()) / "netsot-screenshots")
DOCS.mkdir(parents=True, exist_ok=True)


class PageServer:
    """``netsot ui`` or ``netsot serve`` as a subprocess listening on a free loopback port."""

    def __init__(self, lab: Lab, name: str, *args: str) -> None:
        self.log = lab.paths.logs / f"{name}.log"
        cmd = [sys.executable, "-m", "engine", "--no-color", "--config", str(lab.config), *args]
        env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         env=env, cwd=str(REPO), start_new_session=True)
        self.port = self._wait_port()

    def _wait_port(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            assert code is None, f"the server exited with {code}:\n{self.text()[-3000:]}"
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.text())
            if found:
                return int(found.group(1))
            time.sleep(0.05)
        raise AssertionError(f"the server did not listen within {timeout:g}s:\n{self.text()[-3000:]}")

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def ui(lab: Lab, name: str, *extra: str) -> PageServer:
    return PageServer(lab, name, "ui", "--listen", "127.0.0.1:0", *extra)


def serve(lab: Lab, name: str, *extra: str) -> PageServer:
    return PageServer(lab, name, "serve", "--interval", "3600", "--jitter", "0", "--listen", "127.0.0.1:0",
                      "--log-format", "json", *extra)


def require_chromium() -> None:
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: the status page is tested in a real browser. "
                    "Install it with `make setup` (it runs `apt-get install chromium`), or point "
                    "NETSOT_CHROMIUM at a Chromium binary. Playwright's own browser download is not used.",
                    pytrace=False)
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.fail("the Python package playwright is missing: `make setup` installs netsot's test tools",
                    pytrace=False)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    browser.clear_cookies()
    page = browser.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        page.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from start_lab(tmp_path_factory.mktemp("weblab"))

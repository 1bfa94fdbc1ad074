"""The service acceptance lab: the e2e lab (reused, not copied) plus `netsot serve` as a real subprocess.

Owns: starting/stopping the service process, reading its JSON log lines and its HTTP endpoints
(/healthz, /metrics, /plan), writing a policy into the lab's netsot.yaml, and a bounded `wait_for`.
Must not: reach into the service's memory; it is observed only from outside, like an operator would.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.e2e.conftest import REPO, Lab, start_lab

T = TypeVar("T")
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, step: float = 0.1) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(step)


def set_policy(lab: Lab, policy_yaml: str) -> None:
    """Replace the ``policy:`` block the lab writes last in its netsot.yaml."""
    text = lab.config.read_text()
    head = text[: text.rindex("\npolicy:\n")]
    lab.config.write_text(head + "\npolicy:\n" + policy_yaml)


def secrets(lab: Lab) -> tuple[str, ...]:
    return (lab.paths.secret("pve_token"), lab.paths.secret("nipap_password"))


class ServiceProcess:
    """``netsot serve`` as a subprocess, with its stdout/stderr in files (no pipe can fill and block it)."""

    def __init__(self, lab: Lab, name: str, *extra: str, interval: float = 1) -> None:
        self.lab = lab
        self.out_path = lab.paths.logs / f"{name}.stdout"
        self.err_path = lab.paths.logs / f"{name}.stderr"
        cmd = [sys.executable, "-m", "engine", "--config", str(lab.config), "serve",
               "--interval", f"{interval:g}", "--jitter", "0", "--listen", "127.0.0.1:0",
               "--log-format", "json", *extra]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.pop("NO_COLOR", None)
        self.started = time.time()
        # a session of its own, without a controlling terminal: how systemd starts a service
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                         cwd=str(REPO), start_new_session=True)
        self._port: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    # ---- logs
    def raw(self) -> str:
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def records(self) -> list[dict[str, Any]]:
        """Every complete log line, parsed (a line being written right now is left for later)."""
        found: list[dict[str, Any]] = []
        for path in (self.out_path, self.err_path):
            text = path.read_text(errors="replace")
            complete = text[: text.rfind("\n") + 1]
            found.extend(json.loads(line) for line in complete.splitlines() if line.strip())
        return sorted(found, key=lambda r: r.get("ts", ""))

    def messages(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if str(r.get("msg", "")).startswith(prefix)]

    # ---- HTTP
    @property
    def port(self) -> int:
        if self._port is None:
            def listening() -> int | None:
                self.assert_alive()
                for r in self.messages("listening on http://"):
                    return int(r["msg"].rsplit(":", 1)[1])
                return None
            self._port = wait_for("the service to listen", listening, timeout=20, step=0.05)
        return self._port

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def health(self) -> tuple[int, dict[str, Any]]:
        code, body = self.get("/healthz")
        return code, json.loads(body)

    def plan(self) -> dict[str, Any] | None:
        code, body = self.get("/plan")
        return json.loads(body) if code == 200 else None

    def metrics(self) -> dict[str, float]:
        """``{'name{labels}': value}`` of every sample on /metrics (the text format must parse)."""
        code, body = self.get("/metrics")
        assert code == 200, body
        samples: dict[str, float] = {}
        for line in body.splitlines():
            if not line or line.startswith("#"):
                continue
            match = _SAMPLE.match(line)
            assert match, f"not a Prometheus sample line: {line!r}"
            samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
        return samples

    # ---- lifecycle
    def assert_alive(self) -> None:
        code = self.proc.poll()
        assert code is None, f"the service exited with {code}:\n{self.raw()[-4000:]}"

    def terminate(self, timeout: float = 20) -> tuple[int, float]:
        """SIGTERM; the exit code and how long the exit took."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - sent

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from start_lab(tmp_path_factory.mktemp("servicelab"))


@pytest.fixture(scope="module")
def services() -> Iterator[list[ServiceProcess]]:
    """Every service process the module started; none outlives it."""
    started: list[ServiceProcess] = []
    yield started
    for service in started:
        service.kill()


def state_of(lab: Lab) -> dict[str, Any]:
    return json.loads((lab.paths.root / "netsot.state.json").read_text())


def lock_path(lab: Lab) -> Path:
    return lab.paths.root / "netsot.state.json.lock"

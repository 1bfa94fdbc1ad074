"""`netsot lab up|status|down` with real background processes, and `netsot demo` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]


def _netsot(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", "--no-color", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=str(REPO),
                          env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL, check=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[:1] == ["Z"])


def test_lab_up_status_down(tmp_path: Path) -> None:
    workdir = tmp_path / "lab"
    up = _netsot("lab", "up", "--dir", str(workdir), "--guests", "4")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "netsot --config" in up.stdout and "plan" in up.stdout
        info = json.loads((workdir / "lab.json").read_text())
        pids = {name: p["pid"] for name, p in info["processes"].items()}
        assert {"proxmox", "nipap", "router", "dnsmasq"} == set(pids)
        assert all(_alive(pid) for pid in pids.values())  # they outlive the CLI that started them
        for secret in ("pve_token", "nipap_password"):
            assert (workdir / "secrets" / secret).stat().st_mode & 0o777 == 0o600
        config = (workdir / "netsot.yaml").read_text()
        assert "${file:secrets/pve_token}" in config and "dns_server: 127.0.0.1:" in config
        assert (workdir / "secrets" / "pve_token").read_text().strip() not in config

        status = _netsot("lab", "status", "--dir", str(workdir))
        assert status.returncode == 0 and status.stdout.count(" alive ") == 4, status.stdout

        # the written config works as is: plan reads all three systems
        plan = _netsot("--config", str(workdir / "netsot.yaml"), "plan")
        assert plan.returncode == 0 and "to add" in plan.stdout, plan.stdout + plan.stderr

        # ...and netsot-readonly.yaml, with identities that may read but not write: doctor fails on it
        for secret in ("pve_token_readonly", "nipap_password_readonly"):
            assert (workdir / "secrets" / secret).stat().st_mode & 0o777 == 0o600
        assert _netsot("--config", str(workdir / "netsot.yaml"), "doctor").returncode == 0
        readonly = _netsot("--config", str(workdir / "netsot-readonly.yaml"), "doctor")
        assert readonly.returncode == 1 and "✗ SDN.Use on /sdn/zones/localnetwork" in readonly.stdout
        assert "✗ may add hosts" in readonly.stdout, readonly.stdout

        again = _netsot("lab", "up", "--dir", str(workdir))
        assert again.returncode == 1 and "already running" in again.stderr
    finally:
        down = _netsot("lab", "down", "--dir", str(workdir))
    assert down.returncode == 0, down.stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in pids.values()):
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids.values())
    assert "No lab" in _netsot("lab", "down", "--dir", str(workdir)).stdout  # idempotent
    assert "No lab" in _netsot("lab", "status", "--dir", str(workdir)).stdout


def test_lab_up_two_sites_starts_and_stops_every_process(tmp_path: Path) -> None:
    workdir = tmp_path / "lab2"
    up = _netsot("lab", "up", "--dir", str(workdir), "--guests", "3", "--sites", "2")
    pids: dict[str, int] = {}
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        info = json.loads((workdir / "lab.json").read_text())
        pids = {name: p["pid"] for name, p in info["processes"].items()}
        assert set(pids) == {"proxmox", "nipap", "router", "dnsmasq",
                             "proxmox.cabin", "router.cabin", "dnsmasq.cabin"}
        assert info["sites"] == 2 and all(_alive(pid) for pid in pids.values())
        ports = {name: p["port"] for name, p in info["processes"].items()}
        for name in ("proxmox.cabin", "router.cabin", "dnsmasq.cabin"):  # site 2's endpoints are listed
            assert f"127.0.0.1:{ports[name]}" in up.stdout or f"-p {ports[name]}" in up.stdout, name
        assert "import edgemax.cabin" in up.stdout
        for home, cabin in (("known_hosts", "known_hosts-cabin"), ("ca.pem", "ca-cabin.pem"),
                            ("router-hosts", "router-hosts-cabin")):  # each site its own file
            assert (workdir / home).read_text() != (workdir / cabin).read_text(), cabin

        status = _netsot("lab", "status", "--dir", str(workdir))
        assert status.returncode == 0 and status.stdout.count(" alive ") == 7, status.stdout
        assert "2 sites" in status.stdout

        validate = _netsot("--config", str(workdir / "netsot.yaml"), "validate")
        assert validate.returncode == 0, validate.stdout + validate.stderr
        assert "edgemax.cabin" in validate.stdout and "proxmox.cabin" in validate.stdout
        # the written config reaches both clusters and both routers
        inventory = _netsot("--config", str(workdir / "netsot.yaml"), "inventory", "edgemax.cabin", "--json")
        assert inventory.returncode == 0 and "192.168.30.5" in inventory.stdout, inventory.stdout
    finally:
        down = _netsot("lab", "down", "--dir", str(workdir))
    assert down.returncode == 0, down.stderr
    assert "router.cabin" in down.stdout and "dnsmasq.cabin" in down.stdout
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in pids.values()):
        time.sleep(0.05)
    assert pids and not any(_alive(p) for p in pids.values())
    # `lab up` without --sites continues the lab as it last ran: both sites (the tour after the demo)
    again = _netsot("lab", "up", "--dir", str(workdir))
    try:
        assert again.returncode == 0, again.stdout + again.stderr
        assert json.loads((workdir / "lab.json").read_text())["sites"] == 2
        assert "Runs 2 sites, as this lab did last time" in again.stdout
    finally:
        assert _netsot("lab", "down", "--dir", str(workdir)).returncode == 0


def test_demo_runs_every_step_for_two_sites_and_cleans_up(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = _netsot("demo", "--dir", str(workdir), timeout=280)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    for heading in ("Start the lab (netsot lab up --sites 2)", "Site 2, the cabin", "netsot import edgemax)",
                    "netsot import edgemax.cabin)", "netsot plan", "apply --auto-approve",
                    "netsot verify", "--detailed-exitcode", "Stop the lab"):
        assert heading in out, heading
    assert "edgemax_dhcp_mapping[cabin].CABIN.ap      adopt" in out  # import adopted router 2's entries
    assert "nvr.cabin.lab.example" in out and "router.cabin" in out
    assert "Verify passed" in out and "Apply complete!" in out
    assert "No changes. The systems match the configuration." in out  # the last plan is empty
    assert not (workdir / "lab.json").exists()  # lab down ran
    # the last lines say how to run netsot yourself (the test runs the venv's interpreter from the repo)
    tail = result.stdout.rstrip().splitlines()[-9:]
    venv = os.path.relpath(Path(sys.executable).parent, REPO)
    assert f"Try it yourself. netsot is installed in {venv}/: run it as {venv}/netsot, or first" in tail, tail
    assert f"  source {venv}/activate" in tail and tail[-1] == "  netsot lab down"

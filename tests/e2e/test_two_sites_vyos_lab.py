"""Two sites through the embedded lab, one EdgeOS and one VyOS, against one NIPAP (issue 25).

``netsot lab up --sites 2 --router cabin=vyos`` runs the cabin's router as the VyOS HTTPS API simulator
(``providers/vyos/sim/``, joined to the lab by its descriptor's ``Hooks.lab``), writes a config naming
it ``vyos.cabin``, and everything runs as background processes over the real protocols: import both
routers, plan (each router only its own site's entries), apply, verify (each name through its own
router's dnsmasq: the VyOS router's commit hook wrote its hosts file), an empty second plan; a lease
added with ``netsot lab lease add`` reaches the VyOS router; ``lab down`` / ``lab up`` resumes the VyOS
router with what it saved.

The VyOS import is a real one: after it, the NIPAP host netsot creates for the adopted AP becomes an origin
of the AP's binding too, and its ref (``nipap …``) sorts before ``vyos[cabin] …``; the binding is still
named by the mapping the import adopted (engine/reconcile/bindings.py: an object netsot made never names an
imported binding), so the second plan is empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]


def _netsot(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", "--no-color", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=str(REPO),
                          env={**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"},
                          stdin=subprocess.DEVNULL, check=False)


def _by_system(plan: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for change in plan["changes"]:
        out.setdefault(change["system"], set()).add(change["address"])
    return out


def test_lab_runs_the_cabins_router_as_vyos_next_to_an_edgerouter(tmp_path: Path) -> None:
    workdir = tmp_path / "lab"
    up = _netsot("lab", "up", "--dir", str(workdir), "--guests", "4", "--sites", "2",
                 "--router", "cabin=vyos")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "VyOS" in up.stdout and "import vyos.cabin" in up.stdout
        assert "import edgemax\n" in up.stdout and "import edgemax.cabin" not in up.stdout
        info = json.loads((workdir / "lab.json").read_text())
        kinds = {name: p.get("kind") for name, p in info["processes"].items()}
        assert kinds["router.cabin"] == "vyos" and kinds["router"] == "edgemax"
        config_path = workdir / "netsot.yaml"
        doc = yaml.safe_load(config_path.read_text())
        assert set(doc["providers"]) == {"proxmox", "nipap", "edgemax", "proxmox.cabin", "vyos.cabin"}
        key = (workdir / "secrets" / "vyos_key-cabin").read_text().strip()
        assert key not in config_path.read_text()
        assert (workdir / "secrets" / "vyos_key-cabin").stat().st_mode & 0o777 == 0o600
        cabin = next(n for n in doc["networks"] if n["name"] == "cabin")
        assert cabin["vyos"] == {"instance": "cabin", "shared_network": "CABIN"} and "edgemax" not in cabin
        config = ("--config", str(config_path))

        # the cabin's VyOS router holds the homelab's cabin router (the AP's reservation and host name): an
        # import reads them through its API and adopts them
        assert _netsot(*config, "import", "edgemax").returncode == 0
        imported = _netsot(*config, "import", "vyos.cabin", "--json")
        assert imported.returncode == 0, imported.stdout + imported.stderr
        assert "vyos_dhcp_mapping[cabin].CABIN.ap" in imported.stdout

        plan = _netsot(*config, "plan", "--json")
        assert plan.returncode == 0, plan.stderr
        by_system = _by_system(json.loads(plan.stdout))
        cabin_changes = by_system["vyos.cabin"]
        assert cabin_changes and all(a.startswith(("vyos_dhcp_mapping[cabin].CABIN.", "vyos_host[cabin]."))
                                     for a in cabin_changes), cabin_changes
        assert not any(".CABIN." in a for a in by_system["edgemax"])  # the EdgeRouter: its own site's only
        assert not any(system.startswith("edgemax.") for system in by_system)

        applied = _netsot(*config, "apply", "--auto-approve", timeout=240)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        verify = _netsot(*config, "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        again = _netsot(*config, "plan", "--detailed-exitcode")
        assert again.returncode == 0, again.stdout + again.stderr
        # the AP's NIPAP host, made for the imported binding, is described by the mapping the import adopted
        ap_host = _netsot(*config, "state", "show", "nipap_address.cabin.ap")
        assert ap_host.returncode == 0, ap_host.stdout + ap_host.stderr
        assert "vyos[cabin] " in ap_host.stdout and "(imported)" in ap_host.stdout, ap_host.stdout

        # the lab's own operations on a VyOS router: a lease reaches it; it takes no SSH login
        leased = _netsot("lab", "lease", "add", "02:00:00:00:30:99", "--site", "cabin", "--dir", str(workdir),
                         "--hostname", "phone")
        assert leased.returncode == 0 and "Leased 192.168.30." in leased.stdout, leased.stdout + leased.stderr
        inventory = _netsot(*config, "plan", "--json")
        assert "02:00:00:00:30:99" in inventory.stdout, "the VyOS router's lease table has the new lease"
        login = _netsot("lab", "ssh", "--site", "cabin", "--dir", str(workdir))
        assert login.returncode != 0 and "takes no SSH login" in login.stderr, login.stdout + login.stderr
    finally:
        down = _netsot("lab", "down", "--dir", str(workdir))
    assert down.returncode == 0, down.stderr

    # lab up again (no --sites, no --router): the same two sites and routers, resumed from what they saved
    resumed = _netsot("lab", "up", "--dir", str(workdir), "--guests", "4")
    try:
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        info = json.loads((workdir / "lab.json").read_text())
        assert info["processes"]["router.cabin"]["kind"] == "vyos"
        status = _netsot("lab", "status", "--dir", str(workdir))
        assert "(vyos)" in status.stdout, status.stdout
        same = _netsot("--config", str(workdir / "netsot.yaml"), "plan", "--detailed-exitcode")
        assert same.returncode == 0, same.stdout + same.stderr
    finally:
        assert _netsot("lab", "down", "--dir", str(workdir)).returncode == 0


def test_lab_up_refuses_a_router_kind_that_is_no_router(tmp_path: Path) -> None:
    workdir = tmp_path / "lab"
    wrong = _netsot("lab", "up", "--dir", str(workdir), "--sites", "2", "--router", "cabin=nipap")
    assert wrong.returncode != 0, wrong.stdout
    assert "nipap is no router in the lab" in wrong.stderr, wrong.stderr
    unknown = _netsot("lab", "up", "--dir", str(workdir), "--sites", "1", "--router", "cabin=vyos")
    assert unknown.returncode != 0 and "no such site" in unknown.stderr, unknown.stdout + unknown.stderr
    shape = _netsot("lab", "up", "--dir", str(workdir), "--router", "vyos")
    assert shape.returncode != 0 and "give SITE=KIND" in shape.stderr, shape.stdout + shape.stderr
    assert not (workdir / "lab.json").exists()  # nothing started

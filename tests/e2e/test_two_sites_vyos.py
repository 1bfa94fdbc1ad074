"""Two sites through the CLI against one NIPAP: site 1's router is an EdgeRouter (SSH), the cabin's a
VyOS 1.5 router (HTTPS API, the instance ``vyos.cabin``). The hosts of the config get their NIPAP
addresses, and each router exactly its own site's reservations and host names (depending on them); the
VyOS apply is one ``/configure`` and one save; a second plan is empty.

Without the embedded lab: the three simulators are started here (``netsot lab up --router cabin=vyos``
is not built yet)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from providers.edgemax.sim.server import start_simulator as start_edgemax
from providers.nipap.sim.server import start_simulator as start_nipap
from providers.vyos.sim.server import start as start_vyos
from tests.providers.edgemax.sim_fixtures import LAB_BOOT

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
RT = "65000:1"
CABIN = """\
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 option default-router '192.168.30.1'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 range 0 start '192.168.30.100'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 range 0 stop '192.168.30.199'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 subnet-id '7'
set system host-name 'cabin'
"""


SEED = {
    "vrfs": [{"rt": RT, "name": "lab", "description": "two sites"}],
    "prefixes": [
        {"prefix": "192.168.1.0/24", "type": "assignment", "description": "lan", "vrf": RT},
        {"prefix": "192.168.30.0/24", "type": "assignment", "description": "cabin", "vrf": RT},
    ],
}


def test_an_edgerouter_site_and_a_vyos_site_against_one_nipap(tmp_path: Path) -> None:
    ipam = start_nipap(SEED)
    edge = start_edgemax(tmp_path / "edge", config_boot=LAB_BOOT, users={"ubnt": "password"})
    (tmp_path / "vyos").mkdir()
    vyos = start_vyos(CABIN, dialect="1.5", state_dir=tmp_path / "vyos")
    try:
        config = tmp_path / "netsot.yaml"
        config.write_text(f"""\
version: 1
state: {{path: state.json}}
providers:
  nipap: {{url: "{ipam.url()}", username: netsot, password: pw, vrf: "{RT}"}}
  edgemax: {{host: 127.0.0.1, port: {edge.port}, username: ubnt, password: password,
            known_hosts: "{edge.known_hosts}", timeout: 10}}
  vyos.cabin: {{url: "{vyos.url}", api_key: "${{env:CABIN_VYOS_KEY}}", fingerprint: "{vyos.fingerprint}"}}
networks:
  - {{name: lan, prefix: 192.168.1.0/24, domain: lab.example, edgemax: {{shared_network: LAN}}}}
  - {{name: cabin, prefix: 192.168.30.0/24, domain: cabin.example,
     vyos: {{instance: cabin, shared_network: CABIN}}}}
hosts:
  - {{name: web01, network: lan, ip: 192.168.1.20, mac: "bc:24:11:00:01:20"}}
  - {{name: cam01, network: cabin, ip: 192.168.30.20, mac: "bc:24:11:00:30:20"}}
  - {{name: nvr, network: cabin, ip: 192.168.30.21, mac: "bc:24:11:00:30:21"}}
""")
        env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO), "CABIN_VYOS_KEY": vyos.key}

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            cmd = [sys.executable, "-m", "engine", "--no-color", "--config", str(config), *args]
            return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
                                  check=False)

        plan = cli("plan", "--json")
        assert plan.returncode == 0, plan.stderr
        by_system: dict[str, set[str]] = {}
        for c in json.loads(plan.stdout)["changes"]:
            by_system.setdefault(c["system"], set()).add(c["address"])
        assert by_system["vyos.cabin"] == {
            "vyos_dhcp_mapping[cabin].CABIN.cam01", "vyos_host[cabin].cam01.cabin.example",
            "vyos_dhcp_mapping[cabin].CABIN.nvr", "vyos_host[cabin].nvr.cabin.example"}
        # the EdgeRouter's reservations are its own site's; its DNS names follow the EdgeOS kind's rule (it
        # serves every network no other EdgeRouter instance names, so the cabin's names too)
        assert {a for a in by_system["edgemax"] if a.startswith("edgemax_dhcp_mapping")} == {
            "edgemax_dhcp_mapping.LAN.web01"}
        assert "edgemax_host.web01.lab.example" in by_system["edgemax"]
        assert by_system["nipap"] == {"nipap_address.lan.web01", "nipap_address.cabin.cam01",
                                      "nipap_address.cabin.nvr"}
        applied = cli("apply", "--auto-approve")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert len(vyos.calls("/configure")) == 1 and len(vyos.calls("/config-file")) == 1
        saved = vyos.router.saved
        assert saved is not None
        base = ["service", "dhcp-server", "shared-network-name", "CABIN", "subnet", "192.168.30.0/24"]
        assert saved.exists([*base, "static-mapping", "cam01", "mac", "bc:24:11:00:30:20"])
        assert saved.exists([*base, "subnet-id", "7"])  # the subnet's own id, untouched
        assert not saved.exists([*base, "static-mapping", "web01"])
        again = cli("plan", "--detailed-exitcode")
        assert again.returncode == 0, again.stdout + again.stderr
        assert vyos.key not in (tmp_path / "state.json").read_text()
    finally:
        vyos.stop()
        edge.stop()
        ipam.stop()

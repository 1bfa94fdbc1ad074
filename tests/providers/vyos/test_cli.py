"""`netsot inventory vyos` through the CLI: from a file (no router, no config) and from the router."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from engine.cli.main import cli
from providers.edgemax.inventory import run as edgemax_inventory
from providers.vyos.sim.api import Lease
from providers.vyos.sim.server import start
from tests.providers.vyos.fixtures import LAB
from tests.providers.vyos.test_client_read import TEMPLATED

REPO = Path(__file__).resolve().parents[3]


def test_inventory_vyos_from_a_templated_file_in_edgemax_json_shape(tmp_path: Path) -> None:
    path = tmp_path / "router.sh"
    path.write_text(TEMPLATED)
    out = subprocess.run([sys.executable, "-m", "engine", "--no-color", "inventory", "vyos", "--from-file",
                          str(path), "--json"], capture_output=True, text=True, cwd=REPO, check=False)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["dhcp_static_mappings"] == [
        {"shared_network": "LAN", "subnet": "10.1.0.0/24", "name": "printer", "ip_address": "10.1.0.9",
         "mac_address": "00:11:22:33:44:55"}]
    assert "router.sh:4" in doc["warnings"][0]
    # the same keys as `inventory edgemax --json` of the same (1.4-style) file
    v14 = tmp_path / "edge.sh"
    v14.write_text(TEMPLATED.replace(" mac '", " mac-address '")
                   .replace(" option default-router", " default-router"))
    edge = json.loads(edgemax_inventory(None, str(v14), True))
    assert set(edge) == set(doc)
    assert set(edge["dhcp_static_mappings"][0]) == set(doc["dhcp_static_mappings"][0])
    table = subprocess.run([sys.executable, "-m", "engine", "--no-color", "inventory", "vyos", "--from-file",
                            str(path)], capture_output=True, text=True, cwd=REPO, check=False)
    assert table.returncode == 0 and "printer" in table.stdout and "10.1.0.9" in table.stdout


def test_inventory_vyos_from_the_router(tmp_path: Path, monkeypatch: object) -> None:
    sim = start(LAB["1.4"] + "set system static-host-mapping host-name nas.lab.example inet '192.168.1.10'\n",
                dialect="1.4", state_dir=tmp_path, leases=[Lease("192.168.1.101", "52:54:00:aa:00:09")])
    try:
        config = tmp_path / "netsot.yaml"
        config.write_text(f"""\
version: 1
state: {{path: state.json}}
providers:
  vyos: {{url: "{sim.url}", api_key: "${{env:VYOS_KEY}}", ca_bundle: "{sim.ca_path}"}}
networks:
  - {{name: lan, prefix: 192.168.1.0/24, domain: lab.example, vyos: {{shared_network: LAN}}}}
""")
        result = CliRunner(env={"VYOS_KEY": sim.key}).invoke(
            cli, ["--no-color", "--config", str(config), "inventory", "vyos", "--json"])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.output)
        assert doc["static_host_mappings"] == [{"host_name": "nas.lab.example", "inet": ["192.168.1.10"],
                                                "aliases": []}]
        assert doc["leases"][0]["ip"] == "192.168.1.101"
        assert sim.calls("/configure") == [] and sim.calls("/config-file") == []
    finally:
        sim.stop()


def _config(tmp_path: Path, url: str, ca: Path, extra: str = "") -> Path:
    path = tmp_path / "netsot.yaml"
    path.write_text(f"""\
version: 1
state: {{path: state.json}}
providers:
  vyos: {{url: "{url}", api_key: "${{env:VYOS_KEY}}", ca_bundle: "{ca}"{extra}}}
networks:
  - {{name: lan, prefix: 192.168.1.0/24, domain: lab.example, vyos: {{shared_network: LAN}}}}
hosts:
  - {{name: web01, network: lan, ip: 192.168.1.20, mac: "bc:24:11:00:00:01"}}
""")
    return path


def test_plan_apply_converge_through_the_cli_in_both_dialects(tmp_path: Path) -> None:
    for d in ("1.4", "1.5"):
        where = tmp_path / d
        where.mkdir()
        sim = start(LAB[d], dialect=d, state_dir=where)
        try:
            config = _config(where, sim.url, sim.ca_path)
            runner = CliRunner(env={"VYOS_KEY": sim.key})
            base = ["--no-color", "--config", str(config)]
            plan = runner.invoke(cli, [*base, "plan", "--json"])
            assert plan.exit_code == 0, plan.output
            assert {c["address"] for c in json.loads(plan.output)["changes"]} == {
                "vyos_dhcp_mapping.LAN.web01", "vyos_host.web01.lab.example"}
            applied = runner.invoke(cli, [*base, "apply", "--auto-approve"])
            assert applied.exit_code == 0 and "2 added" in applied.output, applied.output
            assert len(sim.calls("/configure")) == 1 and len(sim.calls("/config-file")) == 1
            again = runner.invoke(cli, [*base, "plan", "--detailed-exitcode"])
            assert again.exit_code == 0, again.output
            state = json.loads((where / "state.json").read_text())
            assert sim.key not in json.dumps(state)
        finally:
            sim.stop()


def test_a_foreseen_commit_rule_holds_only_its_change(tmp_path: Path) -> None:
    """A 1.5 router without the network's subnet: it has no subnet-id, which netsot never invents, so
    the reservation is held (commit_rule, with the command that fixes it) and the host name goes ahead."""
    sim = start(LAB["1.5"], dialect="1.5", state_dir=tmp_path)
    try:
        config = tmp_path / "netsot.yaml"
        config.write_text(f"""\
version: 1
state: {{path: state.json}}
providers:
  vyos: {{url: "{sim.url}", api_key: "${{env:VYOS_KEY}}", ca_bundle: "{sim.ca_path}"}}
networks:
  - {{name: lab2, prefix: 192.168.2.0/24, domain: lab.example, vyos: {{shared_network: LAN}}}}
hosts:
  - {{name: web01, network: lab2, ip: 192.168.2.20, mac: "bc:24:11:00:00:01"}}
""")
        runner = CliRunner(env={"VYOS_KEY": sim.key})
        base = ["--no-color", "--config", str(config)]
        plan = json.loads(runner.invoke(cli, [*base, "plan", "--json"]).output)
        (conflict,) = plan["conflicts"]
        assert conflict["kind"] == "commit_rule" and conflict["blocked"] == ["vyos_dhcp_mapping.LAN.web01"]
        assert "subnet ID" in conflict["reason"] and "subnet-id" in conflict["fix"]
        applied = runner.invoke(cli, [*base, "apply", "--auto-approve"])
        assert "vyos_host.web01.lab.example" in applied.output, applied.output
        (call,) = sim.calls("/configure")
        assert call["commands"] and all("static-mapping" not in op["path"] for op in call["commands"])
    finally:
        sim.stop()

"""`netsot import vyos` (live and --from-file) and `netsot import ADDR ID`, both dialects: real names
kept, kept data shown, conflicts refused, and a plan after the import changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli.main import cli
from providers.vyos.sim.server import SimHandle, start
from state.backend import FileBackend
from tests.providers.vyos.fixtures import LAB

# ruff: noqa: E501  (real `set` lines are long)

SN = "set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"
MAC_LEAF = {"1.4": "mac-address", "1.5": "mac"}
NAME = {"1.4": "ROOM_1_SWITCH", "1.5": "Room-1-Switch"}


def _seed(d: str) -> str:
    return LAB[d] + "\n".join([
        f"{SN} static-mapping {NAME[d]} ip-address '192.168.1.30'",
        f"{SN} static-mapping {NAME[d]} {MAC_LEAF[d]} '02:00:00:00:00:30'",
        f"{SN} static-mapping {NAME[d]} description 'hall closet'",
        f"{SN} static-mapping twin ip-address '192.168.1.31'",
        f"{SN} static-mapping twin {MAC_LEAF[d]} '02:00:00:00:00:30'",
        "set system static-host-mapping host-name nas.lab.example inet '192.168.1.10'",
        "set system static-host-mapping host-name nas.lab.example alias 'nas'",
        "set system static-host-mapping host-name nas.lab.example alias 'files'",
    ]) + "\n"


@pytest.fixture(params=["1.4", "1.5"])
def sim(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimHandle]:
    handle = start(_seed(request.param), dialect=request.param, state_dir=tmp_path)
    yield handle
    handle.stop()


def _config(tmp_path: Path, sim: SimHandle) -> list[str]:
    path = tmp_path / "netsot.yaml"
    path.write_text(f"""\
version: 1
state: {{path: state.json}}
providers:
  vyos: {{url: "{sim.url}", api_key: "${{env:VYOS_KEY}}", fingerprint: "{sim.fingerprint}"}}
networks:
  - {{name: lan, prefix: 192.168.1.0/24, domain: lab.example, vyos: {{shared_network: LAN}}}}
""")
    return ["--no-color", "--config", str(path)]


def test_import_vyos_adopts_with_real_names_and_refuses_conflicts(sim: SimHandle, tmp_path: Path) -> None:
    d = sim.router.dialect
    base = _config(tmp_path, sim)
    runner = CliRunner(env={"VYOS_KEY": sim.key})
    result = runner.invoke(cli, [*base, "import", "vyos", "--json"])
    assert result.exit_code in (0, 2), result.output  # a conflict (the shared MAC) is reported
    doc = json.loads(result.output)
    verdicts = {i["address"]: i["status"] for i in doc["items"]}
    assert verdicts == {"vyos_host.nas.lab.example": "adopt",
                        f"vyos_dhcp_mapping.LAN.{NAME[d]}": "conflict", "vyos_dhcp_mapping.LAN.twin": "conflict"}
    state = FileBackend(tmp_path / "state.json").load()
    assert set(state.resources) == {"vyos_host.nas.lab.example"}
    assert runner.invoke(cli, [*base, "plan", "--detailed-exitcode"]).exit_code == 0
    assert sim.calls("/configure") == []


def test_import_one_entry_by_its_config_path(sim: SimHandle, tmp_path: Path) -> None:
    d = sim.router.dialect
    base = _config(tmp_path, sim)
    runner = CliRunner(env={"VYOS_KEY": sim.key})
    path = "service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping nobody"
    missing = runner.invoke(cli, [*base, "import", "vyos_dhcp_mapping.LAN.nobody", path])
    assert missing.exit_code != 0 and "has no entry at" in missing.output
    host = "system static-host-mapping host-name nas.lab.example"
    one = runner.invoke(cli, [*base, "import", "vyos_host.nas.lab.example", host])
    assert one.exit_code == 0, one.output
    state = FileBackend(tmp_path / "state.json").load()
    assert list(state.resources["vyos_host.nas.lab.example"].attributes["aliases"]) == ["nas", "files"]
    taken = runner.invoke(cli, [*base, "import", f"vyos_dhcp_mapping.LAN.{NAME[d]}",
                                f"service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping {NAME[d]}"])
    assert taken.exit_code != 0 and "MAC 02:00:00:00:00:30 is used by 2 static mappings" in taken.output


def test_import_vyos_from_a_file_needs_no_router(tmp_path: Path) -> None:
    d = "1.4"
    boot = tmp_path / "commands.txt"
    boot.write_text(_seed(d).replace(f"{SN} static-mapping twin {MAC_LEAF[d]} '02:00:00:00:00:30'",
                                     f"{SN} static-mapping twin {MAC_LEAF[d]} '02:00:00:00:00:31'"))
    config = tmp_path / "netsot.yaml"
    config.write_text("""\
version: 1
state: {path: state.json}
networks:
  - {name: lan, prefix: 192.168.1.0/24, domain: lab.example, vyos: {shared_network: LAN}}
""")
    result = CliRunner().invoke(cli, ["--no-color", "--config", str(config), "import", "vyos", "--from-file",
                                      str(boot), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert {i["address"]: i["status"] for i in doc["items"]} == {
        "vyos_host.nas.lab.example": "adopt", "vyos_dhcp_mapping.LAN.ROOM_1_SWITCH": "adopt",
        "vyos_dhcp_mapping.LAN.twin": "adopt"}
    switch = next(i for i in doc["items"] if i["address"].endswith("ROOM_1_SWITCH"))
    assert "room-1-switch" in switch["reason"] and "description" in switch["reason"]
    state = FileBackend(tmp_path / "state.json").load()
    assert state.resources["vyos_dhcp_mapping.LAN.ROOM_1_SWITCH"].attributes["name"] == "ROOM_1_SWITCH"

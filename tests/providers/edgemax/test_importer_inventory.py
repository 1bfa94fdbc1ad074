from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from core.config import Config, Host, Network, StateSettings
from core.errors import ProviderDataError
from core.model import Fact, ManagedResource, frozen_map
from engine.cli.output import import_output
from engine.reconcile.grouping import config_facts
from engine.workflow import import_run
from providers.edgemax import importer, inventory
from providers.edgemax.extract import extract
from providers.edgemax.planner import observation_from_config
from providers.edgemax.settings import EdgemaxNetwork
from providers.vyatta.parse import parse_boot, parse_commands
from schemas import load_schema
from state.backend import FileBackend
from tests import addresses as A
from tests.providers.edgemax.conftest import CONFIG_FILES, FIXTURES, OWN

LAN = Network(name="lan", prefix="192.168.1.0/24", domain="lab.example",
              edgemax=EdgemaxNetwork(shared_network="LAN"))
SN = "set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"


def _obs(config: Config, *lines: str):  # type: ignore[no-untyped-def]
    return observation_from_config(extract(parse_commands("\n".join(lines))), config)


def _mapping(name: str, ip: str, mac: str) -> list[str]:
    return [f"{SN} static-mapping {name} ip-address {ip}", f"{SN} static-mapping {name} mac-address '{mac}'"]


def test_adopt_explains_matches_and_refuses_conflicts() -> None:
    config = Config(networks=(LAN,), hosts=(Host(name="printer", network="lan"),))
    obs = _obs(
        config,
        *_mapping("web01", "192.168.1.23", "52:54:00:00:00:01"),
        *_mapping("printer", "192.168.1.5", "52:54:00:00:00:02"),
        *_mapping("lonely", "192.168.1.6", "52:54:00:00:00:03"),
        *_mapping("dup1", "192.168.1.7", "52:54:00:00:00:04"),
        *_mapping("dup2", "192.168.1.8", "52:54:00:00:00:04"),
        *_mapping("ipa", "192.168.1.9", "52:54:00:00:00:05"),
        *_mapping("ipb", "192.168.1.9", "52:54:00:00:00:06"),
        *_mapping("outside", "10.0.0.9", "52:54:00:00:00:07"),
        *_mapping("Upper", "192.168.1.10", "52:54:00:00:00:08"),
        *_mapping("owned", "192.168.1.11", "52:54:00:00:00:09"),
        "set service dhcp-server shared-network-name GUEST subnet 10.9.0.0/24 static-mapping g "
        "ip-address 10.9.0.2",
        "set system static-host-mapping host-name web01.lab.example inet 192.168.1.23",
        "set system static-host-mapping host-name elsewhere.other.example inet 10.1.1.1",
    )
    proxmox = Fact("proxmox", "proxmox pve1/104 net0", "lan", "web01", "52:54:00:00:00:01", None, True)
    owned_addr = A.edgemax_dhcp_mapping("LAN", "owned")
    owned = {owned_addr: ManagedResource(owned_addr, None, frozen_map({}), origin="import")}
    plan = importer.adopt(config, "edgemax", obs, owned, [*config_facts(config), proxmox])
    by = {i.address: i for i in plan.items}
    assert by["edgemax_dhcp_mapping.LAN.web01"].status == "adopt"
    assert by["edgemax_dhcp_mapping.LAN.web01"].reason == "matches proxmox pve1/104 net0 (same MAC)"
    assert by["edgemax_dhcp_mapping.LAN.printer"].reason == "matches config host printer (same name)"
    assert by["edgemax_dhcp_mapping.LAN.lonely"].reason == "router entry kept as a standalone binding"
    for name in ("dup1", "dup2"):
        assert by[f"edgemax_dhcp_mapping.LAN.{name}"].status == "conflict"
        assert "MAC 52:54:00:00:00:04" in by[f"edgemax_dhcp_mapping.LAN.{name}"].reason
    for name in ("ipa", "ipb"):
        assert "IP 192.168.1.9" in by[f"edgemax_dhcp_mapping.LAN.{name}"].reason
    assert "outside its subnet" in by["edgemax_dhcp_mapping.LAN.outside"].reason
    # EdgeOS accepts capitals: adopted as it is, its binding named by the DNS name derived from it
    upper = by["edgemax_dhcp_mapping.LAN.Upper"]
    assert upper.status == "adopt" and upper.claim is not None and upper.claim.hostname == "upper"
    assert upper.reason.endswith("; binding upper (derived from the name Upper)")
    assert by["edgemax_dhcp_mapping.LAN.owned"].status == "managed"
    assert by["edgemax_dhcp_mapping.GUEST.g"].status == "ignored"
    assert by["edgemax_host.web01.lab.example"].status == "adopt"
    assert by["edgemax_host.elsewhere.other.example"].status == "ignored"
    record = by["edgemax_dhcp_mapping.LAN.web01"].record
    # matched by MAC to a Proxmox NIC: the entry joins that guest's binding
    assert record is not None and record["origin"] == "proxmox" and record["provider"] == "edgemax"
    lonely = by["edgemax_dhcp_mapping.LAN.lonely"].record
    assert lonely is not None and lonely["origin"] == "import"
    printer = by["edgemax_dhcp_mapping.LAN.printer"].record
    assert printer is not None and printer["origin"] == "config"
    assert record["attributes"]["mac_address"] == "52:54:00:00:00:01"
    assert record["dependencies"] == []  # no NIPAP configured


def test_verdicts_only_gives_every_verdict_of_the_full_import_without_the_adoption_details() -> None:
    """The plan's Unmanaged section asks for verdicts only: the same status for every entry and the same
    reason for every refusal as ``netsot import``, without building the adopted items' records."""
    config = Config(networks=(LAN,), hosts=(Host(name="printer", network="lan"),))
    obs = _obs(
        config,
        *_mapping("web01", "192.168.1.23", "52:54:00:00:00:01"),
        *_mapping("printer", "192.168.1.5", "52:54:00:00:00:02"),
        *_mapping("dup1", "192.168.1.7", "52:54:00:00:00:04"),
        *_mapping("dup2", "192.168.1.8", "52:54:00:00:00:04"),
        *_mapping("outside", "10.0.0.9", "52:54:00:00:00:07"),
        *_mapping("owned", "192.168.1.11", "52:54:00:00:00:09"),
        "set service dhcp-server shared-network-name GUEST subnet 10.9.0.0/24 static-mapping g "
        "ip-address 10.9.0.2",
        "set system static-host-mapping host-name web01.lab.example inet 192.168.1.23",
        "set system static-host-mapping host-name twice.lab.example inet 192.168.1.30",
        "set system static-host-mapping host-name other.lab.example inet 192.168.1.31",
        "set system static-host-mapping host-name other.lab.example alias twice",
        "set system static-host-mapping host-name v6only.lab.example inet 2001:db8::5",
    )
    owned_addr = A.edgemax_dhcp_mapping("LAN", "owned")
    owned = {owned_addr: ManagedResource(owned_addr, None, frozen_map({}), origin="import")}
    facts = config_facts(config)
    full = importer.adopt(config, "edgemax", obs, owned, facts)
    only = frozenset(obs.resources)
    verdicts = importer.adopt(config, "edgemax", obs, owned, facts, only=only, verdicts_only=True)
    assert [(i.address, i.status) for i in verdicts.items] == [(i.address, i.status) for i in full.items]
    assert {i.status for i in full.items} == {"adopt", "conflict", "managed", "ignored"}
    for mine, theirs in zip(verdicts.items, full.items, strict=True):
        if theirs.status == "adopt":
            assert theirs.record is not None and theirs.claim is not None
            assert mine.record is None and mine.claim is None and mine.reason == ""
        else:
            assert mine == theirs


def _file_config(tmp_path: Path) -> Config:
    hotogoma = Network(
        name="home", prefix="192.168.1.0/24", domain="mrkch.jp", edgemax=EdgemaxNetwork(shared_network="LAN")
    )
    return Config(networks=(hotogoma,), state=StateSettings(path=str(tmp_path / "state.json")))


def _run(config: Config, boot: str, dry_run: bool, as_json: bool) -> str:
    return import_output(import_run(config, "edgemax", boot, dry_run), dry_run, as_json)


def test_run_from_file_dry_run_then_write_then_nothing_to_do(tmp_path: Path) -> None:
    config = _file_config(tmp_path)
    boot = str(FIXTURES / "hotogoma__config.boot")
    out = _run(config, boot, True, False)
    assert "Dry run" in out and not (tmp_path / "state.json").exists()
    doc = json.loads(_run(config, boot, False, True))
    # the three host entries and the four mappings: GPU, NAS, PI, PRINTER are names EdgeOS accepts
    assert doc["written"] == 7 and doc["summary"]["adopt"] == 7 and doc["summary"]["conflict"] == 0
    state = FileBackend(tmp_path / "state.json").load()
    assert set(state.resources) == {
        "edgemax_host.gpu.mrkch.jp",
        "edgemax_host.nas.mrkch.jp",
        "edgemax_host.pi.mrkch.jp",
        "edgemax_dhcp_mapping.LAN.GPU",
        "edgemax_dhcp_mapping.LAN.NAS",
        "edgemax_dhcp_mapping.LAN.PI",
        "edgemax_dhcp_mapping.LAN.PRINTER",
    }
    assert state.resources["edgemax_dhcp_mapping.LAN.GPU"].attributes["name"] == "GPU"  # kept exactly
    assert all(r.origin == "import" for r in state.resources.values())
    again = json.loads(_run(config, boot, False, True))
    assert again["written"] == 0 and again["summary"]["adopt"] == 0 and again["summary"]["managed"] == 7
    assert "Nothing to do" in _run(config, boot, False, False)


def test_run_reports_unparseable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.boot"
    bad.write_text("service {\n")
    with pytest.raises(ProviderDataError, match=r"bad\.boot:1"):
        _run(_file_config(tmp_path), str(bad), True, False)


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_inventory_from_every_fixture_validates(path: Path) -> None:
    text = inventory.run(None, str(path), True)
    doc = json.loads(text)
    jsonschema.validate(doc, load_schema("edgemax.inventory"))
    cfg = extract(parse_boot(path.read_text()))
    assert len(doc["dhcp_static_mappings"]) == len(list(cfg.mappings()))
    assert doc["dnsmasq"] is cfg.dnsmasq
    assert "DHCP static mappings" in inventory.run(None, str(path), False)


def test_inventory_hotogoma_content() -> None:
    doc = json.loads(inventory.run(None, str(FIXTURES / "hotogoma__config.boot"), True))
    assert doc["dhcp_static_mappings"][0] == {
        "shared_network": "LAN", "subnet": "192.168.1.0/24", "name": "GPU", "ip_address": "192.168.1.3",
        "mac_address": "00:01:2e:71:c4:cf",
    }  # fmt: skip
    assert doc["static_host_mappings"][0] == {
        "host_name": "gpu.mrkch.jp",
        "inet": ["192.168.1.3"],
        "aliases": [],
    }
    assert doc["leases"] == []


@pytest.mark.parametrize("form", ["real-names.commands.txt", "real-names.vbash.sh"])
def test_inventory_reads_set_format_files(form: str) -> None:
    doc = json.loads(inventory.run(None, str(OWN / form), True))
    assert json.loads(inventory.run(None, str(OWN / "real-names.config.boot"), True)) == doc
    names = {m["name"] for m in doc["dhcp_static_mappings"]}
    assert {"ROOM_1_SWITCH", "TiVo", "pi.iot.lab.example"} <= names
    nas = next(h for h in doc["static_host_mappings"] if h["host_name"] == "nas.lab.example")
    assert nas["inet"] == ["192.168.1.10", "2001:db8:1::10"]


def test_inventory_of_a_file_of_neither_format_names_the_line() -> None:
    with pytest.raises(ProviderDataError, match=r"not-a-config\.txt:1: not an EdgeOS configuration"):
        inventory.run(None, str(OWN / "not-a-config.txt"), False)

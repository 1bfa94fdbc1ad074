"""`netsot import edgemax --from-file` on a router as people configure them (issue #13).

The fixture holds names EdgeOS accepts but netsot would not create (``ROOM_1_SWITCH``, ``TiVo``,
``RIPE_Atlas_Probe``, a dotted ``pi.iot.lab.example``), children netsot does not model
(``static-mapping-parameters``, ``disable``, a second alias and an IPv6 ``inet``), two networks
sharing one domain, the domain's own name (apex), two host names on one address and mappings
without ip-address or mac-address. The same router as config.boot, as a `show configuration
commands` capture and as a vbash script gives the same decisions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config import Config, Network, StateSettings
from core.model import Address
from engine.cli.output import import_output
from engine.workflow import import_run
from providers.edgemax.importer import adopt, import_one, read_observation
from providers.edgemax.settings import EdgemaxNetwork
from state.backend import FileBackend
from tests.providers.edgemax.conftest import OWN

FORMS = ("real-names.config.boot", "real-names.commands.txt", "real-names.vbash.sh")


def config_for(tmp_path: Path) -> Config:
    lan = Network(name="lan", prefix="192.168.1.0/24", domain="lab.example",  # type: ignore[arg-type]
                  edgemax=EdgemaxNetwork(shared_network="LAN"))
    iot = Network(name="iot", prefix="192.168.2.0/24", domain="lab.example",  # type: ignore[arg-type]
                  edgemax=EdgemaxNetwork(shared_network="IOT"))
    return Config(networks=(lan, iot), state=StateSettings(path=str(tmp_path / "state.json")))


def _items(tmp_path: Path, form: str, dry_run: bool = True) -> dict[str, dict]:
    outcome = import_run(config_for(tmp_path), "edgemax", str(OWN / form), dry_run)
    doc = json.loads(import_output(outcome, dry_run, True))
    return {i["address"]: i for i in doc["items"]} | {"_summary": doc["summary"]}


@pytest.mark.parametrize("form", FORMS)
def test_every_form_gives_the_same_decisions(tmp_path: Path, form: str) -> None:
    assert _items(tmp_path, form) == _items(tmp_path, "real-names.config.boot")


def test_real_names_are_adopted_as_they_are_with_derived_binding_names(tmp_path: Path) -> None:
    items = _items(tmp_path, "real-names.commands.txt", dry_run=False)
    state = FileBackend(tmp_path / "state.json").load()
    switch = items["edgemax_dhcp_mapping.IOT.ROOM_1_SWITCH"]
    assert switch["status"] == "adopt"
    assert "binding room-1-switch (derived from the name ROOM_1_SWITCH)" in switch["reason"]
    assert ("keeps what netsot does not manage: static-mapping-parameters 'option domain-name-servers "
            "1.1.1.1;', static-mapping-parameters 'option ntp-servers 192.168.2.1;'") in switch["reason"]
    assert state.resources["edgemax_dhcp_mapping.IOT.ROOM_1_SWITCH"].attributes["name"] == "ROOM_1_SWITCH"
    tivo = items["edgemax_dhcp_mapping.IOT.TiVo"]
    assert tivo["status"] == "adopt" and tivo["reason"].endswith("keeps what netsot does not manage: disable")
    assert items["edgemax_dhcp_mapping.LAN.RIPE_Atlas_Probe"]["status"] == "adopt"
    dotted = items["edgemax_dhcp_mapping.IOT.pi.iot.lab.example"]
    assert dotted["status"] == "adopt" and "not a lower-case" not in dotted["reason"]
    nas = items["edgemax_host.nas.lab.example"]
    assert nas["status"] == "adopt"
    # three names on one address (the reservation nas, the host name nas.lab.example with its alias
    # storage, and the host name files.lab.example): all adopted, as one binding's names
    assert nas["reason"].endswith("binding nas with its extra names files, storage; "
                                  "keeps what netsot does not manage: inet '2001:db8:1::10'")
    assert state.resources["edgemax_host.nas.lab.example"].attributes["inet"] == "192.168.1.10"
    assert state.resources["edgemax_host.nas.lab.example"].attributes["aliases"] == ["nas", "storage"]
    files = items["edgemax_host.files.lab.example"]
    assert files["status"] == "adopt"
    assert files["reason"].endswith("an extra name (files) of binding nas, the first name of 192.168.1.10")


def test_each_refusal_names_its_own_reason(tmp_path: Path) -> None:
    items = _items(tmp_path, "real-names.config.boot")
    refused = {a: i["reason"] for a, i in items.items() if a != "_summary" and i["status"] == "conflict"}
    assert refused == {
        "edgemax_dhcp_mapping.IOT.no-address": "static mapping no-address has no ip-address",
        "edgemax_dhcp_mapping.LAN.no-mac": "static mapping no-mac has no mac-address",
    }


def test_network_by_address_when_two_networks_share_a_domain_and_the_apex(tmp_path: Path) -> None:
    outcome = import_run(config_for(tmp_path), "edgemax", str(OWN / "real-names.config.boot"), True)
    claims = {c.address: c for c in outcome.plan.claims}
    cam = claims["edgemax_host.cam.lab.example"]
    assert (cam.network, cam.hostname) == ("iot", "cam")  # its address is iot's, not the last network's
    apex = claims["edgemax_host.lab.example"]
    assert (apex.network, apex.hostname, apex.ip) == ("lan", "lab.example", "192.168.1.2")
    reason = next(i.reason for i in outcome.plan.items if i.address == "edgemax_host.lab.example")
    assert reason.endswith("; the domain's own name (apex): binding lab.example")


def test_host_names_sharing_an_address_are_one_binding_and_a_name_on_two_addresses_is_refused(
        tmp_path: Path) -> None:
    text = ("set system static-host-mapping host-name a.lab.example inet 192.168.1.50\n"
            "set system static-host-mapping host-name b.lab.example inet 192.168.1.50\n"
            "set system static-host-mapping host-name d.lab.example alias shared\n"
            "set system static-host-mapping host-name d.lab.example inet 192.168.1.60\n"
            "set system static-host-mapping host-name e.lab.example alias shared.lab.example\n"
            "set system static-host-mapping host-name e.lab.example inet 192.168.1.61\n"
            "set system static-host-mapping host-name c.lab.example inet 192.168.1.51\n"
            "set system static-host-mapping host-name c.lab.example inet 192.168.1.52\n"
            "set system static-host-mapping host-name v6.lab.example inet '2001:db8::6'\n"
            "set system static-host-mapping host-name lost.lab.example inet 10.9.9.9\n")
    dump = tmp_path / "hosts.txt"
    dump.write_text(text)
    outcome = import_run(config_for(tmp_path), "edgemax", str(dump), True)
    by = {i.address: i for i in outcome.plan.items}
    claims = {c.address: c for c in outcome.plan.claims}
    assert by["edgemax_host.a.lab.example"].status == by["edgemax_host.b.lab.example"].status == "adopt"
    a_claim, b_claim = claims["edgemax_host.a.lab.example"], claims["edgemax_host.b.lab.example"]
    assert a_claim.hostname == b_claim.hostname == "a"
    assert by["edgemax_host.a.lab.example"].reason.endswith("; binding a with its extra names b")
    for name in ("d", "e"):  # one name (an alias here) on two addresses: truly ambiguous
        assert by[f"edgemax_host.{name}.lab.example"].status == "conflict"
        assert by[f"edgemax_host.{name}.lab.example"].reason == (
            "the name shared is on 2 addresses (192.168.1.60, 192.168.1.61); netsot cannot tell which "
            "host it names (keep it on one address, or remove it)")
    assert by["edgemax_host.c.lab.example"].reason == (
        "host name c.lab.example has 2 IPv4 inet values (192.168.1.51, 192.168.1.52); "
        "netsot manages exactly one")
    assert by["edgemax_host.lost.lab.example"].reason == (
        "inet 10.9.9.9 is in none of the networks of domain lab.example (iot, lan); "
        "give one of them dns_owner: true, or fix the address")
    assert by["edgemax_host.v6.lab.example"].reason == (
        "host name v6.lab.example has no IPv4 inet (netsot manages one IPv4 address per name)")


def test_a_set_commands_dump_is_never_an_empty_router(tmp_path: Path) -> None:
    outcome = import_run(config_for(tmp_path), "edgemax", str(OWN / "real-names.commands.txt"), True)
    text = import_output(outcome, True, False)
    assert "Nothing to import" not in text and "ROOM_1_SWITCH" in text


def test_judging_only_some_objects_gives_the_verdicts_of_a_whole_import(tmp_path: Path) -> None:
    # the plan's Unmanaged section asks for its candidates only; a host name at the address of a
    # mapping outside them is still judged as `netsot import` judges it: an extra name of that binding
    config = config_for(tmp_path)
    observation = read_observation(config, "edgemax", str(OWN / "real-names.config.boot"))
    whole = {i.address: (i.status, i.reason) for i in adopt(config, "edgemax", observation, {}).items}
    only = {Address.parse("edgemax_host.files.lab.example"), Address.parse("edgemax_dhcp_mapping.IOT.TiVo")}
    some = adopt(config, "edgemax", observation, {}, only=only).items
    assert {i.address: (i.status, i.reason) for i in some} == {str(a): whole[str(a)] for a in only}
    assert whole["edgemax_host.files.lab.example"][0] == "adopt"
    assert "an extra name (files) of binding nas" in whole["edgemax_host.files.lab.example"][1]


def test_import_one_takes_a_real_name_by_its_config_path_with_the_bulk_verdict(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    observation = read_observation(config, "edgemax", str(OWN / "real-names.config.boot"))
    at = Address.parse("edgemax_dhcp_mapping.IOT.ROOM_1_SWITCH")
    switch = import_one(config, "edgemax", observation, at, "service dhcp-server shared-network-name IOT "
                        "subnet 192.168.2.0/24 static-mapping ROOM_1_SWITCH", {})
    assert switch.status == "adopt"
    assert "binding room-1-switch (derived from the name ROOM_1_SWITCH)" in switch.reason
    files = import_one(config, "edgemax", observation, Address.parse("edgemax_host.files.lab.example"),
                       "system static-host-mapping host-name files.lab.example", {})
    assert files.status == "adopt" and files.claim is not None and files.claim.hostname == "nas"

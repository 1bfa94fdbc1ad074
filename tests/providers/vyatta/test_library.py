"""The Vyatta library shared by the EdgeOS and VyOS kinds: one planner (through the boundary's diff), one
set of value checks and host-name deltas, each kind's dialect passed in as plain values."""

from __future__ import annotations

import pytest

from core.config import Config, Network
from core.errors import ProviderRejected
from core.model import Action, Address, Binding, Change, Desired, ManagedResource, Provenance, frozen_map
from engine.plan.planner import context_for
from providers import diffing
from providers.edgemax.descriptor import VYATTA as EDGEOS
from providers.edgemax.extract import extract
from providers.edgemax.planner import observation_from_config, plan_edgemax, wanted_edgemax
from providers.edgemax.settings import EdgemaxNetwork
from providers.vyatta import records
from providers.vyatta.commands import host_delta
from providers.vyatta.parse import parse_commands
from providers.vyos import changeops, commands
from providers.vyos.descriptor import VYATTA as VYOS
from providers.vyos.observe import observation
from providers.vyos.planner import plan_vyos
from providers.vyos.read import read
from providers.vyos.settings import VyosNetwork, VyosSettings
from tests.providers.vyos.fixtures import LAB

NET = "192.168.1.0/24"
SN = f"set service dhcp-server shared-network-name LAN subnet {NET}"
MAC = "bc:24:11:00:00:01"
PROV = frozen_map({"mac": Provenance("proxmox", "precedence mac", "proxmox pve1/104 net0")})


def _network(**kind: object) -> Network:
    return Network(name="lan", prefix=NET, domain="lab.example", **kind)  # type: ignore[arg-type]


VYOS_SETTINGS = VyosSettings(url="https://192.0.2.1", api_key="k", fingerprint="0" * 64)  # type: ignore[arg-type]
VYOS_CONFIG = Config(networks=(_network(vyos=VyosNetwork(shared_network="LAN")),),
                     providers={"vyos": VYOS_SETTINGS})
EDGE_CONFIG = Config(networks=(_network(edgemax=EdgemaxNetwork(shared_network="LAN")),))


def _vyos_plan(dialect: str, lines: list[str], binding: Binding, owned: dict) -> list[Change]:
    tree = parse_commands(LAB[dialect] + "\n".join(lines) + "\n")
    obs = observation(read(tree), VYOS_CONFIG)
    return plan_vyos(VYOS_CONFIG, Desired((binding,)), {"LAN": [NET]}, obs, context_for(VYOS_CONFIG, owned))


def _owned(address: Address, attrs: dict) -> dict[Address, ManagedResource]:
    return {address: ManagedResource(address, None, frozen_map(attrs), origin="config")}


@pytest.mark.parametrize(("dialect", "leaf"), [("1.4", "mac-address"), ("1.5", "mac")])
def test_vyos_plans_by_the_edgeos_rules_a_mac_change_and_its_renewal(dialect: str, leaf: str) -> None:
    """The VyOS kind plans with the library's planner: the reasons EdgeOS gives (which source changed the
    MAC, what the device does at its next renewal) are VyOS's too."""
    address = VYOS.mapping_address("LAN", "web01")
    seen = {"shared_network": "LAN", "subnet": NET, "name": "web01", "ip_address": "192.168.1.20",
            "mac_address": "02:00:00:00:00:20"}
    lines = [f"{SN} static-mapping web01 ip-address '192.168.1.20'",
             f"{SN} static-mapping web01 {leaf} '02:00:00:00:00:20'"]
    binding = Binding("lan", "web01", MAC, "192.168.1.21", PROV, origin="config")
    changes = _vyos_plan(dialect, lines, binding, _owned(address, seen))
    (update,) = [c for c in changes if c.address == address]
    assert update.action is Action.UPDATE
    assert update.reason.startswith("MAC changed on proxmox pve1/104 net0: ")
    assert update.reason.endswith("; effect: web01 moves from 192.168.1.20 to .21 at its next DHCP renewal")


def test_both_kinds_answer_the_shared_diff_with_the_same_wishes() -> None:
    """EdgeOS and VyOS want the same objects for one binding on the same router config (their types
    aside), and prune exactly their two types."""
    binding = Binding("lan", "web01", MAC, "192.168.1.20", origin="config")
    edge_cfg = extract(parse_commands(f"{SN} default-router 192.168.1.1"))
    edge = wanted_edgemax(EDGE_CONFIG, Desired((binding,)), edge_cfg,
                          observation_from_config(edge_cfg, EDGE_CONFIG), context_for(EDGE_CONFIG))
    assert isinstance(edge, diffing.Wanted)
    assert edge.prune == {EDGEOS.mapping_type, EDGEOS.host_type}
    vyos = _vyos_plan("1.4", [], binding, {})
    edge_changes = plan_edgemax(EDGE_CONFIG, Desired((binding,)), edge_cfg,
                                observation_from_config(edge_cfg, EDGE_CONFIG), context_for(EDGE_CONFIG))
    assert [(c.action, c.address.name, dict(c.after or {}), c.reason) for c in edge_changes] == [
        (c.action, c.address.name, dict(c.after or {}), c.reason) for c in vyos]
    assert [w.address for w in edge.wants] == [c.address for c in edge_changes]


def test_a_host_update_compares_aliases_without_case_on_both_kinds() -> None:
    before = {"host_name": "web01.lab.example", "inet": "192.168.1.20", "aliases": ["WWW", "web01"]}
    after = {"host_name": "web01.lab.example", "inet": "192.168.1.21", "aliases": ["www", "web01", "api"]}
    delta = host_delta(records.host_of(before, VYOS.host_type, "before"),
                       records.host_of(after, VYOS.host_type, "after"))
    assert (delta.drop_inet, delta.add_inet) == ("192.168.1.20", "192.168.1.21")
    assert delta.drop_aliases == () and delta.add_aliases == ("api",)
    change = Change(Action.UPDATE, VYOS.host_address("web01.lab.example"), frozen_map(before),
                    frozen_map(after), "test")
    ops = changeops.change_ops(change, "1.5", {})
    words = [(op.op, op.path[-2:]) for op in ops]
    assert words == [("delete", ("inet", "192.168.1.20")), ("set", ("inet", "192.168.1.21")),
                     ("set", ("alias", "api"))]


@pytest.mark.parametrize(("ip", "mac"), [("192.168.1.300", MAC), ("192.168.1.20\nset x", MAC),
                                         ("192.168.1.20", "bc:24:11:00:00"), ("192.168.1.20", "a b")])
def test_vyos_operations_refuse_what_is_no_ipv4_or_mac_before_anything_is_sent(ip: str, mac: str) -> None:
    with pytest.raises(ProviderRejected) as exc:
        commands.set_mapping("1.4", "LAN", NET, "web01", ip, mac, {})
    assert exc.value.system == "vyos" and "\n" not in str(exc.value)


def test_a_vyos_mapping_stays_in_its_subnet_an_edgeos_one_follows_its_address() -> None:
    """EdgeOS moves a mapping whose address left its subnet (a delete and a create in one session);
    VyOS writes its leaves in place, so its planner keeps the mapping where the router has it."""
    two = "192.168.0.0/16"
    lines = [f"set service dhcp-server shared-network-name LAN subnet {cidr} default-router '192.168.1.1'"
             for cidr in (NET, "192.168.2.0/24")]
    web = [f"{SN} static-mapping web01 ip-address '192.168.1.20'",
           f"{SN} static-mapping web01 mac-address '{MAC}'"]
    binding = Binding("lan", "web01", MAC, "192.168.2.20", origin="config")
    seen = {"shared_network": "LAN", "subnet": NET, "name": "web01", "ip_address": "192.168.1.20",
            "mac_address": MAC}
    edge_config = Config(networks=(Network(name="lan", prefix=two, domain="lab.example",  # type: ignore[arg-type]
                                           edgemax=EdgemaxNetwork(shared_network="LAN")),))
    cfg = extract(parse_commands("\n".join(lines + web)))
    owned = _owned(EDGEOS.mapping_address("LAN", "web01"), seen)
    edge = plan_edgemax(edge_config, Desired((binding,)), cfg, observation_from_config(cfg, edge_config),
                        context_for(edge_config, owned))
    (moved,) = [c for c in edge if c.address.type == EDGEOS.mapping_type]
    assert (moved.after or {})["subnet"] == "192.168.2.0/24"
    vyos_config = Config(networks=(Network(name="lan", prefix=two, domain="lab.example",  # type: ignore[arg-type]
                                           vyos=VyosNetwork(shared_network="LAN")),),
                         providers=VYOS_CONFIG.providers)
    obs = observation(read(parse_commands("\n".join(lines + web))), vyos_config)
    vyos = plan_vyos(vyos_config, Desired((binding,)), {"LAN": [NET, "192.168.2.0/24"]}, obs,
                     context_for(vyos_config, _owned(VYOS.mapping_address("LAN", "web01"), seen)))
    (kept,) = [c for c in vyos if c.address.type == VYOS.mapping_type]
    assert (kept.after or {})["subnet"] == NET


def test_the_typed_records_are_the_familys_one_field_rule() -> None:
    """``records.MappingRecord`` / ``HostRecord`` name exactly the fields both kinds declare (family.py), and
    read a record against them: an undeclared key, a missing one or a value of another type fails."""
    from dataclasses import fields as view_fields

    from core.errors import FieldError
    from providers.vyatta.family import HOST_FIELDS, MAPPING_FIELDS

    assert [f.name for f in view_fields(records.MappingRecord)] == [f.name for f in MAPPING_FIELDS]
    assert [f.name for f in view_fields(records.HostRecord)] == [f.name for f in HOST_FIELDS]
    mapping = {"shared_network": "LAN", "subnet": NET, "name": "web01", "ip_address": "192.168.1.20",
               "mac_address": None}
    assert records.mapping_of(mapping, VYOS.mapping_type, "m") == records.MappingRecord("LAN", NET, "web01",
                                                                                        "192.168.1.20")
    assert records.mapping_of(mapping, VYOS.mapping_type, "m").place == ("LAN", NET, "web01")
    with pytest.raises(FieldError, match="m holds 'ip', which vyos_dhcp_mapping does not declare"):
        records.mapping_of({**mapping, "ip": "192.168.1.20"}, VYOS.mapping_type, "m")
    with pytest.raises(FieldError, match="h has no aliases"):
        records.host_of({"host_name": "nas.lab.example", "inet": "192.168.1.10"}, EDGEOS.host_type, "h")
    with pytest.raises(FieldError, match="h: inet of edgemax_host is a str, not tuple"):
        records.host_of({"host_name": "nas.lab.example", "inet": ("192.168.1.10",), "aliases": ()},
                        EDGEOS.host_type, "h")
    nas = {"host_name": "nas.lab.example", "inet": None, "aliases": ["nas"]}
    read = records.host_of(nas, EDGEOS.host_type, "h")
    assert read == records.HostRecord("nas.lab.example", None, ("nas",))

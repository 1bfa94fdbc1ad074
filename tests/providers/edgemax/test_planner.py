from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from core.config import Config, Network
from core.model import (
    Action,
    Address,
    Binding,
    Conflict,
    ConflictKind,
    Desired,
    ManagedResource,
    Provenance,
    frozen_map,
)
from engine.plan.planner import context_for
from providers.base import PlanContext
from providers.edgemax.extract import extract
from providers.edgemax.leases import Lease
from providers.edgemax.planner import mapping_attrs, observation_from_config, plan_edgemax
from providers.edgemax.settings import EdgemaxNetwork
from providers.nipap.settings import NipapSettings
from providers.vyatta.parse import parse_commands
from tests import addresses as A

LAN = Network(name="lan", prefix="192.168.1.0/24", domain="lab.example",
              edgemax=EdgemaxNetwork(shared_network="LAN"))
NIPAP = NipapSettings(url="http://127.0.0.1:1", username="u", password="p")  # type: ignore[arg-type]
CONFIG = Config(networks=(LAN,), providers={"nipap": NIPAP})
SN = "set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"
MAP = A.edgemax_dhcp_mapping("LAN", "web01")
HOST = A.edgemax_host("web01.lab.example")
PROV = MappingProxyType(
    {
        "ip": Provenance("nipap", "precedence ip: config > nipap", "nipap lan/web01"),
        "mac": Provenance("proxmox", "precedence mac", "proxmox pve1/104 net0"),
        "hostname": Provenance("proxmox", "precedence hostname", "proxmox pve1/104 net0"),
    }
)


def ctx_for(config: Config, **kw: Any) -> PlanContext:
    """The context the engine hands the planner: with the role lookups of ``config``'s systems."""
    return context_for(config, **kw)


def _binding(ip: str = "192.168.1.23", mac: str | None = "52:54:00:12:34:56") -> Binding:
    return Binding("lan", "web01", mac, ip, PROV, "proxmox", (A.proxmox_ref("pve1", 104, "qemu", "net0"),))


def _router(*lines: str):  # type: ignore[no-untyped-def]
    text = "\n".join([f"{SN} default-router 192.168.1.1", *lines])
    cfg = extract(parse_commands(text))
    return cfg, observation_from_config(cfg, CONFIG)


def _owned(address: Address, attrs: dict, origin: str = "proxmox") -> dict[Address, ManagedResource]:
    return {address: ManagedResource(address, None, frozen_map(attrs), origin=origin)}


def test_creates_mapping_and_host_with_provenance_and_dependency() -> None:
    cfg, obs = _router()
    changes = plan_edgemax(CONFIG, Desired((_binding(),)), cfg, obs, ctx_for(CONFIG))
    by = {c.address: c for c in changes}
    assert set(by) == {MAP, HOST}
    m = by[MAP]
    assert m.action is Action.CREATE
    assert dict(m.after or {}) == mapping_attrs(
        "LAN", "192.168.1.0/24", "web01", "192.168.1.23", "52:54:00:12:34:56"
    )
    assert m.reason == "new guest web01 (proxmox pve1/104 net0)"
    assert m.depends_on == (A.nipap_address("lan", "web01"),)
    assert m.provenance["ip_address"].source == "nipap" and m.provenance["mac_address"].source == "proxmox"
    h = by[HOST]
    assert dict(h.after or {}) == {
        "host_name": "web01.lab.example",
        "inet": "192.168.1.23",
        "aliases": ("web01",),
    }
    assert h.provenance["inet"].source == "nipap"
    # without NIPAP there is nothing to depend on
    no_nipap = Config(networks=(LAN,))
    planned = plan_edgemax(no_nipap, Desired((_binding(),)), cfg, obs, ctx_for(no_nipap))
    assert all(c.depends_on == () for c in planned)


def test_no_mac_means_host_entry_only() -> None:
    cfg, obs = _router()
    changes = plan_edgemax(CONFIG, Desired((_binding(mac=None),)), cfg, obs, ctx_for(CONFIG))
    assert [c.address for c in changes] == [HOST]


def test_unowned_object_with_same_name_is_never_touched_or_duplicated() -> None:
    cfg, obs = _router(
        f"{SN} static-mapping web01 ip-address 192.168.1.23",
        f"{SN} static-mapping web01 mac-address 'aa:bb:cc:dd:ee:ff'",
        f"{SN} static-mapping other ip-address 192.168.1.99",
        f"{SN} static-mapping other mac-address 'aa:bb:cc:dd:ee:00'",
    )
    changes = plan_edgemax(CONFIG, Desired((_binding(),)), cfg, obs, ctx_for(CONFIG))
    assert [c.address for c in changes] == [HOST]


def test_hand_edit_of_owned_mapping_is_reverted_as_drift() -> None:
    cfg, obs = _router(
        f"{SN} static-mapping web01 ip-address 192.168.1.50",
        f"{SN} static-mapping web01 mac-address '52:54:00:12:34:56'",
    )
    recorded = mapping_attrs("LAN", "192.168.1.0/24", "web01", "192.168.1.23", "52:54:00:12:34:56")
    ctx = ctx_for(CONFIG, owned=_owned(MAP, recorded))
    (change,) = [c for c in plan_edgemax(CONFIG, Desired((_binding(),)), cfg, obs, ctx) if c.address == MAP]
    assert change.action is Action.UPDATE and change.drift
    assert change.reason == ("router entry edited by hand: ip_address 192.168.1.50 -> 192.168.1.23; "
                             "effect: web01 moves from 192.168.1.50 to .23 at its next DHCP renewal")
    assert change.changed_attributes() == ("ip_address",)


def test_desired_change_of_owned_mapping_is_an_update() -> None:
    cfg, obs = _router(
        f"{SN} static-mapping web01 ip-address 192.168.1.23",
        f"{SN} static-mapping web01 mac-address '52:54:00:12:34:56'",
    )
    recorded = mapping_attrs("LAN", "192.168.1.0/24", "web01", "192.168.1.23", "52:54:00:12:34:56")
    ctx = ctx_for(CONFIG, owned=_owned(MAP, recorded))
    assert [c.address for c in plan_edgemax(CONFIG, Desired((_binding(),)), cfg, obs, ctx)] == [
        HOST
    ]  # in sync
    (change,) = [c for c in plan_edgemax(CONFIG, Desired((_binding("192.168.1.24"),)), cfg, obs, ctx)
                 if c.address == MAP]  # fmt: skip
    assert change.action is Action.UPDATE and not change.drift
    assert "ip_address 192.168.1.23 -> 192.168.1.24" in change.reason


def test_owned_object_without_source_is_deleted_unowned_left_alone() -> None:
    cfg, obs = _router(
        f"{SN} static-mapping web01 ip-address 192.168.1.23",
        f"{SN} static-mapping web01 mac-address '52:54:00:12:34:56'",
        f"{SN} static-mapping printer ip-address 192.168.1.5",
        f"{SN} static-mapping printer mac-address '52:54:00:12:34:57'",
    )
    recorded = mapping_attrs("LAN", "192.168.1.0/24", "web01", "192.168.1.23", "52:54:00:12:34:56")
    changes = plan_edgemax(CONFIG, Desired(()), cfg, obs, ctx_for(CONFIG, owned=_owned(MAP, recorded)))
    (change,) = changes
    assert change.action is Action.DELETE and change.address == MAP
    assert change.reason == "lost its source: guest removed"
    assert change.provider_id and change.provider_id.endswith("static-mapping web01")


def test_blocked_addresses_are_respected_and_everything_else_is_planned() -> None:
    cfg, obs = _router()
    conflict = Conflict(ConflictKind.IP_CLAIMED_TWICE, "x", ("a", "b"), "lan", blocked=(MAP,))
    changes = plan_edgemax(CONFIG, Desired((_binding(),), (conflict,)), cfg, obs, ctx_for(CONFIG))
    assert [c.address for c in changes] == [HOST]
    # targeting is the engine's: the planner always plans every change
    assert {c.address for c in plan_edgemax(CONFIG, Desired((_binding(),)), cfg, obs, ctx_for(CONFIG))} == {
        MAP, HOST}


def test_subnet_is_taken_from_the_router() -> None:
    cfg = extract(
        parse_commands("set service dhcp-server shared-network-name LAN subnet 192.168.1.0/25 lease 86400")
    )
    obs = observation_from_config(cfg, CONFIG)
    changes = plan_edgemax(CONFIG, Desired((_binding("192.168.1.23"),)), cfg, obs, ctx_for(CONFIG))
    assert next(c for c in changes if c.address == MAP).after["subnet"] == "192.168.1.0/25"  # type: ignore[index]


def test_observation_from_config_resources_facts_and_leases() -> None:
    text = "\n".join(
        [
            f"{SN} static-mapping web01 ip-address 192.168.1.23",
            f"{SN} static-mapping web01 mac-address '52:54:00:12:34:56'",
            "set service dhcp-server shared-network-name OTHER subnet 10.9.0.0/24 static-mapping x "
            "ip-address 10.9.0.2",
            "set service dhcp-server use-dnsmasq enable",
            "set system static-host-mapping host-name web01.lab.example inet 192.168.1.23",
            "set system static-host-mapping host-name web01.lab.example alias web01",
        ]
    )
    cfg = extract(parse_commands(text))
    lease = Lease("192.168.1.120", "aa:bb:cc:dd:ee:01", "2021/03/14 16:36:13", "LAN", "laptop")
    obs = observation_from_config(cfg, CONFIG, [lease])
    assert obs.system == "edgemax"
    assert set(obs.resources) == {MAP, HOST, A.edgemax_dhcp_mapping("OTHER", "x")}
    assert obs.resources[MAP].provider_id == (
        "service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping web01"
    )
    assert dict(obs.resources[HOST].attributes) == {
        "host_name": "web01.lab.example", "inet": "192.168.1.23", "aliases": ("web01",)
    }  # fmt: skip
    facts = {f.ref: f for f in obs.facts}
    m = facts["edgemax static-mapping LAN/web01"]
    assert (m.source, m.network, m.hostname, m.mac, m.ip, m.address) == (
        "edgemax", "lan", "web01", "52:54:00:12:34:56", "192.168.1.23", MAP
    )  # fmt: skip
    assert m.extra["shared_network"] == "LAN" and m.extra["mapping"] == "web01"
    assert "edgemax static-mapping OTHER/x" not in facts  # not a configured network
    h = facts["edgemax static-host-mapping web01.lab.example"]
    assert (h.network, h.hostname, h.extra["kind"]) == ("lan", "web01", "host")
    le = facts["lease 192.168.1.120"]
    assert (le.source, le.discovery, le.network, le.hostname) == ("edgemax", True, "lan", "laptop")
    assert obs.data["dnsmasq"] is True and obs.data["leases"][0]["ip"] == "192.168.1.120"


def test_unsaved_router_config_is_a_save_change_without_dependencies() -> None:
    from providers.edgemax.planner import SAVED, UNSAVED_REASON

    cfg = extract(parse_commands(f"{SN} default-router 192.168.1.1"))
    assert SAVED not in observation_from_config(cfg, CONFIG).resources  # offline read: unknown
    saved = observation_from_config(cfg, CONFIG, unsaved="")
    assert dict(saved.resources[SAVED].attributes) == {"saved": True} and saved.data["unsaved"] == ""
    assert plan_edgemax(CONFIG, Desired(()), cfg, saved, ctx_for(CONFIG)) == []
    diff = "[edit system]\n+host-name edge2"
    unsaved = observation_from_config(cfg, CONFIG, unsaved=diff)
    assert unsaved.data["unsaved"] == diff
    (change,) = plan_edgemax(CONFIG, Desired(()), cfg, unsaved, ctx_for(CONFIG))
    assert (change.action, change.address, change.depends_on) == (Action.UPDATE, SAVED, ())
    assert dict(change.before or {}) == {"saved": False} and dict(change.after or {}) == {"saved": True}
    assert change.reason == UNSAVED_REASON
    # with other work it rides along (a -target elsewhere leaves it out: the engine's filter)
    both = plan_edgemax(CONFIG, Desired((_binding(),)), cfg, unsaved, ctx_for(CONFIG))
    assert {c.address for c in both} == {MAP, HOST, SAVED}


def test_a_host_entry_of_a_shared_domain_belongs_to_the_dns_owner() -> None:
    """Two networks share lab.example and lan says it owns the names: a host entry whose address
    no network holds (or that has none) is lan's; one whose address is iot's stays iot's."""
    lan = LAN.model_copy(update={"dns_owner": True})
    iot = Network(name="iot", prefix="192.168.2.0/24", domain="lab.example")  # type: ignore[arg-type]
    config = Config(networks=(lan, iot), providers={"nipap": NIPAP})
    text = "\n".join(["set system static-host-mapping host-name nas.lab.example inet 10.9.9.9",
                      "set system static-host-mapping host-name cam.lab.example inet 192.168.2.7"])
    obs = observation_from_config(extract(parse_commands(text)), config)
    networks = {f.hostname: f.network for f in obs.facts}
    assert networks == {"nas": "lan", "cam": "iot"}


def test_a_host_pending_restart_keeps_its_name_where_it_answers_and_the_reservation_waits() -> None:
    cfg, obs = _router()
    waiting = replace(_binding(), answers_at="192.168.1.150", waiting="pending restart")
    by = {c.address: c for c in plan_edgemax(CONFIG, Desired((waiting,)), cfg, obs, ctx_for(CONFIG))}
    assert by[HOST].after["inet"] == "192.168.1.150"  # type: ignore[index]
    assert "inet" not in by[HOST].provenance  # not the binding's ip: no rule chose it
    assert "; pending restart: web01 answers at 192.168.1.150 until its new address 192.168.1.23 reaches " \
        "it" in by[HOST].reason
    assert by[MAP].after["ip_address"] == "192.168.1.23"  # type: ignore[index]  # for its next boot
    # once the host reports its new address, the name moves
    owned = _owned(HOST, {"host_name": "web01.lab.example", "inet": "192.168.1.150", "aliases": ["web01"]})
    cfg, obs = _router("set system static-host-mapping host-name web01.lab.example inet 192.168.1.150",
                       "set system static-host-mapping host-name web01.lab.example alias web01")
    moved = {c.address: c for c in plan_edgemax(CONFIG, Desired((_binding(),)), cfg, obs,
                                                 ctx_for(CONFIG, owned=owned))}
    assert moved[HOST].before["inet"] == "192.168.1.150"  # type: ignore[index]
    assert moved[HOST].after["inet"] == "192.168.1.23"  # type: ignore[index]

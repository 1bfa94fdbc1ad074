"""Unit tests of reconcile: bindings, precedence, allocation, conflicts and determinism.

Facts are hand-made in exactly the shape the providers produce (see the reconcile brief).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import pytest

from core.config import Config, Host, Network, Precedence
from core.errors import ConfigError
from core.model import (
    Address,
    Binding,
    ConflictKind,
    Desired,
    Fact,
    ManagedResource,
    Observation,
    Provenance,
    frozen_map,
)
from engine.reconcile.bindings import reconcile
from providers.edgemax.settings import EdgemaxNetwork, EdgemaxSettings
from providers.nipap.settings import NipapSettings
from providers.proxmox.settings import ProxmoxNetwork, ProxmoxSettings
from tests import addresses as A

# every system configured (reconcile plans for the systems that serve a network)
PROVIDERS = {
    "nipap": NipapSettings(url="http://127.0.0.1:1/XMLRPC", username="u", password="p"),
    "edgemax": EdgemaxSettings(host="127.0.0.1", username="u", password="p"),
    "proxmox": ProxmoxSettings(host="127.0.0.1", user="u@pve", token_name="t", token_value="v"),
}

IP_RULE = "ip: config > nipap > proxmox > edgemax"
HOST_RULE = "hostname: config > proxmox > nipap > edgemax"
MAC_RULE = "mac: config > proxmox > edgemax"
M1, M2, M3, M4 = "bc:24:11:00:00:01", "bc:24:11:00:00:02", "bc:24:11:00:00:03", "bc:24:11:00:00:04"

# ------------------------------------------------------------------ builders


def network(
    name: str = "lan",
    prefix: str = "192.168.1.0/24",
    gateway: str | None = "192.168.1.1",
    domain: str | None = "lab.example",
    dhcp: tuple[str, str] | None = ("192.168.1.100", "192.168.1.199"),
    shared_network: str | None = "LAN",
) -> Network:
    data: dict[str, Any] = {"name": name, "prefix": prefix, "gateway": gateway, "domain": domain}
    if dhcp:
        data["dhcp_range"] = {"start": dhcp[0], "stop": dhcp[1]}
    if shared_network:
        data["edgemax"] = EdgemaxNetwork(shared_network=shared_network)
    data["proxmox"] = ProxmoxNetwork(bridge="vmbr0")
    return Network.model_validate(data)


def config(
    networks: Iterable[Network] | None = None,
    hosts: Iterable[dict[str, Any]] = (),
    precedence: dict[str, Any] | None = None,
) -> Config:
    return Config(
        providers=PROVIDERS,
        networks=tuple(networks) if networks is not None else (network(),),
        hosts=tuple(Host.model_validate(h) for h in hosts),
        precedence=Precedence.model_validate(precedence or {}),
    )


def pve(
    name: str,
    mac: str,
    ip: str | None = None,
    *,
    net: str = "lan",
    vmid: int = 101,
    node: str = "pve1",
    nic: str = "net0",
    kind: str = "qemu",
    writeback: bool = False,
    agent_ips: tuple[str, ...] = (),
) -> Fact:
    return Fact(
        source="proxmox",
        ref=f"proxmox {node}/{vmid} {nic}",
        network=net,
        hostname=name.lower(),
        mac=mac,
        ip=ip,
        origin=True,
        extra=frozen_map(
            {
                "node": node,
                "vmid": vmid,
                "type": kind,
                "nic": nic,
                "tags": [],
                "status": "running",
                "ip_mode": "static" if ip else "dhcp",
                "configured_ip": f"{ip}/24" if ip else "dhcp",
                "gateway": "192.168.1.1" if ip else None,
                "agent_ips": list(agent_ips),
                "writeback": writeback,
            }
        ),
        in_use=agent_ips,
        static_ip=bool(ip),
        ip_writable=writeback,
        writable_hint="" if writeback else "tag the guest netsot-static to let netsot rewrite it",
        origin_ref=A.proxmox_ref(node, vmid, kind, nic, writeback, f"{ip}/24" if ip else "dhcp",
                                 "192.168.1.1" if ip else None),
        description=f"proxmox {node}/{vmid} {nic} ({kind})",
    )


def nipap(name: str | None, mac: str | None, ip: str, *, net: str = "lan", owned: bool = True) -> Fact:
    return Fact(
        source="nipap",
        ref=f"nipap {ip}/24 {name}",
        network=net,
        hostname=name,
        mac=mac,
        ip=ip,
        address=A.nipap_address(net, name or ip),
        extra=frozen_map({"prefix_id": 1000 + int(ip.rsplit(".", 1)[1]), "owned": owned, "vmid": None}),
        owned=owned,
    )


def mapping(name: str, mac: str, ip: str, *, net: str = "lan", sn: str = "LAN") -> Fact:
    return Fact(
        source="edgemax",
        ref=f"edgemax mapping {sn} {name}",
        network=net,
        hostname=name,
        mac=mac,
        ip=ip,
        address=A.edgemax_dhcp_mapping(sn, name),
        extra=frozen_map({"shared_network": sn, "kind": "mapping"}),
    )


def dns_host(name: str, ip: str, domain: str = "lab.example", net: str | None = "lan") -> Fact:
    fqdn = f"{name}.{domain}"
    return Fact(
        source="edgemax",
        ref=f"edgemax host {fqdn}",
        network=net,
        hostname=name,
        mac=None,
        ip=ip,
        address=A.edgemax_host(fqdn),
        extra=frozen_map({"kind": "host"}),
        domain=domain,
    )


def lease(mac: str, ip: str, net: str = "lan") -> Fact:
    return Fact(source="lease", ref=f"lease {ip}", network=net, hostname=None, mac=mac, ip=ip, discovery=True)


def observations(facts: Iterable[Fact]) -> dict[str, Observation]:
    by_system: dict[str, list[Fact]] = {"proxmox": [], "nipap": [], "edgemax": []}
    for f in facts:
        by_system["edgemax" if f.source == "lease" else f.source].append(f)
    return {s: Observation(system=s, facts=tuple(fs)) for s, fs in by_system.items()}


def owned(
    *items: tuple[Address | None, str] | Address | None, deps: Mapping[Address, tuple[Address, ...]] = {}
):
    out: dict[Address, ManagedResource] = {}
    for item in items:
        address, origin = item if isinstance(item, tuple) else (item, "proxmox")
        assert address is not None
        out[address] = ManagedResource(address, "id", frozen_map({}), deps.get(address, ()), origin)
    return out


def run(
    facts: Iterable[Fact] = (), cfg: Config | None = None, own: Mapping[Address, ManagedResource] = {}
) -> Desired:
    return reconcile(cfg or config(), observations(facts), own)


def only(desired: Desired) -> Binding:
    assert len(desired.bindings) == 1, desired
    return desired.bindings[0]


def by_key(desired: Desired) -> dict[str, Binding]:
    return {b.key: b for b in desired.bindings}


def conflicts_of(desired: Desired, kind: ConflictKind):
    return [c for c in desired.conflicts if c.kind is kind]


# ------------------------------------------------------------------ bindings and precedence


def test_guest_with_nipap_and_router_mapping() -> None:
    facts = [
        pve("web01", M1, vmid=101),
        nipap("web01", M1, "192.168.1.10"),
        mapping("web01", M1, "192.168.1.10"),
        dns_host("web01", "192.168.1.10"),
        lease(M1, "192.168.1.150"),
    ]
    d = run(facts)
    assert d.conflicts == ()
    b = only(d)
    assert (b.network, b.hostname, b.mac, b.ip) == ("lan", "web01", M1, "192.168.1.10")
    assert b.origin == "proxmox"
    assert b.sources == ("nipap", "edgemax", "proxmox")  # the registry's order
    assert b.description == "proxmox pve1/101 net0 (qemu)"
    assert b.origin_refs == (A.proxmox_ref("pve1", 101, "qemu", "net0", False, "dhcp", None),)
    assert b.provenance["ip"] == Provenance("nipap", IP_RULE, "nipap 192.168.1.10/24 web01")
    assert b.provenance["hostname"] == Provenance("proxmox", HOST_RULE, "proxmox pve1/101 net0")
    assert b.provenance["mac"] == Provenance("proxmox", MAC_RULE, "proxmox pve1/101 net0")


def test_static_guest_ip_from_proxmox_when_nipap_is_silent() -> None:
    b = only(run([pve("db01", M1, "192.168.1.20", vmid=102), mapping("db01", M1, "192.168.1.21")]))
    assert b.ip == "192.168.1.20"
    assert b.provenance["ip"].source == "proxmox"
    assert b.first_origin is not None and b.first_origin.data["configured_ip"] == "192.168.1.20/24"


def test_custom_precedence_orders() -> None:
    facts = [pve("web01", M1), nipap("www", M1, "192.168.1.10"), mapping("web-one", M1, "192.168.1.11")]
    cfg = config(
        precedence={"ip": ["edgemax", "nipap"], "hostname": ["edgemax", "proxmox"], "mac": ["edgemax"]}
    )
    b = only(run(facts, cfg))
    assert b.ip == "192.168.1.11"
    assert b.provenance["ip"] == Provenance("edgemax", "ip: edgemax > nipap", "edgemax mapping LAN web-one")
    assert b.hostname == "web-one"
    assert b.provenance["hostname"].rule == "hostname: edgemax > proxmox"
    assert b.provenance["mac"] == Provenance("edgemax", "mac: edgemax", "edgemax mapping LAN web-one")


def test_hostname_precedence_falls_back_to_the_origin() -> None:
    # nothing in the hostname list reports a name: the origin still names its binding
    cfg = config(precedence={"hostname": ["edgemax"], "mac": ["edgemax"]})
    b = only(run([pve("web01", M1, "192.168.1.10")], cfg))
    assert b.hostname == "web01" and b.mac == M1
    assert b.provenance["hostname"].source == "proxmox"


def test_config_host_and_guest_with_same_mac_merge_and_config_wins() -> None:
    cfg = config(
        hosts=[
            {
                "name": "nas",
                "network": "lan",
                "mac": M1.upper(),
                "ip": "192.168.1.5",
                "description": "the NAS",
            }
        ]
    )
    facts = [pve("truenas", M1), nipap("truenas", M1, "192.168.1.50")]
    d = run(facts, cfg)
    assert d.conflicts == ()
    b = only(d)
    assert (b.hostname, b.ip, b.mac, b.origin) == ("nas", "192.168.1.5", M1, "config")
    assert b.provenance["ip"] == Provenance("config", IP_RULE, "config host nas")
    assert b.provenance["hostname"].source == "config"
    assert b.description == "the NAS"
    assert b.sources == ("config", "nipap", "proxmox")
    assert b.first_origin is not None and b.first_origin.data["vmid"] == 101


def test_config_host_without_mac_is_identified_by_name() -> None:
    cfg = config(hosts=[{"name": "printer", "network": "lan"}])
    b = only(
        run([mapping("printer", M2, "192.168.1.40"), nipap("other", M3, "192.168.1.2", owned=False)], cfg)
    )
    # the router mapping with the same name supplies MAC and IP
    assert (b.hostname, b.mac, b.ip, b.origin) == ("printer", M2, "192.168.1.40", "config")
    assert b.provenance["mac"].source == "edgemax"
    assert b.provenance["ip"].source == "edgemax"


def test_config_host_without_mac_and_without_support_is_allocated() -> None:
    cfg = config(hosts=[{"name": "printer", "network": "lan"}])
    b = only(run([], cfg))
    assert (b.hostname, b.mac, b.ip) == ("printer", None, "192.168.1.2")
    assert "mac" not in b.provenance
    assert b.provenance["ip"] == Provenance("allocator", "first free address outside the DHCP range", "lan")


def test_config_host_without_mac_names_a_guest() -> None:
    cfg = config(hosts=[{"name": "web01", "network": "lan", "ip": "192.168.1.9"}])
    b = only(run([pve("web01", M1)], cfg))
    assert (b.mac, b.ip, b.origin) == (M1, "192.168.1.9", "config")


def test_host_on_undefined_network_is_a_config_error() -> None:
    cfg = config(hosts=[{"name": "x", "network": "nowhere"}])
    with pytest.raises(ConfigError, match="network 'nowhere'"):
        run([], cfg)


def test_imported_router_mapping_persists_as_binding() -> None:
    m = mapping("nas", M3, "192.168.1.30")
    d = run([m], own=owned((m.address, "import")))
    b = only(d)
    assert (b.hostname, b.mac, b.ip, b.origin) == ("nas", M3, "192.168.1.30", "import")
    assert b.origin_refs == ()
    assert b.sources == ("edgemax",)
    assert b.description == "edgemax mapping LAN nas (imported)"


def test_imported_dns_host_entry_finds_its_network_by_domain() -> None:
    h = dns_host("nas", "192.168.1.30", net=None)
    b = only(run([h], own=owned((h.address, "import"))))
    assert (b.network, b.hostname, b.mac, b.ip, b.origin) == ("lan", "nas", None, "192.168.1.30", "import")


def test_imported_mapping_and_netsot_nipap_host_are_one_binding() -> None:
    m = mapping("nas", M3, "192.168.1.30")
    n = nipap("nas", M3, "192.168.1.30")
    d = run([m, n], own=owned((m.address, "import"), (n.address, "import")))
    b = only(d)
    assert b.sources == ("nipap", "edgemax") and b.provenance["ip"].source == "nipap"


def test_unowned_or_not_imported_router_mapping_is_no_binding() -> None:
    m = mapping("nas", M3, "192.168.1.30")
    assert run([m]).bindings == ()
    assert run([m], own=owned((m.address, "proxmox"))).bindings == ()


def test_owned_nipap_host_without_origin_is_no_binding() -> None:
    n = nipap("gone", M2, "192.168.1.12")
    m = mapping("gone", M2, "192.168.1.12")
    d = run([n, m, pve("web01", M1)], own=owned(n.address, m.address))
    assert [b.hostname for b in d.bindings] == ["web01"]
    assert d.conflicts == ()
    assert n.address not in d.blocked and m.address not in d.blocked  # free to be deleted


def test_renamed_guest_keeps_its_nipap_ip() -> None:
    old_n = nipap("web01", M1, "192.168.1.10")
    old_m = mapping("web01", M1, "192.168.1.10")
    old_h = dns_host("web01", "192.168.1.10")
    own = owned(
        old_n.address,
        old_m.address,
        old_h.address,
        deps={old_m.address: (old_n.address,), old_h.address: (old_n.address,)},
    )
    d = run([pve("web02", M1), old_n, old_m, old_h], own=own)
    assert d.conflicts == ()  # the old DNS entry belongs to this binding (depends on its NIPAP host)
    b = only(d)
    assert (b.hostname, b.mac, b.ip) == ("web02", M1, "192.168.1.10")
    assert b.provenance["ip"].source == "nipap"
    assert b.provenance["hostname"].source == "proxmox"


def test_renamed_guest_and_new_guest_taking_the_old_name() -> None:
    old_n = nipap("web01", M1, "192.168.1.10")
    old_h = dns_host("web01", "192.168.1.10")
    own = owned(old_n.address, old_h.address, deps={old_h.address: (old_n.address,)})
    d = run([pve("web02", M1), pve("web01", M2, vmid=102), old_n, old_h], own=own)
    assert d.conflicts == ()
    assert {b.hostname: b.ip for b in d.bindings} == {"web02": "192.168.1.10", "web01": "192.168.1.2"}
    assert by_key(d)["lan.web01"].sources == ("proxmox",)  # the old DNS entry stays with web02


def test_drift_router_ip_edited_by_hand_is_reverted_to_nipap() -> None:
    facts = [pve("web01", M1), nipap("web01", M1, "192.168.1.10"), mapping("web01", M1, "192.168.1.66")]
    b = only(run(facts))
    assert b.ip == "192.168.1.10"
    assert b.provenance["ip"].source == "nipap"  # the router's provider reverts its mapping


def test_drift_nipap_ip_edited_by_hand_wins_and_router_follows() -> None:
    facts = [pve("web01", M1), nipap("web01", M1, "192.168.1.66"), mapping("web01", M1, "192.168.1.10")]
    b = only(run(facts))
    assert b.ip == "192.168.1.66"
    assert b.provenance["ip"].source == "nipap"


def test_dns_host_entry_in_shared_domain_supports_by_name() -> None:
    nets = [network(), network("iot", "10.0.20.0/24", "10.0.20.1", "lab.example", None, "IOT")]
    # a host entry whose network the provider could not pin down still supports by domain + name
    d = run([pve("cam", M2, net="iot"), dns_host("cam", "10.0.20.7", net=None)], config(nets))
    b = only(d)
    assert (b.network, b.ip) == ("iot", "10.0.20.7")
    assert b.provenance["ip"].source == "edgemax"


# ------------------------------------------------------------------ allocation


def test_allocation_skips_gateway_range_and_every_used_ip() -> None:
    net = network(prefix="192.168.1.0/28", gateway="192.168.1.1", dhcp=("192.168.1.4", "192.168.1.6"))
    facts = [
        pve("a", M1, agent_ips=("192.168.1.3",)),  # agent-reported: in use
        pve("b", M2, vmid=102),
        lease("de:ad:be:ef:00:01", "192.168.1.2"),  # a lease counts as in use
        nipap("foreign", "de:ad:be:ef:00:02", "192.168.1.7", owned=False),  # unowned object: in use
        mapping("other", "de:ad:be:ef:00:03", "192.168.1.9"),
    ]
    d = run(facts, config([net]))
    assert d.conflicts == ()
    ips = {b.hostname: b.ip for b in d.bindings}
    assert ips == {"a": "192.168.1.8", "b": "192.168.1.10"}  # sorted by hostname, then first free
    for b in d.bindings:
        assert b.provenance["ip"] == Provenance(
            "allocator", "first free address outside the DHCP range", "lan"
        )


def test_allocation_is_deterministic_by_name_not_input_order() -> None:
    facts = [pve(n, f"bc:24:11:00:01:{i:02x}", vmid=200 + i) for i, n in enumerate(["zeta", "alpha", "mid"])]
    first = run(facts)
    assert {b.hostname: b.ip for b in first.bindings} == {
        "alpha": "192.168.1.2",
        "mid": "192.168.1.3",
        "zeta": "192.168.1.4",
    }
    assert run(list(reversed(facts))) == first


def test_no_free_address_blocks_only_the_unlucky_binding() -> None:
    net = network(prefix="192.168.1.0/29", gateway="192.168.1.1", dhcp=("192.168.1.2", "192.168.1.5"))
    d = run([pve("a", M1), pve("b", M2, vmid=102)], config([net]))
    assert [(b.hostname, b.ip) for b in d.bindings] == [("a", "192.168.1.6")]
    (c,) = d.conflicts
    assert c.kind is ConflictKind.NO_FREE_ADDRESS
    assert c.reason == "lan.b: no free address left in 192.168.1.0/29 outside the DHCP range"
    assert c.blocked_keys == ("lan.b",)
    assert A.proxmox_ipconfig("pve1", 102, "net0") in c.blocked


def test_allocation_avoids_ips_claimed_by_other_bindings() -> None:
    cfg = config(hosts=[{"name": "nas", "network": "lan", "ip": "192.168.1.2"}])
    d = run([pve("web", M1)], cfg)
    assert by_key(d)["lan.web"].ip == "192.168.1.3"


# ------------------------------------------------------------------ conflicts


def test_ip_claimed_twice_by_two_bindings() -> None:
    cfg = config(hosts=[{"name": "nas", "network": "lan", "mac": M3, "ip": "192.168.1.20"}])
    facts = [pve("db01", M1, "192.168.1.20"), pve("web01", M2, "192.168.1.21", vmid=102)]
    d = run(facts, cfg)
    assert [b.hostname for b in d.bindings] == ["web01"]  # the uninvolved one is still planned
    (c,) = d.conflicts
    assert c.kind is ConflictKind.IP_CLAIMED_TWICE
    assert c.reason == (
        f"192.168.1.20 is claimed by lan.db01 ({M1}, from proxmox), lan.nas ({M3}, from config)"
    )
    assert c.blocked_keys == ("lan.db01", "lan.nas")
    assert c.objects == ("config host nas", "proxmox pve1/101 net0")
    assert c.network == "lan"
    assert A.nipap_address("lan", "nas") in c.blocked
    assert A.proxmox_ipconfig("pve1", 101, "net0") in c.blocked
    assert A.nipap_address("lan", "web01") not in c.blocked


def test_ip_held_by_a_foreign_object_blocks_the_binding_and_the_object() -> None:
    foreign = nipap("printer", "de:ad:be:ef:00:01", "192.168.1.20", owned=False)
    d = run([pve("db01", M1, "192.168.1.20"), pve("web01", M2, vmid=102), foreign])
    assert [b.hostname for b in d.bindings] == ["web01"]
    (c,) = d.conflicts
    assert c.kind is ConflictKind.IP_CLAIMED_TWICE
    assert c.reason == (
        f"192.168.1.20 is claimed by lan.db01 ({M1}, from proxmox), "
        "nipap 192.168.1.20/24 printer (de:ad:be:ef:00:01)"
    )
    assert foreign.address in c.blocked
    assert c.blocked_keys == ("lan.db01",)


def test_ip_held_by_a_netsot_leftover_blocks_the_binding_but_not_the_leftover() -> None:
    leftover = nipap("old", M4, "192.168.1.20")
    d = run([pve("db01", M1, "192.168.1.20"), leftover], own=owned(leftover.address))
    (c,) = d.conflicts
    assert c.kind is ConflictKind.IP_CLAIMED_TWICE
    assert "owned by netsot, no longer backed by a source" in c.reason
    assert leftover.address not in c.blocked  # deleting it is what resolves the conflict
    assert "nipap 192.168.1.20/24 old" in c.objects
    assert d.bindings == ()


def test_ip_held_by_another_bindings_object_blocks_both_bindings() -> None:
    # web01's router mapping was hand-edited onto db01's address
    facts = [
        pve("db01", M1, "192.168.1.20"),
        pve("web01", M2, vmid=102),
        nipap("web01", M2, "192.168.1.21"),
        mapping("web01", M2, "192.168.1.20"),
        pve("app", M3, "192.168.1.30", vmid=103),
    ]
    d = run(facts)
    assert [b.hostname for b in d.bindings] == ["app"]
    (c,) = d.conflicts
    assert c.blocked_keys == ("lan.db01", "lan.web01")
    assert A.edgemax_dhcp_mapping("LAN", "web01") in c.blocked


def test_ip_claims_among_many_bindings() -> None:
    # 60 guests with their own addresses and IPAM hosts; among them, addresses claimed twice, held by an
    # object nobody owns, by netsot's leftover, and by an owned DNS entry of a guest's own IPAM host
    facts: list[Fact] = []
    for i in range(2, 62):
        mac = f"bc:24:11:00:01:{i:02x}"
        facts += [pve(f"g{i}", mac, f"192.168.1.{i}", vmid=100 + i), nipap(f"g{i}", mac, f"192.168.1.{i}")]
    facts += [pve("twin9", M1, "192.168.1.9", vmid=300), pve("twin10", M2, "192.168.1.10", vmid=301)]
    stranger = mapping("stranger", "de:ad:be:ef:00:01", "192.168.1.20")
    leftover = nipap("old", "de:ad:be:ef:00:02", "192.168.1.30")
    kept = dns_host("g40-old", "192.168.1.40")  # depends on g40's IPAM host: it belongs to g40
    facts += [stranger, leftover, kept]
    own = owned(leftover.address, kept.address, deps={kept.address: (A.nipap_address("lan", "g40"),)})
    d = run(facts, own=own)
    assert [c.kind for c in d.conflicts] == [ConflictKind.IP_CLAIMED_TWICE] * 4
    assert [c.reason for c in d.conflicts] == [
        f"192.168.1.10 is claimed by lan.g10 (bc:24:11:00:01:0a, from nipap), "
        f"lan.twin10 ({M2}, from proxmox)",
        "192.168.1.20 is claimed by lan.g20 (bc:24:11:00:01:14, from nipap), "
        "edgemax mapping LAN stranger (de:ad:be:ef:00:01)",
        "192.168.1.30 is claimed by lan.g30 (bc:24:11:00:01:1e, from nipap), nipap 192.168.1.30/24 old "
        "(de:ad:be:ef:00:02, owned by netsot, no longer backed by a source)",
        f"192.168.1.9 is claimed by lan.g9 (bc:24:11:00:01:09, from nipap), lan.twin9 ({M1}, from proxmox)",
    ]
    assert [c.blocked_keys for c in d.conflicts] == [
        ("lan.g10", "lan.twin10"), ("lan.g20",), ("lan.g30",), ("lan.g9", "lan.twin9")]
    assert stranger.address in d.conflicts[1].blocked and leftover.address not in d.conflicts[2].blocked
    assert len(d.bindings) == 60 - 4 and "g40" in {b.hostname for b in d.bindings}


def test_a_lease_on_the_same_ip_is_not_a_claim() -> None:
    d = run([pve("db01", M1, "192.168.1.20"), lease("de:ad:be:ef:00:01", "192.168.1.20")])
    assert d.conflicts == () and only(d).ip == "192.168.1.20"


def test_gateway_ip_is_a_claim_conflict() -> None:
    (c,) = run([pve("db01", M1, "192.168.1.1")]).conflicts
    assert c.kind is ConflictKind.IP_CLAIMED_TWICE
    assert c.reason == "lan.db01: IP 192.168.1.1 (from proxmox) is the gateway of lan"


def test_hostname_on_two_macs_in_one_domain() -> None:
    nets = [
        network(),
        network("iot", "10.0.20.0/24", "10.0.20.1", "lab.example", None, "IOT"),
        network("dmz", "10.0.30.0/24", "10.0.30.1", "dmz.example", None, "DMZ"),
    ]
    facts = [
        pve("cam", M1, "192.168.1.10"),
        pve("cam", M2, "10.0.20.10", net="iot", vmid=102),
        pve("cam", M3, "10.0.30.10", net="dmz", vmid=103),  # other domain: fine
    ]
    d = run(facts, config(nets))
    assert [b.key for b in d.bindings] == ["dmz.cam"]
    (c,) = d.conflicts
    assert c.kind is ConflictKind.HOSTNAME_ON_TWO_MACS
    assert c.reason == (
        f"host name cam in domain lab.example is on 2 MACs: {M2} (iot: proxmox pve1/102 net0), "
        f"{M1} (lan: proxmox pve1/101 net0)"
    )
    assert c.blocked_keys == ("iot.cam", "lan.cam")
    assert c.network is None
    assert A.edgemax_host("cam.lab.example") in c.blocked


def test_foreign_router_mapping_with_same_name_and_other_mac() -> None:
    foreign = mapping("web01", M4, "192.168.1.77")
    d = run([pve("web01", M1), pve("app", M2, vmid=102), foreign])
    assert [b.hostname for b in d.bindings] == ["app"]
    (c,) = d.conflicts
    assert c.kind is ConflictKind.HOSTNAME_ON_TWO_MACS
    assert c.reason == (
        f"host name web01 in lan is on {M1} (proxmox pve1/101 net0) and on {M4} "
        "(edgemax mapping LAN web01), which netsot does not own"
    )
    assert foreign.address in c.blocked


def test_owned_mapping_with_same_name_and_other_mac_follows_the_new_mac() -> None:
    """A managed guest whose MAC changed (a NIC replaced, a VM restored): the binding follows the
    guest by its name in the network and keeps its address (#11: it used to be stuck)."""
    old = mapping("web01", M4, "192.168.1.77")
    d = run([pve("web01", M1), old], own=owned(old.address))
    assert d.conflicts == ()
    b = only(d)
    assert b.mac == M1 and b.ip == "192.168.1.77"
    assert b.provenance["mac"].ref == "proxmox pve1/101 net0"


def test_owned_ipam_host_follows_a_guest_whose_mac_changed_while_the_guest_holds_its_ip() -> None:
    host = nipap("web01", M4, "192.168.1.77")
    d = run([pve("web01", M1, agent_ips=("192.168.1.77",)), host, mapping("web01", M4, "192.168.1.77")],
            own=owned(host.address, A.edgemax_dhcp_mapping("LAN", "web01")))
    assert d.conflicts == (), [c.reason for c in d.conflicts]
    b = only(d)
    assert (b.mac, b.ip, b.provenance["ip"].source) == (M1, "192.168.1.77", "nipap")


def test_renamed_and_new_mac_follows_by_the_annotation_the_ipam_host_keeps() -> None:
    from dataclasses import replace

    host = replace(nipap("web01", M4, "192.168.1.77"), annotations={"proxmox-vmid": "101"})
    d = run([pve("web01b", M1), host], own=owned(host.address))
    b = only(d)
    assert (b.hostname, b.mac, b.ip) == ("web01b", M1, "192.168.1.77")


def test_a_mac_that_moves_to_another_guest_is_still_a_conflict() -> None:
    from dataclasses import replace

    host = nipap("web01", M1, "192.168.1.77")  # web01's old MAC is now app's; web01 still holds .77
    web01 = replace(pve("web01", M2, "192.168.1.77", agent_ips=("192.168.1.77",)), static_ip=False)
    d = run([web01, pve("app", M1, vmid=102), host], own=owned(host.address))
    assert [c.kind for c in d.conflicts] == [ConflictKind.IP_CLAIMED_TWICE]


def test_mac_in_two_bindings() -> None:
    facts = [pve("web01", M1), pve("web02", M1, vmid=102), pve("app", M2, vmid=103)]
    d = run(facts)
    assert [b.hostname for b in d.bindings] == ["app"]
    (c,) = d.conflicts
    assert c.kind is ConflictKind.MAC_IN_TWO_BINDINGS
    assert c.reason == (
        f"MAC {M1} is on more than one host in lan: "
        "web01 (proxmox pve1/101 net0), web02 (proxmox pve1/102 net0)"
    )
    assert c.blocked_keys == ("lan.web01", "lan.web02")
    assert {
        A.proxmox_ipconfig("pve1", 101, "net0"),
        A.proxmox_ipconfig("pve1", 102, "net0"),
    } <= set(c.blocked)


def test_same_mac_in_two_networks_is_fine() -> None:
    nets = [network(), network("iot", "10.0.20.0/24", "10.0.20.1", "iot.example", None, "IOT")]
    d = run([pve("a", M1), pve("b", M1, net="iot", nic="net1")], config(nets))
    assert d.conflicts == ()
    assert [b.key for b in d.bindings] == ["iot.b", "lan.a"]


def test_ip_outside_network() -> None:
    d = run([pve("web01", M1), nipap("web01", M1, "10.9.9.9"), pve("ok", M2, vmid=102)])
    assert [b.hostname for b in d.bindings] == ["ok"]
    (c,) = d.conflicts
    assert c.kind is ConflictKind.IP_OUTSIDE_NETWORK
    assert c.reason == "lan.web01: IP 10.9.9.9 (from nipap) is outside 192.168.1.0/24"
    assert A.nipap_address("lan", "web01") in c.blocked


def test_unparseable_ip_is_reported_not_raised() -> None:
    (c,) = run([pve("web01", M1), nipap("web01", M1, "192.168.001.5")]).conflicts
    assert c.kind is ConflictKind.IP_OUTSIDE_NETWORK
    assert c.reason == "lan.web01: '192.168.001.5' (from nipap) is not an IPv4 address"


def test_broadcast_address_is_outside_usable_range() -> None:
    (c,) = run([pve("web01", M1, "192.168.1.255")]).conflicts
    assert c.kind is ConflictKind.IP_OUTSIDE_NETWORK
    assert c.reason == "lan.web01: IP 192.168.1.255 (from proxmox) is the broadcast address of 192.168.1.0/24"


def test_ip_in_dynamic_range() -> None:
    d = run([pve("web01", M1), mapping("web01", M1, "192.168.1.150"), pve("ok", M2, vmid=102)])
    assert [b.hostname for b in d.bindings] == ["ok"]
    (c,) = d.conflicts
    assert c.kind is ConflictKind.IP_IN_DYNAMIC_RANGE
    assert c.reason == (
        "lan.web01: IP 192.168.1.150 (from edgemax) is inside the DHCP range "
        "192.168.1.100-192.168.1.199 of lan"
    )
    assert c.blocked_keys == ("lan.web01",)
    assert A.edgemax_dhcp_mapping("LAN", "web01") in c.blocked


def test_static_ip_disagrees_without_writeback() -> None:
    d = run([pve("web01", M1, "192.168.1.10"), nipap("web01", M1, "192.168.1.20"), pve("ok", M2, vmid=102)])
    assert [b.hostname for b in d.bindings] == ["ok"]
    (c,) = d.conflicts
    assert c.kind is ConflictKind.STATIC_IP_DISAGREES
    assert c.reason == (
        "lan.web01: proxmox pve1/101 net0 has static IP 192.168.1.10 but 192.168.1.20 (from nipap) wins "
        "and write-back is off (tag the guest netsot-static to let netsot rewrite it)"
    )
    assert c.objects == ("nipap 192.168.1.20/24 web01", "proxmox pve1/101 net0")
    assert set(c.blocked) == {
        A.nipap_address("lan", "web01"),
        A.edgemax_dhcp_mapping("LAN", "web01"),
        A.edgemax_host("web01.lab.example"),
        A.proxmox_ipconfig("pve1", 101, "net0"),
    }


def test_static_ip_with_writeback_follows_precedence() -> None:
    d = run([pve("web01", M1, "192.168.1.10", writeback=True), nipap("web01", M1, "192.168.1.20")])
    assert d.conflicts == ()
    b = only(d)
    assert b.ip == "192.168.1.20" and b.first_origin is not None and b.first_origin.data["writeback"]


def test_static_ip_equal_to_winner_is_fine() -> None:
    d = run([pve("web01", M1, "192.168.1.10"), nipap("web01", M1, "192.168.1.10")])
    assert d.conflicts == () and only(d).ip == "192.168.1.10"


@pytest.mark.parametrize(
    ("bad", "broken"),
    [
        ("web_01", "has '_' in label 'web_01' (allowed: a-z, 0-9 and inner '-')"),
        ("web..01", "has an empty label (a leading, trailing or doubled '.')"),
        ("wéb", "has 'é' in label 'wéb' (allowed: a-z, 0-9 and inner '-')"),
        ("web 01", "has ' ' in label 'web 01' (allowed: a-z, 0-9 and inner '-')"),
        ("-web", "has label '-web' starting or ending with '-'"),
        ("web-", "has label 'web-' starting or ending with '-'"),
        ("a" * 64, "has a label longer than 63 characters (64)"),
    ],
)
def test_invalid_name(bad: str, broken: str) -> None:
    d = run([pve(bad, M1), pve("ok", M2, vmid=102)])
    assert [b.hostname for b in d.bindings] == ["ok"]
    (c,) = d.conflicts
    assert c.kind is ConflictKind.INVALID_NAME
    assert c.reason == (
        f"{bad!r} (from proxmox pve1/101 net0) cannot name a new EdgeOS static mapping or host name: "
        f"it {broken} (rule: DNS labels of a-z, 0-9 and inner '-', at most 63 each, joined by '.')"
    )
    assert "\n" not in c.reason
    assert A.proxmox_ipconfig("pve1", 101, "net0") in c.blocked
    assert c.blocked_keys == (f"lan.{bad}",)


def test_upper_case_name_is_lowered_not_invalid() -> None:
    m = mapping("NAS", M3, "192.168.1.30")
    b = only(run([m], own=owned((m.address, "import"))))
    assert b.hostname == "nas"


def test_conflicts_serialise_to_one_line_reasons() -> None:
    d = run([pve("web\nx", M1), pve("a", M2, "192.168.1.150", vmid=102)])
    assert len(d.conflicts) == 2
    for c in d.conflicts:
        assert "\n" not in c.reason
        assert c.to_dict()["kind"] == c.kind.value


# ------------------------------------------------------------------ determinism and scale


def _mixed_world() -> tuple[Config, list[Fact], dict[Address, ManagedResource]]:
    nets = [network(), network("iot", "10.0.20.0/24", "10.0.20.1", "lab.example", None, "IOT")]
    cfg = config(
        nets, hosts=[{"name": "nas", "network": "lan", "mac": M4}, {"name": "printer", "network": "iot"}]
    )
    imported = mapping("tv", "aa:aa:aa:aa:aa:01", "192.168.1.60")
    leftover = nipap("gone", "aa:aa:aa:aa:aa:02", "192.168.1.61")
    facts = [
        pve("web01", M1),
        pve("web02", M2, vmid=102),
        pve("db", M3, "192.168.1.20", vmid=103),
        pve("cam", "aa:aa:aa:aa:aa:03", net="iot", vmid=104),
        pve("bad_name", "aa:aa:aa:aa:aa:04", vmid=105),
        pve("dup1", "aa:aa:aa:aa:aa:05", vmid=106),
        pve("dup2", "aa:aa:aa:aa:aa:05", vmid=107),
        nipap("web01", M1, "192.168.1.10"),
        mapping("web01", M1, "192.168.1.11"),
        mapping("printer", "aa:aa:aa:aa:aa:06", "10.0.20.40", net="iot", sn="IOT"),
        dns_host("db", "192.168.1.20"),
        lease(M2, "192.168.1.120"),
        lease("aa:aa:aa:aa:aa:07", "192.168.1.2"),
        imported,
        leftover,
    ]
    own = owned((imported.address, "import"), leftover.address)
    return cfg, facts, own


def test_shuffled_input_gives_identical_output() -> None:
    cfg, facts, own = _mixed_world()
    expected = reconcile(cfg, observations(facts), own)
    assert len(expected.bindings) == 7 and len(expected.conflicts) == 2
    rng = random.Random(1234)
    for _ in range(25):
        shuffled = facts[:]
        rng.shuffle(shuffled)
        obs = list(observations(shuffled).items())
        rng.shuffle(obs)
        own_items = list(own.items())
        rng.shuffle(own_items)
        assert reconcile(cfg, dict(obs), dict(own_items)) == expected


def test_facts_sharing_a_source_and_ref_are_ordered_by_their_values_not_by_the_input() -> None:
    # two reports of one guest NIC that differ only in the address and description: the first of the
    # sorted facts (the lower address) describes the binding, in whichever order the system listed them
    first = replace(pve("web01", M1, "192.168.1.10"), description="first")
    second = replace(pve("web01", M1, "192.168.1.11"), description="second")
    for facts in ([first, second], [second, first]):
        b = only(run(facts))
        assert (b.ip, b.description) == ("192.168.1.10", "first")


def test_output_is_sorted_by_network_and_hostname() -> None:
    cfg, facts, own = _mixed_world()
    d = reconcile(cfg, observations(facts), own)
    assert [b.key for b in d.bindings] == sorted(b.key for b in d.bindings)
    assert [b.key for b in d.bindings] == [
        "iot.cam",
        "iot.printer",
        "lan.db",
        "lan.nas",
        "lan.tv",
        "lan.web01",
        "lan.web02",
    ]


def test_ten_thousand_bindings() -> None:
    net = network(
        prefix="10.0.0.0/16", gateway="10.0.0.1", domain="big.example", dhcp=("10.0.200.0", "10.0.200.255")
    )
    facts: list[Fact] = []
    for i in range(10_000):
        mac = f"02:00:00:00:{i >> 8:02x}:{i & 0xFF:02x}"
        name = f"h{i:05d}"
        if i % 2:  # half already have an address in NIPAP and on the router
            ip = f"10.0.{(i >> 8) + 100}.{i & 0xFF}"
            facts += [pve(name, mac, vmid=1000 + i), nipap(name, mac, ip), mapping(name, mac, ip)]
        else:  # the other half need one (a dynamic lease does not give them one)
            facts += [pve(name, mac, vmid=1000 + i), lease(mac, f"10.0.200.{i % 250}")]
    d = reconcile(config([net]), observations(facts), {})
    assert d.conflicts == ()
    assert len(d.bindings) == 10_000
    ips = [b.ip for b in d.bindings]
    assert len(set(ips)) == 10_000
    allocated = [b for b in d.bindings if b.provenance["ip"].source == "allocator"]
    assert len(allocated) == 5_000
    # allocation is dense from the start of the prefix, skipping the gateway
    assert allocated[0].hostname == "h00000" and allocated[0].ip == "10.0.0.2"
    assert allocated[1].ip == "10.0.0.3"


# ------------------------------------------------------------------ extra names (aliases)


def _with_aliases(fact: Fact, *aliases: str) -> Fact:
    from dataclasses import replace

    return replace(fact, aliases=aliases)


def test_extra_names_follow_the_hostname_precedence_and_a_source_without_an_opinion_keeps_them() -> None:
    guest = pve("web01", M1)
    avp = _with_aliases(nipap("web01", M1, "192.168.1.10"), "www", "api")
    router = _with_aliases(dns_host("web01", "192.168.1.10"), "web01", "old")
    b = only(run([guest, avp, router]))  # proxmox says nothing about extra names: NIPAP's avp wins
    assert b.aliases == ("www", "api")
    assert b.provenance["aliases"].source == "nipap" and b.provenance["aliases"].rule.startswith("aliases: ")
    cfg = config(hosts=[{"name": "web01", "network": "lan", "mac": M1, "aliases": ["docs"]}])
    assert only(run([guest, avp, router], cfg)).aliases == ("docs",)  # the config says, and wins
    none = config(hosts=[{"name": "web01", "network": "lan", "mac": M1, "aliases": []}])
    b = only(run([guest, avp, router], none))
    assert b.aliases == () and "aliases" not in b.provenance  # `aliases: []`: none at all
    assert only(run([guest, router])).aliases == ("old",)  # only the router says: its names stay


def test_the_old_dns_entry_of_a_renamed_host_does_not_name_its_extra_names() -> None:
    old = _with_aliases(dns_host("web01", "192.168.1.10"), "web01", "www")
    ipam, entry = A.nipap_address("lan", "web01"), A.edgemax_host("web01.lab.example")
    own = owned(ipam, entry, deps={entry: (ipam,)})
    desired = run([pve("web02", M1), nipap("web01", M1, "192.168.1.10"), old], own=own)
    assert desired.conflicts == ()
    assert by_key(desired)["lan.web02"].aliases == ()
    # its IPAM record (found by the MAC) still names them: they follow the rename
    avp = _with_aliases(nipap("web01", M1, "192.168.1.10"), "www")
    assert by_key(run([pve("web02", M1), avp, old], own=own))["lan.web02"].aliases == ("www",)


def test_host_names_sharing_an_address_are_one_binding_with_extra_names() -> None:
    names = ("printer", "ipp", "scan")
    facts = [_with_aliases(dns_host(n, "192.168.1.21"), *names) for n in ("ipp", "printer", "scan")]
    facts = [replace_hostname(f, "printer") for f in facts]  # the router names the address by its first name
    own = owned(*((A.edgemax_host(f"{n}.lab.example"), "import") for n in ("ipp", "printer", "scan")))
    desired = run([mapping("printer", M2, "192.168.1.21"), *facts], own=own)
    assert desired.conflicts == ()
    assert [(b.hostname, b.aliases) for b in desired.bindings] == [("printer", ("ipp", "scan"))]


def replace_hostname(fact: Fact, name: str) -> Fact:
    from dataclasses import replace

    return replace(fact, hostname=name)


def test_an_extra_name_that_is_another_bindings_name_is_a_conflict_blocking_both() -> None:
    cfg = config(hosts=[{"name": "wiki", "network": "lan", "mac": M3, "aliases": ["web01"]}])
    desired = run([pve("web01", M1, "192.168.1.10")], cfg)
    assert desired.bindings == ()
    (conflict,) = desired.conflicts
    assert conflict.kind is ConflictKind.HOSTNAME_ON_TWO_MACS
    assert conflict.reason.startswith("name web01 in domain lab.example is ")
    assert "the host name of lan.web01" in conflict.reason and "an extra name of lan.wiki" in conflict.reason
    assert conflict.fix == ("give web01 to one host only: remove it from the extra names of lan.wiki at "
                            "hosts[0].aliases in the config")
    assert set(conflict.blocked_keys) == {"lan.web01", "lan.wiki"}


def test_an_extra_name_that_is_no_dns_name_is_an_invalid_name() -> None:
    avp = _with_aliases(nipap("cam", M4, "192.168.1.40", owned=False), "bad_name")
    desired = run([replace_origin(avp)])
    (conflict,) = desired.conflicts
    assert conflict.kind is ConflictKind.INVALID_NAME
    assert conflict.reason.startswith("extra name 'bad_name' of lan.cam (from nipap 192.168.1.40/24 cam) ")


def replace_origin(fact: Fact) -> Fact:
    from dataclasses import replace

    return replace(fact, origin=True)


def test_an_extra_name_another_mac_has_in_the_ipam_is_a_name_clash_naming_it() -> None:
    cfg = config(hosts=[{"name": "wiki", "network": "lan", "mac": M3, "aliases": ["docs"]}])
    desired = run([nipap("docs", M4, "192.168.1.41", owned=False)], cfg)
    (conflict,) = desired.conflicts
    assert conflict.kind is ConflictKind.HOSTNAME_ON_TWO_MACS
    assert conflict.reason.startswith(
        f"extra name docs of wiki in lan is on {M3} (config host wiki) and on {M4}")


def test_the_default_precedence_names_only_configured_kinds() -> None:
    """A registered kind nobody configured (vyos here) never enters a default rule; a configured
    list is taken as it is."""
    from engine import systems

    full = config()
    assert systems.of(full).precedence("ip") == ("config", "nipap", "proxmox", "edgemax")
    two = Config(providers={k: PROVIDERS[k] for k in ("nipap", "proxmox")}, networks=(network(),))
    assert systems.of(two).precedence("ip") == ("config", "nipap", "proxmox")
    assert systems.of(two).precedence("mac") == ("config", "proxmox")
    mine = config(precedence={"ip": ["config", "edgemax", "nipap"]})
    assert systems.of(mine).precedence("ip") == ("config", "edgemax", "nipap")

"""Hand-built plans for the renderer and saved-plan tests (no engine run needed)."""

from __future__ import annotations

from core.model import (
    Action,
    Binding,
    Change,
    Conflict,
    ConflictKind,
    Drift,
    Held,
    Plan,
    Provenance,
    fingerprint,
    frozen_map,
)
from tests import addresses as A

IP_RULE = "precedence ip: config > nipap > proxmox > edgemax"
NAME_RULE = "precedence hostname: config > proxmox > nipap > edgemax"
MAC_RULE = "precedence mac: config > proxmox > edgemax"
CREATED_AT = "2026-01-02T03:04:05Z"


def web01_provenance() -> dict[str, Provenance]:
    return {
        "ip": Provenance("allocator", "first free address", "nipap prefix 192.168.1.0/24"),
        "hostname": Provenance("proxmox", NAME_RULE, "proxmox pve1/101 net0"),
        "mac": Provenance("proxmox", MAC_RULE, "proxmox pve1/101 net0"),
    }


def mixed_plan() -> Plan:
    """Two creates, one drift revert, one delete, a conflict, a held delete and a warning."""
    web_ip = A.nipap_address("lan", "web01")
    prov = web01_provenance()
    changes = (
        Change(Action.CREATE, web_ip, None,
               frozen_map({"ip": "192.168.1.23", "hostname": "web01", "mac": "bc:24:11:aa:bb:01"}),
               reason="new guest web01 on pve1", provenance=prov, origin="proxmox"),
        Change(Action.CREATE, A.edgemax_dhcp_mapping("LAN", "web01"), None,
               frozen_map({"ip_address": "192.168.1.23", "mac_address": "bc:24:11:aa:bb:01"}),
               provenance={"ip_address": Provenance("nipap", IP_RULE, "nipap 192.168.1.23/24"),
                           "mac_address": prov["mac"]},
               depends_on=(web_ip,), origin="proxmox"),
        Change(Action.UPDATE, A.edgemax_dhcp_mapping("LAN", "db01"),
               frozen_map({"ip_address": "192.168.1.99", "mac_address": "bc:24:11:aa:bb:02"}),
               frozen_map({"ip_address": "192.168.1.30", "mac_address": "bc:24:11:aa:bb:02"}),
               provenance={"ip_address": Provenance("nipap", IP_RULE, "nipap 192.168.1.30/24")},
               drift=True, provider_id="LAN/db01", origin="proxmox"),
        Change(Action.DELETE, A.edgemax_host("old.lab.example"),
               frozen_map({"inet": "192.168.1.40", "host_name": "old.lab.example"}), None,
               reason="its guest is gone", provider_id="old.lab.example"),
    )
    conflict = Conflict(
        ConflictKind.IP_CLAIMED_TWICE,
        "192.168.1.50 is claimed by app05 (proxmox) and nas (config)",
        ("proxmox pve1/105 net0 (app05)", "config host nas"),
        network="lan",
        blocked=(A.nipap_address("lan", "app05"), A.edgemax_dhcp_mapping("LAN", "app05")),
        blocked_keys=("lan.app05",),
        fix="decide which host keeps 192.168.1.50 and give the others another address: change it for "
            "lan.app05 at proxmox pve1/105 net0; lan.nas at hosts[0].ip in the config",
        effects=("lan.app05: netsot creates, changes or deletes none of its DHCP reservation or host address "
                 "until this is fixed",),
    )
    drift = Drift(A.edgemax_dhcp_mapping("LAN", "db01"),
                  frozen_map({"ip_address": "192.168.1.30", "mac_address": "bc:24:11:aa:bb:02"}),
                  frozen_map({"ip_address": "192.168.1.99", "mac_address": "bc:24:11:aa:bb:02"}),
                  "revert", "the mapping was edited on the router")
    held = Held(Change(Action.DELETE, A.nipap_address("lan", "old"),
                       frozen_map({"ip": "192.168.1.40", "hostname": "old"}), None, provider_id="17"),
                "orphan_grace", "orphaned since 2026-01-02T00:00:00Z; deleted after 24h")
    bindings = (
        Binding("lan", "web01", "bc:24:11:aa:bb:01", "192.168.1.23", prov, origin="proxmox"),
        Binding("lan", "db01", "bc:24:11:aa:bb:02", "192.168.1.30",
                {"ip": Provenance("nipap", IP_RULE, "nipap 192.168.1.30/24")}, origin="proxmox"),
    )
    return Plan(
        changes=changes,
        conflicts=(conflict,),
        drift=(drift,),
        held=(held,),
        warnings=("edgemax: 2 DHCP leases have no static mapping",),
        fingerprints=frozen_map({
            "nipap_address.lan.db01": fingerprint({"ip": "192.168.1.30"}),
            "edgemax_dhcp_mapping.LAN.db01": fingerprint({"ip": "192.168.1.99"}),
            "fact:proxmox pve1/101 net0": fingerprint({"mac": "bc:24:11:aa:bb:01"}),
        }),
        config_digest="sha256:" + "ab" * 32,
        lineage="6f1c1f7e-0000-4000-8000-000000000001",
        serial=7,
        bindings=bindings,
    )


def big_plan(n: int = 500) -> Plan:
    """``n`` creates spread over the three systems, plus two conflicts."""
    changes = []
    for i in range(n):
        host = f"host{i:04d}"
        ip = f"10.{i // 250}.{i % 250}.10"
        kind = i % 3
        mac = f"bc:24:11:00:{i // 256:02x}:{i % 256:02x}"
        if kind == 0:  # each record holds its type's declared fields (core.fields checks them)
            addr = A.nipap_address("lan", host)
            record = {"ip": ip, "hostname": host, "mac": mac,
                      "description": f"guest {host} on pve{i % 3 + 1}"}
        elif kind == 1:
            addr = A.edgemax_dhcp_mapping("LAN", host)
            record = {"shared_network": "LAN", "subnet": f"10.{i // 250}.0.0/16", "name": host,
                      "ip_address": ip, "mac_address": mac}
        else:
            addr = A.edgemax_host(f"{host}.lab.example")
            record = {"host_name": f"{host}.lab.example", "inet": ip, "aliases": [host]}
        changes.append(Change(
            Action.CREATE, addr, None, frozen_map(record),
            provenance={"ip": Provenance("allocator", "first free address", "nipap prefix 10.0.0.0/16"),
                        "hostname": Provenance("proxmox", NAME_RULE, f"proxmox pve1/{100 + i} net0")},
            origin="proxmox",
        ))
    conflicts = tuple(
        Conflict(ConflictKind.MAC_IN_TWO_BINDINGS, f"MAC bc:24:11:ff:ff:0{j} is on two hosts",
                 (f"proxmox pve1/9{j}0 net0", f"proxmox pve2/9{j}1 net0"), network="lan")
        for j in range(2)
    )
    return Plan(changes=tuple(changes), conflicts=conflicts, config_digest="d" * 16,
                lineage="6f1c1f7e-0000-4000-8000-000000000002", serial=1)

"""Synthetic homelabs of any size for the benchmark: simulator seeds and the netsot config.

Owns: a deterministic lab of N guests on two /16 networks (so 5,000+ guests fit), in the
simulators' documented seed formats (Proxmox seed dict, NIPAP seed dict, EdgeOS config.boot),
and the ``Config`` pointing netsot at running simulators.
Must not: start simulators, open sockets or touch files.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from core.config import Config
from engine.config.load import config_from_data

NODES = ("pve1", "pve2", "pve3")
FIRST_VMID = 1000
WRITEBACK_TAG = "netsot-static"


@dataclass(frozen=True)
class BenchNet:
    name: str
    prefix: str
    gateway: str
    domain: str
    dhcp_start: str
    dhcp_stop: str
    vlan: int | None
    shared_network: str
    static_base: str  # static guest IPs are handed out upwards from here
    dynamic_base: str  # agent / LXC reported (DHCP lease) addresses upwards from here


NETWORKS = (
    BenchNet("lan", "10.10.0.0/16", "10.10.0.1", "lab.example", "10.10.200.0", "10.10.255.254",
             None, "LAN", "10.10.100.0", "10.10.200.0"),
    BenchNet("servers", "10.20.0.0/16", "10.20.0.1", "srv.lab.example", "10.20.200.0", "10.20.255.254",
             20, "SERVERS", "10.20.100.0", "10.20.200.0"),
)


@dataclass(frozen=True)
class GuestSpec:
    vmid: int
    name: str
    type: str  # qemu | lxc
    node: str
    running: bool
    net: BenchNet
    mac: str
    static_ip: str | None  # "a.b.c.d" or None (dhcp)
    agent: bool  # qemu: guest agent enabled and answering
    seen_ip: str | None  # what the agent / LXC interfaces report for a running guest
    writeback: bool


@dataclass(frozen=True)
class Shape:
    """How the guests are mixed; every share is "one in N" so the lab stays deterministic."""

    static_every: int = 5  # one guest in 5 has a static IP in its config
    agent_every: int = 4  # one QEMU guest in 4 has the guest agent enabled
    stopped_every: int = 10  # one guest in 10 is stopped (no interface calls)
    writeback_every: int = 50  # one guest in 50 carries the write-back tag


def _ip_plus(base: str, offset: int) -> str:
    return str(ipaddress.IPv4Address(base) + offset)


def guests(count: int, shape: Shape = Shape()) -> list[GuestSpec]:
    out = []
    per_net: dict[str, int] = {}
    for i in range(count):
        vmid = FIRST_VMID + i
        net = NETWORKS[1] if i % 3 == 0 else NETWORKS[0]
        k = per_net.get(net.name, 0)
        per_net[net.name] = k + 1
        gtype = "qemu" if i % 2 else "lxc"
        running = i % shape.stopped_every != shape.stopped_every - 1
        static = i % shape.static_every == 0
        static_ip = _ip_plus(net.static_base, k) if static else None
        agent = gtype == "qemu" and (i // 2) % shape.agent_every == 0
        reports = running and (gtype == "lxc" or agent)
        seen = (static_ip or _ip_plus(net.dynamic_base, k)) if reports else None
        out.append(GuestSpec(
            vmid=vmid, name=f"vm{vmid}", type=gtype, node=NODES[i % len(NODES)], running=running,
            net=net, mac=f"BC:24:11:{(i >> 16) & 255:02X}:{(i >> 8) & 255:02X}:{i & 255:02X}",
            static_ip=static_ip, agent=agent, seen_ip=seen, writeback=i % shape.writeback_every == 7,
        ))
    return out


def needed_guest_calls(specs: list[GuestSpec]) -> int:
    """The Proxmox calls per guest no reader can avoid: one config each, plus an agent / LXC interface
    call for a running guest that reports an address which no other source has (no static address in
    its config; the bench router's lease table is empty). The read bound's count (#24)."""
    reports = [g for g in specs if g.running and (g.type == "lxc" or g.agent)]
    return len(specs) + sum(1 for g in reports if not g.static_ip)


def _prefixlen(net: BenchNet) -> int:
    return ipaddress.IPv4Network(net.prefix).prefixlen


def _guest_seed(g: GuestSpec) -> dict[str, Any]:
    tag = f",tag={g.net.vlan}" if g.net.vlan else ""
    tags = WRITEBACK_TAG if g.writeback else ""
    plen = _prefixlen(g.net)
    ip = f"ip={g.static_ip}/{plen},gw={g.net.gateway}" if g.static_ip else "ip=dhcp"
    seed: dict[str, Any] = {"vmid": g.vmid, "type": g.type, "node": g.node,
                            "status": "running" if g.running else "stopped"}
    if g.type == "qemu":
        config: dict[str, Any] = {"name": g.name, "cores": 2, "memory": 2048, "ostype": "l26",
                                  "net0": f"virtio={g.mac},bridge=vmbr0{tag}", "ipconfig0": ip,
                                  "scsi0": f"local-lvm:vm-{g.vmid}-disk-0,size=16G"}
        if g.agent:
            config["agent"] = "1"
            if g.seen_ip:
                seed["agent"] = [
                    {"name": "lo", "hardware-address": "00:00:00:00:00:00",
                     "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}]},
                    {"name": "eth0", "hardware-address": g.mac.lower(),
                     "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": g.seen_ip, "prefix": plen}]},
                ]
    else:
        config = {"hostname": g.name, "cores": 1, "memory": 512, "ostype": "debian",
                  "net0": f"name=eth0,bridge=vmbr0,hwaddr={g.mac},{ip},type=veth{tag}",
                  "rootfs": f"local-lvm:vm-{g.vmid}-disk-0,size=8G"}
        if g.seen_ip:
            seed["interfaces"] = [
                {"name": "lo", "hwaddr": "00:00:00:00:00:00", "inet": "127.0.0.1/8", "inet6": "::1/128"},
                {"name": "eth0", "hwaddr": g.mac.lower(), "inet": f"{g.seen_ip}/{plen}"},
            ]
    if tags:
        config["tags"] = tags
    seed["config"] = config
    return seed


def proxmox_seed(specs: list[GuestSpec]) -> dict[str, Any]:
    return {
        "cluster": "bench",
        "nodes": [{"name": n, "online": True, "ip": f"10.0.0.{i}"} for i, n in enumerate(NODES, start=1)],
        "guests": [_guest_seed(g) for g in specs],
    }


def nipap_seed(host_rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The networks' assignments and the routers' addresses (+ optional extra host rows)."""
    rows: list[dict[str, Any]] = []
    for net in NETWORKS:
        rows.append({"prefix": net.prefix, "type": "assignment", "description": net.name})
        rows.append({"prefix": f"{net.gateway}/32", "type": "host", "node": "edge", "description": "router"})
    return {"prefixes": rows + list(host_rows or ())}


def config_boot(mappings: str = "", hosts: str = "") -> str:
    """The router's saved config: both shared networks, a NAS mapping; optional extra blocks."""
    nets = []
    for net in NETWORKS:
        nas = ""
        if net.name == "lan":
            nas = ("                static-mapping nas {\n                    ip-address 10.10.0.20\n"
                   "                    mac-address 00:11:32:aa:bb:cc\n                }\n")
        extra = mappings if net.name == "lan" else ""
        nets.append(f"""        shared-network-name {net.shared_network} {{
            authoritative enable
            subnet {net.prefix} {{
                default-router {net.gateway}
                dns-server {net.gateway}
                domain-name {net.domain}
                lease 86400
                start {net.dhcp_start} {{
                    stop {net.dhcp_stop}
                }}
{nas}{extra}            }}
        }}
""")
    return f"""interfaces {{
    ethernet eth0 {{
        address dhcp
    }}
    ethernet eth1 {{
        address 10.10.0.1/16
        vif 20 {{
            address 10.20.0.1/16
        }}
    }}
}}
service {{
    dhcp-server {{
        disabled false
        hostfile-update disable
{"".join(nets)}        static-arp disable
        use-dnsmasq disable
    }}
    dns {{
        forwarding {{
            cache-size 150
            listen-on eth1
        }}
    }}
}}
system {{
    domain-name lab.example
    host-name edge
    login {{
        user ubnt {{
            authentication {{
                encrypted-password $6$bench$REDACTEDhash
            }}
            level admin
        }}
    }}
    static-host-mapping {{
        host-name nas.lab.example {{
            inet 10.10.0.20
        }}
{hosts}    }}
}}


/* Warning: Do not remove the following line. */
/* === vyatta-config-version: "dhcp-server@4:system@4" === */
/* Release version: v2.0.9-hotfix.7 */
"""


def networks_config() -> list[dict[str, Any]]:
    out = []
    for net in NETWORKS:
        proxmox: dict[str, Any] = {"bridge": "vmbr0"}
        if net.vlan:
            proxmox["vlan"] = net.vlan
        out.append({
            "name": net.name, "prefix": net.prefix, "gateway": net.gateway, "domain": net.domain,
            "dhcp_range": {"start": net.dhcp_start, "stop": net.dhcp_stop},
            "proxmox": proxmox, "edgemax": {"shared_network": net.shared_network},
        })
    return out


def make_config(*, state_path: str, proxmox: dict[str, Any] | None = None,
                nipap: dict[str, Any] | None = None, edgemax: dict[str, Any] | None = None) -> Config:
    """The netsot config for the simulators (each ``None`` system is left unconfigured)."""
    return config_from_data(config_data(state_path=state_path, proxmox=proxmox, nipap=nipap, edgemax=edgemax))


def config_data(*, state_path: str, proxmox: dict[str, Any] | None = None,
                nipap: dict[str, Any] | None = None, edgemax: dict[str, Any] | None = None) -> dict[str, Any]:
    """``make_config``'s data (written as a file for the `netsot plan` process row)."""
    providers = {k: v for k, v in (("proxmox", proxmox), ("nipap", nipap), ("edgemax", edgemax)) if v}
    return ({
        "version": 1,
        "state": {"backend": "file", "path": state_path},
        "providers": providers,
        "networks": networks_config(),
        "hosts": [{"name": "nas", "network": "lan", "mac": "00:11:32:aa:bb:cc", "ip": "10.10.0.20"}],
        "policy": {"max_change_percent": 100, "min_existing": 1_000_000},
    })

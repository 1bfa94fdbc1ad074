"""The embedded lab's homelab: a deterministic, realistic set of guests, router and IPAM data.

Owns: the pure description of the lab's sites — site 1 (networks ``lan`` and ``servers``, a
3-node Proxmox cluster with VMs and containers for any number of guests, router "edge") and
site 2, the cabin (network ``cabin``, its own 2-node cluster with a handful of guests, router
"cabin") — with each router's existing config.boot and leases and NIPAP's prefixes and hosts.
The simulators' seed formats are built from it by ``providers.lab.seeds``.
Must not: start processes or touch files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

NODES = ("pve1", "pve2", "pve3")
CABIN_NODES = ("cab1", "cab2")
DOMAIN = "lab.example"
SRV_DOMAIN = "srv.lab.example"
CABIN_DOMAIN = "cabin.lab.example"


@dataclass(frozen=True)
class LabNetwork:
    name: str
    prefix: str
    gateway: str
    domain: str
    dhcp_start: str
    dhcp_stop: str
    bridge: str
    vlan: int | None
    shared_network: str


NETWORKS = (
    LabNetwork("lan", "192.168.10.0/24", "192.168.10.1", DOMAIN, "192.168.10.100", "192.168.10.199",
               "vmbr0", None, "LAN"),
    LabNetwork("servers", "10.20.0.0/24", "10.20.0.1", SRV_DOMAIN, "10.20.0.200", "10.20.0.250",
               "vmbr0", 20, "SERVERS"),
)
CABIN_NETWORKS = (
    LabNetwork("cabin", "192.168.30.0/24", "192.168.30.1", CABIN_DOMAIN, "192.168.30.100", "192.168.30.199",
               "vmbr0", None, "CABIN"),
)
ALL_NETWORKS = NETWORKS + CABIN_NETWORKS


@dataclass(frozen=True)
class LabSite:
    """One site: its networks, its Proxmox cluster and its router (+ the router's dnsmasq).

    ``name`` is "" for site 1, whose systems are the default instances (``proxmox``,
    ``edgemax``), else the instance name of its systems (``proxmox.cabin``, ``edgemax.cabin``).
    """

    name: str
    cluster: str
    nodes: tuple[str, ...]
    router: str  # the router's host name
    networks: tuple[LabNetwork, ...]

    @property
    def domains(self) -> frozenset[str]:
        """The DNS zones the site's router answers for (its dnsmasq is authoritative for them)."""
        return frozenset(n.domain for n in self.networks)

    def node_ip(self, index: int) -> str:
        """The management address of the cluster's ``index``-th node (.11, .12, … of the first network)."""
        base = self.networks[0].gateway.rsplit(".", 1)[0]
        return f"{base}.{11 + index}"


HOME = LabSite("", "homelab", NODES, "edge", NETWORKS)
CABIN = LabSite("cabin", "cabin", CABIN_NODES, "cabin", CABIN_NETWORKS)
SITES = (HOME, CABIN)


def site_named(name: str) -> LabSite:
    """The site whose instance name is ``name`` ("" for site 1)."""
    for site in SITES:
        if site.name == name:
            return site
    raise KeyError(f"no lab site {name!r} (known: {', '.join(repr(s.name) for s in SITES)})")


@dataclass(frozen=True)
class LabNic:
    network: str  # LabNetwork.name
    mac: str  # upper-case as Proxmox generates it
    ip: str | None = None  # "a.b.c.d/nn" for a static config, None for dhcp
    model: str = "virtio"


@dataclass(frozen=True)
class LabGuest:
    vmid: int
    name: str
    type: str  # "qemu" or "lxc"
    node: str
    status: str  # "running" or "stopped"
    nics: tuple[LabNic, ...]
    agent: str = "none"  # qemu: "linux", "windows", "not-running", "none"
    tags: tuple[str, ...] = ()
    template: bool = False
    ostype: str = "l26"


@dataclass(frozen=True)
class LabLease:
    ip: str
    mac: str
    hostname: str | None
    pool: str
    expires: str = ""  # EdgeOS "YYYY/MM/DD HH:MM:SS" (UTC); empty: a day after the lab is seeded


@dataclass(frozen=True)
class Homelab:
    networks: tuple[LabNetwork, ...]
    guests: tuple[LabGuest, ...]
    config_boot: str
    leases: tuple[LabLease, ...]
    ipam_hosts: tuple[tuple[str, str, str], ...]  # (ip, node, description) already in the IPAM (NIPAP)
    extra: dict[str, str] = field(default_factory=dict)
    site: LabSite = HOME


def mac_for(vmid: int, nic: int = 0, site: str = "") -> str:
    """A stable Proxmox-style MAC (BC:24:11 prefix) for a guest NIC.

    Another site's cluster generates its own MACs: the same VMID there gets a different one.
    """
    key = f"{site}/{vmid}/{nic}" if site else f"{vmid}/{nic}"
    digest = hashlib.sha256(key.encode()).digest()
    return "BC:24:11:" + ":".join(f"{b:02X}" for b in digest[:3])


def _g(vmid: int, name: str, type_: str, node: str, status: str, nets: list[tuple[str, str | None]],
       site: str = "", **kw) -> LabGuest:
    nics = tuple(LabNic(net, mac_for(vmid, i, site), ip) for i, (net, ip) in enumerate(nets))
    return LabGuest(vmid, name, type_, node, status, nics, **kw)


BASE_GUESTS = (
    _g(9000, "debian-12-tpl", "qemu", "pve1", "stopped", [("lan", None)], template=True),
    _g(101, "web01", "qemu", "pve1", "running", [("lan", None)], agent="linux", tags=("web",)),
    _g(102, "web02", "qemu", "pve2", "running", [("lan", None)], agent="linux", tags=("web",)),
    _g(103, "db01", "qemu", "pve2", "running", [("servers", "10.20.0.10/24")], agent="not-running",
       tags=("db", "prod")),
    _g(104, "gitlab", "qemu", "pve3", "running", [("lan", None), ("servers", None)], agent="linux"),
    _g(105, "win11", "qemu", "pve3", "running", [("lan", None)], agent="windows", ostype="win11"),
    _g(106, "monitor", "qemu", "pve1", "stopped", [("servers", None)], agent="linux"),
    _g(107, "k8s-ctl", "qemu", "pve1", "running", [("servers", None)], agent="linux",
       tags=("k8s", "netsot-static")),
    _g(200, "dns", "lxc", "pve1", "running", [("lan", None)]),
    _g(201, "mqtt", "lxc", "pve2", "running", [("servers", "10.20.0.11/24")], tags=("iot",)),
    _g(202, "backup", "lxc", "pve3", "stopped", [("lan", None)]),
    _g(203, "grafana", "lxc", "pve2", "running", [("servers", None)]),
    _g(204, "pihole", "lxc", "pve3", "running", [("lan", "192.168.10.53/24")]),
    _g(205, "jellyfin", "qemu", "pve2", "running", [("lan", None)], agent="none"),
    _g(206, "nextcloud", "lxc", "pve1", "running", [("lan", None)], tags=("netsot-static",)),
)

NAS_MAC = "00:11:32:aa:bb:cc"
PRINTER_MAC = "30:05:5c:12:34:56"
TV_MAC = "a8:23:fe:01:02:03"
STALE_WEB02_MAC = "52:54:00:de:ad:01"  # web02's MAC before it was re-created on Proxmox


def homelab(guests: int = 15) -> Homelab:
    """The lab with ``guests`` guests (the base set, trimmed or extended with generated ones)."""
    real = [g for g in BASE_GUESTS if not g.template]
    chosen = real[:guests] if guests <= len(real) else real + _generated(guests - len(real))
    all_guests = (BASE_GUESTS[0], *chosen)
    return Homelab(
        networks=NETWORKS,
        guests=tuple(all_guests),
        config_boot=router_config_boot(),
        leases=_leases(chosen),
        ipam_hosts=(("192.168.10.1", "edge", "router"), ("192.168.10.20", "nas", "Synology NAS"),
                     ("10.20.0.1", "edge-srv", "router (servers)")),
    )


# The cabin's cluster. VMIDs 101 and 200 also exist on site 1 (web01, dns): separate clusters number
# their guests independently, and netsot keeps them apart by instance.
CABIN_GUESTS = (
    _g(101, "nvr", "qemu", "cab1", "running", [("cabin", None)], site="cabin", agent="linux",
       tags=("video",)),
    _g(110, "hass", "qemu", "cab2", "running", [("cabin", None)], site="cabin", agent="linux",
       tags=("iot", "netsot-static")),
    _g(111, "wiki", "lxc", "cab2", "stopped", [("cabin", None)], site="cabin"),
    _g(112, "media", "qemu", "cab1", "running", [("cabin", None)], site="cabin", agent="none"),
    _g(200, "cabdns", "lxc", "cab1", "running", [("cabin", "192.168.30.53/24")], site="cabin"),
)
AP_MAC = "74:83:c2:30:00:05"  # the cabin's Wi-Fi access point: a reservation and a host name on router 2


def cabin() -> Homelab:
    """Site 2: the cabin's cluster, router (one reservation + host name for the AP) and NIPAP part."""
    nvr, media = CABIN_GUESTS[0], CABIN_GUESTS[3]
    leases = (LabLease("192.168.30.150", "f0:18:98:30:01:02", "phone-ben", "CABIN"),
              LabLease("192.168.30.120", nvr.nics[0].mac.lower(), nvr.name, "CABIN"),
              LabLease("192.168.30.121", media.nics[0].mac.lower(), media.name, "CABIN"))
    return Homelab(
        networks=CABIN_NETWORKS,
        guests=CABIN_GUESTS,
        config_boot=cabin_config_boot(),
        leases=leases,
        ipam_hosts=(("192.168.30.1", "cabin", "router (cabin)"),),
        site=CABIN,
    )


def site_homelab(site: LabSite, guests: int = 15) -> Homelab:
    """The homelab of one site (``guests`` sizes site 1; the cabin has a fixed handful)."""
    return homelab(guests) if site == HOME else cabin()


def _generated(count: int) -> list[LabGuest]:
    out = []
    for i in range(count):
        vmid = 1000 + i
        net = "lan" if i % 3 else "servers"
        type_ = "qemu" if i % 2 else "lxc"
        out.append(_g(vmid, f"vm{vmid}", type_, NODES[i % 3], "running", [(net, None)],
                      agent="linux" if type_ == "qemu" and i % 4 == 1 else "none"))
    return out


def _leases(guests: list[LabGuest]) -> tuple[LabLease, ...]:
    leases = [LabLease("192.168.10.150", "f0:18:98:aa:01:02", "phone-anna", "LAN"),
              LabLease("192.168.10.151", "3c:22:fb:10:20:30", None, "LAN")]
    for g in guests[:6]:
        for nic in g.nics:
            if nic.ip is None and nic.network == "lan" and g.status == "running":
                octet = 100 + (g.vmid % 50)
                leases.append(LabLease(f"192.168.10.{octet}", nic.mac.lower(), g.name, "LAN"))
    return tuple(leases)


VERSIONS = (
    "config-management@1:conntrack@1:cron@1:dhcp-relay@1:dhcp-server@4:firewall@5:ipsec@5:nat@3:qos@1:"
    "quagga@2:suspend@1:system@4:ubnt-pptp@1:ubnt-udapi-server@1:ubnt-unms@1:ubnt-util@1:vrrp@1:"
    "vyatta-netflow@1:webgui@1:webproxy@1:zone-policy@1"
)


def router_config_boot() -> str:
    """The router's saved config: a few mappings (one stale, two conflicting) and host names."""
    return f"""firewall {{
    all-ping enable
    broadcast-ping disable
    ipv6-receive-redirects disable
    log-martians enable
    receive-redirects disable
    send-redirects enable
    source-validation disable
    syn-cookies enable
}}
interfaces {{
    ethernet eth0 {{
        address dhcp
        description Internet
        duplex auto
        speed auto
    }}
    ethernet eth1 {{
        address 192.168.10.1/24
        description LAN
        duplex auto
        speed auto
        vif 20 {{
            address 10.20.0.1/24
            description Servers
        }}
    }}
    loopback lo {{
    }}
}}
service {{
    dhcp-server {{
        disabled false
        hostfile-update disable
        shared-network-name LAN {{
            authoritative enable
            subnet 192.168.10.0/24 {{
                default-router 192.168.10.1
                dns-server 192.168.10.1
                domain-name {DOMAIN}
                lease 86400
                start 192.168.10.100 {{
                    stop 192.168.10.199
                }}
                static-mapping nas {{
                    ip-address 192.168.10.20
                    mac-address {NAS_MAC}
                }}
                static-mapping printer {{
                    ip-address 192.168.10.21
                    mac-address {PRINTER_MAC}
                }}
                static-mapping tv {{
                    ip-address 192.168.10.40
                    mac-address {TV_MAC}
                }}
                static-mapping tv-old {{
                    ip-address 192.168.10.41
                    mac-address {TV_MAC}
                }}
                static-mapping web02 {{
                    ip-address 192.168.10.30
                    mac-address {STALE_WEB02_MAC}
                }}
            }}
        }}
        shared-network-name SERVERS {{
            authoritative enable
            subnet 10.20.0.0/24 {{
                default-router 10.20.0.1
                dns-server 10.20.0.1
                domain-name {SRV_DOMAIN}
                lease 86400
                start 10.20.0.200 {{
                    stop 10.20.0.250
                }}
            }}
        }}
        static-arp disable
        use-dnsmasq disable
    }}
    dns {{
        forwarding {{
            cache-size 150
            listen-on eth1
            listen-on eth1.20
            name-server 1.1.1.1
        }}
    }}
    gui {{
        http-port 80
        https-port 443
        older-ciphers enable
    }}
    ssh {{
        port 22
        protocol-version v2
    }}
}}
system {{
    domain-name {DOMAIN}
    host-name edge
    login {{
        user ubnt {{
            authentication {{
                encrypted-password $6$lab$Q3n0tAr3alHash.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
            }}
            level admin
        }}
    }}
    name-server 127.0.0.1
    static-host-mapping {{
        host-name nas.{DOMAIN} {{
            alias nas
            inet 192.168.10.20
        }}
        host-name printer.{DOMAIN} {{
            alias printer
            inet 192.168.10.21
        }}
    }}
    time-zone UTC
}}


/* Warning: Do not remove the following line. */
/* === vyatta-config-version: "{VERSIONS}" === */
/* Release version: v2.0.9-hotfix.7.5622731.230615.0857 */
"""


def cabin_config_boot() -> str:
    """Router 2's saved config: the CABIN shared network, one reservation and one host name (the AP)."""
    return f"""interfaces {{
    ethernet eth0 {{
        address dhcp
        description Internet
    }}
    ethernet eth1 {{
        address 192.168.30.1/24
        description Cabin
    }}
    loopback lo {{
    }}
}}
service {{
    dhcp-server {{
        disabled false
        hostfile-update disable
        shared-network-name CABIN {{
            authoritative enable
            subnet 192.168.30.0/24 {{
                default-router 192.168.30.1
                dns-server 192.168.30.1
                domain-name {CABIN_DOMAIN}
                lease 86400
                start 192.168.30.100 {{
                    stop 192.168.30.199
                }}
                static-mapping ap {{
                    ip-address 192.168.30.5
                    mac-address {AP_MAC}
                }}
            }}
        }}
        static-arp disable
        use-dnsmasq disable
    }}
    dns {{
        forwarding {{
            cache-size 150
            listen-on eth1
            name-server 1.1.1.1
        }}
    }}
    ssh {{
        port 22
        protocol-version v2
    }}
}}
system {{
    domain-name {CABIN_DOMAIN}
    host-name cabin
    login {{
        user ubnt {{
            authentication {{
                encrypted-password $6$lab$Q3n0tAr3alHash.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
            }}
            level admin
        }}
    }}
    name-server 127.0.0.1
    static-host-mapping {{
        host-name ap.{CABIN_DOMAIN} {{
            alias ap
            inet 192.168.30.5
        }}
    }}
    time-zone UTC
}}


/* Warning: Do not remove the following line. */
/* === vyatta-config-version: "{VERSIONS}" === */
/* Release version: v2.0.9-hotfix.7.5622731.230615.0857 */
"""

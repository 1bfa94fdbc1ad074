"""The Proxmox simulator's seed of a lab site, and what each guest's network stack reports.

Owns: a site's homelab → its Proxmox seed (nodes, guests, configs, guest-agent / LXC interface
answers), and the pure "DHCP client" rule that decides which address a running guest holds right now
(its router's static mapping, else its lease, else its static / cloud-init address).
Must not: start processes or do I/O (the lab writes the seed to a file and starts the simulator).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from providers.lab.homelab import ALL_NETWORKS, Homelab, LabGuest
from providers.lab.seeds import static_mappings_by_mac

NET_BY_NAME = {n.name: n for n in ALL_NETWORKS}
_NET_KEY = re.compile(r"^net(\d+)$")
_STATS = {"rx-bytes": 1, "rx-packets": 1, "rx-errs": 0, "rx-dropped": 0,
          "tx-bytes": 1, "tx-packets": 1, "tx-errs": 0, "tx-dropped": 0}


def _net_value(guest: LabGuest, index: int) -> str:
    nic = guest.nics[index]
    net = NET_BY_NAME[nic.network]
    tag = f",tag={net.vlan}" if net.vlan else ""
    if guest.type == "qemu":
        return f"{nic.model}={nic.mac},bridge={net.bridge}{tag}"
    ip = f"ip={nic.ip},gw={net.gateway}" if nic.ip else "ip=dhcp"
    return f"name=eth{index},bridge={net.bridge},hwaddr={nic.mac},{ip}{tag},type=veth"


def guest_config(guest: LabGuest) -> dict[str, Any]:
    """The guest's Proxmox config as ``GET …/config`` returns it (without digest)."""
    cfg: dict[str, Any] = {"memory": 2048 if guest.type == "qemu" else 512, "cores": 2,
                           "ostype": guest.ostype if guest.type == "qemu" else "debian", "onboot": 1}
    key = "name" if guest.type == "qemu" else "hostname"
    cfg[key] = guest.name
    for i, _nic in enumerate(guest.nics):
        cfg[f"net{i}"] = _net_value(guest, i)
    if guest.type == "qemu":
        cfg["scsi0"] = f"local-lvm:vm-{guest.vmid}-disk-0,size=32G"
        cfg["scsihw"] = "virtio-scsi-pci"
        cloud_init = "netsot-static" in guest.tags or any(n.ip for n in guest.nics)
        if cloud_init:
            cfg["ide2"] = f"local-lvm:vm-{guest.vmid}-cloudinit,media=cdrom"
            for i, nic in enumerate(guest.nics):
                net = NET_BY_NAME[nic.network]
                cfg[f"ipconfig{i}"] = f"ip={nic.ip},gw={net.gateway}" if nic.ip else "ip=dhcp"
        if guest.agent != "none":
            cfg["agent"] = "1"
    else:
        cfg["rootfs"] = f"local-lvm:vm-{guest.vmid}-disk-0,size=8G"
        cfg["unprivileged"] = 1
    if guest.tags:
        cfg["tags"] = ";".join(guest.tags)
    if guest.template:
        cfg["template"] = 1
    return cfg


def proxmox_guest(guest: LabGuest) -> dict[str, Any]:
    """One guest in the Proxmox simulator's seed format (agent answers filled in later)."""
    entry: dict[str, Any] = {"vmid": guest.vmid, "type": guest.type, "node": guest.node,
                             "status": guest.status, "config": guest_config(guest)}
    if guest.type == "qemu":
        entry["lab_agent"] = guest.agent  # read by guest_answers: what kind of agent runs inside
        if guest.agent == "not-running":
            entry["agent_error"] = "not_running"
    return entry


def proxmox_seed(lab: Homelab) -> dict[str, Any]:
    """The Proxmox simulator seed of a site: its nodes, every guest, agent answers before any apply."""
    guests = [proxmox_guest(g) for g in lab.guests]
    static = static_mappings_by_mac(lab.config_boot)
    leases = {lease.mac.lower(): lease.ip for lease in lab.leases}
    for g in guests:
        g.update(guest_answers(g, static, leases))
    return {
        "cluster": lab.site.cluster,
        "nodes": [{"name": n, "online": True, "ip": lab.site.node_ip(i)}
                  for i, n in enumerate(lab.site.nodes)],
        "guests": guests,
    }


def _nic_addresses(guest: Mapping[str, Any], static: Mapping[str, str], leases: Mapping[str, str],
                   pinned: Mapping[str, str]) -> list[tuple[str, str, str | None, int]]:
    """(nic id, mac, ipv4 the guest holds or None, prefix length) for every NIC of a guest config;
    ``pinned`` (mac → ip): what a DHCP client keeps until its guest restarts."""
    from providers.proxmox import mapping

    cfg = guest.get("config") or {}
    # a VM with a cloud-init drive runs with what it applied at its last boot, not with today's config
    booted = guest.get("ci_active") if guest.get("type") == "qemu" and mapping.cloudinit_drive(cfg) else None
    ci = booted if isinstance(booted, Mapping) else cfg
    out = []
    for key in sorted(cfg, key=lambda k: (len(k), k)):
        m = _NET_KEY.match(key)
        if not m:
            continue
        try:
            if guest.get("type") == "lxc":
                net = mapping.parse_lxc_net(str(cfg[key]), key)
                mac, ip = net.get("hwaddr"), net.get("ip")
            else:
                net = mapping.parse_qemu_net(str(cfg[key]), key)
                mac = net.get("macaddr")
                ipcfg = ci.get(f"ipconfig{m.group(1)}")
                ip = mapping.parse_ipconfig(str(ipcfg), key).get("ip") if ipcfg else "dhcp"
        except (mapping.PropertyError, ValueError):
            continue
        if not mac:
            continue
        mac = mac.lower()
        if ip and "/" in ip:
            iface = ipaddress.ip_interface(ip)
            out.append((key, mac, str(iface.ip), iface.network.prefixlen))
        else:  # a DHCP client: the router's static mapping wins over a dynamic lease
            held = pinned.get(mac) or static.get(mac) or leases.get(mac)
            out.append((key, mac, held, _prefix_len(held)))
    return out


def _prefix_len(ip: str | None) -> int:
    if ip:
        for net in ALL_NETWORKS:
            if ipaddress.ip_address(ip) in ipaddress.ip_network(net.prefix):
                return ipaddress.ip_network(net.prefix).prefixlen
    return 24


def guest_answers(guest: Mapping[str, Any], static: Mapping[str, str],
                  leases: Mapping[str, str], pinned: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The simulator fields (``agent`` / ``interfaces``) a running guest reports right now.

    A guest on DHCP holds the router's static mapping for its MAC, else its lease, else nothing
    yet; a static guest holds its configured address — a VM with a cloud-init drive the one it booted
    with (``ci_active``), until it restarts through Proxmox. Windows agents name the NIC "Ethernet".
    """
    nics = _nic_addresses(guest, static, leases, pinned or {})
    if guest.get("type") == "lxc":
        ifaces: list[dict[str, Any]] = [{"name": "lo", "hwaddr": "00:00:00:00:00:00",
                                         "inet": "127.0.0.1/8", "inet6": "::1/128"}]
        for i, (_key, mac, ip, plen) in enumerate(nics):
            entry = {"name": f"eth{i}", "hwaddr": mac, "inet6": _link_local(mac) + "/64"}
            if ip:
                entry["inet"] = f"{ip}/{plen}"
            ifaces.append(entry)
        return {"interfaces": ifaces}
    # a guest made by `lab guest add` has no lab_agent: its agent is a Linux one when enabled
    kind = guest.get("lab_agent") or ("linux" if _agent_on(guest) else "none")
    if kind not in ("linux", "windows"):
        return {}
    windows = kind == "windows"
    result: list[dict[str, Any]] = []
    for i, (_key, mac, ip, plen) in enumerate(nics):
        addrs = [{"ip-address-type": "ipv6", "ip-address": _link_local(mac) + ("%6" if windows else ""),
                  "prefix": 64}]
        if ip:
            addrs.insert(0, {"ip-address-type": "ipv4", "ip-address": ip, "prefix": plen})
        name = ("Ethernet" if i == 0 else f"Ethernet {i + 1}") if windows else f"eth{i}"
        result.append({"name": name, "hardware-address": mac, "ip-addresses": addrs, "statistics": _STATS})
    loopback = {"name": "Loopback Pseudo-Interface 1" if windows else "lo",
                "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8},
                                 {"ip-address-type": "ipv6", "ip-address": "::1", "prefix": 128}]}
    if not windows:
        loopback["hardware-address"] = "00:00:00:00:00:00"
    return {"agent": [loopback, *result] if not windows else [*result, loopback]}


def _agent_on(guest: Mapping[str, Any]) -> bool:
    from providers.proxmox import mapping

    return guest.get("type") == "qemu" and mapping.agent_enabled((guest.get("config") or {}).get("agent"))


def _link_local(mac: str) -> str:
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 2
    eui = [*b[:3], 255, 254, *b[3:]]
    groups = [f"{eui[i] << 8 | eui[i + 1]:x}" for i in range(0, 8, 2)]
    return "fe80::" + ":".join(groups)

"""Shared fixtures: a seeded 3-node simulator over HTTPS and config/settings pointing at it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.config import Config
from engine.config.load import config_from_data
from providers.proxmox.sim.server import SimHandle, start_simulator

WINDOWS_AGENT = [
    {
        "name": "Ethernet",
        "hardware-address": "bc:24:11:00:02:03",
        "ip-addresses": [
            {"ip-address-type": "ipv6", "ip-address": "fe80::eec5:8eed:ca53:4dcc%6", "prefix": 64},
            {"ip-address-type": "ipv4", "ip-address": "192.168.1.30", "prefix": 24},
        ],
    },
    {
        "name": "Loopback Pseudo-Interface 1",
        "ip-addresses": [
            {"ip-address-type": "ipv6", "ip-address": "::1", "prefix": 128},
            {"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8},
        ],
    },
]


def _iface(name: str, mac: str, *ips: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "name": name,
        "hardware-address": mac,
        "ip-addresses": [{"ip-address-type": t, "ip-address": a, "prefix": p} for t, a, p in ips],
    }


LAB_SEED: dict[str, Any] = {
    "cluster": "lab",
    "nodes": [{"name": "pve1"}, {"name": "pve2"}, {"name": "pve3", "online": False}],
    "guests": [
        # pve1: QEMU guests
        {
            "vmid": 101,
            "type": "qemu",
            "node": "pve1",
            "status": "running",
            "config": {
                "name": "web01",
                "tags": "netsot-static;prod",
                "agent": "1",
                "onboot": 1,
                "net0": "virtio=BC:24:11:00:01:01,bridge=vmbr0,firewall=1",
                "ide2": "local-lvm:vm-101-cloudinit,media=cdrom",
                "ipconfig0": "ip=192.168.1.10/24,gw=192.168.1.1,ip6=auto",
            },
            "agent": [
                _iface("lo", "00:00:00:00:00:00", ("ipv4", "127.0.0.1", 8), ("ipv6", "::1", 128)),
                _iface(
                    "eth0",
                    "bc:24:11:00:01:01",
                    ("ipv4", "192.168.1.10", 24),
                    ("ipv6", "fe80::be24:11ff:fe00:101", 64),
                ),
            ],
        },
        {
            "vmid": 102,
            "type": "qemu",
            "node": "pve1",
            "status": "running",
            "config": {
                "name": "DB01",
                "agent": "enabled=1,fstrim_cloned_disks=1",
                "net0": "virtio=BC:24:11:00:01:02,bridge=vmbr0",
                "net1": "e1000=BC:24:11:00:01:12,bridge=vmbr0,tag=20",
                "net2": "virtio=BC:24:11:00:01:22,bridge=vmbr9",
                "ipconfig0": "ip=dhcp",
                "ipconfig1": "gw=10.20.0.1,ip=10.20.0.5/24",
            },
            "agent": [
                _iface("eth0", "bc:24:11:00:01:02", ("ipv4", "192.168.1.57", 24)),
                _iface("eth1", "BC:24:11:00:01:12", ("ipv4", "10.20.0.5", 24), ("ipv4", "169.254.3.3", 16)),
            ],
        },
        {
            "vmid": 103,
            "type": "qemu",
            "node": "pve1",
            "status": "stopped",
            "config": {
                "name": "idle",
                "agent": "1",
                "net0": "virtio=BC:24:11:00:01:03,bridge=vmbr0",
                "ipconfig0": "ip=dhcp",
            },
        },
        {
            "vmid": 104,
            "type": "qemu",
            "node": "pve1",
            "status": "running",
            "config": {"name": "noagent", "net0": "virtio=BC:24:11:00:01:04,bridge=vmbr0"},
        },
        {
            "vmid": 105,
            "type": "qemu",
            "node": "pve1",
            "status": "running",
            "agent_error": "not_running",
            "config": {"name": "agentdown", "agent": "1", "net0": "virtio=BC:24:11:00:01:05,bridge=vmbr0"},
        },
        {
            "vmid": 9000,
            "type": "qemu",
            "node": "pve1",
            "status": "stopped",
            "config": {"name": "tmpl", "template": 1, "net0": "virtio=BC:24:11:00:90:00,bridge=vmbr0"},
        },
        # pve2: containers, a Windows VM and a guest without RRD data yet
        {
            "vmid": 201,
            "type": "lxc",
            "node": "pve2",
            "status": "running",
            "config": {
                "hostname": "ct01",
                "tags": "netsot-static",
                "net0": "name=eth0,bridge=vmbr0,firewall=1,gw=192.168.1.1,hwaddr=BC:24:11:00:02:01,"
                "ip=192.168.1.20/24,ip6=auto,type=veth",
            },
            "interfaces": [
                {
                    "name": "lo",
                    "hwaddr": "00:00:00:00:00:00",
                    "inet": "127.0.0.1/8",
                    "hardware-address": "00:00:00:00:00:00",
                    "ip-addresses": [{"ip-address": "127.0.0.1", "ip-address-type": "inet", "prefix": 8}],
                },
                {
                    "name": "eth0",
                    "hwaddr": "bc:24:11:00:02:01",
                    "inet": "192.168.1.20/24",
                    "hardware-address": "bc:24:11:00:02:01",
                    "ip-addresses": [
                        {"ip-address": "192.168.1.20", "ip-address-type": "inet", "prefix": 24},
                        {"ip-address": "192.168.1.21", "ip-address-type": "inet", "prefix": 24},
                    ],
                },
            ],
        },
        {
            "vmid": 202,
            "type": "lxc",
            "node": "pve2",
            "status": "stopped",
            "config": {
                "hostname": "ct02",
                "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:02:02,ip=dhcp,tag=20,type=veth",
            },
        },
        {
            "vmid": 203,
            "type": "qemu",
            "node": "pve2",
            "status": "running",
            "agent": WINDOWS_AGENT,
            "config": {
                "name": "win01",
                "agent": "1",
                "ostype": "win11",
                "net0": "virtio=BC:24:11:00:02:03,bridge=vmbr0",
            },
        },
        {
            "vmid": 204,
            "type": "qemu",
            "node": "pve2",
            "status": "running",
            "no_rrd": True,
            "config": {"name": "fresh", "net0": "virtio=BC:24:11:00:02:04,bridge=vmbr0"},
        },
        # pve3: offline node
        {
            "vmid": 301,
            "type": "qemu",
            "node": "pve3",
            "status": "stopped",
            "config": {"name": "far01", "net0": "virtio=BC:24:11:00:03:01,bridge=vmbr0"},
        },
        {
            "vmid": 302,
            "type": "lxc",
            "node": "pve3",
            "status": "stopped",
            "config": {
                "hostname": "far02",
                "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:03:02,ip=dhcp",
            },
        },
    ],
}


def lab_seed() -> dict[str, Any]:
    return copy.deepcopy(LAB_SEED)


def make_config(h: SimHandle, **proxmox: Any) -> Config:
    user, name, value = h.token
    settings = {
        "host": "127.0.0.1",
        "port": h.port,
        "user": user,
        "token_name": name,
        "token_value": value,
        "verify_tls": str(h.ca_path),
        "timeout": 5,
        "agent_timeout": 3,
        **proxmox,
    }
    return config_from_data(
        {
            "providers": {
                "proxmox": settings,
                "nipap": {"url": "http://127.0.0.1:1/XMLRPC", "username": "u", "password": "p"},
            },
            "networks": [
                {
                    "name": "lan",
                    "prefix": "192.168.1.0/24",
                    "gateway": "192.168.1.1",
                    "proxmox": {"bridge": "vmbr0"},
                },
                {
                    "name": "iot",
                    "prefix": "10.20.0.0/24",
                    "gateway": "10.20.0.1",
                    "proxmox": {"bridge": "vmbr0", "vlan": 20},
                },
            ],
        }
    )


@pytest.fixture
def start_sim(tmp_path: Path) -> Iterator[Callable[..., SimHandle]]:
    handles: list[SimHandle] = []

    def start(seed: dict[str, Any] | None = None, **kw: Any) -> SimHandle:
        h = start_simulator(lab_seed() if seed is None else seed, tmp_path / f"sim{len(handles)}", **kw)
        handles.append(h)
        return h

    yield start
    for h in handles:
        h.stop()


@pytest.fixture
def sim(start_sim: Callable[..., SimHandle]) -> SimHandle:
    return start_sim()

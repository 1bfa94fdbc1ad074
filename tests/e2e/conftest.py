"""The end-to-end lab: the simulators + dnsmasq in this process, netsot as a subprocess.

The simulators run in-process (same seeds and runner code as `netsot lab up`): one NIPAP and, per
site, a Proxmox cluster, a router and its dnsmasq, so tests can act as "the world" (add / rename /
remove guests, hand-edit a router over SSH); the CLI always talks to them over their real
protocols (HTTPS, XML-RPC, SSH, DNS). ``lab`` is the one-site lab, ``lab2`` the two-site one.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.exception
import dns.resolver
import pytest

from core.config import system_key
from providers.edgemax.extract import extract
from providers.edgemax.sim.lab import start_router
from providers.lab import dns as labdns
from providers.lab import prepare, write_config
from providers.lab.homelab import SITES, LabGuest, LabNic, LabSite, mac_for
from providers.lab.runner import Paths
from providers.lab.seeds import VRF_NAME
from providers.nipap.sim.lab import start_nipap
from providers.proxmox.sim.lab import start_proxmox
from providers.proxmox.sim.seed import proxmox_guest
from tests.e2e.livenipap import start_live_nipap

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str  # stdout, then stderr
    stdout: str = ""
    stderr: str = ""

    def json(self) -> Any:
        return json.loads(self.stdout or self.out)


class Site:
    """One site of a running lab: its dnsmasq, Proxmox cluster and router, and helpers acting on them."""

    def __init__(self, paths: Paths, spec: LabSite, dnsmasq_binary: str) -> None:
        self.paths, self.spec = paths, spec
        self.dnsmasq = labdns.Dnsmasq(dnsmasq_binary, paths.hosts_file, spec.domains,
                                      paths.logs / f"{paths.process('dnsmasq')}.log")
        self.dnsmasq.start()
        self.pve: Any = None
        self.router: Any = None
        try:
            self.pve = start_proxmox(paths)
            self.router = start_router(paths, self.dnsmasq.reload)
        except BaseException:
            self.stop()
            raise

    @property
    def edgemax_key(self) -> str:
        return system_key("edgemax", self.spec.name)

    def stop(self) -> None:
        for part in (self.router, self.pve, self.dnsmasq):
            if part is not None:
                with contextlib.suppress(Exception):  # one failing part must not keep the others running
                    part.stop()

    # ---- the world acting on this site's Proxmox
    def add_guest(self, vmid: int, name: str, *, network: str | None = None, type_: str = "lxc",
                  ip: str | None = None, node: str | None = None, agent: str = "linux",
                  mac: str | None = None) -> str:
        nic = LabNic(network or self.spec.networks[0].name, mac or mac_for(vmid, site=self.spec.name), ip)
        kind = agent if type_ == "qemu" else "none"
        guest = LabGuest(vmid, name, type_, node or self.spec.nodes[0], "running", (nic,), agent=kind)
        self.pve.handle.add_guest(proxmox_guest(guest))
        self.pve.guests.refresh()
        return nic.mac.lower()

    def rename_guest(self, vmid: int, name: str) -> None:
        g = self.pve.handle.cluster.guests[vmid]
        self.pve.handle.set_config(vmid, "hostname" if g["type"] == "lxc" else "name", name)

    def remove_guest(self, vmid: int) -> None:
        self.pve.handle.remove_guest(vmid)

    # ---- the world acting on this site's router (a person over SSH)
    def router_configure(self, config_path: Path, *lines: str) -> None:
        from engine.config.load import load_config
        from providers.edgemax.session import EdgeSession

        config = load_config(config_path)
        assert config.providers.get(self.edgemax_key) is not None
        with EdgeSession(config.providers.get(self.edgemax_key), config) as session:
            session.configure(list(lines), "hand edit")

    # ---- reading this site's systems back (directly, not through netsot)
    def mappings(self) -> dict[str, dict[str, str | None]]:
        cfg = extract(self.router.active_tree())
        return {f"{sn.name}.{m.name}": {"ip": m.ip, "mac": m.mac} for sn, _s, m in cfg.mappings()}

    def host_entries(self) -> dict[str, tuple[str, ...]]:
        return {h.host_name: h.inet for h in extract(self.router.active_tree()).host_mappings}

    def resolve(self, name: str) -> str | None:
        """The A record this site's dnsmasq serves for ``name`` now (None for NXDOMAIN)."""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.dnsmasq.port
        resolver.lifetime = resolver.timeout = 2.0
        try:
            return str(resolver.resolve(name, "A", search=False)[0].address)
        except dns.resolver.NXDOMAIN:
            return None

    def resolve_eventually(self, name: str, want: str | None, seconds: float = 3.0) -> str | None:
        """dnsmasq reloads on SIGHUP asynchronously: wait (bounded) for the expected answer."""
        deadline = time.monotonic() + seconds
        got = self.resolve(name)
        while got != want and time.monotonic() < deadline:
            time.sleep(0.05)
            got = self.resolve(name)
        return got


class Lab:
    """A running lab (one NIPAP, one ``Site`` per site) plus the helpers tests use to act on it and to
    read it back. The site-level helpers without a site act on site 1 (``lab.home``)."""

    def __init__(self, root: Path, guests: int, sites: int = 1, nipap_url: str | None = None) -> None:
        """``nipap_url``: the real nipapd to use (its VRF seeded from the lab's seed) instead of the
        simulator."""
        self.paths = prepare(root, guests, sites)
        binary = labdns.find_dnsmasq()
        assert binary, "dnsmasq is not installed (apt-get install dnsmasq-base; `make setup` does it)"
        self.sites: list[Site] = []
        self.nipap: Any = None
        try:
            for spec in SITES[:sites]:
                self.sites.append(Site(self.paths.for_site(spec.name), spec, binary))
            if nipap_url:
                self.nipap = start_live_nipap(nipap_url, self.paths.seeds, self.paths.secrets)
            else:
                self.nipap = start_nipap(self.paths)
        except BaseException:
            self.stop()
            raise
        ports = {"nipap": self.nipap.port}
        for site in self.sites:
            ports[site.paths.process("proxmox")] = site.pve.port
            ports[site.paths.process("router")] = site.router.port
            ports[site.paths.process("dnsmasq")] = site.dnsmasq.port
        self.config = write_config(self.paths, ports, self.home.dnsmasq.port, sites)

    @property
    def home(self) -> Site:
        return self.sites[0]

    @property
    def cabin(self) -> Site:
        return self.sites[1]

    @property
    def pve(self) -> Any:
        return self.home.pve

    @property
    def router(self) -> Any:
        return self.home.router

    @property
    def dnsmasq(self) -> labdns.Dnsmasq:
        return self.home.dnsmasq

    def stop(self) -> None:
        for site in self.sites:
            site.stop()
        if self.nipap is not None:
            with contextlib.suppress(Exception):
                self.nipap.stop()

    # ---- running netsot
    def cli(self, *args: str, timeout: float = 120) -> Result:
        cmd = [sys.executable, "-m", "engine", "--no-color", "--config", str(self.config), *args]
        env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=str(REPO), check=False)
        return Result(proc.returncode, proc.stdout + proc.stderr, proc.stdout, proc.stderr)

    def plan_json(self) -> dict[str, Any]:
        cmd = [sys.executable, "-m", "engine", "--no-color", "--config", str(self.config), "plan", "--json"]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=str(REPO), check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(proc.stdout)

    def apply(self) -> Result:
        result = self.cli("apply", "--auto-approve")
        assert result.code == 0, result.out
        return result

    # ---- site 1's helpers (the tests written for one site)
    def add_guest(self, vmid: int, name: str, **kw: Any) -> str:
        return self.home.add_guest(vmid, name, **kw)

    def rename_guest(self, vmid: int, name: str) -> None:
        self.home.rename_guest(vmid, name)

    def remove_guest(self, vmid: int) -> None:
        self.home.remove_guest(vmid)

    def router_configure(self, *lines: str) -> None:
        self.home.router_configure(self.config, *lines)

    def mappings(self) -> dict[str, dict[str, str | None]]:
        return self.home.mappings()

    def host_entries(self) -> dict[str, tuple[str, ...]]:
        return self.home.host_entries()

    def resolve(self, name: str) -> str | None:
        return self.home.resolve(name)

    def resolve_eventually(self, name: str, want: str | None, seconds: float = 3.0) -> str | None:
        return self.home.resolve_eventually(name, want, seconds)

    # ---- reading NIPAP back (directly, not through netsot)
    def nipap_hosts(self) -> dict[str, dict[str, Any]]:
        """ip → {node, description, avps} of every host prefix in the lab VRF."""
        rows = [p for p in self.nipap.prefixes()
                if p["type"] == "host" and p.get("vrf_name") in (VRF_NAME, None)]
        return {p["prefix"].split("/")[0]: {"node": p.get("node"), "description": p.get("description"),
                                             "avps": dict(p.get("avps") or {}), "vrf_id": p.get("vrf_id")}
                for p in rows}

    def nipap_by_node(self, node: str) -> dict[str, Any] | None:
        found = [dict(v, ip=ip) for ip, v in self.nipap_hosts().items() if v["node"] == node]
        assert len(found) <= 1, found
        return found[0] if found else None

    def snapshot_unowned(self) -> dict[str, Any]:
        """What netsot must never touch: the refused tv/tv-old mappings and NIPAP's gateway hosts.

        (The NAS is declared under ``hosts:`` in the lab config, so netsot adopts its NIPAP entry.)
        """
        maps = self.mappings()
        hosts = self.nipap_hosts()
        return {
            "tv": maps.get("LAN.tv"),
            "tv-old": maps.get("LAN.tv-old"),
            "nipap": {ip: hosts.get(ip) for ip in ("192.168.10.1", "10.20.0.1")},
        }


def start_lab(tmp: Path, guests: int = 15, sites: int = 1, nipap_url: str | None = None) -> Iterator[Lab]:
    lab = Lab(tmp, guests, sites, nipap_url)
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from start_lab(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="module")
def live_lab(tmp_path_factory: pytest.TempPathFactory, live_nipap_url: str) -> Iterator[Lab]:
    """The lab with its NIPAP on the real nipapd 0.32.7 (a module overrides ``lab`` with it)."""
    yield from start_lab(tmp_path_factory.mktemp("livelab"), nipap_url=live_nipap_url)


@pytest.fixture(scope="module")
def lab2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The two-site lab: site 1 and the cabin (proxmox.cabin, edgemax.cabin) against one NIPAP."""
    yield from start_lab(tmp_path_factory.mktemp("lab2"), sites=2)

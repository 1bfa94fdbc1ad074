"""The lab's second site: its seeds, per-site files, the two-site config and the guests' DHCP per site."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

from engine.config.load import load_config
from providers.edgemax.sim.lab import hosts_text as render_hosts
from providers.lab import config_text, prepare
from providers.lab.homelab import AP_MAC, CABIN, HOME, cabin, homelab, mac_for
from providers.lab.runner import Paths
from providers.lab.seeds import static_mappings_by_mac
from providers.nipap.sim.lab import nipap_seed
from providers.proxmox.sim.lab import start_proxmox
from providers.proxmox.sim.seed import proxmox_seed
from providers.vyatta.parse import parse_boot
from tests.e2e.conftest import REPO

TODAY = {"seeds/proxmox.json", "seeds/nipap.json", "seeds/config.boot", "seeds/leases.json",
         "secrets/pve_token", "secrets/nipap_password", "id_ed25519", "id_ed25519.pub",
         # netsot-readonly.yaml's identities (netsot doctor's ✗ cases)
         "secrets/pve_token_readonly", "secrets/nipap_password_readonly"}
PORTS = {"proxmox": 1001, "nipap": 1002, "router": 1003, "proxmox.cabin": 2001, "router.cabin": 2003,
         "dnsmasq.cabin": 2004}


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_cabin_cluster_has_its_own_nodes_guests_and_macs() -> None:
    seed = proxmox_seed(cabin())
    assert seed["cluster"] == "cabin" and [n["name"] for n in seed["nodes"]] == ["cab1", "cab2"]
    assert {n["ip"] for n in seed["nodes"]} == {"192.168.30.11", "192.168.30.12"}
    by_vmid = {g["vmid"]: g for g in seed["guests"]}
    home = {g["vmid"]: g for g in proxmox_seed(homelab(15))["guests"]}
    overlap = set(by_vmid) & set(home)
    assert overlap == {101, 200}  # on purpose: separate clusters number their guests independently
    for vmid in overlap:
        assert by_vmid[vmid]["config"]["net0"] != home[vmid]["config"]["net0"]  # own MACs, own names
    assert {g["type"] for g in by_vmid.values()} == {"qemu", "lxc"}
    nvr = by_vmid[101]  # running, Linux agent, holds its lease before any apply
    ipv4 = [a["ip-address"] for i in nvr["agent"] for a in i["ip-addresses"]
            if a["ip-address-type"] == "ipv4"]
    assert "192.168.30.120" in ipv4
    assert by_vmid[200]["interfaces"][1]["inet"] == "192.168.30.53/24"  # the static one
    assert "netsot-static" in by_vmid[110]["config"]["tags"]
    assert all("bridge=vmbr0" in g["config"]["net0"] and "tag=" not in g["config"]["net0"]
               for g in by_vmid.values())
    assert mac_for(101) != mac_for(101, site="cabin")


def test_cabin_router_has_one_reservation_and_one_host_name_for_the_ap() -> None:
    lab = cabin()
    assert static_mappings_by_mac(lab.config_boot) == {AP_MAC: "192.168.30.5"}
    hosts = render_hosts(parse_boot(lab.config_boot)).splitlines()
    assert hosts[1:] == ["192.168.30.5 ap.cabin.lab.example ap"]
    assert "host-name cabin" in lab.config_boot and "shared-network-name CABIN" in lab.config_boot
    assert "LAN" not in lab.config_boot.replace("CABIN", "")
    assert {lease.pool for lease in lab.leases} == {"CABIN"} and len(lab.leases) >= 2


def test_one_nipap_holds_every_sites_prefixes_in_one_vrf() -> None:
    seed = nipap_seed(homelab(), cabin())
    rows = {p["prefix"]: p for p in seed["prefixes"]}
    assert rows["192.168.30.0/24"]["type"] == "assignment" and rows["192.168.30.0/24"]["vrf"] == "homelab"
    assert rows["192.168.30.1/32"]["node"] == "cabin"  # the cabin router's gateway, like site 1's
    assert rows["192.168.10.0/24"] == {p["prefix"]: p for p in nipap_seed(homelab())["prefixes"]}[
        "192.168.10.0/24"]
    assert nipap_seed(homelab()) == nipap_seed(homelab())  # one site: exactly what it was


def test_each_site_has_its_own_files() -> None:
    home, cab = Paths(Path("/lab")), Paths(Path("/lab")).for_site("cabin")
    own = ("site_seeds", "hosts_file", "dhcp_file", "known_hosts", "ca", "pve_token")
    for name in own:
        assert getattr(home, name) != getattr(cab, name), name
    assert home.hosts_file == Path("/lab/router-hosts") and home.known_hosts == Path("/lab/known_hosts")
    assert home.info(home.process("router")) != cab.info(cab.process("router"))
    assert home.state_dir(home.process("edgemax")) != cab.state_dir(cab.process("edgemax"))
    for shared in ("seeds", "secrets", "private_key", "config", "lab_json", "logs", "run"):
        assert getattr(home, shared) == getattr(cab, shared), shared


def test_prepare_one_site_writes_exactly_the_one_site_files(tmp_path: Path) -> None:
    prepare(tmp_path, guests=15)
    assert _files(tmp_path) == TODAY


def test_prepare_two_sites_adds_the_cabins_seeds_and_token(tmp_path: Path) -> None:
    paths = prepare(tmp_path, guests=3, sites=2)
    assert _files(tmp_path) == TODAY | {"seeds/cabin/proxmox.json", "seeds/cabin/config.boot",
                                        "seeds/cabin/leases.json", "secrets/pve_token-cabin",
                                        "secrets/pve_token_readonly-cabin"}
    prefixes = {p["prefix"] for p in json.loads((paths.seeds / "nipap.json").read_text())["prefixes"]}
    assert "192.168.30.0/24" in prefixes
    assert (paths.secrets / "pve_token-cabin").stat().st_mode & 0o777 == 0o600
    assert paths.secret("pve_token-cabin") != paths.secret("pve_token")


def test_two_site_config_names_the_cabins_instances(tmp_path: Path) -> None:
    paths = prepare(tmp_path, guests=3, sites=2)
    text = config_text(paths, PORTS, 1004, sites=2)
    doc = yaml.safe_load(text)
    assert set(doc["providers"]) == {"proxmox", "nipap", "edgemax", "proxmox.cabin", "edgemax.cabin"}
    assert doc["providers"]["edgemax.cabin"]["dns_server"] == "127.0.0.1:2004"
    assert doc["providers"]["edgemax"]["dns_server"] == "127.0.0.1:1004"
    paths.config.write_text(text)
    for ca in sorted({v["verify_tls"] for k, v in doc["providers"].items() if k.startswith("proxmox")}):
        Path(ca).write_text("-----BEGIN CERTIFICATE-----\n")  # each Proxmox simulator writes its CA
    config = load_config(paths.config)
    nets = {n.name: n for n in config.networks}
    assert config.instance_for(nets["cabin"], "edgemax") == "edgemax.cabin"
    assert config.instance_for(nets["cabin"], "proxmox") == "proxmox.cabin"
    assert config.instance_for(nets["lan"], "edgemax") == "edgemax" and len(config.networks) == 3
    cab = config.settings("proxmox.cabin")
    assert cab.token_value.resolve() == paths.secret("pve_token-cabin") and cab.port == 2001
    assert cab.verify_tls == str(tmp_path / "ca-cabin.pem")
    assert config.settings("edgemax.cabin").known_hosts == str(tmp_path / "known_hosts-cabin")
    one_site = config_text(paths, PORTS, 1004)
    assert "cabin" not in one_site and one_site == config_text(paths, PORTS, 1004, sites=1)
    no_dns = yaml.safe_load(config_text(paths, {k: v for k, v in PORTS.items() if "dnsmasq" not in k},
                                        None, sites=2))
    assert "dns_server" not in no_dns["providers"]["edgemax.cabin"]


def _agent_ipv4(handle: object, vmid: int, seconds: float = 3.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        guest = handle.cluster.guests[vmid]  # type: ignore[attr-defined]
        ips = [a["ip-address"] for i in guest.get("agent") or () for a in i["ip-addresses"]
               if a["ip-address-type"] == "ipv4" and a["ip-address"] != "127.0.0.1"]
        if ips != ["192.168.30.120"] or time.monotonic() > deadline:
            return ips
        time.sleep(0.05)


def test_a_sites_guests_take_their_own_routers_reservations(tmp_path: Path) -> None:
    paths = prepare(tmp_path, guests=3, sites=2)
    nvr_mac = mac_for(101, site="cabin").lower()
    paths.dhcp_file.write_text(json.dumps({"static": {nvr_mac: "192.168.10.99"}}))  # router 1: not nvr's
    cab = paths.for_site("cabin")
    cab.dhcp_file.write_text(json.dumps({"static": {nvr_mac: "192.168.30.44"}}))
    pve = start_proxmox(cab)
    try:
        assert pve.handle.cluster.guests[101]["config"]["name"] == "nvr"
        assert _agent_ipv4(pve.handle, 101) == ["192.168.30.44"]
        assert (tmp_path / "ca-cabin.pem").read_text() == pve.handle.ca_path.read_text()
        assert not (tmp_path / "ca.pem").exists()
    finally:
        pve.stop()


def test_runner_refuses_a_site_for_nipap(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "providers.lab.runner", "nipap", "--workdir", str(tmp_path),
                           "--site", "cabin"], capture_output=True, text=True, cwd=str(REPO), timeout=60,
                          check=False)
    assert proc.returncode == 2 and "no --site" in proc.stderr


def test_sites_are_the_home_lab_and_the_cabin() -> None:
    assert HOME.name == "" and HOME.router == "edge" and HOME.domains == {"lab.example", "srv.lab.example"}
    assert CABIN.name == "cabin" and CABIN.router == "cabin" and CABIN.domains == {"cabin.lab.example"}

"""The lab's kinds: each part's default, ``--router SITE=KIND`` checked, and a VyOS router for the cabin
(its seed, its config block, its hosts file and leases) — without starting processes, except the VyOS
simulator itself for the seed's commit check."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.config.load import load_config
from providers.lab import config_text, prepare, systems
from providers.lab.homelab import AP_MAC, cabin
from providers.lab.seeds import static_mappings_by_mac
from providers.vyatta.parse import parse_any
from providers.vyos.read import dialect, read
from providers.vyos.sim import lab as vyos_lab

PORTS = {"proxmox": 1001, "nipap": 1002, "router": 1003, "proxmox.cabin": 2001, "router.cabin": 2003,
         "dnsmasq.cabin": 2004}


def test_each_part_has_one_default_kind_and_a_router_may_be_another() -> None:
    assert systems.choose(["", "cabin"]) == {"proxmox": "proxmox", "nipap": "nipap", "router": "edgemax",
                                            "proxmox.cabin": "proxmox", "router.cabin": "edgemax"}
    chosen = systems.choose(["", "cabin"], {"cabin": "vyos"})
    assert chosen["router.cabin"] == "vyos" and chosen["router"] == "edgemax"
    assert systems.choose([""], {"home": "vyos"})["router"] == "vyos"
    assert systems.kinds_for("router") == ["edgemax", "vyos"]


@pytest.mark.parametrize(("asked", "error"), [
    ({"cabin": "nipap"}, "nipap is no router in the lab (routers: edgemax, vyos)"),
    ({"attic": "vyos"}, "no such site in this lab (sites: home, cabin)"),
    ({"cabin": "netbox"}, "'netbox' has no simulator in the lab"),
])
def test_a_router_choice_the_lab_cannot_run_is_refused(asked: dict[str, str], error: str) -> None:
    with pytest.raises(systems.LabChoiceError, match=error.replace("(", r"\(").replace(")", r"\)")):
        systems.choose(["", "cabin"], asked)


def test_router_values_need_site_and_kind() -> None:
    assert systems.parse_routers(["cabin=vyos", " home = edgemax "]) == {"cabin": "vyos", "home": "edgemax"}
    for bad in ("vyos", "cabin=", "=vyos"):
        with pytest.raises(systems.LabChoiceError, match="give SITE=KIND"):
            systems.parse_routers([bad])


def test_the_cabins_vyos_seed_is_its_homelab_router_in_the_15_dialect() -> None:
    script = vyos_lab.seed_script(cabin())
    cfg = read(parse_any(script))
    assert dialect(None, cfg) == "1.5" and cfg.subnet_ids == {"192.168.30.0/24": "1"}
    assert [(m.shared_network, m.name, m.ip, m.mac) for m in cfg.mappings] == [
        ("CABIN", "ap", "192.168.30.5", AP_MAC)]
    assert [(h.host_name, h.inet, h.aliases) for h in cfg.hosts] == [
        ("ap.cabin.lab.example", ("192.168.30.5",), ("ap",))]
    assert vyos_lab.static_from_tree(parse_any(script)) == static_mappings_by_mac(cabin().config_boot)
    assert vyos_lab.hosts_text(parse_any(script)).splitlines()[1:] == ["192.168.30.5 ap.cabin.lab.example ap"]


def test_the_vyos_simulator_commits_on_top_of_the_seed(tmp_path: Path) -> None:
    """The seed passes VyOS's commit checks: a configure that adds a reservation lands."""
    from providers.vyos.sim.server import start

    handle = start(vyos_lab.seed_script(cabin()), dialect="1.5", state_dir=tmp_path)
    try:
        base = ["service", "dhcp-server", "shared-network-name", "CABIN", "subnet", "192.168.30.0/24",
                "static-mapping", "cam"]
        reply = handle.router.handle("/configure", {"key": handle.key, "commands": [
            {"op": "set", "path": [*base, "ip-address", "192.168.30.20"]},
            {"op": "set", "path": [*base, "mac", "bc:24:11:00:30:20"]}]})
        assert reply.status == 200 and reply.body["success"], reply.body
        assert vyos_lab.static_from_tree(handle.router.running)["bc:24:11:00:30:20"] == "192.168.30.20"
    finally:
        handle.stop()


def test_leases_of_the_lab_file_become_the_simulators_table() -> None:
    rows = [{"ip": "192.168.30.120", "mac": "02:00:00:00:30:99", "expires": "2099/01/01 00:00:00",
             "pool": "CABIN", "hostname": "phone"}]
    (lease,) = vyos_lab.leases_of(rows)
    assert (lease.ip, lease.mac, lease.pool, lease.hostname, lease.expiry) == (
        "192.168.30.120", "02:00:00:00:30:99", "CABIN", "phone", "2099/01/01 00:00:00")
    with pytest.raises(KeyError):
        vyos_lab.leases_of([{"ip": "192.168.30.121"}])  # the watcher keeps the last good file


def test_two_site_config_with_a_vyos_cabin(tmp_path: Path) -> None:
    kinds = systems.choose(["", "cabin"], {"cabin": "vyos"})
    paths = prepare(tmp_path, guests=3, sites=2, kinds=kinds)
    assert (paths.seeds / "cabin" / "config.vyos").exists()
    assert not (paths.seeds / "cabin" / "config.boot").exists()
    assert (paths.secrets / "vyos_key-cabin").stat().st_mode & 0o777 == 0o600
    text = config_text(paths, PORTS, 1004, sites=2, kinds=kinds)
    doc = yaml.safe_load(text)
    assert set(doc["providers"]) == {"proxmox", "nipap", "edgemax", "proxmox.cabin", "vyos.cabin"}
    assert doc["providers"]["vyos.cabin"] == {
        "url": "https://127.0.0.1:2003", "api_key": "${file:secrets/vyos_key-cabin}",
        "ca_bundle": str(tmp_path / "vyos-ca-cabin.pem"), "dns_server": "127.0.0.1:2004"}
    paths.config.write_text(text)
    for ca in ("ca.pem", "ca-cabin.pem", "vyos-ca-cabin.pem"):
        (tmp_path / ca).write_text("-----BEGIN CERTIFICATE-----\n")  # each simulator writes its CA
    config = load_config(paths.config)
    nets = {n.name: n for n in config.networks}
    assert config.instance_for(nets["cabin"], "vyos") == "vyos.cabin"
    assert config.settings("vyos.cabin").api_key.resolve() == paths.secret("vyos_key-cabin")
    assert config.instance_for(nets["lan"], "edgemax") == "edgemax"

"""Pure parts of the lab: seeds, the router's hosts file, the guests' DHCP rule, the config text."""

from __future__ import annotations

from pathlib import Path

import yaml

from engine.config.load import load_config
from providers.edgemax.sim.lab import hosts_text as render_hosts
from providers.lab import config_text, prepare
from providers.lab.dns import dnsmasq_command
from providers.lab.homelab import NAS_MAC, STALE_WEB02_MAC, homelab, router_config_boot
from providers.lab.runner import Paths
from providers.lab.seeds import static_mappings_by_mac
from providers.nipap.sim.lab import nipap_seed
from providers.proxmox.sim.seed import guest_answers, proxmox_seed
from providers.vyatta.parse import parse_boot


def test_proxmox_seed_is_deterministic_and_covers_the_homelab() -> None:
    seed = proxmox_seed(homelab(15))
    assert seed == proxmox_seed(homelab(15))
    assert [n["name"] for n in seed["nodes"]] == ["pve1", "pve2", "pve3"]
    by_vmid = {g["vmid"]: g for g in seed["guests"]}
    assert by_vmid[9000]["config"]["template"] == 1
    assert by_vmid[103]["agent_error"] == "not_running" and "tag=20" in by_vmid[103]["config"]["net0"]
    assert by_vmid[103]["config"]["ipconfig0"] == "ip=10.20.0.10/24,gw=10.20.0.1"
    win = by_vmid[105]["agent"]
    assert win[0]["name"] == "Ethernet" and win[-1]["name"].startswith("Loopback")
    assert "netsot-static" in by_vmid[206]["config"]["tags"]
    assert by_vmid[201]["interfaces"][1]["inet"] == "10.20.0.11/24"


def test_dhcp_guest_holds_static_mapping_then_lease_then_nothing() -> None:
    guest = proxmox_seed(homelab(15))["guests"][1]  # web01, linux agent, dhcp
    mac = guest["config"]["net0"].split("=")[1].split(",")[0].lower()

    def ipv4(answers: dict) -> list[str]:
        return [a["ip-address"] for i in answers["agent"] for a in i["ip-addresses"]
                if a["ip-address-type"] == "ipv4" and a["ip-address"] != "127.0.0.1"]

    assert ipv4(guest_answers(guest, {mac: "192.168.10.7"}, {mac: "192.168.10.101"})) == ["192.168.10.7"]
    assert ipv4(guest_answers(guest, {}, {mac: "192.168.10.101"})) == ["192.168.10.101"]
    assert ipv4(guest_answers(guest, {}, {})) == []


def test_nipap_seed_has_vrf_prefixes_and_existing_hosts() -> None:
    seed = nipap_seed(homelab())
    assert seed["vrfs"][0]["name"] == "homelab"
    kinds = {p["prefix"]: p["type"] for p in seed["prefixes"]}
    assert kinds["192.168.10.0/24"] == "assignment" and kinds["10.20.0.0/24"] == "assignment"
    assert kinds["192.168.10.20/32"] == "host"


def test_static_mappings_include_stale_and_conflicting_entries() -> None:
    static = static_mappings_by_mac(router_config_boot())
    assert static[NAS_MAC] == "192.168.10.20" and static[STALE_WEB02_MAC] == "192.168.10.30"


def test_hosts_file_from_host_names_and_in_dnsmasq_mode_from_mappings() -> None:
    boot = router_config_boot()
    text = render_hosts(parse_boot(boot))
    assert "192.168.10.20 nas.lab.example nas" in text.splitlines()
    assert "tv.lab.example" not in text
    dnsmasq_mode = render_hosts(parse_boot(boot.replace("use-dnsmasq disable", "use-dnsmasq enable")))
    assert "192.168.10.40 tv.lab.example tv" in dnsmasq_mode.splitlines()


def test_dnsmasq_command_makes_the_zones_local_and_stays_on_loopback() -> None:
    cmd = dnsmasq_command("/usr/sbin/dnsmasq", Path("/x/hosts"), 5353, ["lab.example", "srv.lab.example"])
    assert "--no-daemon" in cmd and "--listen-address=127.0.0.1" in cmd and "--no-resolv" in cmd
    assert "--local=/lab.example/" in cmd and "--local=/srv.lab.example/" in cmd


def test_config_is_valid_and_references_secrets(tmp_path: Path) -> None:
    paths: Paths = prepare(tmp_path, guests=3)
    text = config_text(paths, {"proxmox": 1001, "nipap": 1002, "router": 1003}, 1004)
    assert yaml.safe_load(text)["providers"]["edgemax"]["dns_server"] == "127.0.0.1:1004"
    paths.config.write_text(text)
    paths.ca.write_text("-----BEGIN CERTIFICATE-----\n")  # written by the Proxmox simulator when it starts
    config = load_config(paths.config)
    assert config.providers.get("proxmox") is not None
    assert config.providers["proxmox"].token_value.resolve() == paths.secret("pve_token")
    assert (paths.secrets / "nipap_password").stat().st_mode & 0o777 == 0o600
    no_dns = config_text(paths, {"proxmox": 1, "nipap": 2, "router": 3}, None)
    assert "dns_server" not in (yaml.safe_load(no_dns)["providers"]["edgemax"])


def test_a_lease_runs_until_its_end_by_the_lab_clock() -> None:
    from datetime import UTC, datetime

    from providers.lab.seeds import lease_active

    now = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
    assert lease_active({"expires": "2026/12/07 12:00:01"}, now)
    assert not lease_active({"expires": "2026/12/07 12:00:00"}, now)
    assert not lease_active({"expires": "2021/03/14 16:36:13"}, now)
    assert lease_active({"expires": "never"}, now) and lease_active({"expires": None}, now)

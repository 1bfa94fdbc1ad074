"""Unit tests of the pure Proxmox mapping: property strings, tags, MACs, guest NICs (every fixture)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.errors import ProviderDataError
from providers.proxmox import mapping
from providers.proxmox.mapping import PropertyError
from tests.providers.proxmox.conftest import WINDOWS_AGENT

FIX = Path("/work/shared/fixtures/proxmox")


def fixture(name: str) -> Any:
    return json.loads((FIX / name).read_text())["data"]


def entry(vmid: int, gtype: str = "qemu", status: str = "running", **kw: Any) -> dict[str, Any]:
    return {"id": f"{gtype}/{vmid}", "vmid": vmid, "node": "testnode", "type": gtype, "status": status, **kw}


# ---------------------------------------------------------------- property strings


def test_qemu_net_parse_and_canonical_print() -> None:
    net = mapping.parse_qemu_net("virtio=BC:24:11:AA:BB:CC,tag=20,firewall=1,bridge=vmbr0")
    assert net == {
        "model": "virtio",
        "macaddr": "BC:24:11:AA:BB:CC",
        "tag": "20",
        "firewall": "1",
        "bridge": "vmbr0",
    }
    assert mapping.print_qemu_net(net) == "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1,tag=20"
    explicit = mapping.parse_qemu_net("model=e1000,macaddr=bc:24:11:00:00:01,bridge=vmbr1")
    assert mapping.print_qemu_net(explicit) == "e1000=bc:24:11:00:00:01,bridge=vmbr1"
    assert mapping.parse_qemu_net("virtio,bridge=vmbr0") == {"model": "virtio", "bridge": "vmbr0"}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("virtio=BC:24:11:AA:BB,bridge=vmbr0", "net0.macaddr"),
        ("virtio=BC:24:11:AA:BB:CC,tag=5000", "net0.tag"),
        ("virtio=BC:24:11:AA:BB:CC,bogus=1", "net0.bogus"),
        ("foo=BC:24:11:AA:BB:CC", "net0.foo"),
        ("virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,bridge=vmbr1", "bridge"),
    ],
)
def test_qemu_net_garbage(text: str, key: str) -> None:
    with pytest.raises(PropertyError) as err:
        mapping.parse_qemu_net(text, "net0")
    assert err.value.key == key


def test_mac_regex_is_pve_unicast_rule() -> None:
    assert mapping.is_valid_mac("BC:24:11:aa:bb:cc")
    assert not mapping.is_valid_mac("FF:FF:FF:FF:FF:FF")  # multicast: PVE rejects it
    assert not mapping.is_valid_mac("01:00:5e:00:00:01")
    assert not mapping.is_valid_mac("bc-24-11-aa-bb-cc")


def test_ipconfig_parse_rules_and_semantic_compare() -> None:
    assert mapping.parse_ipconfig("ip=10.100.1.174/24,gw=10.100.1.1,ip6=auto") == {
        "ip": "10.100.1.174/24",
        "gw": "10.100.1.1",
        "ip6": "auto",
    }
    assert mapping.ipconfig_equal("ip=10.0.0.5/24,gw=10.0.0.1", "gw=10.0.0.1,ip=10.0.0.5/24")
    assert not mapping.ipconfig_equal("ip=10.0.0.5/24", "ip=10.0.0.6/24")
    for bad, key in [
        ("gw=10.0.0.1", "ipconfig0.gw"),  # gw needs ip
        ("ip=10.0.0.5/7", "ipconfig0.ip"),  # prefix > 7
        ("ip=10.0.0.5", "ipconfig0.ip"),  # no prefix
        ("ip=dhcp,gw6=fe80::1", "ipconfig0.gw6"),  # gw6 needs ip6
        ("ip=300.0.0.1/24", "ipconfig0.ip"),
        ("ip=dhcp,foo=1", "ipconfig0.foo"),
    ]:
        with pytest.raises(PropertyError) as err:
            mapping.parse_ipconfig(bad, "ipconfig0")
        assert err.value.key == key, bad
    assert mapping.parse_ipconfig("ip=manual") == {"ip": "manual"}


def test_lxc_net_parse_print() -> None:
    text = "name=eth0,bridge=vmbr0,gw=10.1.1.1,hwaddr=FF:FF:FF:FF:FF:FF,ip=10.1.1.3/24,type=veth"
    net = mapping.parse_lxc_net(text)
    assert net["ip"] == "10.1.1.3/24" and net["gw"] == "10.1.1.1"
    assert mapping.print_lxc_net({"type": "veth", "ip": "dhcp", "bridge": "vmbr0", "name": "eth0"}) == (
        "name=eth0,bridge=vmbr0,ip=dhcp,type=veth"
    )
    with pytest.raises(PropertyError, match="name"):
        mapping.parse_lxc_net("bridge=vmbr0,ip=dhcp")
    with pytest.raises(PropertyError) as err:
        mapping.parse_lxc_net("name=eth0,type=macvlan", "net1")
    assert err.value.key == "net1.type"


def test_update_property_changes_only_one_key() -> None:
    text = "ip=10.100.1.174/24,gw=10.100.1.1,ip6=auto"
    assert mapping.update_property(text, "ip", "10.100.1.5/24") == "ip=10.100.1.5/24,gw=10.100.1.1,ip6=auto"
    assert mapping.update_property(text, "gw", None) == "ip=10.100.1.174/24,ip6=auto"
    assert mapping.update_property("ip=dhcp", "gw", "10.0.0.1") == "ip=dhcp,gw=10.0.0.1"
    assert mapping.update_property("", "ip", "dhcp") == "ip=dhcp"
    lxc = "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,tag=20,type=veth"
    assert mapping.update_property(lxc, "ip", "10.20.0.9/24") == lxc.replace("ip=dhcp", "ip=10.20.0.9/24")


def test_tags() -> None:
    assert mapping.parse_tags("one, two, three") == ("one", "three", "two")
    assert mapping.parse_tags("Prod;web;prod web") == ("prod", "web")
    assert mapping.parse_tags("go-proxmox+cloud-init") == ("go-proxmox+cloud-init",)
    assert mapping.parse_tags(None) == ()
    assert mapping.print_tags(["B", "a", "b"]) == "a;b"
    with pytest.raises(PropertyError):
        mapping.parse_tags("ok;-bad")


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ("1", True),
        ("1,fstrim_cloned_disks=1", True),
        ("enabled=1,type=virtio", True),
        ("0", False),
        ("enabled=0", False),
        (None, False),
        (1, True),
    ],
)
def test_agent_enabled(value: Any, on: bool) -> None:
    assert mapping.agent_enabled(value) is on


# ---------------------------------------------------------------- guest_nics on every fixture


def test_fixture_qemu_101_with_agent() -> None:
    cfg = fixture("ansible_qemu_101_config.json")
    agent = fixture("ansible_agent_network_get_interfaces_101.json")
    g = mapping.guest_nics(entry(101), cfg, agent["result"], None)
    assert (g.name, g.type, g.tags, g.template) == ("test-qemu", "qemu", ("one", "three", "two"), False)
    assert g.digest == cfg["digest"]
    (nic,) = g.nics
    assert (nic.id, nic.mac, nic.bridge, nic.vlan, nic.ip, nic.gateway) == (
        "net0",
        "ff:ff:ff:ff:ff:ff",
        "vmbr0",
        None,
        None,
        None,
    )
    # loopback dropped; the (edited) sample gives eth0 and docker0 the same MAC
    assert nic.agent_ips == ("10.1.2.3", "fd8c:4687:e88d:1be3:5b70:7b88:c79c:293", "10.10.2.3")
    assert nic.ip_mode is None


def test_fixture_agent_error_in_result_means_no_ips() -> None:
    cfg = fixture("ansible_qemu_101_config.json")
    err = fixture("ansible_agent_network_get_interfaces_102_error_in_result.json")
    g = mapping.guest_nics(entry(101), cfg, err, None)
    assert g.nics[0].agent_ips == ()


def test_fixture_windows_config_and_windows_agent() -> None:
    cfg = dict(fixture("ansible_qemu_102_config_windows.json"))
    cfg["net0"] = "virtio=BC:24:11:00:02:03,bridge=vmbr0"  # give it the MAC the agent reports
    g = mapping.guest_nics(entry(102), cfg, WINDOWS_AGENT, None)
    assert g.name == "test-qemu-windows"
    assert g.nics[0].mac == "bc:24:11:00:02:03"
    assert g.nics[0].agent_ips == ("192.168.1.30",)  # fe80::…%6 dropped, loopback without MAC ignored


def test_fixture_multinic() -> None:
    cfg = fixture("ansible_qemu_103_config_multinic.json")
    agent = fixture("ansible_agent_network_get_interfaces_103_multinic.json")
    g = mapping.guest_nics(entry(103), cfg, agent["result"], None)
    assert [(n.id, n.bridge) for n in g.nics] == [("net0", "vmbr0"), ("net1", "vmbr1")]
    assert "127.0.0.1" not in g.nics[0].agent_ips and "10.0.0.133" in g.nics[0].agent_ips


def test_fixture_pve9_cloudinit_static() -> None:
    cfg = fixture("pve9_qemu_config_cloudinit_ipconfig.json")
    g = mapping.guest_nics(entry(111), cfg, None, None)
    nic = g.nics[0]
    assert (nic.mac, nic.ip, nic.gateway, nic.ip_mode, nic.address) == (
        "bc:24:11:4e:8f:d1",
        "10.100.1.174/24",
        "10.100.1.1",
        "static",
        "10.100.1.174",
    )
    assert g.name == "VM 111"  # no name in config nor resource entry → PVE's default


def test_fixture_lxc_static_and_legacy_interfaces() -> None:
    cfg = dict(fixture("ansible_lxc_100_config.json"))
    legacy = fixture("gp8_lxc_interfaces_legacy.json")
    cfg["net0"] = cfg["net0"].replace("FF:FF:FF:FF:FF:FF", "BC:24:11:89:67:07")
    g = mapping.guest_nics(entry(100, "lxc"), cfg, None, legacy)
    nic = g.nics[0]
    assert (g.name, nic.ip, nic.gateway, nic.mac) == (
        "test-lxc",
        "10.1.1.3/24",
        "10.1.1.1",
        "bc:24:11:89:67:07",
    )
    assert nic.agent_ips == ("192.168.3.95",)  # fe80 EUI-64 dropped


def test_fixture_cluster_resources_and_template() -> None:
    resources = fixture("gp8_cluster_resources_all.json")
    tmpl = next(r for r in resources if r["vmid"] == 101)
    g = mapping.guest_nics(tmpl, {"net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0"}, None, None)
    assert g.template and g.name == "leap154"
    tagged = next(r for r in resources if r["vmid"] == 102)
    assert mapping.guest_nics(tagged, {}, None, None).tags == ("go-proxmox+cloud-init",)
    # the edited Ansible sample has string vmids: tolerated on read
    edited = fixture("ansible_cluster_resources_type_vm.json")[0]
    assert mapping.guest_nics(edited, fixture("ansible_lxc_100_config.json"), None, None).vmid == 100


def test_lxc_new_interfaces_format_and_link_local() -> None:
    cfg = {"hostname": "c", "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:09,ip=dhcp"}
    ifaces = [
        {
            "name": "eth0",
            "hwaddr": "bc:24:11:00:00:09",
            "inet": "169.254.1.1/16",
            "hardware-address": "bc:24:11:00:00:09",
            "ip-addresses": [
                {"ip-address": "169.254.1.1", "ip-address-type": "inet", "prefix": 16},
                {"ip-address": "10.0.0.9", "ip-address-type": "inet", "prefix": 24},
                {"ip-address": "2001:db8::9", "ip-address-type": "inet6", "prefix": 64},
            ],
        }
    ]
    g = mapping.guest_nics(entry(5, "lxc"), cfg, None, ifaces)
    assert g.nics[0].ip == "dhcp" and g.nics[0].ip_mode == "dhcp" and g.nics[0].address is None
    assert g.nics[0].agent_ips == ("10.0.0.9", "2001:db8::9")


def test_no_rrd_entry_and_name_fallbacks() -> None:
    e = {"id": "lxc/120", "vmid": 120, "node": "pve1", "type": "lxc", "status": "unknown"}
    g = mapping.guest_nics(e, {"net0": "name=eth0,bridge=vmbr0"}, None, None)
    assert (g.name, g.status, g.nics[0].mac) == ("CT120", "unknown", None)


@pytest.mark.parametrize(
    ("cfg", "words"),
    [
        ({"name": "bad", "net0": "virtio=zz:24:11:00:00:01,bridge=vmbr0"}, ["100", "bad", "net0"]),
        ({"name": "bad", "net0": "virtio=BC:24:11:00:00:01", "ipconfig0": "gw=1.2.3.4"}, ["ipconfig0"]),
        ({"name": "bad", "tags": "a;;-x"}, ["tags"]),
    ],
)
def test_garbage_raises_provider_data_error_naming_guest_and_key(
    cfg: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(ProviderDataError) as err:
        mapping.guest_nics(entry(100), cfg, None, None)
    text = str(err.value)
    assert text.startswith("proxmox: guest testnode/100 (bad)")
    for w in words:
        assert w in text


def test_garbage_resource_entry() -> None:
    with pytest.raises(ProviderDataError, match="vmid"):
        mapping.guest_nics({"vmid": "x", "node": "n", "type": "qemu"}, {}, None, None)
    with pytest.raises(ProviderDataError, match="type"):
        mapping.guest_nics({"vmid": 1, "node": "n", "type": "openvz"}, {}, None, None)
    with pytest.raises(ProviderDataError, match="interfaces"):
        mapping.guest_nics(entry(1), {"net0": "virtio,bridge=vmbr0"}, ["not-a-dict"], None)

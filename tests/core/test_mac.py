"""One MAC normalisation (core.names): every form the real systems give, and every reader using it."""

from __future__ import annotations

import pytest

from core.errors import ProviderRejected
from core.names import mac_or_text, normalize_mac

CANON = "bc:24:11:5e:0a:01"


@pytest.mark.parametrize("given", [
    "BC:24:11:5E:0A:01",       # Proxmox: netN virtio=BC:24:11:…, agent hardware-address
    "bc:24:11:5e:0a:01",       # EdgeOS / VyOS: lower-case colon groups
    "bc:24:11:5e:a:1",         # EdgeOS stores 1-2 hex digit groups as typed
    "Bc:24:11:5E:0a:01",       # a router entry typed in mixed case
    "BC-24-11-5E-0A-01",       # dashes (Windows, NIPAP free text)
    "bc24.115e.0a01",          # dots (Cisco style, NIPAP free text)
    "BC24115E0A01",            # bare hex (NIPAP free text)
    "  bc:24:11:5e:0a:01\n",   # NIPAP free text with blanks around
])  # fmt: skip
def test_every_form_a_system_gives_becomes_the_one_form(given: str) -> None:
    assert normalize_mac(given) == CANON
    assert mac_or_text(given) == CANON


@pytest.mark.parametrize("bad", [
    "bc:24:11:5e:0a", "bc:24:11:5e:0a:01:02", "bc:24-11:5e:0a:01", "bc:24:11:5e:0a:0g", "bc.24.11.5e.0a.01",
    "MAC bc:24:11:5e:0a:01", "", "virtio=BC:24:11:5E:0A:01",
])  # fmt: skip
def test_what_is_no_mac_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a MAC address"):
        normalize_mac(bad)


def test_read_leniently_free_text_is_kept_as_written_and_nothing_is_none() -> None:
    assert mac_or_text("see ticket 42 ") == "see ticket 42"
    assert mac_or_text("MAC BC:24:11:5E:0A:01") == "mac bc:24:11:5e:0a:01"  # never equals a MAC
    assert mac_or_text(None) is None
    assert mac_or_text("  ") is None


def test_proxmox_reads_its_nic_through_core() -> None:
    from providers.proxmox.mapping import normalize_read_mac, parse_qemu_net

    net = parse_qemu_net("virtio=BC:24:11:5E:0A:01,bridge=vmbr0,firewall=1", "net0")
    assert normalize_read_mac("net0.macaddr", net["macaddr"]) == CANON


def test_edgeos_reads_mappings_and_leases_through_core() -> None:
    from providers.edgemax.extract import extract
    from providers.edgemax.leases import parse_dhcpd_leases
    from providers.vyatta.parse import parse_commands

    tree = parse_commands(
        "set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping nas "
        "ip-address 192.168.1.10\n"
        "set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping nas "
        "mac-address BC:24:11:5E:A:1\n")
    ((_sn, _subnet, mapping),) = extract(tree).mappings()
    assert mapping.mac == CANON
    leases = parse_dhcpd_leases("lease 192.168.1.50 {\n  binding state active;\n  ends never;\n"
                                "  hardware ethernet BC-24-11-5E-0A-01;\n}\n", active_only=False)
    assert [lease.mac for lease in leases] == [CANON]


def test_nipap_reads_a_persons_mac_avp_through_core() -> None:
    from providers.nipap.mapping import host_attributes

    row = {"prefix": "192.168.1.10/32", "node": "nas", "avps": {"mac": "bc24.115e.0a01"}}
    assert host_attributes(row)["mac"] == CANON
    row["avps"] = {"mac": "the blue one"}
    assert host_attributes(row)["mac"] == "the blue one"


def test_vyos_reads_leases_through_core() -> None:
    from providers.vyos.leases import parse_leases

    text = ("IP Address    MAC address        State    Lease start          Lease expiration     "
            "Remaining    Pool    Hostname    Origin\n"
            "------------  -----------------  -------  -------------------  -------------------  "
            "-----------  ------  ----------  --------\n"
            "192.168.1.50  BC:24:11:5E:0A:01  active   2026/12/07 10:00:00  2026/12/08 10:00:00  "
            "23:59:59     LAN     nas         local\n")
    (lease,) = parse_leases(text)
    assert lease.mac == CANON


def test_edgeos_renders_its_mac_from_core_and_refuses_what_is_no_router_mac() -> None:
    from providers.edgemax.commands import router_mac

    assert router_mac("BC-24-11-5E-0A-01") == CANON
    with pytest.raises(ProviderRejected):
        router_mac("bc24.115e.0a01")  # not six groups: the planner never sends it

"""#11 item 10, the guest-side edges, through the CLI against the lab: a multicast MAC gets no
reservation (a conflict says why), an IPv6-only guest's IPv4 reservation comes with a note, and a
NIC on a bridge no network maps is listed as unmanaged (and logged at debug by plan)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]


def test_a_multicast_mac_is_a_conflict_not_a_reservation(lab: Lab) -> None:
    lab.add_guest(160, "mcast", type_="qemu", mac="03:00:5E:00:00:10")  # group bit set
    doc = lab.plan_json()
    (conflict,) = [c for c in doc["conflicts"] if c["kind"] == "invalid_mac"]
    assert "03:00:5e:00:00:10" in conflict["reason"] and "multicast" in conflict["reason"]
    assert "edgemax_dhcp_mapping.LAN.mcast" in conflict["blocked"]
    assert not [c for c in doc["changes"] if "mcast" in c["address"]]
    lab.remove_guest(160)


def test_an_ipv6_only_guest_gets_an_ipv4_reservation_with_a_note(lab: Lab) -> None:
    lab.add_guest(161, "v6only", type_="qemu", agent="none")
    lab.pve.handle.set_config(161, "ipconfig0", "ip6=auto")
    doc = lab.plan_json()
    assert [c["address"] for c in doc["changes"] if "v6only" in c["address"] and c["action"] == "create"]
    notes = [w for w in doc["warnings"] if "v6only" in w]
    assert notes == ["proxmox pve1/161 net0 (v6only) has IPv6 only (no IPv4 configured or in use); netsot "
                     "still gives it an IPv4 address, reservation and DNS name"]
    assert notes[0] in lab.cli("plan").out
    lab.remove_guest(161)


def test_a_nic_on_an_unmapped_bridge_is_unmanaged(lab: Lab) -> None:
    lab.add_guest(162, "lonely", type_="lxc")
    net0 = lab.pve.handle.config(162)["net0"]
    lab.pve.handle.set_config(162, "net0", net0.replace("bridge=vmbr0", "bridge=vmbr9"))
    inventory = lab.cli("inventory", "proxmox")
    assert inventory.code == 0, inventory.out
    assert "unmanaged: 1 NIC(s) on a bridge/VLAN no configured network maps: pve1/162 net0 (bridge vmbr9" \
        in inventory.out
    doc = lab.cli("inventory", "proxmox", "--json").json()
    (guest,) = [g for g in doc if g["vmid"] == 162]
    assert guest["nics"][0]["network"] is None
    assert {n["network"] for g in doc if g["vmid"] == 101 for n in g["nics"]} == {"lan"}
    debug = lab.cli("--debug", "plan")
    assert "proxmox pve1/162 net0 (lonely) is on bridge vmbr9, VLAN none, which no configured network maps" \
        in debug.out
    lab.remove_guest(162)

"""`netsot import ADDR ID` (#16): one object of each system, named by that system's own ID, through the
CLI against the lab — a NIPAP host by IP or by prefix id, a Proxmox NIC by node/vmid/netN, a router
entry by its config path — refusing what does not exist, an ADDR that is not the object's, and what
netsot already manages. Bulk `netsot import SYSTEM` keeps working. The tests share one lab, in order."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest

from providers.lab.seeds import VRF_NAME
from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

PRINTER_PATH = "service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping printer"


def _state(lab: Lab) -> list[str]:
    """The addresses `state list` prints (an adopted object's line says `(adopted)` after it)."""
    return [line.split()[0] for line in _state_lines(lab)]


def _state_lines(lab: Lab) -> list[str]:
    result = lab.cli("state", "list")
    assert result.code == 0, result.out
    return result.stdout.splitlines()


def _nipap_host(lab: Lab, ip: str, node: str, mac: str) -> int:
    password = lab.paths.secret("nipap_password")
    proxy = xmlrpc.client.ServerProxy(f"http://netsot:{password}@127.0.0.1:{lab.nipap.port}/XMLRPC",
                                      allow_none=True)
    auth: dict[str, Any] = {"authoritative_source": "nipap-www"}
    vrf = proxy.list_vrf({"auth": auth, "vrf": {"name": VRF_NAME}})[0]
    row = proxy.add_prefix({"auth": auth, "attr": {"prefix": f"{ip}/32", "type": "host", "node": node,
                                                   "vrf_id": vrf["id"], "avps": {"mac": mac}}})
    return int(row["id"])


def test_a_router_entry_by_its_config_path(lab: Lab) -> None:
    result = lab.cli("import", "edgemax_dhcp_mapping.LAN.printer", PRINTER_PATH)
    assert result.code == 0, result.out
    assert "edgemax_dhcp_mapping.LAN.printer  adopt" in result.stdout
    assert "Recorded 1 object(s) in the state" in result.stdout
    assert _state(lab) == ["edgemax_dhcp_mapping.LAN.printer"]  # one object: the host name stays unmanaged
    assert _state_lines(lab) == ["edgemax_dhcp_mapping.LAN.printer  (adopted)"]  # netsot did not make it
    host = lab.cli("import", "edgemax_host.printer.lab.example",
                   "system static-host-mapping host-name printer.lab.example")
    assert host.code == 0, host.out
    assert "edgemax_host.printer.lab.example" in _state(lab)


def test_refusals_name_the_problem(lab: Lab) -> None:
    again = lab.cli("import", "edgemax_dhcp_mapping.LAN.printer", PRINTER_PATH)
    assert again.code == 1
    assert again.stderr.strip() == ("Error: edgemax_dhcp_mapping.LAN.printer is already managed by netsot "
                                    "(`netsot state show edgemax_dhcp_mapping.LAN.printer`); to import it "
                                    "again, `netsot state rm` it first")
    wrong = lab.cli("import", "edgemax_dhcp_mapping.LAN.nas", PRINTER_PATH)
    assert wrong.code == 1
    assert "is edgemax_dhcp_mapping.LAN.printer to netsot, not edgemax_dhcp_mapping.LAN.nas" in wrong.stderr
    missing = lab.cli("import", "edgemax_dhcp_mapping.LAN.ghost", PRINTER_PATH.replace("printer", "ghost"))
    assert missing.code == 1 and "the router edgemax has no entry at 'service dhcp-server" in missing.stderr
    shared_mac = lab.cli("import", "edgemax_dhcp_mapping.LAN.tv", PRINTER_PATH.replace("printer", "tv"))
    assert shared_mac.code == 1
    assert "cannot import edgemax_dhcp_mapping.LAN.tv: MAC a8:23:fe:01:02:03 is used by 2 static mappings" \
        in shared_mac.stderr
    bad_path = lab.cli("import", "edgemax_dhcp_mapping.LAN.tv", "interfaces ethernet eth0")
    assert bad_path.code == 1 and "is not the config path of a router entry" in bad_path.stderr
    assert "edgemax_dhcp_mapping.LAN.tv" not in _state(lab)


def test_a_nipap_host_by_ip_and_by_id(lab: Lab) -> None:
    by_ip_id = _nipap_host(lab, "192.168.10.81", "scanner", "0c:8b:95:00:00:81")
    by_id = _nipap_host(lab, "192.168.10.82", "doorbell", "0c:8b:95:00:00:82")
    first = lab.cli("import", "nipap_address.lan.scanner", "192.168.10.81")
    assert first.code == 0, first.out
    second = lab.cli("import", "nipap_address.lan.doorbell", str(by_id))
    assert second.code == 0, second.out
    assert {"nipap_address.lan.scanner", "nipap_address.lan.doorbell"} <= set(_state(lab))
    show = lab.cli("state", "show", "nipap_address.lan.scanner")
    assert f"provider_id = {by_ip_id}" in show.stdout and "origin      = import" in show.stdout
    wrong = lab.cli("import", "nipap_address.lan.nas", str(by_id))
    assert wrong.code == 1
    assert "is nipap_address.lan.doorbell to netsot, not nipap_address.lan.nas" in wrong.stderr
    none = lab.cli("import", "nipap_address.lan.x", "999999")
    assert none.code == 1 and "NIPAP holds no host with id or address 999999" in none.stderr
    # the imported host now stands for a binding: the router gets its reservation
    plan = lab.plan_json()
    assert "edgemax_dhcp_mapping.LAN.scanner" in {c["address"] for c in plan["changes"]}


def test_a_proxmox_nic_by_node_vmid_and_nic(lab: Lab) -> None:
    tagged = lab.cli("import", "proxmox_ipconfig.pve1.206.net0", "pve1/206/net0")  # nextcloud, netsot-static
    assert tagged.code == 0, tagged.out
    assert "proxmox_ipconfig.pve1.206.net0" in _state(lab)
    untagged = lab.cli("import", "proxmox_ipconfig.pve1.101.net0", "pve1/101/net0")  # web01: no tag
    assert untagged.code == 1
    assert "guest pve1/101 (web01) is not tagged netsot-static, so netsot may not write its address" \
        in untagged.stderr
    elsewhere = lab.cli("import", "proxmox_ipconfig.pve2.101.net0", "pve2/101/net0")
    assert elsewhere.code == 1 and "has no guest 101 on node pve2 (it is on pve1)" in elsewhere.stderr
    no_nic = lab.cli("import", "proxmox_ipconfig.pve1.206.net3", "pve1/206/net3")
    assert no_nic.code == 1 and "has no net3 (its NICs: net0)" in no_nic.stderr


def test_bulk_import_still_works_beside_single_ones(lab: Lab) -> None:
    bulk = lab.cli("import", "edgemax")
    assert bulk.code == 0, bulk.out
    assert "edgemax_dhcp_mapping.LAN.printer  managed" in bulk.stdout
    assert "edgemax_dhcp_mapping.LAN.nas" in _state(lab)
    assert lab.cli("import", "nipap_address.lan").code == 1  # an address without an ID is not a system


def test_replace_is_the_users_explicit_way_to_have_netsot_make_an_adopted_entry(lab: Lab) -> None:
    """#20.1: `apply --replace ADDR` of an adopted entry is allowed (the user names it): netsot deletes and
    creates it, and from then on records it as made (so it deletes it when its source goes)."""
    printer = "edgemax_dhcp_mapping.LAN.printer"
    assert f"{printer}  (adopted)" in _state_lines(lab)
    before = lab.mappings()["LAN.printer"]
    result = lab.cli("apply", "--auto-approve", "--force", "--replace", printer)
    assert result.code == 0, result.out
    assert lab.mappings()["LAN.printer"] == before
    assert printer in _state_lines(lab)  # no suffix: made
    assert "ownership" in (shown := lab.cli("state", "show", printer).stdout) and "= made" in shown

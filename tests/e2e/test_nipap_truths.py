"""#20.3, smaller truths about hosts made in NIPAP, through the CLI against the lab: the configured MAC
avp wins over ``mac``; unmanaged entries say where the object is (IP, MAC, id); a hand-made host that
reuses a guest's MAC at another address is a conflict, never silently merged; a router entry that lost
its NIPAP source says whether the host was removed, untagged or renamed. The tests share one lab."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest

from providers.lab.seeds import VRF_NAME
from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

PRINTER_PATH = ("service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 "
                "static-mapping printer")


def _person(lab: Lab, method: str, **args: Any) -> Any:
    password = lab.paths.secret("nipap_password")
    proxy = xmlrpc.client.ServerProxy(f"http://netsot:{password}@127.0.0.1:{lab.nipap.port}/XMLRPC",
                                      allow_none=True)
    return getattr(proxy, method)({"auth": {"authoritative_source": "nipap-www"}, **args})


def _add(lab: Lab, ip: str, node: str, avps: dict[str, str], tags: tuple[str, ...] = ("netsot",)) -> int:
    vrf = _person(lab, "list_vrf", vrf={"name": VRF_NAME})[0]
    row = _person(lab, "add_prefix", attr={"prefix": f"{ip}/32", "type": "host", "node": node,
                                           "vrf_id": vrf["id"], "description": "made by hand",
                                           "tags": list(tags), "avps": avps})
    return int(row["id"])


def _edit(lab: Lab, host_id: int, **attr: Any) -> None:
    vrf = _person(lab, "list_vrf", vrf={"name": VRF_NAME})[0]
    _person(lab, "edit_prefix", prefix={"id": host_id}, attr={"vrf_id": vrf["id"], **attr})


def _changes(lab: Lab, needle: str) -> dict[str, dict[str, Any]]:
    return {c["address"]: c for c in lab.plan_json()["changes"] if needle in c["address"]}


def test_the_configured_mac_avp_wins_over_mac(lab: Lab) -> None:
    lab.apply()
    text = lab.config.read_text()
    vrf_line = f"    vrf: {VRF_NAME}\n"
    lab.config.write_text(text.replace(vrf_line, vrf_line + "    mac_avp: hwaddr\n", 1))
    host = _add(lab, "192.168.10.61", "scanner", {"mac": "0c:8b:95:00:40:01", "hwaddr": "0c:8b:95:00:40:02"})
    try:
        mapping = _changes(lab, "scanner")["edgemax_dhcp_mapping.LAN.scanner"]
        assert mapping["after"]["mac_address"] == "0c:8b:95:00:40:02"
    finally:
        lab.config.write_text(text)
        _person(lab, "remove_prefix", prefix={"id": host})


def test_unmanaged_entries_say_where_the_object_is(lab: Lab) -> None:
    doc = lab.plan_json()
    found = {u["address"]: u for u in doc["unmanaged"]}
    gateway = found["nipap_address.lan.edge"]
    assert gateway["ip"] == "192.168.10.1" and gateway["mac"] is None and gateway["id"].isdigit()
    printer = found["edgemax_dhcp_mapping.LAN.printer"]
    assert printer["ip"] == "192.168.10.21" and printer["mac"] == "30:05:5c:12:34:56"
    assert printer["id"] == PRINTER_PATH
    text = lab.cli("plan", "--show-unmanaged").stdout
    assert f"ip 192.168.10.1, id {gateway['id']}" in text
    assert f"ip 192.168.10.21, MAC 30:05:5c:12:34:56, id {PRINTER_PATH}" in text


def test_a_hand_made_host_with_a_guests_mac_elsewhere_is_a_conflict(lab: Lab) -> None:
    guest = lab.nipap_by_node("web01")
    assert guest is not None
    mac = guest["avps"]["mac"]
    host = _add(lab, "192.168.10.99", "cam", {"mac": mac})
    try:
        doc = lab.plan_json()
        ref = f"nipap 192.168.10.99 (id {host})"
        (conflict,) = [c for c in doc["conflicts"] if ref in c["reason"]]
        assert conflict["kind"] == "mac_in_two_bindings"
        assert f"MAC {mac} of {ref} (cam, 192.168.10.99), a host made in NIPAP" in conflict["reason"]
        assert f"(web01, {guest['ip']})" in conflict["reason"]
        assert conflict["fix"].startswith(f"if {ref} is the same device, give it {guest['ip']}")
        assert not [c for c in doc["changes"] if "web01" in c["address"]]  # nothing copied onto netsot's host
        assert f"to fix: if {ref} is the same device" in lab.cli("plan").stdout
        lab.apply()
        assert lab.nipap_by_node("web01")["description"] == guest["description"]
    finally:
        _person(lab, "remove_prefix", prefix={"id": host})


def test_a_lost_source_says_what_happened_in_nipap(lab: Lab) -> None:
    host = _add(lab, "192.168.10.62", "door", {"mac": "0c:8b:95:00:40:03"})
    lab.apply()
    ref = f"nipap 192.168.10.62 (id {host})"
    _edit(lab, host, tags=[])
    untagged = _changes(lab, "door")
    assert untagged["edgemax_dhcp_mapping.LAN.door"]["reason"] == (
        f"lost its source: {ref} is no longer a binding: is not tagged netsot")
    assert untagged["edgemax_host.door.lab.example"]["reason"].startswith(f"lost its source: {ref} is no")
    _edit(lab, host, tags=["netsot"])
    _edit(lab, host, node="door2", prefix="192.168.10.63/32")
    renamed = _changes(lab, "door")
    moved = f"nipap 192.168.10.63 (id {host})"
    assert renamed["edgemax_host.door.lab.example"]["reason"] == (
        f"lost its source: renamed in NIPAP to door2 ({moved})")
    lab.apply()
    _person(lab, "remove_prefix", prefix={"id": host})
    removed = _changes(lab, "door2")
    assert removed["edgemax_dhcp_mapping.LAN.door2"]["reason"] == "lost its source: host removed from NIPAP"
    assert removed["edgemax_host.door2.lab.example"]["reason"] == "lost its source: host removed from NIPAP"
    lab.apply()

"""#15: NIPAP really is the source of truth. A host made by hand in NIPAP (its web UI writes through
nipapd's API, as this test does over XML-RPC) with a name, a MAC avp and the binding tag gets a DHCP
reservation and a DNS name on the router; renaming, readdressing, re-MACing and deleting it there
flow to the router on the next plan. The tests share one lab and run in file order."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest

from providers.lab.seeds import VRF_NAME
from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

MAC, MAC2 = "0c:8b:95:00:11:22", "0c:8b:95:00:11:33"
_host: dict[str, Any] = {}


def _ui(lab: Lab) -> Any:
    """NIPAP's API as its web UI uses it: another authoritative source than netsot."""
    password = lab.paths.secret("nipap_password")
    proxy = xmlrpc.client.ServerProxy(f"http://netsot:{password}@127.0.0.1:{lab.nipap.port}/XMLRPC",
                                      allow_none=True)
    auth = {"authoritative_source": "nipap-www"}

    def call(method: str, **args: Any) -> Any:
        return getattr(proxy, method)({"auth": auth, **args})

    return call


def _edit(lab: Lab, **attr: Any) -> None:
    call = _ui(lab)
    call("edit_prefix", prefix={"id": _host["id"]}, attr={"vrf_id": _host["vrf_id"], **attr})


def _changes(lab: Lab, needle: str) -> dict[str, dict[str, Any]]:
    return {c["address"]: c for c in lab.plan_json()["changes"] if needle in c["address"]}


def test_a_tagged_host_made_in_nipap_gets_a_reservation_and_a_name(lab: Lab) -> None:
    lab.apply()
    call = _ui(lab)
    vrf = call("list_vrf", vrf={"name": VRF_NAME})[0]
    row = call("add_prefix", attr={"prefix": "192.168.10.77/32", "type": "host", "node": "camera",
                                   "vrf_id": vrf["id"], "description": "garden camera",
                                   "tags": ["netsot"], "avps": {"mac": MAC}})
    _host.update(id=row["id"], vrf_id=vrf["id"])
    ref = f"nipap 192.168.10.77 (id {row['id']})"
    changes = _changes(lab, "camera")
    assert {a: c["action"] for a, c in changes.items()} == {
        "edgemax_dhcp_mapping.LAN.camera": "create", "edgemax_host.camera.lab.example": "create"}
    mapping = changes["edgemax_dhcp_mapping.LAN.camera"]
    assert mapping["after"]["ip_address"] == "192.168.10.77" and mapping["after"]["mac_address"] == MAC
    assert ref in mapping["reason"], mapping["reason"]
    assert mapping["provenance"]["ip_address"]["ref"] == ref
    lab.apply()
    assert lab.mappings()["LAN.camera"] == {"ip": "192.168.10.77", "mac": MAC}
    assert lab.resolve_eventually("camera.lab.example", "192.168.10.77") == "192.168.10.77"
    host = lab.nipap_by_node("camera")
    assert host is not None and "managed-by" not in host["avps"]  # NIPAP's host stays the user's


def test_a_rename_in_nipap_renames_the_router_entries(lab: Lab) -> None:
    _edit(lab, node="cam1")
    changes = _changes(lab, "cam")
    assert {a: c["action"] for a, c in changes.items()} == {
        "edgemax_dhcp_mapping.LAN.cam1": "create", "edgemax_dhcp_mapping.LAN.camera": "delete",
        "edgemax_host.cam1.lab.example": "create", "edgemax_host.camera.lab.example": "delete"}
    lab.apply()
    assert "LAN.camera" not in lab.mappings() and lab.mappings()["LAN.cam1"]["mac"] == MAC


def test_a_new_ip_and_a_new_mac_in_nipap_flow_to_the_router(lab: Lab) -> None:
    _edit(lab, prefix="192.168.10.78/32")
    changes = _changes(lab, "cam1")
    assert changes["edgemax_dhcp_mapping.LAN.cam1"]["after"]["ip_address"] == "192.168.10.78"
    assert changes["edgemax_host.cam1.lab.example"]["after"]["inet"] == "192.168.10.78"
    lab.apply()
    _edit(lab, avps={"mac": MAC2})
    changes = _changes(lab, "cam1")
    assert {a: c["action"] for a, c in changes.items()} == {"edgemax_dhcp_mapping.LAN.cam1": "update"}
    lab.apply()
    assert lab.mappings()["LAN.cam1"] == {"ip": "192.168.10.78", "mac": MAC2}


def test_deleting_the_host_in_nipap_removes_netsots_router_entries(lab: Lab) -> None:
    _ui(lab)("remove_prefix", prefix={"id": _host["id"]})
    changes = _changes(lab, "cam1")
    assert {a: c["action"] for a, c in changes.items()} == {
        "edgemax_dhcp_mapping.LAN.cam1": "delete", "edgemax_host.cam1.lab.example": "delete"}
    assert "host removed from NIPAP" in changes["edgemax_dhcp_mapping.LAN.cam1"]["reason"]
    lab.apply()
    assert "LAN.cam1" not in lab.mappings()
    assert lab.cli("plan", "--detailed-exitcode").code in (0, 3)

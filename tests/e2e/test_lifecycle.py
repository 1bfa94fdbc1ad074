"""The issue's story through the CLI: a guest appears on Proxmox and one apply gives it an address in
NIPAP, a DHCP reservation and a DNS name on the router; renames, removals and hand edits follow.

The tests share one lab and run in file order (each builds on the previous apply).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

NEW_VMID, NEW_NAME, RENAMED = 150, "newbie", "newbie2"
_initial: dict[str, Any] = {}


def _changes(doc: dict[str, Any], needle: str) -> list[dict[str, Any]]:
    return [c for c in doc["changes"] if needle in c["address"]]


def test_import_then_first_apply_converges(lab: Lab) -> None:
    _initial.update(lab.snapshot_unowned())
    imported = lab.cli("import", "edgemax")
    assert imported.code == 0, imported.out
    assert "tv-old" in imported.out and "conflict" in imported.out  # refused, with its reason
    lab.apply()
    second = lab.cli("plan", "--detailed-exitcode")
    assert second.code == 0, f"a second plan must be empty (exit 0):\n{second.out}"


def test_first_apply_gave_every_guest_its_three_entries(lab: Lab) -> None:
    web01 = lab.nipap_by_node("web01")
    assert web01 is not None and web01["avps"]["managed-by"] == "netsot"
    mac = web01["avps"]["mac"]
    assert lab.mappings()["LAN.web01"] == {"ip": web01["ip"], "mac": mac}
    assert lab.resolve_eventually("web01.lab.example", web01["ip"]) == web01["ip"]
    assert lab.host_entries()["web01.lab.example"] == (web01["ip"],)
    # the static guest keeps its own address everywhere
    db01 = lab.nipap_by_node("db01")
    assert db01 is not None and db01["ip"] == "10.20.0.10"
    assert lab.resolve_eventually("db01.srv.lab.example", "10.20.0.10") == "10.20.0.10"


def test_verify_passes_after_apply(lab: Lab) -> None:
    result = lab.cli("verify", "--json")
    doc = result.json()
    failed = [c for c in doc["checks"] if not c["ok"]]
    assert result.code == 0 and doc["ok"], failed
    kinds = {c["check"] for c in doc["checks"]}
    assert {"dns", "router", "nipap", "guest"} <= kinds


def test_new_guest_gets_address_mapping_and_name_in_one_apply(lab: Lab) -> None:
    mac = lab.add_guest(NEW_VMID, NEW_NAME, network="lan", type_="lxc")
    plan = lab.plan_json()
    created = {c["address"] for c in plan["changes"] if c["action"] == "create"}
    assert {f"nipap_address.lan.{NEW_NAME}", f"edgemax_dhcp_mapping.LAN.{NEW_NAME}",
            f"edgemax_host.{NEW_NAME}.lab.example"} <= created
    address = f"nipap_address.lan.{NEW_NAME}"
    planned_ip = next(c["after"]["ip"] for c in plan["changes"] if c["address"] == address)
    lab.apply()
    host = lab.nipap_by_node(NEW_NAME)
    assert host is not None and host["ip"] == planned_ip and host["avps"]["mac"] == mac
    assert lab.mappings()[f"LAN.{NEW_NAME}"] == {"ip": planned_ip, "mac": mac}
    assert lab.resolve_eventually(f"{NEW_NAME}.lab.example", planned_ip) == planned_ip
    assert _changes(lab.plan_json(), NEW_NAME) == []


def test_renamed_guest_dns_follows(lab: Lab) -> None:
    ip = lab.nipap_by_node(NEW_NAME)["ip"]  # type: ignore[index]
    lab.rename_guest(NEW_VMID, RENAMED)
    lab.apply()
    assert lab.resolve_eventually(f"{RENAMED}.lab.example", ip) == ip
    assert lab.resolve_eventually(f"{NEW_NAME}.lab.example", None) is None
    assert lab.nipap_by_node(NEW_NAME) is None
    renamed = lab.nipap_by_node(RENAMED)
    assert renamed is not None and renamed["ip"] == ip
    assert f"LAN.{NEW_NAME}" not in lab.mappings() and lab.mappings()[f"LAN.{RENAMED}"]["ip"] == ip
    assert _changes(lab.plan_json(), RENAMED) == []


def test_removed_guest_entries_deleted_by_apply_not_before(lab: Lab) -> None:
    ip = lab.nipap_by_node(RENAMED)["ip"]  # type: ignore[index]
    listed = lab.cli("state", "list").stdout.splitlines()
    assert f"edgemax_dhcp_mapping.LAN.{RENAMED}" in listed  # netsot made it: no "(adopted)" after it
    lab.remove_guest(NEW_VMID)
    plan = lab.plan_json()
    gone = _changes(plan, RENAMED)
    assert gone and {c["action"] for c in gone} == {"delete"}, gone
    assert not [c for c in gone if c.get("adopted")]  # what netsot made, it deletes when its source goes
    assert not [h for h in plan["held"] if RENAMED in h["change"]["address"]]
    # planning alone touches nothing
    assert lab.nipap_by_node(RENAMED) is not None and f"LAN.{RENAMED}" in lab.mappings()
    assert lab.resolve(f"{RENAMED}.lab.example") == ip
    lab.apply()
    assert lab.nipap_by_node(RENAMED) is None
    assert f"LAN.{RENAMED}" not in lab.mappings()
    assert f"{RENAMED}.lab.example" not in lab.host_entries()
    assert lab.resolve_eventually(f"{RENAMED}.lab.example", None) is None
    assert _changes(lab.plan_json(), RENAMED) == []


def test_hand_edit_on_router_is_drift_verify_fails_and_apply_reverts(lab: Lab) -> None:
    want = lab.mappings()["LAN.web01"]
    lab.router_configure(
        "set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping web01 "
        "ip-address 192.168.10.77")
    assert lab.mappings()["LAN.web01"]["ip"] == "192.168.10.77"
    verify = lab.cli("verify")
    assert verify.code == 1 and "edgemax_dhcp_mapping.LAN.web01" in verify.out, verify.out
    plan = lab.plan_json()
    assert any(d["address"] == "edgemax_dhcp_mapping.LAN.web01" for d in plan["drift"]), plan["drift"]
    fix = _changes(plan, "edgemax_dhcp_mapping.LAN.web01")
    assert [c["action"] for c in fix] == ["update"] and fix[0]["drift"]
    lab.apply()
    assert lab.mappings()["LAN.web01"] == want
    assert lab.cli("verify").code == 0


def test_objects_netsot_does_not_own_are_never_touched(lab: Lab) -> None:
    assert _initial, "runs after the first apply"
    assert lab.snapshot_unowned() == _initial

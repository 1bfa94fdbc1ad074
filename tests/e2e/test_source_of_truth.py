"""#15 through the CLI against the lab: the Unmanaged section, a fresh or lost state that never
deletes, refresh-only, ``--adopt`` and a precedence decision that says it overrode a source.
The tests share one lab and run in file order."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]


def _unmanaged(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["address"]: u for u in doc["unmanaged"]}


def test_before_import_the_router_entries_are_unmanaged_with_their_reason(lab: Lab) -> None:
    doc = lab.plan_json()
    found = _unmanaged(doc)
    assert doc["summary"]["unmanaged"] == len(found) > 0
    assert found["edgemax_dhcp_mapping.LAN.printer"]["reason"] == "not imported"
    assert found["edgemax_dhcp_mapping.LAN.printer"]["adopt"] == "netsot import edgemax"
    tv = found["edgemax_dhcp_mapping.LAN.tv"]
    assert "is used by 2 static mappings in LAN" in tv["reason"] and "netsot import edgemax" in tv["adopt"]
    gateway = found["nipap_address.lan.edge"]
    assert gateway["reason"] == "has no MAC (avp mac), so it cannot be a binding"
    text = lab.cli("plan").out
    assert f"Unmanaged ({len(found)}): objects in the managed networks that netsot neither owns" in text
    assert "edgemax_dhcp_mapping.LAN.printer" not in text.split("Unmanaged (")[1]  # collapsed
    expanded = lab.cli("plan", "--show-unmanaged").out
    assert "edgemax_dhcp_mapping.LAN.printer  not imported" in expanded
    assert "to adopt: netsot import edgemax" in expanded
    assert "Unmanaged (" in lab.cli("plan", "--format", "markdown").out


def test_state_rm_makes_an_object_unmanaged_as_forgotten(lab: Lab) -> None:
    assert lab.cli("import", "edgemax").code == 0
    lab.apply()
    assert lab.cli("state", "rm", "edgemax_dhcp_mapping.LAN.printer").code == 0
    item = _unmanaged(lab.plan_json())["edgemax_dhcp_mapping.LAN.printer"]
    assert item["reason"].startswith("forgotten by `netsot state rm` on 20") and item["adopt"] == (
        "netsot import edgemax")
    assert lab.cli("import", "edgemax").code == 0
    assert "edgemax_dhcp_mapping.LAN.printer" not in _unmanaged(lab.plan_json())


def test_a_fresh_state_never_plans_a_delete(lab: Lab) -> None:
    lab.apply()
    state = lab.paths.root / "netsot.state.json"
    shutil.move(state, lab.paths.root / "netsot.state.json.away")
    for extra in (lab.paths.root / "netsot.state.json.backup",):
        extra.unlink(missing_ok=True)
    doc = lab.plan_json()
    assert [c["address"] for c in doc["changes"] if c["action"] == "delete"] == []
    adopted = [d for d in doc["drift"] if d["resolution"] == "adopt"]
    assert adopted and all(d["reason"].startswith("found netsot's marker on it") for d in adopted)
    assert not [d for d in doc["drift"] if "interrupted apply" in d["reason"]]
    shutil.move(lab.paths.root / "netsot.state.json.away", state)


def test_refresh_only_records_a_hand_edit_and_changes_nothing(lab: Lab) -> None:
    lab.apply()
    mapping = lab.mappings()["LAN.web01"]
    lab.router_configure("set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 "
                         "static-mapping web01 ip-address 192.168.10.98")
    commits = lab.router.log.commits
    doc = lab.cli("plan", "--refresh-only", "--json").json()
    assert doc["mode"] == "refresh-only" and doc["changes"] == [] and doc["applyable"] is True
    (drift,) = [d for d in doc["drift"] if d["address"] == "edgemax_dhcp_mapping.LAN.web01"]
    assert drift["resolution"] == "adopt" and "refresh-only records" in drift["reason"]
    result = lab.cli("apply", "--refresh-only", "--auto-approve")
    assert result.code == 0, result.out
    assert lab.router.log.commits == commits  # nothing written to the router
    state = json.loads((lab.paths.root / "netsot.state.json").read_text())
    (record,) = [r for r in state["resources"] if r["address"] == "edgemax_dhcp_mapping.LAN.web01"]
    assert record["attributes"]["ip_address"] == "192.168.10.98"
    # it is still not what NIPAP says: a normal plan puts it back (the drift is gone, the change is not)
    plan = lab.plan_json()
    (change,) = [c for c in plan["changes"] if c["address"] == "edgemax_dhcp_mapping.LAN.web01"]
    assert change["after"]["ip_address"] == mapping["ip"] and not plan["drift"]


def test_adopt_keeps_the_hand_edit_and_the_source_of_truth_follows_it(lab: Lab) -> None:
    result = lab.cli("apply", "--adopt", "edgemax_dhcp_mapping.LAN.web01", "--auto-approve")
    assert result.code == 0, result.out
    assert lab.mappings()["LAN.web01"]["ip"] == "192.168.10.98"
    assert lab.nipap_by_node("web01")["ip"] == "192.168.10.98"  # NIPAP follows the kept value
    assert lab.cli("plan", "--detailed-exitcode").code in (0, 3)
    doc = lab.plan_json()
    assert not [c for c in doc["changes"] if "web01" in c["address"]]
    bad = lab.cli("plan", "--adopt", "edgemax_dhcp_mapping.LAN.nobody")
    assert bad.code == 1 and "no system holds that object" in bad.out


def test_a_precedence_rule_that_keeps_a_rename_out_says_so(lab: Lab) -> None:
    text = lab.config.read_text()
    lab.config.write_text(text.replace("\npolicy:\n", "\nprecedence:\n  hostname: [config, nipap, proxmox, "
                                                      "edgemax]\n\npolicy:\n"))
    lab.rename_guest(102, "web02b")
    doc = lab.plan_json()
    notes = [w for w in doc["warnings"] if "web02b" in w]
    assert notes == ["proxmox says web02b (proxmox pve2/102 net0); kept web02 from nipap by rule hostname"]
    lab.config.write_text(text)

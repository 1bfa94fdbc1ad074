"""Conflicts through the CLI: each kind shows with its reason, blocks only its own objects
(exit 3 with --detailed-exitcode), and apply leaves those objects alone while the rest proceeds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

# (vmid, name, static ip or None): what each guest does wrong
DUP_IP = (301, "dupip", "192.168.10.20/24")  # the NAS's address (config host nas)
TWINS = ((302, "twin", None), (303, "twin", None))  # one name, two MACs
DYNAMIC = (304, "dynguest", "192.168.10.150/24")  # inside the router's DHCP range
INVALID = (305, "Web_01", None)  # not a DNS label
DISAGREE = (306, "legacy", "192.168.10.61/24")  # NIPAP already says legacy is .60
CONTROL = (307, "okguest", None)  # nothing wrong: must be created despite the others


@pytest.fixture(scope="module")
def world(lab: Lab) -> dict[str, Any]:
    assert lab.cli("import", "edgemax").code == 0
    for vmid, name, ip in (DUP_IP, *TWINS, DYNAMIC, DISAGREE, CONTROL):
        lab.add_guest(vmid, name, network="lan", type_="lxc", ip=ip)
    lab.add_guest(INVALID[0], INVALID[1], network="lan", type_="qemu", agent="none")
    vrf_id = next(p["vrf_id"] for p in lab.nipap.prefixes() if p["prefix"] == "192.168.10.0/24")
    legacy_mac = lab.pve.handle.cluster.guests[DISAGREE[0]]["config"]["net0"].split("hwaddr=")[1][:17].lower()
    lab.nipap.add_prefix("192.168.10.60/32", "host", vrf_id=vrf_id, node="legacy", description="old record",
                         avps={"mac": legacy_mac})
    before = {"nipap": lab.nipap_hosts(), "mappings": lab.mappings(), "hosts": lab.host_entries()}
    detailed = lab.cli("plan", "--detailed-exitcode")
    return {"plan": lab.plan_json(), "detailed": detailed, "before": before}


def _conflict(plan: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    found = [c for c in plan["conflicts"] if c["kind"] == kind and name.lower() in " ".join(
        [c["reason"], *c["objects"], *c["blocked"], *c["blocked_keys"]]).lower()]
    assert found, f"no {kind} conflict naming {name}: {plan['conflicts']}"
    assert found[0]["reason"].strip()
    return found[0]


@pytest.mark.parametrize(("kind", "name"), [
    ("ip_claimed_twice", DUP_IP[1]),
    ("hostname_on_two_macs", "twin"),
    ("ip_in_dynamic_range", DYNAMIC[1]),
    ("invalid_name", INVALID[1]),
    ("static_ip_disagrees", DISAGREE[1]),
])
def test_each_conflict_kind_is_reported_and_blocks_its_objects(world: dict[str, Any], kind: str,
                                                               name: str) -> None:
    plan = world["plan"]
    conflict = _conflict(plan, kind, name)
    blocked = set(conflict["blocked"])
    planned = {c["address"] for c in plan["changes"]}
    assert not blocked & planned, f"{kind}: blocked objects still planned: {blocked & planned}"
    key = name.lower()
    assert not [a for a in planned if a.split(".", 1)[1].startswith(("lan." + key, "LAN." + key, key + "."))]


def test_detailed_exitcode_is_3_and_clean_guests_still_planned(world: dict[str, Any]) -> None:
    assert world["detailed"].code == 3, world["detailed"].out
    planned = {c["address"] for c in world["plan"]["changes"]}
    assert {"nipap_address.lan.okguest", "edgemax_dhcp_mapping.LAN.okguest",
            "edgemax_host.okguest.lab.example"} <= planned


def test_apply_creates_the_clean_guest_and_leaves_conflicting_objects_alone(lab: Lab,
                                                                          world: dict[str, Any]) -> None:
    lab.apply()
    ok = lab.nipap_by_node("okguest")
    assert ok is not None and lab.mappings()["LAN.okguest"]["ip"] == ok["ip"]
    assert lab.resolve_eventually("okguest.lab.example", ok["ip"]) == ok["ip"]
    for name in ("dupip", "twin", "dynguest", "web_01", "Web_01"):
        assert lab.nipap_by_node(name) is None, name
        assert f"LAN.{name}" not in lab.mappings(), name
        assert lab.resolve(f"{name.lower().replace('_', '-')}.lab.example") is None
    # NIPAP's legacy record is neither moved nor deleted, and no second one appears
    hosts = lab.nipap_hosts()
    assert hosts["192.168.10.60"]["node"] == "legacy" and "192.168.10.61" not in hosts
    assert hosts["192.168.10.60"] == world["before"]["nipap"]["192.168.10.60"]
    # the NAS (claimed by dupip) keeps its address everywhere
    assert lab.mappings()["LAN.nas"]["ip"] == "192.168.10.20"
    assert lab.resolve("nas.lab.example") == "192.168.10.20"
    # the refused tv / tv-old are as they were
    assert {k: v for k, v in lab.mappings().items() if k.startswith("LAN.tv")} == {
        k: v for k, v in world["before"]["mappings"].items() if k.startswith("LAN.tv")}

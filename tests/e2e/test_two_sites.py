"""Two sites through the CLI: the cabin's own Proxmox cluster and router (``proxmox.cabin``,
``edgemax.cabin``, with its own dnsmasq) next to site 1's, against one NIPAP.

Each router adopts and gets only its own site's entries; addresses of the cabin's instances carry
``[cabin]``; a VMID used on both clusters is two different bindings. The tests share one
two-site lab and run in file order (each builds on the previous apply).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest

from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

CABIN_NET = ipaddress.ip_network("192.168.30.0/24")
# a guest the world adds on the cabin's cluster; VMID 105 is also win11 on site 1's cluster
ADDED_VMID, ADDED = 105, "cabcam"
# the lab's one deliberate conflict before import: web02's stale reservation on router 1
WEB02_CONFLICT = ("hostname_on_two_macs", ("edgemax_dhcp_mapping.LAN.web02", "edgemax_host.web02.lab.example",
                                           "nipap_address.lan.web02", "proxmox_ipconfig.pve2.102.net0"))
_seen: dict[str, Any] = {}


@pytest.fixture(scope="module")
def lab(lab2: Lab) -> Lab:
    return lab2


def _conflicts(plan: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    return {(c["kind"], tuple(sorted(c["blocked"]))) for c in plan["conflicts"]}


def _sections(text: str) -> dict[str, list[str]]:
    """The text plan's groups: instance heading (``edgemax.cabin``) → the addresses listed under it."""
    out: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    current: str | None = None
    for line in text.splitlines():
        heading = re.match(r"^(\S+) \((\d+) changes?\):$", line)
        change = re.match(r"^  [-+~]+ (\S+)", line)
        if heading:
            current = heading.group(1)
            counts[current] = int(heading.group(2))
            out[current] = []
        elif change and current:
            out[current].append(change.group(1))
        elif line.startswith("Plan:"):
            current = None
    for name, addresses in out.items():
        assert len(addresses) == counts[name], f"{name}: heading says {counts[name]}, lists {addresses}"
    return out


def _changes(plan: dict[str, Any], action: str | None = None) -> set[str]:
    return {c["address"] for c in plan["changes"] if action is None or c["action"] == action}


def _router1(lab: Lab) -> dict[str, Any]:
    return {"mappings": lab.home.mappings(), "hosts": lab.home.host_entries(),
            "commits": lab.home.router.log.commits}


def test_before_import_the_only_conflict_is_the_labs_deliberate_one(lab: Lab) -> None:
    plan = lab.plan_json()
    assert _conflicts(plan) == {WEB02_CONFLICT}
    assert lab.cli("plan", "--detailed-exitcode").code == 3


def test_import_adopts_each_routers_own_entries(lab: Lab) -> None:
    home = lab.cli("import", "edgemax")
    assert home.code == 0, home.out
    assert "edgemax_dhcp_mapping.LAN.nas" in home.out
    assert "[cabin]" not in home.out and "CABIN" not in home.out
    cabin = lab.cli("import", "edgemax.cabin", "--json")
    assert cabin.code == 0, cabin.out
    adopted = {i["address"]: i["record"]["provider"] for i in cabin.json()["items"] if i["status"] == "adopt"}
    assert adopted == {"edgemax_dhcp_mapping[cabin].CABIN.ap": "edgemax.cabin",
                       "edgemax_host[cabin].ap.cabin.lab.example": "edgemax.cabin"}
    state = set(lab.cli("state", "list").out.split())
    assert set(adopted) <= state and "edgemax_dhcp_mapping.LAN.nas" in state
    again = lab.cli("import", "edgemax.cabin", "--json").json()
    assert again["summary"]["adopt"] == 0 and again["summary"]["managed"] == 2  # a no-op


def test_plan_groups_changes_per_instance(lab: Lab) -> None:
    text = lab.cli("plan")
    assert text.code == 0, text.out
    sections = _sections(text.out)
    assert {"nipap", "edgemax", "edgemax.cabin", "proxmox", "proxmox.cabin"} == set(sections)
    cabin = set(sections["edgemax.cabin"])
    assert cabin
    assert all(a.startswith(("edgemax_dhcp_mapping[cabin].CABIN.", "edgemax_host[cabin].")) for a in cabin)
    assert {"edgemax_dhcp_mapping[cabin].CABIN.nvr", "edgemax_host[cabin].nvr.cabin.lab.example",
            "edgemax_dhcp_mapping[cabin].CABIN.cabdns"} <= cabin
    assert not [a for a in sections["edgemax"] if "[cabin]" in a or ".CABIN." in a or "cabin.lab" in a]
    assert sections["proxmox.cabin"] == ["proxmox_ipconfig[cabin].cab2.110.net0"]  # hass opted in
    assert not [a for a in sections["proxmox"] if "[cabin]" in a]
    plan = lab.plan_json()
    by_system = {c["address"]: c["system"] for c in plan["changes"]}
    assert {a for a, s in by_system.items() if s == "edgemax.cabin"} == cabin
    assert {a for a, s in by_system.items() if s == "proxmox.cabin"} == set(sections["proxmox.cabin"])
    assert {a for a in by_system if a.startswith("nipap_address.cabin.")} == {
        f"nipap_address.cabin.{n}" for n in ("ap", "nvr", "hass", "wiki", "media", "cabdns")}
    assert _conflicts(plan) == set()  # import settled web02; the cabin brings none
    _seen["plan"] = plan


def test_an_overlapping_vmid_is_two_bindings(lab: Lab) -> None:
    changes = {c["address"]: c for c in _seen["plan"]["changes"]}
    web01, nvr = changes["nipap_address.lan.web01"], changes["nipap_address.cabin.nvr"]  # both VMID 101
    assert web01["provenance"]["hostname"]["ref"] == "proxmox pve1/101 net0"
    assert nvr["provenance"]["hostname"]["ref"] == "proxmox[cabin] cab1/101 net0"
    assert web01["after"]["mac"] != nvr["after"]["mac"] and web01["after"]["ip"] != nvr["after"]["ip"]
    assert ipaddress.ip_address(nvr["after"]["ip"]) in CABIN_NET
    dns, cabdns = changes["nipap_address.lan.dns"], changes["nipap_address.cabin.cabdns"]  # both VMID 200
    assert dns["after"]["avps"]["proxmox-vmid"] == cabdns["after"]["avps"]["proxmox-vmid"] == "200"
    assert cabdns["after"]["ip"] == "192.168.30.53"  # its static address


def test_apply_converges_and_the_second_plan_is_empty(lab: Lab) -> None:
    lab.apply()
    second = lab.cli("plan", "--detailed-exitcode")
    assert second.code == 0, f"a second plan must be empty (exit 0):\n{second.out}"
    plan = lab.plan_json()
    assert plan["changes"] == [] and _conflicts(plan) == set()


def test_each_router_serves_its_own_sites_names(lab: Lab) -> None:
    nvr = lab.nipap_by_node("nvr")
    assert nvr is not None and ipaddress.ip_address(nvr["ip"]) in CABIN_NET
    assert lab.cabin.mappings()["CABIN.nvr"] == {"ip": nvr["ip"], "mac": nvr["avps"]["mac"]}
    assert lab.cabin.resolve_eventually("nvr.cabin.lab.example", nvr["ip"]) == nvr["ip"]
    assert lab.home.resolve("nvr.cabin.lab.example") is None  # router 1's DNS does not know the cabin
    web01 = lab.nipap_by_node("web01")
    assert web01 is not None and lab.home.resolve_eventually("web01.lab.example", web01["ip"]) == web01["ip"]
    assert "web01.lab.example" not in lab.cabin.host_entries()
    assert lab.cabin.resolve("ap.cabin.lab.example") == "192.168.30.5"  # the adopted AP keeps its name


def test_verify_passes_on_both_sites(lab: Lab) -> None:
    result = lab.cli("verify", "--json")
    doc = result.json()
    failed = [c for c in doc["checks"] if not c["ok"]]
    assert result.code == 0 and doc["ok"], failed
    dns = {c["object"] for c in doc["checks"] if c["check"] == "dns"}
    assert {"nvr.cabin.lab.example", "hass.cabin.lab.example", "ap.cabin.lab.example",
            "web01.lab.example"} <= dns
    guests = {c["object"] for c in doc["checks"] if c["check"] == "guest"}
    assert "proxmox[cabin] cab1/101 net0 (nvr)" in guests and "proxmox pve1/101 net0 (web01)" in guests


def test_state_lists_the_cabins_instance_addresses(lab: Lab) -> None:
    state = set(lab.cli("state", "list").out.split())
    assert {"edgemax_dhcp_mapping[cabin].CABIN.nvr", "edgemax_host[cabin].nvr.cabin.lab.example",
            "proxmox_ipconfig[cabin].cab2.110.net0", "nipap_address.cabin.nvr",
            "edgemax_dhcp_mapping.LAN.web01", "proxmox_ipconfig.pve1.107.net0"} <= state
    assert not [a for a in state if a.startswith("edgemax_dhcp_mapping.CABIN")]
    shown = lab.cli("state", "show", "edgemax_dhcp_mapping[cabin].CABIN.nvr")
    assert shown.code == 0 and "provider       = edgemax.cabin" in shown.out, shown.out


def test_a_guest_added_on_cluster_2_gets_router_2_entries_only(lab: Lab) -> None:
    before = _router1(lab)
    win11 = lab.nipap_by_node("win11")  # VMID 105 on site 1
    mac = lab.cabin.add_guest(ADDED_VMID, ADDED, type_="lxc")
    plan = lab.plan_json()
    assert _changes(plan) == {f"nipap_address.cabin.{ADDED}", f"edgemax_dhcp_mapping[cabin].CABIN.{ADDED}",
                              f"edgemax_host[cabin].{ADDED}.cabin.lab.example"}, plan["changes"]
    planned = next(c["after"]["ip"] for c in plan["changes"]
                   if c["address"] == f"nipap_address.cabin.{ADDED}")
    lab.apply()
    host = lab.nipap_by_node(ADDED)
    assert host is not None and host["ip"] == planned and host["avps"]["mac"] == mac
    assert ipaddress.ip_address(host["ip"]) in CABIN_NET
    assert lab.cabin.mappings()[f"CABIN.{ADDED}"] == {"ip": planned, "mac": mac}
    assert lab.cabin.resolve_eventually(f"{ADDED}.cabin.lab.example", planned) == planned
    assert _router1(lab) == before  # router 1: not a mapping, not a name, not a commit
    assert lab.nipap_by_node("win11") == win11
    assert lab.cli("plan", "--detailed-exitcode").code == 0


def test_removing_a_site_2_guest_deletes_only_its_router_2_entries(lab: Lab) -> None:
    before = _router1(lab)
    win11 = lab.nipap_by_node("win11")
    lab.cabin.remove_guest(ADDED_VMID)
    plan = lab.plan_json()
    assert {c["action"] for c in plan["changes"]} == {"delete"}
    assert _changes(plan) == {f"nipap_address.cabin.{ADDED}", f"edgemax_dhcp_mapping[cabin].CABIN.{ADDED}",
                              f"edgemax_host[cabin].{ADDED}.cabin.lab.example"}
    lab.apply()
    assert lab.nipap_by_node(ADDED) is None and f"CABIN.{ADDED}" not in lab.cabin.mappings()
    assert f"{ADDED}.cabin.lab.example" not in lab.cabin.host_entries()
    assert lab.cabin.resolve_eventually(f"{ADDED}.cabin.lab.example", None) is None
    assert _router1(lab) == before
    assert lab.nipap_by_node("win11") == win11 and "LAN.win11" in lab.home.mappings()  # VMID 105 on site 1
    assert lab.cli("plan", "--detailed-exitcode").code == 0


def test_router_1_never_receives_a_cabin_line(lab: Lab) -> None:
    home, cabin = lab.home.router, lab.cabin.router
    assert any("CABIN" in c for c in cabin.log.commands())  # the log does see what each router got
    assert not [c for c in home.log.commands() if "CABIN" in c or "192.168.30." in c or "cabin.lab" in c]
    assert "CABIN" not in home.active_commands() and "192.168.30." not in home.active_commands()
    assert not [c for c in cabin.log.commands() if re.search(r"shared-network-name (LAN|SERVERS)\b", c)]
    assert "shared-network-name LAN" not in cabin.active_commands()

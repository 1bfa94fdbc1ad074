"""#15: a rename applied by the service with ``delete: plan`` never leaves two reservations for one
MAC on the router. The old reservation's delete is held (the service never deletes), so the new one
is held with it; an approved apply then renames both together."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Lab
from tests.service.conftest import ServiceProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(180)]


def _once(lab: Lab, services: list[ServiceProcess], name: str) -> ServiceProcess:
    once = ServiceProcess(lab, name, "--once")
    services.append(once)
    assert once.proc.wait(timeout=60) == 0, once.raw()
    return once


def _mappings_with(lab: Lab, mac: str) -> list[str]:
    return sorted(k for k, v in lab.mappings().items() if v["mac"] == mac)


def test_a_rename_by_the_service_holds_the_new_reservation_with_the_old(
        lab: Lab, services: list[ServiceProcess]) -> None:
    assert lab.cli("import", "edgemax").code == 0
    _once(lab, services, "converge")
    mac = lab.mappings()["LAN.web01"]["mac"]
    assert _mappings_with(lab, mac) == ["LAN.web01"]

    lab.rename_guest(101, "web01x")
    once = _once(lab, services, "rename")
    assert _mappings_with(lab, mac) == ["LAN.web01"]  # never LAN.web01 and LAN.web01x at once
    run = once.messages("run finished")[-1]
    assert run["held"] >= 2, once.raw()
    doc = lab.plan_json()
    held = {h["change"]["address"]: h for h in doc["held"]} if doc["held"] else {}
    planned = {c["address"]: c for c in doc["changes"]}
    assert planned["edgemax_dhcp_mapping.LAN.web01x"]["replaces"] == "edgemax_dhcp_mapping.LAN.web01"
    assert planned["edgemax_dhcp_mapping.LAN.web01"]["reason"].startswith("renamed: ")
    assert held == {}  # an interactive plan may delete: nothing is held for it

    lab.apply()  # the person approves: both go in one commit
    assert _mappings_with(lab, mac) == ["LAN.web01x"]
    assert "web01.lab.example" not in lab.host_entries() and "web01x.lab.example" in lab.host_entries()

"""``--target`` is the engine's alone, with one rule for every system: an address prefix selects
changes, and what they need (or what needs them, for deletes) comes along.

Before the provider boundary, the router and Proxmox planners matched targets exactly: a prefix
target planned nothing for the router, and a targeted NIPAP delete lost the router delete that
depends on it. Through the CLI, against the lab.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]


def _plan(lab: Lab, *targets: str) -> dict[str, Any]:
    args = [a for t in targets for a in ("--target", t)]
    result = lab.cli("plan", "--json", *args)
    assert result.code == 0, result.out
    return result.json()


def test_a_router_prefix_target_plans_the_router_and_what_it_needs(lab: Lab) -> None:
    doc = _plan(lab, "edgemax_dhcp_mapping.LAN")
    addresses = {c["address"] for c in doc["changes"]}
    mappings = {a for a in addresses if a.startswith("edgemax_dhcp_mapping.LAN.")}
    assert mappings, addresses
    # every targeted mapping brings the NIPAP address it depends on, and nothing else comes along
    assert {a for a in addresses if a.startswith("nipap_address.lan.")} == {
        "nipap_address.lan." + a.rsplit(".", 1)[1] for a in mappings}
    assert not [a for a in addresses if a.startswith(("edgemax_host.", "edgemax_dhcp_mapping.SERVERS"))]


def test_a_targeted_delete_takes_what_depends_on_it(lab: Lab) -> None:
    lab.apply()
    lab.remove_guest(202)  # "backup", an LXC on the lan network
    everything = _plan(lab)
    deletes = {c["address"] for c in everything["changes"] if c["action"] == "delete"}
    assert "nipap_address.lan.backup" in deletes, deletes
    doc = _plan(lab, "nipap_address.lan.backup")
    targeted = {c["address"]: c["action"] for c in doc["changes"]}
    assert targeted == {
        "nipap_address.lan.backup": "delete",
        "edgemax_dhcp_mapping.LAN.backup": "delete",
        "edgemax_host.backup.lab.example": "delete",
    }
    order = [c["address"] for c in doc["changes"]]
    assert order.index("nipap_address.lan.backup") == len(order) - 1  # the router entries go first

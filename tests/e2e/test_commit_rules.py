"""EdgeOS's commit rules through the CLI: a change the router would refuse is held, the rest applies.

A person removes the servers subnet's dynamic range, so only its reservations serve it; then every
guest with a servers reservation goes away and a new guest joins the LAN. Deleting all of the
servers reservations would make the router refuse the commit ("No DHCP start-stop range or active
static-mapping set for subnet …"), and with it every other change of the session. netsot holds the
last one as a ``commit_rule`` conflict (exit 3 with --detailed-exitcode), with the rule's text and a
``to fix:`` line, and applies the rest; after the person adds a range back, the next run removes it.
Last, a reservation made disabled by hand and imported gets no DNS name, and the plan says why; and an
IPv4 ``inet`` beside a hand-set IPv6 one waits (``commit_rule``) until ``inet_values: multi``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

SUBNET = "service dhcp-server shared-network-name SERVERS subnet 10.20.0.0/24"
RULE = "No DHCP start-stop range or active static-mapping set for subnet 10.20.0.0/24"


def _servers_guests(lab: Lab) -> list[int]:
    macs = {v["mac"] for k, v in lab.mappings().items() if k.startswith("SERVERS.") and v["mac"]}
    out = []
    for vmid, guest in lab.pve.handle.cluster.guests.items():
        nics = " ".join(str(v) for k, v in guest["config"].items() if k.startswith("net")).lower()
        if any(mac in nics for mac in macs):
            out.append(vmid)
    return sorted(out)


@pytest.fixture(scope="module")
def world(lab: Lab) -> dict[str, Any]:
    lab.apply()
    lab.router_configure(f"delete {SUBNET} start 10.20.0.200")
    gone = _servers_guests(lab)
    assert len(gone) >= 2, lab.mappings()
    for vmid in gone:
        lab.remove_guest(vmid)
    lab.add_guest(391, "newcomer", network="lan", type_="lxc")
    # --force: so many deletes at once would otherwise wait for review (the policy's thresholds)
    plan = lab.cli("plan", "--json", "--force")
    assert plan.code == 0, plan.out
    return {"gone": gone, "detailed": lab.cli("plan", "--detailed-exitcode", "--force"),
            "plan": json.loads(plan.stdout)}


def test_the_plan_holds_the_last_reservation_with_the_rule_and_a_fix(world: dict[str, Any]) -> None:
    detailed = world["detailed"]
    assert detailed.code == 3, detailed.out  # as for conflicts
    assert "commit_rule" in detailed.out and f'"{RULE}"' in detailed.out
    fix = "to fix: on the router, add a start-stop range to subnet 10.20.0.0/24 of shared network SERVERS"
    assert fix in detailed.out
    (rule,) = [c for c in world["plan"]["conflicts"] if c["kind"] == "commit_rule"]
    held = [a for a in rule["blocked"] if a.startswith("edgemax_dhcp_mapping.SERVERS.")]
    assert len(held) == 1, rule
    planned = {c["address"]: c["action"] for c in world["plan"]["changes"]}
    assert not set(rule["blocked"]) & set(planned)  # what it holds (and what waits for it) is not planned
    assert planned.get("edgemax_dhcp_mapping.LAN.newcomer") == "create"
    assert sum(1 for a, act in planned.items() if a.startswith("edgemax_dhcp_mapping.SERVERS.")
               and act == "delete") == len(world["gone"]) - 1


def test_apply_commits_the_rest_and_leaves_the_held_reservation(lab: Lab, world: dict[str, Any]) -> None:
    (rule,) = [c for c in world["plan"]["conflicts"] if c["kind"] == "commit_rule"]
    (held,) = [a for a in rule["blocked"] if a.startswith("edgemax_dhcp_mapping.SERVERS.")]
    result = lab.cli("apply", "--auto-approve", "--force")
    assert result.code == 0, result.out
    mappings = lab.mappings()
    assert "LAN.newcomer" in mappings  # the other changes of the run were committed
    servers = [k for k in mappings if k.startswith("SERVERS.")]
    assert servers == [held.removeprefix("edgemax_dhcp_mapping.")]
    again = lab.cli("plan", "--detailed-exitcode")
    assert again.code == 3 and f'"{RULE}"' in again.out, again.out  # every later run says the same


def test_once_the_subnet_has_a_range_the_next_run_removes_it(lab: Lab, world: dict[str, Any]) -> None:
    lab.router_configure(f"set {SUBNET} start 10.20.0.200 stop 10.20.0.250")
    plan = json.loads(lab.cli("plan", "--json", "--force").stdout)
    assert not [c for c in plan["conflicts"] if c["kind"] == "commit_rule"]
    result = lab.cli("apply", "--auto-approve", "--force")
    assert result.code == 0, result.out
    assert not [k for k in lab.mappings() if k.startswith("SERVERS.")]


LAN = "service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping"


def test_a_disabled_reservation_gets_no_dns_name_and_says_why(lab: Lab, world: dict[str, Any]) -> None:
    lab.router_configure(f"set {LAN} camera ip-address 192.168.10.70",
                         f"set {LAN} camera mac-address 'aa:bb:cc:00:00:70'", f"set {LAN} camera disable")
    why = ("static mapping LAN/camera is disabled on the router (`disable`): it is not served, so netsot "
           "publishes no DNS name for it")
    imported = lab.cli("import", "edgemax")
    assert imported.code == 0 and why in imported.out, imported.out
    assert any(line.startswith("edgemax_dhcp_mapping.LAN.camera") and " adopt " in line
               for line in imported.out.splitlines()), imported.out
    plan = lab.cli("plan")
    assert why in plan.out, plan.out
    doc = json.loads(lab.cli("plan", "--json", "--force").stdout)
    assert not [c for c in doc["changes"] if "camera" in c["address"] and c["system"] == "edgemax"]
    lab.cli("apply", "--auto-approve", "--force")
    assert "camera.lab.example" not in lab.host_entries()
    assert lab.resolve("camera.lab.example") is None


def test_an_ipv4_inet_beside_an_ipv6_one_waits_for_inet_values_multi(lab: Lab, world: dict[str, Any]) -> None:
    host = "system static-host-mapping host-name nas.lab.example"
    lab.router_configure(f"delete {host} inet 192.168.10.20", f"set {host} inet 2001:db8:10::20")  # by hand
    plan = lab.cli("plan", "--detailed-exitcode", "--force")
    assert plan.code == 3, plan.out
    assert "silently replaces the first" in plan.out
    assert ("to fix: remove inet 2001:db8:10::20 from host name nas.lab.example on the router, or, if this "
            "router keeps several inet values, set providers.edgemax.inet_values: multi") in plan.out
    assert lab.cli("apply", "--auto-approve", "--force").code == 0
    assert lab.host_entries()["nas.lab.example"] == ("2001:db8:10::20",)  # never silently replaced
    # the person knows this router keeps several values, and says so
    line = "    ssh_config: /dev/null\n"
    lab.config.write_text(lab.config.read_text().replace(line, line + "    inet_values: multi\n", 1))
    lab.apply()
    assert lab.host_entries()["nas.lab.example"] == ("2001:db8:10::20", "192.168.10.20")
    assert lab.resolve_eventually("nas.lab.example", "192.168.10.20") == "192.168.10.20"

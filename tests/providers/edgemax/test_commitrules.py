"""The planner's foresight of EdgeOS's commit rules (``commitrules``), checked against the simulator.

Each case plans changes against a router config; ``foresee`` must hold exactly the changes whose
commit the simulator (an independent implementation of edgeos.md §11) refuses, and let the rest
commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from core.config import Config, Network
from core.model import Action, Address, Binding, Change, ConflictKind, Desired, frozen_map
from engine.plan.foresight import hold_foreseen
from engine.plan.planner import context_for
from providers.edgemax import commitrules
from providers.edgemax.commands import apply_script
from providers.edgemax.extract import extract
from providers.edgemax.planner import host_attrs, mapping_attrs, observation_from_config, plan_edgemax
from providers.edgemax.settings import EdgemaxNetwork
from providers.edgemax.sim.rules import commit_errors
from providers.vyatta.parse import parse_commands
from providers.vyatta.tree import Tree
from tests import addresses as A
from tests.providers.edgemax.lossless import run_lines

SN = "set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"
HOSTS = "set system static-host-mapping host-name"
BASE = [
    "set interfaces ethernet eth1 address 192.168.1.1/24",
    f"{SN} default-router 192.168.1.1",
    f"{SN} static-mapping web01 ip-address 192.168.1.21",
    f"{SN} static-mapping web01 mac-address 52:54:00:00:00:21",
    f"{SN} static-mapping web02 ip-address 192.168.1.22",
    f"{SN} static-mapping web02 mac-address 52:54:00:00:00:22",
    "set service dhcp-server use-dnsmasq disable",
]
RANGE = f"{SN} start 192.168.1.100 stop 192.168.1.199"
RULE_3 = "No DHCP start-stop range or active static-mapping set for subnet 192.168.1.0/24"


def tree_of(lines: Sequence[str]) -> Tree:
    return parse_commands("\n".join(lines))


def mapping(name: str, ip: str, mac: str, cidr: str = "192.168.1.0/24") -> dict[str, Any]:
    return mapping_attrs("LAN", cidr, name, ip, mac)


def delete(name: str, ip: str, mac: str) -> Change:
    return Change(Action.DELETE, A.edgemax_dhcp_mapping("LAN", name), frozen_map(mapping(name, ip, mac)),
                  None)


def create(name: str, ip: str, mac: str, cidr: str = "192.168.1.0/24", kept: Any = None) -> Change:
    return Change(Action.CREATE, A.edgemax_dhcp_mapping("LAN", name), None,
                  frozen_map(mapping(name, ip, mac, cidr)), kept=frozen_map(kept or {}))


W1 = delete("web01", "192.168.1.21", "52:54:00:00:00:21")
W2 = delete("web02", "192.168.1.22", "52:54:00:00:00:22")


def held(lines: Sequence[str], changes: Sequence[Change], multi: bool = False) -> tuple[list, list[Change]]:
    """(conflicts, the changes that go) — and the simulator agrees: what goes commits."""
    tree = tree_of(lines)
    conflicts = commitrules.foresee(extract(tree), changes, "edgemax", multi=multi, networks={"LAN": "lan"})
    gone = {a for c in conflicts for a in c.blocked}
    going = [c for c in changes if c.address not in gone]
    assert commit_errors(run_lines(tree, apply_script(going))) == []
    return conflicts, going


def test_deleting_the_last_mapping_of_a_rangeless_subnet_holds_one_with_the_rule_text() -> None:
    assert commit_errors(run_lines(tree_of(BASE), apply_script([W1, W2])))  # the router would refuse
    conflicts, going = held(BASE, [W1, W2])
    (c,) = conflicts
    assert c.kind is ConflictKind.COMMIT_RULE and c.network == "lan"
    assert c.blocked == (W2.address,) and going == [W1]
    assert f'"{RULE_3}"' in c.reason and "web02" in c.reason
    assert c.fix.startswith("on the router, add a start-stop range to subnet 192.168.1.0/24")


def test_a_range_another_active_mapping_or_a_rename_keeps_the_subnet_served() -> None:
    assert held([*BASE, RANGE], [W1, W2])[0] == []
    assert held(BASE, [W1])[0] == []
    rename = create("web03", "192.168.1.23", "52:54:00:00:00:23")
    assert held(BASE, [W1, W2, rename])[0] == []


def test_a_disabled_mapping_does_not_count_in_isc_mode_but_does_in_dnsmasq_mode() -> None:
    disabled = [*BASE, f"{SN} static-mapping web02 disable"]
    (c,) = held(disabled, [W1])[0]
    assert "its other mappings are disabled: web02; the router does not count them" in c.reason
    dnsmasq = [line.replace("use-dnsmasq disable", "use-dnsmasq enable") for line in disabled]
    assert held(dnsmasq, [W1])[0] == []
    (c,) = held(dnsmasq, [W1, W2])[0]
    assert ('"at least one dhcp range or a static mapping must be defined for dhcp subnet 192.168.1.0/24"'
            in c.reason)


def test_moving_the_last_mapping_to_another_subnet_is_held() -> None:
    lines = [*BASE, "set service dhcp-server shared-network-name LAN subnet 192.168.2.0/24 start "
             "192.168.2.100 stop 192.168.2.110", "set interfaces ethernet eth1 address 192.168.2.1/24"]
    move = Change(Action.UPDATE, A.edgemax_dhcp_mapping("LAN", "web02"),
                  frozen_map(mapping("web02", "192.168.1.22", "52:54:00:00:00:22")),
                  frozen_map(mapping("web02", "192.168.2.22", "52:54:00:00:00:22", "192.168.2.0/24")))
    (c,) = held(lines, [W1, move])[0]
    assert c.blocked == (move.address,)


def test_an_ip_outside_its_subnet_and_a_new_overlapping_subnet_are_held() -> None:
    outside = create("web03", "10.0.0.3", "52:54:00:00:00:23")
    (c,) = held([*BASE, RANGE], [outside])[0]
    assert "Static DHCP lease IP '10.0.0.3' under static mapping 'web03'" in c.reason
    lines = [*BASE, RANGE, "set service dhcp-server shared-network-name GUEST subnet 10.0.0.0/24 start "
             "10.0.0.100 stop 10.0.0.109"]
    overlapping = create("web04", "10.0.0.4", "52:54:00:00:00:24", "10.0.0.0/25")
    (c,) = held(lines, [overlapping])[0]
    assert '"Conflicting subnet ranges: 10.0.0.0/24 overlaps 10.0.0.0/25"' in c.reason


def test_many_mappings_making_one_new_subnet_go_together_but_not_the_same_subnet_twice() -> None:
    lines = [*BASE, RANGE, "set interfaces ethernet eth1 address 192.168.2.1/24"]
    new = [create(f"new{n}", f"192.168.2.{n}", f"52:54:00:00:02:{n:02x}", "192.168.2.0/24")
           for n in (5, 6, 7)]
    assert held(lines, new) == ([], new)  # the first makes the subnet, the others join it; the router agrees
    lines.append("set service dhcp-server shared-network-name GUEST subnet 192.168.2.0/24 start "
                 "192.168.2.100 stop 192.168.2.109")
    conflicts, going = held(lines, new)  # the same subnet in another shared network: rule 13
    assert going == [] and {a for c in conflicts for a in c.blocked} == {c.address for c in new}
    assert all('"Conflicting subnet ranges: 192.168.2.0/24 overlaps 192.168.2.0/24"' in c.reason
               for c in conflicts)


def test_netsot_never_writes_a_duplicate_ip_or_mac_but_leaves_the_routers_alone() -> None:
    dup_ip = create("web03", "192.168.1.21", "52:54:00:00:00:23")
    dup_mac = create("web04", "192.168.1.24", "52:54:00:00:00:22")
    conflicts, going = held([*BASE, RANGE], [dup_ip, dup_mac])
    assert going == [] and [c.reason.split(" would")[0] for c in conflicts] == [
        "IP 192.168.1.21", "MAC 52:54:00:00:00:22"]
    # a duplicate MAC already on the router (tv / tv-old) does not hold an update of its IP
    lines = [*BASE, RANGE, f"{SN} static-mapping web03 ip-address 192.168.1.23",
             f"{SN} static-mapping web03 mac-address 52:54:00:00:00:22"]
    update = Change(Action.UPDATE, A.edgemax_dhcp_mapping("LAN", "web03"),
                    frozen_map(mapping("web03", "192.168.1.23", "52:54:00:00:00:22")),
                    frozen_map(mapping("web03", "192.168.1.33", "52:54:00:00:00:22")))
    assert held(lines, [update])[0] == []


def _host_create(kept_inet: Sequence[str]) -> Change:
    return Change(Action.CREATE, A.edgemax_host("web03.lab.example"), None,
                  frozen_map(host_attrs("web03.lab.example", "192.168.1.23", ["web03"])),
                  kept=frozen_map({"inet": list(kept_inet)} if kept_inet else {}))


def test_a_second_inet_is_held_unless_the_router_is_known_to_keep_several() -> None:
    change = _host_create(["2001:db8::23"])
    (c,) = held([*BASE, RANGE], [change])[0]
    assert "silently replaces the first" in c.reason
    assert "set providers.edgemax.inet_values: multi" in c.fix
    assert held([*BASE, RANGE], [change], multi=True)[0] == []
    assert held([*BASE, RANGE], [_host_create([])])[0] == []
    # an update that sets an IPv4 value beside the IPv6 one the host name holds
    update = Change(Action.UPDATE, A.edgemax_host("nas.lab.example"),
                    frozen_map(host_attrs("nas.lab.example", None, [])),
                    frozen_map(host_attrs("nas.lab.example", "192.168.1.10", [])),
                    kept=frozen_map({"inet": ["2001:db8::10"]}))
    assert [c.blocked for c in held([*BASE, RANGE], [update])[0]] == [(update.address,)]


ONE = [f"{HOSTS} nas.lab.example inet 192.168.1.10"]
TWO = [*ONE, f"{HOSTS} nas.lab.example inet 2001:db8::10"]


@pytest.mark.parametrize(("lines", "setting", "expected"), [
    (ONE, "auto", False), (TWO, "auto", True), (ONE, "multi", True), (TWO, "single", False)])
def test_inet_multi_from_the_routers_own_config_or_the_setting(lines: list[str], setting: str,
                                                               expected: bool) -> None:
    assert commitrules.inet_multi(extract(tree_of(lines)), setting) is expected


# ---------------------------------------------------------------------------------------------
# through the planner and the engine's hold


LAN = Network(name="lan", prefix="192.168.1.0/24", domain="lab.example",  # type: ignore[arg-type]
              edgemax=EdgemaxNetwork(shared_network="LAN"))
CONFIG = Config(networks=(LAN,))


class _Router:
    """A provider stand-in for the engine's hold: the real foresight on a parsed config."""

    name = "edgemax"

    def __init__(self, lines: Sequence[str]) -> None:
        self.cfg = extract(tree_of(lines))

    def foresee(self, changes: Sequence[Change]) -> list:
        return commitrules.foresee(self.cfg, changes, "edgemax", multi=False)


def test_the_engine_holds_the_foreseen_change_and_what_waits_for_it() -> None:
    address = Address("nipap_address", "lan.web02")
    nipap_delete = Change(Action.DELETE, address, frozen_map({"ip": "192.168.1.22"}), None)
    w2 = Change(Action.DELETE, W2.address, W2.before, None, depends_on=(address,))
    changes, desired = hold_foreseen({"edgemax": _Router(BASE)}, [W1, w2, nipap_delete],  # type: ignore[dict-item]
                                     Desired())
    assert changes == [W1]  # the router mapping stays, so its NIPAP address stays too
    (c,) = desired.conflicts
    assert c.blocked == (w2.address, address)
    assert w2.address in desired.blocked


def test_a_disabled_reservation_gets_no_dns_name_and_the_observation_says_why() -> None:
    lines = [*BASE, RANGE, f"{SN} static-mapping web02 disable"]
    cfg = extract(tree_of(lines))
    observation = observation_from_config(cfg, CONFIG)
    assert ("edgemax: static mapping LAN/web02 is disabled on the router (`disable`): it is not served, so "
            "netsot publishes no DNS name for it (one it finds is left as it is)") in observation.warnings
    bindings = (Binding("lan", "web01", "52:54:00:00:00:21", "192.168.1.21", origin="config"),
                Binding("lan", "web02", "52:54:00:00:00:22", "192.168.1.22", origin="config"))
    changes = plan_edgemax(CONFIG, Desired(bindings), cfg, observation, context_for(CONFIG, {}))
    assert [str(c.address) for c in changes] == ["edgemax_host.web01.lab.example"]


def test_in_dnsmasq_mode_a_disabled_reservation_is_served_and_named() -> None:
    lines = [line.replace("use-dnsmasq disable", "use-dnsmasq enable")
             for line in [*BASE, RANGE, f"{SN} static-mapping web02 disable"]]
    cfg = extract(tree_of(lines))
    observation = observation_from_config(cfg, CONFIG)
    assert not [w for w in observation.warnings if "disabled" in w]
    binding = Binding("lan", "web02", "52:54:00:00:00:22", "192.168.1.22", origin="config")
    changes = plan_edgemax(CONFIG, Desired((binding,)), cfg, observation, context_for(CONFIG, {}))
    assert [str(c.address) for c in changes] == ["edgemax_host.web02.lab.example"]


def test_holding_a_create_can_make_a_delete_break_a_rule_so_the_engine_asks_again() -> None:
    # web03 would serve the subnet, but it duplicates the disabled camera's IP: held (round 1);
    # without it, deleting web01 and web02 leaves no active mapping: web02 is held (round 2)
    lines = [*BASE, f"{SN} static-mapping camera ip-address 192.168.1.50",
             f"{SN} static-mapping camera mac-address 52:54:00:00:00:50",
             f"{SN} static-mapping camera disable"]
    web03 = create("web03", "192.168.1.50", "52:54:00:00:00:23")
    changes, desired = hold_foreseen({"edgemax": _Router(lines)}, [W1, W2, web03],  # type: ignore[dict-item]
                                     Desired())
    assert changes == [W1]
    assert [c.blocked for c in desired.conflicts] == [(web03.address,), (W2.address,)]
    assert commit_errors(run_lines(tree_of(lines), apply_script(changes))) == []
    assert commit_errors(run_lines(tree_of(lines), apply_script([W1, W2])))  # what round 2 prevents

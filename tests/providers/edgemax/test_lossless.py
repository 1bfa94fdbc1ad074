"""Lossless edits on a router configured by hand (issue #13): only the leaves netsot owns change.

Each scenario imports the real-names router, changes some bindings, plans with the real planner and
policy, applies the script to the simulator's router model and checks with `show configuration
commands` that everything netsot does not own is unchanged, and that a second plan is empty.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.config import Config, Network, Policy
from core.model import Action, Address, Binding, Change, Desired, Plan
from engine.plan.document import plan_document
from engine.plan.planner import context_for
from engine.reconcile.bindings import reconcile
from engine.report.render import change_lines, render_text
from providers.edgemax.commands import apply_script
from providers.edgemax.planner import plan_edgemax
from providers.edgemax.settings import EdgemaxNetwork
from providers.vyatta.parse import parse_any
from tests.providers.edgemax.conftest import read_own
from tests.providers.edgemax.lossless import (
    Router,
    adopt_all,
    apply_changes,
    assert_commits,
    assert_nothing_unowned_changed,
    owned_after,
    plan_for,
    run_lines,
)

LAN = Network(name="lan", prefix="192.168.1.0/24", domain="lab.example",  # type: ignore[arg-type]
              edgemax=EdgemaxNetwork(shared_network="LAN"))
IOT = Network(name="iot", prefix="192.168.2.0/24", domain="lab.example",  # type: ignore[arg-type]
              edgemax=EdgemaxNetwork(shared_network="IOT"))
CONFIG = Config(networks=(LAN, IOT))
SN_LAN = "service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping"
SN_IOT = "service dhcp-server shared-network-name IOT subnet 192.168.2.0/24 static-mapping"
HOSTS = "system static-host-mapping host-name"
EXTRA = [  # a mapping and a host name netsot-style, each holding what netsot does not model
    f"set {SN_LAN} web01 ip-address 192.168.1.40",
    f"set {SN_LAN} web01 mac-address 'bc:24:11:00:00:40'",
    f"set {SN_LAN} web01 disable",
    f"set {SN_LAN} web01 static-mapping-parameters 'option host-name web;'",
    f"set {SN_LAN} web01 static-mapping-parameters 'if exists user-class {{ filename x; }}'",
    f"set {HOSTS} web01.lab.example alias web01",
    f"set {HOSTS} web01.lab.example alias www.lab.example",
    f"set {HOSTS} web01.lab.example inet 192.168.1.40",
    f"set {HOSTS} web01.lab.example inet '2001:db8:1::40'",
]


def router(extra: list[str] | None = None) -> Router:
    tree = parse_any(read_own("real-names.config.boot"))
    return Router(CONFIG, run_lines(tree, extra if extra is not None else EXTRA))


def adopted(r: Router) -> tuple[dict, dict[str, Binding]]:
    owned, bindings, _ = adopt_all(r)
    return owned, {b.hostname: b for b in bindings}


NO_POLICY = Policy()


def converge(r: Router, bindings: dict[str, Binding], owned: dict, policy: Policy = NO_POLICY):  # type: ignore[no-untyped-def]
    """Plan, apply to the router model, check nothing unowned changed and that a second plan is empty."""
    runnable, held = plan_for(r, list(bindings.values()), owned, policy)
    tree = apply_changes(r.tree, runnable)
    assert_nothing_unowned_changed(r, tree, runnable)
    assert_commits(r.tree, tree)
    after = Router(r.config, tree)
    again, still_held = plan_for(after, list(bindings.values()), owned_after(owned, runnable), policy)
    assert again == [], f"the second plan is not empty: {[str(c.address) for c in again]}"
    assert [c.address for c in still_held] == [c.address for c in held]
    return runnable, held, after


def by_address(changes: list[Change]) -> dict[str, Change]:
    return {str(c.address): c for c in changes}


def test_import_then_apply_converges_and_keeps_everything() -> None:
    r = router()
    owned, bindings = adopted(r)
    runnable, held, _after = converge(r, bindings, owned)
    assert held == []
    # netsot's additions only: each adopted mapping gets its DNS name, adopted hosts their alias
    assert {c.action for c in runnable} <= {Action.CREATE, Action.UPDATE}
    created = {str(c.address) for c in runnable if c.action is Action.CREATE}
    assert "edgemax_host.room-1-switch.lab.example" in created
    assert not any("IOT.room-1-switch" in a or "LAN.ripe-atlas-probe" in a for a in created)
    assert "edgemax_host.lab.example" not in by_address(runnable)  # the apex is in place as it is


def test_updates_set_only_the_leaves_that_changed() -> None:
    r = router()
    owned, b = adopted(r)
    first, _, r2 = converge(r, b, owned)  # first apply: every adopted binding gets its DNS names
    owned2 = owned_after(owned, first)
    b2 = {**b,
          "room-1-switch": replace(b["room-1-switch"], ip="192.168.2.30"),
          "tivo": replace(b["tivo"], mac="00:11:d9:3a:bc:02"),
          "nas": replace(b["nas"], ip="192.168.1.11"),
          "web01": replace(b["web01"], ip="192.168.1.41")}
    runnable, _, _ = converge(r2, b2, owned2)
    lines = apply_script(runnable)
    assert f"set {SN_IOT} ROOM_1_SWITCH ip-address 192.168.2.30" in lines
    assert f"set {SN_IOT} TiVo mac-address '00:11:d9:3a:bc:02'" in lines
    assert f"delete {HOSTS} nas.lab.example inet 192.168.1.10" in lines
    assert f"set {HOSTS} nas.lab.example inet 192.168.1.11" in lines
    assert f"set {SN_LAN} web01 ip-address 192.168.1.41" in lines
    assert not any(line.startswith("delete") and line.endswith(("ROOM_1_SWITCH", "TiVo", "nas.lab.example",
                                                                "web01", "web01.lab.example"))
                   for line in lines), lines
    nas = by_address(runnable)["edgemax_host.nas.lab.example"]
    assert change_lines(nas.to_dict())[-1] == (
        "kept on the router: inet 2001:db8:1::10")  # its alias storage is one of its names


def test_a_rename_moves_everything_else_the_node_holds_exactly() -> None:
    r = router()
    owned, b = adopted(r)
    b2 = {k: v for k, v in b.items() if k != "web01"}
    b2["web02"] = replace(b["web01"], hostname="web02")
    runnable, held, _after = converge(r, b2, owned)
    assert held == []
    lines = apply_script(runnable)
    assert f"delete {SN_LAN} web01" in lines and f"delete {HOSTS} web01.lab.example" in lines
    for line in (f"set {SN_LAN} web02 disable",
                 f"set {SN_LAN} web02 static-mapping-parameters 'option host-name web;'",
                 f"set {SN_LAN} web02 static-mapping-parameters 'if exists user-class {{ filename x; }}'",
                 f"set {HOSTS} web02.lab.example alias www.lab.example",
                 f"set {HOSTS} web02.lab.example inet '2001:db8:1::40'"):
        assert line in lines, line
    changes = by_address(runnable)
    create = changes["edgemax_dhcp_mapping.LAN.web02"]
    assert create.kept and "takes over what LAN.web01 holds" in create.reason
    gone = changes["edgemax_dhcp_mapping.LAN.web01"]
    assert gone.loses == () and "moves to edgemax_dhcp_mapping.LAN.web02" in gone.reason


def test_a_delete_that_would_lose_unmodelled_data_is_held_unless_allowed() -> None:
    r = router()
    owned, b = adopted(r)
    without = {k: v for k, v in b.items() if k not in ("tivo", "web01")}
    runnable, held, _ = converge(r, without, owned)
    held_by = {str(c.address): c.loses for c in held}
    assert held_by == {
        "edgemax_dhcp_mapping.IOT.TiVo": ("disable",),
        "edgemax_dhcp_mapping.LAN.web01": (
            "disable", "static-mapping-parameters 'option host-name web;'",
            "static-mapping-parameters 'if exists user-class { filename x; }'"),
        # its alias www.lab.example is one of the binding's names, which go with it
        "edgemax_host.web01.lab.example": ("inet '2001:db8:1::40'",),
    }
    assert not any(c.action is Action.DELETE for c in runnable)
    allowed, none_held, _after = converge(r, without, owned, Policy(delete_unmodelled=True))
    assert none_held == [] and {str(c.address) for c in allowed if c.action is Action.DELETE} == set(held_by)


def test_a_mapping_is_found_by_its_router_name_and_never_recreated_in_netsot_spelling() -> None:
    r = router()
    owned, b = adopted(r)
    b2 = {**b, "room-1-switch": replace(b["room-1-switch"], ip="192.168.2.31")}
    changes = by_address(plan_for(r, list(b2.values()), owned)[0])
    assert changes["edgemax_dhcp_mapping.IOT.ROOM_1_SWITCH"].action is Action.UPDATE
    assert not any(a.startswith(("edgemax_dhcp_mapping.IOT.room", "edgemax_dhcp_mapping.IOT.tivo"))
                   for a in changes)


def test_an_unowned_case_variant_is_never_duplicated() -> None:
    r = router()
    guest = Binding("iot", "tivo", "bc:24:11:00:00:99", "192.168.2.50", origin="proxmox")
    changes = plan_edgemax(CONFIG, Desired((guest,)), r.cfg, r.observation, context_for(CONFIG, {}))
    assert [str(c.address) for c in changes] == ["edgemax_host.tivo.lab.example"]


def test_a_move_to_another_subnet_writes_the_node_anew_with_what_it_holds() -> None:
    boot = read_own("real-names.config.boot").replace("192.168.1.0/24", "192.168.1.0/25")
    upper = ["set service dhcp-server shared-network-name LAN subnet 192.168.1.128/25 start 192.168.1.200 "
             "stop 192.168.1.220"]
    extra = [line.replace("192.168.1.0/24", "192.168.1.0/25") for line in EXTRA]
    r = Router(CONFIG, run_lines(parse_any(boot), [*extra, *upper]))
    owned, b = adopted(r)
    b2 = {**b, "web01": replace(b["web01"], ip="192.168.1.140")}
    runnable, _, _ = converge(r, b2, owned)
    lines = apply_script(runnable)
    old = "service dhcp-server shared-network-name LAN subnet 192.168.1.0/25 static-mapping web01"
    new = "service dhcp-server shared-network-name LAN subnet 192.168.1.128/25 static-mapping web01"
    assert f"delete {old}" in lines
    assert f"set {new} ip-address 192.168.1.140" in lines and f"set {new} disable" in lines
    assert f"set {new} static-mapping-parameters 'option host-name web;'" in lines


def test_the_derived_name_is_a_value_with_provenance_in_the_plan() -> None:
    r = router()
    desired = reconcile(CONFIG, {"edgemax": r.observation}, adopted(r)[0])
    switch = next(x for x in desired.bindings if x.hostname == "room-1-switch")
    assert switch.provenance["hostname"].derived == (
        "room-1-switch derived from static-mapping name ROOM_1_SWITCH")
    changes = plan_edgemax(CONFIG, desired, r.cfg, r.observation, context_for(CONFIG, adopted(r)[0]))
    host = by_address(changes)["edgemax_host.room-1-switch.lab.example"]
    text = render_text(plan_document(Plan(changes=(host,)), netsot_version="t"))
    assert "host_name = room-1-switch.lab.example" in text
    assert "; room-1-switch derived from static-mapping name ROOM_1_SWITCH)" in text


@pytest.mark.parametrize("address", ["edgemax_dhcp_mapping.IOT.ROOM_1_SWITCH",
                                     "edgemax_host.nas.lab.example"])
def test_kept_data_is_in_the_observation(address: str) -> None:
    kept = router().observation.resources[Address.parse(address)].kept
    assert kept == {
        "edgemax_dhcp_mapping.IOT.ROOM_1_SWITCH": {"static-mapping-parameters": (
            "option domain-name-servers 1.1.1.1;", "option ntp-servers 192.168.2.1;")},
        "edgemax_host.nas.lab.example": {"inet": ("2001:db8:1::10",)},  # alias storage: one of its names
    }[address]

"""The safety policy: thresholds, protection, two-phase deletes, budgets, dependents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.config import Policy
from core.errors import ConfigError
from core.model import Action, Address, Change, ManagedResource, Plan, frozen_map
from engine.plan.policy import apply_policy, parse_duration

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def owned(*addresses: str, status: str = "managed", since: str | None = None) -> dict:
    out = {}
    for text in addresses:
        a = Address.parse(text)
        out[a] = ManagedResource(a, "1", frozen_map({"ip": "x"}), status=status, orphaned_since=since)
    return out


# the address-like field of each type these tests use (a change holds only declared fields)
IP_KEY = {"edgemax_dhcp_mapping": "ip_address", "edgemax_host": "inet"}


def change(action: Action, text: str, deps: tuple[str, ...] = ()) -> Change:
    key = IP_KEY.get(Address.parse(text).type, "ip")
    after = None if action is Action.DELETE else frozen_map({key: "y"})
    before = None if action is Action.CREATE else frozen_map({key: "x"})
    depends = tuple(Address.parse(d) for d in deps)
    return Change(action, Address.parse(text), before, after, depends_on=depends)


def held_gates(result) -> dict[str, str]:
    return {str(h.change.address): h.gate for h in result.plan.held}


def test_parse_duration_units_and_error():
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("24h") == timedelta(hours=24)
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("0s") == timedelta(0)
    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration("soon")


def test_creates_always_run():
    plan = Plan(changes=(change(Action.CREATE, "nipap_address.lan.a"),))
    result = apply_policy(plan, Policy(), {}, now=NOW, service=True)
    assert [str(c.address) for c in result.plan.changes] == ["nipap_address.lan.a"]
    assert result.plan.held == ()


def test_protected_object_is_never_deleted_even_with_force():
    state = owned("edgemax_host.nas.lab.example")
    plan = Plan(changes=(change(Action.DELETE, "edgemax_host.nas.lab.example"),))
    policy = Policy(protected=("edgemax_host.nas.*",))
    result = apply_policy(plan, policy, state, now=NOW, force=True)
    assert result.plan.changes == ()
    assert held_gates(result) == {"edgemax_host.nas.lab.example": "protected"}


def test_service_marks_orphan_then_waits_for_grace_then_deletes():
    policy = Policy(delete="auto", orphan_grace="1h")
    addr = "nipap_address.lan.gone"
    plan = Plan(changes=(change(Action.DELETE, addr),))

    first = apply_policy(plan, policy, owned(addr), now=NOW, service=True)
    assert [str(a) for a in first.mark_orphaned] == [addr]
    assert held_gates(first) == {addr: "orphan_grace"}
    assert "1h" in first.plan.held[0].reason

    since = (NOW - timedelta(minutes=30)).isoformat()
    waiting = apply_policy(plan, policy, owned(addr, status="orphaned", since=since), now=NOW, service=True)
    assert waiting.mark_orphaned == ()
    assert held_gates(waiting) == {addr: "orphan_grace"}
    assert "30m" in waiting.plan.held[0].reason

    since = (NOW - timedelta(hours=2)).isoformat()
    due = apply_policy(plan, policy, owned(addr, status="orphaned", since=since), now=NOW, service=True)
    assert [str(c.address) for c in due.plan.changes] == [addr]
    assert due.plan.held == ()


def test_service_never_deletes_when_policy_delete_is_plan():
    addr = "nipap_address.lan.gone"
    plan = Plan(changes=(change(Action.DELETE, addr),))
    result = apply_policy(plan, Policy(delete="plan"), owned(addr), now=NOW, service=True)
    assert held_gates(result) == {addr: "delete_policy"}


def test_interactive_apply_is_approval_and_skips_grace():
    addr = "nipap_address.lan.gone"
    plan = Plan(changes=(change(Action.DELETE, addr),))
    result = apply_policy(plan, Policy(orphan_grace="7d"), owned(addr), now=NOW, service=False)
    assert [str(c.address) for c in result.plan.changes] == [addr]


def test_delete_policy_never_holds_every_delete():
    addr = "nipap_address.lan.gone"
    plan = Plan(changes=(change(Action.DELETE, addr),))
    result = apply_policy(plan, Policy(delete="never"), owned(addr), now=NOW)
    assert held_gates(result) == {addr: "delete_policy"}


def test_delete_budget_holds_the_extra_deletes():
    addrs = [f"nipap_address.lan.h{i}" for i in range(5)]
    plan = Plan(changes=tuple(change(Action.DELETE, a) for a in addrs))
    result = apply_policy(plan, Policy(delete_budget=2, min_existing=100), owned(*addrs), now=NOW)
    assert [str(c.address) for c in result.plan.changes] == addrs[:2]
    assert set(held_gates(result).values()) == {"delete_budget"}
    assert len(result.plan.held) == 3


def test_threshold_holds_updates_and_deletes_of_that_system_only():
    nipap = [f"nipap_address.lan.h{i}" for i in range(10)]
    edge = [f"edgemax_host.h{i}.lab" for i in range(10)]
    changes = [change(Action.UPDATE, a) for a in nipap[:4]] + [change(Action.UPDATE, edge[0])]
    changes.append(change(Action.CREATE, "nipap_address.lan.new"))
    plan = Plan(changes=tuple(changes))
    state = owned(*nipap, *edge)
    result = apply_policy(plan, Policy(max_change_percent=30, min_existing=10), state, now=NOW)
    gates = held_gates(result)
    assert set(gates) == set(nipap[:4])
    assert set(gates.values()) == {"threshold"}
    assert "40%" in result.plan.held[0].reason and "--force" in result.plan.held[0].reason
    assert {str(c.address) for c in result.plan.changes} == {edge[0], "nipap_address.lan.new"}
    forced = apply_policy(plan, Policy(max_change_percent=30, min_existing=10), state, now=NOW, force=True)
    assert forced.plan.held == ()


def test_threshold_ignored_below_min_existing():
    addrs = [f"nipap_address.lan.h{i}" for i in range(3)]
    plan = Plan(changes=tuple(change(Action.UPDATE, a) for a in addrs))
    result = apply_policy(plan, Policy(max_change_percent=10, min_existing=10), owned(*addrs), now=NOW)
    assert result.plan.held == ()


def test_held_delete_holds_the_delete_it_must_precede():
    # the router entry depends on the NIPAP address: the address may only go after the entry
    mapping, address = "edgemax_dhcp_mapping.LAN.gone", "nipap_address.lan.gone"
    plan = Plan(
        changes=(
            change(Action.DELETE, mapping, deps=(address,)),
            change(Action.DELETE, address),
        )
    )
    result = apply_policy(plan, Policy(protected=("edgemax_*",)), owned(mapping, address), now=NOW)
    assert held_gates(result) == {mapping: "protected", address: "protected"}
    assert "waits for edgemax_dhcp_mapping.LAN.gone" in result.plan.held[1].reason


def test_held_update_holds_its_dependent_update():
    nipap = [f"nipap_address.lan.h{i}" for i in range(10)]
    plan = Plan(
        changes=(
            change(Action.UPDATE, nipap[0]),
            change(Action.UPDATE, nipap[1]),
            change(Action.UPDATE, nipap[2]),
            change(Action.UPDATE, nipap[3]),
            change(Action.UPDATE, "edgemax_host.h0.lab", deps=(nipap[0],)),
        )
    )
    result = apply_policy(plan, Policy(max_change_percent=30), owned(*nipap), now=NOW)
    assert held_gates(result)["edgemax_host.h0.lab"] == "threshold"
    assert result.plan.changes == ()


def test_orphan_whose_source_returned_is_unmarked():
    addr = "nipap_address.lan.back"
    state = owned(addr, status="orphaned", since=NOW.isoformat())
    result = apply_policy(Plan(), Policy(), state, now=NOW, service=True)
    assert [str(a) for a in result.unmark_orphaned] == [addr]


def test_recovering_objects_are_cleaned_up_without_orphan_phase():
    addr = "edgemax_host.half.lab"
    plan = Plan(changes=(change(Action.DELETE, addr),))
    policy = Policy(delete="auto", orphan_grace="1d")
    result = apply_policy(plan, policy, owned(addr, status="recovering"), now=NOW, service=True)
    assert [str(c.address) for c in result.plan.changes] == [addr]
    assert result.mark_orphaned == ()


def test_protected_globs_take_brackets_literally_and_a_star_across_dots():
    from engine.plan.policy import is_protected

    assert is_protected("edgemax_host[cabin].ap.cabin.example", ["edgemax_host[cabin].*"])
    assert not is_protected("edgemax_host.ap.lab.example", ["edgemax_host[cabin].*"])
    assert not is_protected("edgemax_host.c.lab.example", ["edgemax_host[cabin].*"])  # not a class [abcin]
    assert is_protected("nipap_address.lan.nas", ["nipap_address.lan.*"])
    assert is_protected("nipap_address.lan.web01", ["nipap_address.*.web0?"])
    assert not is_protected("nipap_address.lan.nas", ["nipap_address.lan"])  # a glob is not a prefix

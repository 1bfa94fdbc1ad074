"""The VyOS provider against the API simulator, both dialects: read, plan, one-call apply, reconcile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.model import Action, Binding, Desired, ManagedResource, frozen_map
from engine.plan.planner import context_for
from providers.vyos.commands import host_path, mapping_path
from providers.vyos.descriptor import host_address, mapping_address
from providers.vyos.provider import VyosProvider
from providers.vyos.sim.api import Lease
from providers.vyos.sim.server import SimHandle, start
from tests.providers.vyos.fixtures import LAB, lab_config, vyos_settings

# ruff: noqa: E501  (real `set` lines are long)

NET = "192.168.1.0/24"
SN = f"set service dhcp-server shared-network-name LAN subnet {NET}"
MAC_LEAF = {"1.4": "mac-address", "1.5": "mac"}
# a real name kept as it is: 1.4 takes EdgeOS-style names, 1.5 only hostnames (vyos.md §2)
SWITCH = {"1.4": "ROOM_1_SWITCH", "1.5": "Room-1-Switch"}
WEB = Binding("lan", "web01", "bc:24:11:00:00:01", "192.168.1.20", origin="config")


@pytest.fixture(params=["1.4", "1.5"])
def sim(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimHandle]:
    d = request.param
    sw = SWITCH[d]
    seed = LAB[d] + "\n".join([
        f"{SN} static-mapping {sw} ip-address '192.168.1.30'",
        f"{SN} static-mapping {sw} {MAC_LEAF[d]} '02:00:00:00:00:30'",
        f"{SN} static-mapping {sw} description 'hall closet'",
        f"{SN} static-mapping {sw} disable",
        f"{SN} static-mapping printer ip-address '192.168.1.40'",
        f"{SN} static-mapping printer {MAC_LEAF[d]} '02:00:00:00:00:40'",
        "set system static-host-mapping host-name nas.lab.example inet '192.168.1.10'",
        "set system static-host-mapping host-name nas.lab.example inet '2001:db8::10'",
        "set system static-host-mapping host-name nas.lab.example alias 'files.lab.example'",
    ]) + "\n"
    handle = start(seed, dialect=d, state_dir=tmp_path,
                   leases=[Lease("192.168.1.101", "52:54:00:aa:00:09", hostname="laptop")])
    yield handle
    handle.stop()


def _provider(sim: SimHandle, **overrides: object) -> VyosProvider:
    settings = vyos_settings(sim, **overrides)
    return VyosProvider(lab_config(settings), settings)


def _owned(changes, result) -> dict:  # type: ignore[no-untyped-def]
    by = {o.address: o for o in result.outcomes}
    return {c.address: ManagedResource(c.address, c.provider_id, frozen_map(dict(c.after)))
            for c in changes if c.after is not None and by[c.address].status == "applied"}


def test_read_keeps_real_names_and_everything_netsot_does_not_own(sim: SimHandle) -> None:
    p = _provider(sim)
    obs = p.read()
    sw = SWITCH[sim.router.dialect]
    switch = obs.resources[mapping_address("LAN", sw)]
    assert dict(switch.attributes) == {"shared_network": "LAN", "subnet": NET, "name": sw,
                                       "ip_address": "192.168.1.30", "mac_address": "02:00:00:00:00:30"}
    assert dict(switch.kept) == {"description": ("hall closet",), "disable": True}
    nas = obs.resources[host_address("nas.lab.example")]
    assert nas.attributes["inet"] == "192.168.1.10" and list(nas.attributes["aliases"]) == ["files.lab.example"]
    assert dict(nas.kept) == {"inet": ("2001:db8::10",)}
    facts = {f.ref: f for f in obs.facts}
    assert facts[f"vyos static-mapping LAN/{sw}"].hostname == "room-1-switch"
    assert facts["vyos static-host-mapping nas.lab.example"].aliases == ("nas", "files")
    assert facts["lease 192.168.1.101"].discovery and facts["lease 192.168.1.101"].mac == "52:54:00:aa:00:09"
    p.close()


def test_apply_is_one_configure_and_one_save_and_converges(sim: SimHandle) -> None:
    d = sim.router.dialect
    p = _provider(sim)
    changes = p.plan(Desired(bindings=(WEB,)), p.read(), context_for(p.config))
    assert {(c.action, str(c.address)) for c in changes} == {
        (Action.CREATE, "vyos_dhcp_mapping.LAN.web01"), (Action.CREATE, "vyos_host.web01.lab.example")}
    result = p.apply(changes)
    assert {o.status for o in result.outcomes} == {"applied"}, result.outcomes
    assert len(sim.calls("/configure")) == 1 and len(sim.calls("/config-file")) == 1
    saved = sim.router.saved
    assert saved is not None
    assert saved.exists([*mapping_path("LAN", NET, "web01"), MAC_LEAF[d], "bc:24:11:00:00:01"])
    assert saved.exists([*host_path("web01.lab.example"), "alias", "web01"])
    owned = _owned(changes, result)
    again = _provider(sim)
    assert again.plan(Desired(bindings=(WEB,)), again.read(), context_for(again.config, owned)) == []
    # a new address: an update of the owned leaves only, the kept inet of nobody else is untouched
    moved = Binding("lan", "web01", "bc:24:11:00:00:01", "192.168.1.25", origin="config")
    update = again.plan(Desired(bindings=(moved,)), again.read(), context_for(again.config, owned))
    assert {c.action for c in update} == {Action.UPDATE}
    assert {o.status for o in again.apply(update).outcomes} == {"applied"}
    running = sim.router.running
    assert running.exists([*host_path("web01.lab.example"), "inet", "192.168.1.25"])
    assert not running.exists([*host_path("web01.lab.example"), "inet", "192.168.1.20"])
    assert len(sim.calls("/configure")) == 2 and len(sim.calls("/config-file")) == 2


def test_an_owned_mapping_keeps_its_real_name_and_kept_children(sim: SimHandle) -> None:
    d = sim.router.dialect
    p = _provider(sim)
    sw = SWITCH[d]
    addr = mapping_address("LAN", sw)
    obs = p.read()
    owned = {addr: ManagedResource(addr, None, obs.resources[addr].attributes)}
    switch = Binding("lan", "room-1-switch", "02:00:00:00:00:31", "192.168.1.30", origin="config")
    changes = [c for c in p.plan(Desired(bindings=(switch,)), obs, context_for(p.config, owned))
               if c.address == addr]
    assert len(changes) == 1 and changes[0].action is Action.UPDATE
    assert changes[0].after is not None and changes[0].after["name"] == sw
    assert {o.status for o in p.apply(changes).outcomes} == {"applied"}
    base = mapping_path("LAN", NET, sw)
    running = sim.router.running
    assert running.exists([*base, MAC_LEAF[d], "02:00:00:00:00:31"])
    assert running.exists([*base, "description", "hall closet"]) and running.exists([*base, "disable"])


def test_someone_elses_objects_are_never_planned(sim: SimHandle) -> None:
    p = _provider(sim)
    nas = Binding("lan", "nas", None, "192.168.1.11", origin="config")
    assert p.plan(Desired(bindings=(nas,)), p.read(), context_for(p.config)) == []


def test_a_partial_commit_reports_exactly_what_landed(sim: SimHandle) -> None:
    """The host name (priority 400) commits, the mapping on a taken IP (dhcp, 911) does not."""
    p = _provider(sim)
    dup = Binding("lan", "web01", "bc:24:11:00:00:01", "192.168.1.40", origin="config")
    changes = p.plan(Desired(bindings=(dup,)), p.read(), context_for(p.config))
    result = p.apply(changes)
    status = {str(o.address): o.status for o in result.outcomes}
    assert status == {"vyos_dhcp_mapping.LAN.web01": "failed", "vyos_host.web01.lab.example": "applied"}
    failed = next(o for o in result.outcomes if o.status == "failed")
    assert failed.error and "Commit failed" in failed.error
    assert sim.router.saved is not None and sim.router.saved.exists(list(host_path("web01.lab.example")))
    assert any("landed" in line for line in result.log)


def test_the_dialect_can_be_overridden(sim: SimHandle) -> None:
    """Forcing the other dialect writes the other MAC leaf (which that router refuses: nothing lands)."""
    d = sim.router.dialect
    other = "1.5" if d == "1.4" else "1.4"
    p = _provider(sim, dialect=other)
    obs = p.read()
    assert p.dialect == other
    changes = [c for c in p.plan(Desired(bindings=(WEB,)), obs, context_for(p.config))
               if c.address.type == "vyos_dhcp_mapping"]
    if other == "1.5":  # the 1.4 subnet has no subnet-id: netsot refuses before sending anything
        result = p.apply(changes)
        assert result.outcomes[0].status == "failed" and "subnet-id" in str(result.outcomes[0].error)
        assert sim.calls("/configure") == []
    else:
        result = p.apply(changes)
        assert result.outcomes[0].status == "failed"
        assert len(sim.calls("/configure")) == 1 and sim.calls("/config-file") == []


def test_commit_confirm_confirms_only_after_the_changes_are_read_back(sim: SimHandle) -> None:
    p = _provider(sim, commit_confirm=5)
    changes = p.plan(Desired(bindings=(WEB,)), p.read(), context_for(p.config))
    result = p.apply(changes)
    assert {o.status for o in result.outcomes} == {"applied"}, result.outcomes
    calls = sim.calls("/configure")
    if sim.router.dialect == "1.5":  # commit-confirm exists in 1.5 only: confirm_time, then confirm
        assert calls[0]["confirm_time"] == 5 and calls[1].get("op") == "confirm" and len(calls) == 2
        assert sim.router.pending_confirm is None
    else:  # 1.4 has no commit-confirm: a plain commit
        assert len(calls) == 1 and "confirm_time" not in calls[0]
    assert len(sim.calls("/config-file")) == 1


def test_a_rename_moves_the_reservation_with_what_it_holds_in_one_commit(sim: SimHandle) -> None:
    d = sim.router.dialect
    p = _provider(sim)
    changes = p.plan(Desired(bindings=(WEB,)), p.read(), context_for(p.config))
    owned = _owned(changes, p.apply(changes))
    base = mapping_path("LAN", NET, "web01")
    sim.router.running = sim.router.running.set([*base, "description", "rack 2"])  # a hand-added note
    renamed = Binding("lan", "web02", "bc:24:11:00:00:01", "192.168.1.20", origin="config")
    again = _provider(sim)
    plan = again.plan(Desired(bindings=(renamed,)), again.read(), context_for(again.config, owned))
    new = next(c for c in plan if str(c.address) == "vyos_dhcp_mapping.LAN.web02")
    old = next(c for c in plan if str(c.address) == "vyos_dhcp_mapping.LAN.web01")
    assert new.replaces == old.address and dict(new.kept) == {"description": ("rack 2",)} and not old.loses
    new_host = next(c for c in plan if str(c.address) == "vyos_host.web02.lab.example")
    assert str(new_host.replaces) == "vyos_host.web01.lab.example"
    before = len(sim.calls("/configure"))
    assert {o.status for o in again.apply(plan).outcomes} == {"applied"}
    assert len(sim.calls("/configure")) == before + 1
    running = sim.router.running
    moved = mapping_path("LAN", NET, "web02")
    assert running.exists([*moved, "description", "rack 2"]) and running.exists([*moved, MAC_LEAF[d], WEB.mac])
    assert not running.exists(list(base)) and not running.exists(list(host_path("web01.lab.example")))
    assert running.exists([*host_path("web02.lab.example"), "inet", "192.168.1.20"])


def test_a_change_the_commit_would_refuse_is_foreseen(sim: SimHandle) -> None:
    """A reservation on an IP another active mapping holds: held as a commit_rule conflict (only it)."""
    p = _provider(sim)
    dup = Binding("lan", "web01", "bc:24:11:00:00:01", "192.168.1.40", origin="config")
    changes = p.plan(Desired(bindings=(dup,)), p.read(), context_for(p.config))
    (conflict,) = p.foresee(changes)
    assert conflict.kind.value == "commit_rule" and conflict.network == "lan"
    assert [str(a) for a in conflict.blocked] == ["vyos_dhcp_mapping.LAN.web01"]
    assert "already exists on another static mapping" in conflict.reason
    assert "vyos_dhcp_mapping.LAN.printer" in conflict.objects
    # the disabled switch's IP (.30) is free to take: VyOS skips disabled mappings
    free = Binding("lan", "web01", "bc:24:11:00:00:01", "192.168.1.30", origin="config")
    assert p.foresee(p.plan(Desired(bindings=(free,)), p.read(), context_for(p.config))) == []


def test_an_update_keeps_the_dialects_own_children_and_shows_them(tmp_path: Path) -> None:
    """1.5's per-mapping ``option`` and 1.4's ``static-mapping-parameters`` stay through an update; a delete
    lists them as what it would lose."""
    for d, extra in (("1.5", "option domain-name 'printers.lab.example'"),
                     ("1.4", "static-mapping-parameters 'option domain-name \"printers.lab.example\";'")):
        where = tmp_path / d
        where.mkdir()
        sim = start(LAB[d] + f"{SN} static-mapping printer ip-address '192.168.1.40'\n"
                    f"{SN} static-mapping printer {MAC_LEAF[d]} '02:00:00:00:00:40'\n"
                    f"{SN} static-mapping printer {extra}\n", dialect=d, state_dir=where)
        try:
            p = _provider(sim)
            obs = p.read()
            addr = mapping_address("LAN", "printer")
            seen = obs.resources[addr]
            assert seen.kept, seen
            owned = {addr: ManagedResource(addr, None, seen.attributes)}
            moved = Binding("lan", "printer", "02:00:00:00:00:40", "192.168.1.41", origin="config")
            (change,) = [c for c in p.plan(Desired(bindings=(moved,)), obs, context_for(p.config, owned))
                         if c.address == addr]
            assert change.kept == seen.kept
            assert {o.status for o in p.apply([change]).outcomes} == {"applied"}
            again = _provider(sim).read().resources[addr]
            assert again.attributes["ip_address"] == "192.168.1.41" and again.kept == seen.kept
            fresh = _provider(sim)
            (delete,) = fresh.plan(Desired(), fresh.read(), context_for(p.config, owned))
            assert delete.action is Action.DELETE and delete.loses and "domain-name" in " ".join(delete.loses)
        finally:
            sim.stop()

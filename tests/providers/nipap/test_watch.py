"""The NIPAP watch: changes found by ``last_modified`` (one search) and the VRF's prefix counts (one
``list_vrf``), against the simulator (and a real nipapd with NETSOT_TEST_NIPAP_URL)."""

from __future__ import annotations

import pytest

from providers.nipap.provider import NipapProvider
from providers.nipap.watch import NipapWatch
from tests.providers.nipap.conftest import Target, fault_of

pytestmark = pytest.mark.integration


def _watch(target: Target) -> NipapWatch:
    settings = target.settings()
    return NipapWatch(NipapProvider(target.config(settings), settings))


def _ip(target: Target, n: int) -> str:
    import ipaddress

    return str(ipaddress.ip_network(target.network).network_address + n)


def test_added_edited_and_removed_hosts_are_seen_once_each(target: Target) -> None:
    watch = _watch(target)
    assert watch.poll() == []  # the baseline
    assert watch.refresh(None) is None  # type: ignore[arg-type]  # nothing changed: the cache stands
    host = target.add_host(_ip(target, 77), "camera")
    notes = watch.poll()
    assert notes == [f"nipap: {_ip(target, 77)}/32 changed"], notes  # not the hosts whose stamp moved
    fresh = watch.refresh(None)  # type: ignore[arg-type]
    assert fresh is not None and any(f.hostname == "camera" for f in fresh.facts)
    assert watch.poll() == [] and watch.refresh(fresh) is None  # seen: no second event
    # an edit within the same second as the add still counts (the stamp alone would hide it)
    target.rpc("edit_prefix", prefix={"id": host}, attr={"description": "porch camera"})
    assert f"nipap: {_ip(target, 77)}/32 changed" in watch.poll()
    assert watch.refresh(fresh) is not None
    target.rpc("remove_prefix", prefix={"id": host})
    assert watch.poll() != []  # the row is gone; the VRF's count (or the siblings' stamps) show it
    after = watch.refresh(fresh)
    assert after is not None and not any(f.hostname == "camera" for f in after.facts)


def test_a_poll_is_two_calls(simtarget: Target) -> None:
    assert simtarget.sim is not None
    watch = _watch(simtarget)
    watch.poll()
    before = len(simtarget.sim.log)
    assert watch.poll() == []
    assert [r.method for r in simtarget.sim.log[before:]] == ["search_prefix", "list_vrf"]


def test_applied_changes_are_read_again(simtarget: Target) -> None:
    watch = _watch(simtarget)
    watch.poll()
    watch.applied([])
    assert watch.refresh(None) is not None  # type: ignore[arg-type]
    assert watch.refresh(None) is None  # type: ignore[arg-type]


def test_last_modified_compares_with_a_timestamp_string(simtarget: Target) -> None:
    """nipap.md §9.4: PostgreSQL casts the string; a string that is no timestamp is a data error."""
    rows = simtarget.rpc("search_prefix", query={"operator": "greater", "val1": "last_modified",
                                                 "val2": "2000-01-01 00:00:00+00"})["result"]
    assert rows
    later = simtarget.rpc("search_prefix", query={"operator": "greater", "val1": "last_modified",
                                                  "val2": "2999-01-01 00:00:00+00"})["result"]
    assert later == []
    bad = {"operator": "greater", "val1": "last_modified", "val2": "yesterday-ish"}
    assert fault_of(lambda: simtarget.rpc("search_prefix", query=bad)) == (1000, "Unhandled data error.")


def test_adding_or_removing_a_host_stamps_its_parent_and_siblings(simtarget: Target) -> None:
    """nipap.md §9.4: the trigger cascade updates the parent and every host beside the new one."""
    from datetime import datetime

    assert simtarget.sim is not None
    store = simtarget.sim.store
    since = {"operator": "greater", "val1": "last_modified", "val2": "2001-01-01 00:00:00+00"}

    def touched() -> set[str]:
        return {r["prefix"] for r in simtarget.rpc("search_prefix", query=since)["result"]}

    for rec in store.prefixes.values():
        rec["last_modified"] = datetime(2000, 1, 1)
    host = simtarget.add_host(_ip(simtarget, 88), "x")
    assert touched() == {"192.168.1.0/24", "192.168.1.5/32", "192.168.1.88/32"}  # not 10.1.0.0/24's
    for rec in store.prefixes.values():
        rec["last_modified"] = datetime(2000, 1, 1)
    simtarget.rpc("remove_prefix", prefix={"id": host})
    assert touched() == {"192.168.1.0/24", "192.168.1.5/32"}
    for rec in store.prefixes.values():
        rec["last_modified"] = datetime(2000, 1, 1)
    simtarget.rpc("edit_prefix", prefix={"prefix": "192.168.1.5/32"}, attr={"description": "printer"})
    assert touched() == {"192.168.1.5/32"}  # an edit stamps only its own row


def test_netsots_own_writes_are_not_news(simtarget: Target) -> None:
    from core.model import Action, Address, Change, frozen_map

    watch = _watch(simtarget)
    watch.poll()
    ip = _ip(simtarget, 90)
    address = Address.parse("nipap_address.lan.mine")
    watch.applied([Change(Action.CREATE, address, None, frozen_map({"ip": ip, "hostname": "mine"}))])
    host = simtarget.add_host(ip, "mine")  # what netsot's apply did
    assert watch.poll() == []  # no run for its own write ...
    assert watch.refresh(None) is not None  # type: ignore[arg-type]  # ... but read again next time
    watch.applied([Change(Action.DELETE, address, frozen_map({"ip": ip, "hostname": "mine"}), None)])
    simtarget.rpc("remove_prefix", prefix={"id": host})
    assert watch.poll() == []
    simtarget.add_host(_ip(simtarget, 91), "theirs")  # someone else's write still is
    assert watch.poll() == [f"nipap: {_ip(simtarget, 91)}/32 changed"]

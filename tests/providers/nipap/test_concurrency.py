"""NIPAP under concurrency and faults (issue 19 §3): one write at a time per parent assignment,
transient faults resent and recognised when they had landed, and giving up on a frozen nipapd.

The ``target`` tests run against the simulator and against the real nipapd 0.32.7 (each in a VRF
of its own); the fault-mode ones use the simulator's seeded fault injection."""

from __future__ import annotations

import concurrent.futures
import time
import xmlrpc.client
from collections import Counter

import pytest

from core.config import Network
from core.model import Action, Binding, ChangeOutcome, Desired
from engine.plan.planner import context_for
from providers.nipap.provider import NipapProvider, lanes
from providers.nipap.sim.server import DEADLOCK
from tests.providers.nipap.conftest import Target, rpc_for
from tests.providers.nipap.test_provider import binding, make

pytestmark = pytest.mark.integration


def _apply(provider: NipapProvider, desired: Desired) -> tuple[ChangeOutcome, ...]:
    changes = provider.plan(desired, provider.read(), context_for(provider.config))
    return provider.apply(changes).outcomes


def _hosts_by_ip(target: Target) -> Counter[str]:
    return Counter(h["prefix"] for h in target.hosts())


def test_30_parallel_creates_and_30_parallel_deletes_in_one_assignment(target: Target) -> None:
    if target.sim:
        target.sim.knobs.write_hold = 0.01  # the simulator's deadlock window, as wide as a real write
    provider = make(target, max_workers=30)
    desired = Desired(bindings=tuple(binding(target, f"vm{i}", 20 + i) for i in range(30)))
    created = _apply(provider, desired)
    assert [o.status for o in created] == ["applied"] * 30, [o.error for o in created if o.error]
    assert sum(o.retries for o in created) == 0  # nothing ran into a deadlock: nothing to resend
    hosts = _hosts_by_ip(target)
    assert len(hosts) == 31 and set(hosts.values()) == {1}  # 30 new + the printer, each once
    changes = provider.plan(Desired(), provider.read(), context_for(provider.config))
    assert len(changes) == 30 and {c.action for c in changes} == {Action.DELETE}
    deleted = provider.apply(changes).outcomes
    assert [o.status for o in deleted] == ["applied"] * 30, [o.error for o in deleted if o.error]
    assert sum(o.retries for o in deleted) == 0
    assert [h["node"] for h in target.hosts()] == ["printer"]
    if target.sim:
        assert target.sim.knobs.injected == Counter()
        assert target.sim.knobs.peak_writes == 1  # one assignment: one write at a time


def test_the_simulator_deadlocks_concurrent_removes_under_one_assignment_as_nipapd_does(
    simtarget: Target,
) -> None:
    sim = simtarget.sim
    vrf_id = simtarget.vrf_id
    ids = [sim.add_prefix(f"192.168.1.{n}/32", vrf_id=vrf_id, description="h") for n in range(20, 50)]
    sim.knobs.write_hold = 0.05

    def call(method: str, **args: object) -> object:
        return rpc_for(sim.url("netsot", "pw"))(method, **args)  # a ServerProxy per thread

    def remove(pid: int) -> str | None:
        try:
            call("remove_prefix", prefix={"id": pid})
        except xmlrpc.client.Fault as fault:
            assert fault.faultCode == 1000
            return fault.faultString
        return None

    def add(n: int) -> str | None:
        try:
            call("add_prefix", attr={"prefix": f"192.168.1.{n}/32", "type": "host", "description": "h",
                                     "vrf_id": simtarget.vrf_id})
        except xmlrpc.client.Fault as fault:
            return fault.faultString
        return None

    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        faults = [f for f in pool.map(remove, ids) if f]
        assert faults and all(f == DEADLOCK for f in faults)
        assert len(simtarget.hosts()) == 1 + len(faults)  # an aborted remove removed nothing
        assert [f for f in pool.map(add, range(100, 130)) if f] == []  # inserts do not deadlock


def test_30_parallel_creates_and_deletes_over_six_assignments_run_side_by_side(target: Target) -> None:
    nets = tuple(Network(name=f"n{k}", prefix=f"10.{k}.0.0/24") for k in range(2, 8))
    for net in nets:
        target.rpc("add_prefix", attr={"prefix": str(net.prefix), "type": "assignment",
                                       "description": net.name, "vrf_id": target.vrf_id})
    settings = target.settings(max_workers=30)
    provider = NipapProvider(target.config(settings, nets), settings)
    desired = Desired(bindings=tuple(
        Binding(net.name, f"{net.name}-h{i}", f"02:00:00:00:{k:02x}:{i:02x}", f"10.{2 + k}.0.{10 + i}")
        for k, net in enumerate(nets) for i in range(5)))
    if target.sim:
        target.sim.knobs.write_hold = 0.05
    created = _apply(provider, desired)
    assert [o.status for o in created] == ["applied"] * 30, [o.error for o in created if o.error]
    hosts = _hosts_by_ip(target)
    assert len(hosts) == 31 and set(hosts.values()) == {1}
    if target.sim:
        assert target.sim.knobs.peak_writes == 6  # one per assignment, all six at once
    deleted = _apply(provider, Desired())
    assert [o.status for o in deleted] == ["applied"] * 30, [o.error for o in deleted if o.error]
    assert [h["node"] for h in target.hosts()] == ["printer"]
    if target.sim:
        assert target.sim.knobs.injected == Counter()  # no two writes under one assignment met


def test_lanes_keep_a_parent_in_one_lane_and_join_a_host_moved_between_two() -> None:
    from core.model import Address

    def change(name: str, before: str | None, after: str | None) -> tuple[str, set[str]]:
        return name, {p for p in (before, after) if p}

    parents = dict([change("a", None, "A"), change("b", None, "B"), change("c", "A", None),
                    change("d", None, "C"), change("e", "B", "C")])
    batch = [(i, Address.of("nipap_address", f"lan.{name}")) for i, name in enumerate(parents)]
    result = lanes(batch, lambda a: parents[a.name.split(".")[1]])  # type: ignore[arg-type]
    assert sorted([[i for i, _ in lane] for lane in result]) == [[0, 2], [1, 3, 4]]


# ---------------------------------------------------------------------- the simulator's fault mode
def test_injected_transient_faults_are_resent_counted_and_never_duplicate(simtarget: Target) -> None:
    sim = simtarget.sim
    provider = make(simtarget, max_workers=8, retries=10)
    provider.backoff = 0.001
    sim.knobs.fault_mode(0.3, seed=19, writes_only=True)
    desired = Desired(bindings=tuple(binding(simtarget, f"vm{i}", 20 + i) for i in range(30)))
    created = _apply(provider, desired)
    assert [o.status for o in created] == ["applied"] * 30, [o.error for o in created if o.error]
    injected_on_create = sum(sim.knobs.injected.values())
    assert injected_on_create > 0 and sum(o.retries for o in created) == injected_on_create
    hosts = _hosts_by_ip(simtarget)
    assert len(hosts) == 31 and set(hosts.values()) == {1}  # a landed-but-reset add was not added twice
    deleted = _apply(provider, Desired())
    assert [o.status for o in deleted] == ["applied"] * 30, [o.error for o in deleted if o.error]
    assert sum(o.retries for o in deleted) == sum(sim.knobs.injected.values()) - injected_on_create > 0
    assert [h["node"] for h in simtarget.hosts()] == ["printer"]
    assert set(sim.knobs.injected) <= {"deadlock", "serialization", "reset", "reset-after", "502", "503"}


@pytest.mark.parametrize("kind", ["reset-after", "reset", "503", "deadlock"])
def test_a_resent_create_and_delete_are_recognised_when_the_first_had_landed(
    simtarget: Target, kind: str
) -> None:
    sim = simtarget.sim
    provider = make(simtarget)
    provider.backoff = 0.001
    plan = provider.plan(Desired(bindings=(binding(simtarget, "web", 20),)), provider.read(),
                         context_for(provider.config))
    sim.knobs.fault_mode(1.0, kinds=(kind,), writes_only=True, limit=1)  # the first write only
    sim.clear_log()
    (outcome,) = provider.apply(plan).outcomes
    assert outcome.status == "applied" and outcome.retries == 1, outcome
    assert [h["node"] for h in simtarget.hosts()].count("web") == 1
    assert sim.counts["add_prefix"] == 2
    sim.knobs.fault_mode(1.0, kinds=(kind,), writes_only=True, limit=1)
    (outcome,) = _apply(provider, Desired())
    assert outcome.status == "applied" and outcome.retries == 1, outcome
    assert [h["node"] for h in simtarget.hosts()] == ["printer"]


def test_transient_faults_are_bounded_and_the_error_is_the_first_line(simtarget: Target) -> None:
    provider = make(simtarget, retries=2)
    provider.backoff = 0.001
    simtarget.sim.knobs.fault_mode(1.0, kinds=("deadlock",), writes_only=True)
    (outcome,) = _apply(provider, Desired(bindings=(binding(simtarget, "web", 20),)))
    assert outcome.status == "failed" and outcome.retries == 2
    assert outcome.error.endswith("deadlock detected (still failing after 3 attempts)"), outcome.error
    assert "DETAIL" not in outcome.error and "web" not in {h["node"] for h in simtarget.hosts()}


def test_permanent_fault_1000_is_not_resent(simtarget: Target) -> None:
    provider = make(simtarget)
    changes = provider.plan(Desired(bindings=(binding(simtarget, "web", 20),)), provider.read(),
                            context_for(provider.config))
    simtarget.sim.clear_log()
    simtarget.sim.knobs.fail_call(1, 1000, "Unhandled data error.")
    (outcome,) = provider.apply(changes).outcomes
    assert outcome.status == "failed" and outcome.retries == 0 and "Unhandled data error." in outcome.error
    assert simtarget.sim.counts["add_prefix"] == 1


# ---------------------------------------------------------------------- a frozen nipapd
def test_a_frozen_nipapd_is_given_up_after_n_timeouts_in_a_row(simtarget: Target) -> None:
    provider = make(simtarget, timeout=0.3, give_up_after_timeouts=3, max_workers=4)
    desired = Desired(bindings=tuple(binding(simtarget, f"vm{i}", 20 + i) for i in range(8)))
    changes = provider.plan(desired, provider.read(), context_for(provider.config))
    simtarget.sim.knobs.latency = 5.0  # frozen: every call hangs
    start = time.monotonic()
    outcomes = provider.apply(changes).outcomes
    elapsed = time.monotonic() - start
    assert elapsed < 2.0, elapsed  # 3 timeouts of 0.3 s (one lane: one after another), not 8 × 2
    statuses = Counter(o.status for o in outcomes)
    assert statuses == {"failed": 2, "skipped": 6}, outcomes
    failed = [o for o in outcomes if o.status == "failed"]
    assert "no answer from" in failed[0].error and "may have been applied" in failed[1].error
    skipped = [o for o in outcomes if o.status == "skipped"]
    assert all(o.error.startswith("abandoned: 3 calls in a row got no answer") for o in skipped)
    simtarget.sim.knobs.latency = 0.0
    assert [o.status for o in _apply(provider, desired)] == ["applied"] * 8  # a new run tries again


def test_an_answer_resets_the_timeout_count(simtarget: Target) -> None:
    provider = make(simtarget, timeout=0.3, give_up_after_timeouts=2, max_workers=1)
    desired = Desired(bindings=tuple(binding(simtarget, f"vm{i}", 20 + i) for i in range(3)))
    changes = provider.plan(desired, provider.read(), context_for(provider.config))
    simtarget.sim.knobs.hang_call(1, seconds=2)  # vm0's add; its look-up answers: not in a row
    outcomes = provider.apply(changes).outcomes
    assert [o.status for o in outcomes] == ["failed", "applied", "applied"]
    assert provider.client.gave_up is None


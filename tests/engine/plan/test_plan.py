import random
import threading

import pytest

import engine.reconcile.bindings
from core.config import Config
from core.errors import PlanError, ProviderError, ProviderUnavailable
from core.model import Address, Conflict, ConflictKind, Desired
from engine.config.load import config_digest
from engine.observe import RecordingObserver
from engine.plan.planner import filter_targets, make_plan, order_changes, owned_from_state, read_all
from state.model import JournalEntry, ResourceState, State
from tests.engine.conftest import MemProvider, change

A = Address.parse
CONFIG = Config()


def addresses(changes):
    return [str(c.address) for c in changes]


# ------------------------------------------------------------------------------ read_all


def test_read_all_reads_every_system_in_parallel(systems):
    gate = threading.Event()
    for provider in systems.values():
        provider.read_gate = gate
    timer = threading.Timer(0.2, gate.set)  # only parallel reads can all be waiting at once
    timer.start()
    observer = RecordingObserver()
    observations = read_all(systems, observer)
    timer.join()
    assert sorted(observations) == ["edgemax", "nipap", "proxmox"]
    assert sorted(observer.named("read_finished")) == ["edgemax", "nipap", "proxmox"]


def test_read_error_is_raised_after_the_others_finish(systems):
    systems["proxmox"].read_error = ProviderUnavailable("proxmox", "connection refused by pve1:8006")
    with pytest.raises(ProviderUnavailable, match="proxmox: connection refused"):
        read_all(systems)
    assert systems["nipap"].read_done and systems["edgemax"].read_done


def test_unexpected_read_exception_becomes_a_provider_error(systems):
    systems["edgemax"].read_error = KeyError("interfaces")
    with pytest.raises(ProviderError) as info:
        read_all(systems)
    assert info.value.system == "edgemax"
    assert str(info.value) == "edgemax: reading failed unexpectedly (KeyError: 'interfaces')"


def test_read_all_with_two_failures_raises_by_priority_and_reports_the_other(systems):
    systems["edgemax"].read_error = ProviderUnavailable("edgemax", "no route")
    systems["nipap"].read_error = ProviderUnavailable("nipap", "refused")
    observer = RecordingObserver()
    with pytest.raises(ProviderUnavailable, match=r"^nipap"):
        read_all(systems, observer)
    assert observer.named("message") == ["also failed: edgemax: no route"]


def test_no_cyclic_gc_runs_while_the_systems_are_read_and_after_a_failure_it_runs_again(systems, monkeypatch):
    """A collection holds the interpreter lock: every read worker whose answer arrived waits for it
    (a full one took ~50 ms during a read of 1,000 guests)."""
    import gc

    seen: list[bool] = []
    for provider in systems.values():
        real = provider.read

        def read(real=real):
            seen.append(gc.isenabled())
            return real()

        monkeypatch.setattr(provider, "read", read)
    assert gc.isenabled()
    read_all(systems)
    assert seen == [False, False, False]
    assert gc.isenabled()
    systems["nipap"].read_error = ProviderUnavailable("nipap", "refused")
    with pytest.raises(ProviderUnavailable):
        read_all(systems)
    assert gc.isenabled()


def test_what_was_made_while_collecting_was_paused_is_not_walked_by_a_young_collection_after_it():
    """It is nearly all kept (the plan): promoted to the oldest generation at once, not walked first."""
    import gc

    from engine.plan.planner import gc_paused

    ran: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            ran.append(info["generation"])

    assert gc.isenabled()
    gc.collect()  # nothing young left over from earlier tests
    gc.callbacks.append(note)
    try:
        with gc_paused():
            kept = [[i] for i in range(50_000)]  # lists: always tracked (a dict of numbers is not)
            assert not gc.isenabled()
        more = [[i] for i in range(100)]  # allocations that would start the young collection
    finally:
        gc.callbacks.remove(note)
    assert gc.isenabled() and ran == [] and len(kept) == 50_000 and len(more) == 100
    assert gc.get_count()[0] < 1_000


# --------------------------------------------------------------------------- ownership


def test_owned_from_state_adds_interrupted_operations_as_recovering():
    state = State(lineage="L").with_resource(
        ResourceState("nipap_address.lan.a", "nipap", "3", {"ip": "10.0.0.3"}, ("nipap_prefix.lan",),
                      "proxmox")
    ).with_journal((
        JournalEntry("1", "nipap_address.lan.b", "create", "intended", "nipap", {"ip": "10.0.0.4"}),
        JournalEntry("2", "edgemax_host.b.lab", "create", "sent", "edgemax", {"ip": "10.0.0.4"}),
        JournalEntry("3", "nipap_address.lan.a", "delete", "sent", "nipap", {}),
        JournalEntry("4", "nipap_address.lan.c", "create", "confirmed", "nipap", {}),
    ))
    owned = owned_from_state(state)
    assert {str(a): m.status for a, m in owned.items()} == {
        "nipap_address.lan.a": "managed",
        "nipap_address.lan.b": "recovering",
        "edgemax_host.b.lab": "recovering",
    }
    a = owned[A("nipap_address.lan.a")]
    assert (a.provider_id, a.dependencies, a.origin) == ("3", (A("nipap_prefix.lan"),), "proxmox")
    assert dict(owned[A("nipap_address.lan.b")].attributes) == {"ip": "10.0.0.4"}
    assert owned_from_state(None) == {}


# ------------------------------------------------------------------------------ ordering


MIXED = [
    change("create", "nipap_address.lan.new"),
    change("create", "edgemax_dhcp_mapping.LAN.new", "nipap_address.lan.new"),
    change("create", "edgemax_host.new.lab", "nipap_address.lan.new"),
    change("update", "proxmox_ipconfig.pve1.101.net0", "nipap_address.lan.new"),
    change("delete", "edgemax_dhcp_mapping.LAN.old", "nipap_address.lan.old"),
    change("delete", "edgemax_host.old.lab", "nipap_address.lan.old"),
    change("delete", "nipap_address.lan.old", "nipap_prefix.gone"),
    change("delete", "nipap_prefix.gone"),
]


def test_order_is_dependency_order_for_creates_and_reverse_for_deletes():
    order = addresses(order_changes(MIXED))
    pos = order.index
    assert pos("nipap_address.lan.new") < pos("edgemax_dhcp_mapping.LAN.new")
    assert pos("nipap_address.lan.new") < pos("proxmox_ipconfig.pve1.101.net0")
    assert pos("edgemax_dhcp_mapping.LAN.old") < pos("nipap_address.lan.old")
    assert pos("edgemax_host.old.lab") < pos("nipap_address.lan.old") < pos("nipap_prefix.gone")


def test_order_is_deterministic_whatever_the_input_order():
    expected = addresses(order_changes(MIXED))
    rng = random.Random(7)
    for _ in range(20):
        shuffled = list(MIXED)
        rng.shuffle(shuffled)
        assert addresses(order_changes(shuffled)) == expected
    assert expected == [
        "edgemax_dhcp_mapping.LAN.old", "edgemax_host.old.lab", "nipap_address.lan.new",
        "edgemax_dhcp_mapping.LAN.new", "edgemax_host.new.lab", "nipap_address.lan.old",
        "proxmox_ipconfig.pve1.101.net0", "nipap_prefix.gone",
    ]


def test_dependencies_outside_the_plan_are_ignored():
    order = order_changes([change("create", "edgemax_host.a.lab", "nipap_address.lan.a")])
    assert addresses(order) == ["edgemax_host.a.lab"]


# ------------------------------------------------------------------------------ make_plan


def test_make_plan_assembles_the_plan(systems, monkeypatch):
    systems["nipap"].objects = {A("nipap_address.lan.x"): {"ip": "10.0.0.9"}}
    systems["edgemax"].warnings = ("dnsmasq is not in use",)
    systems["nipap"].planned = [MIXED[0], MIXED[6], MIXED[7]]
    systems["edgemax"].planned = [MIXED[1], MIXED[4]]
    state = State(lineage="lin", serial=4)
    plan = make_plan(CONFIG, systems, state, options={"force": True})
    assert addresses(plan.changes) == [
        "edgemax_dhcp_mapping.LAN.old", "nipap_address.lan.new", "edgemax_dhcp_mapping.LAN.new",
        "nipap_address.lan.old", "nipap_prefix.gone",
    ]
    assert (plan.lineage, plan.serial) == ("lin", 4)
    assert plan.config_digest == config_digest(CONFIG)
    assert plan.warnings == ("dnsmasq is not in use",)
    assert list(plan.fingerprints) == ["nipap_address.lan.x"]
    ctx = systems["nipap"].contexts[0]
    assert ctx.options == {"force": True} and not hasattr(ctx, "targets")  # targeting is the engine's


def test_blocked_changes_are_dropped(systems, monkeypatch):
    conflict = Conflict(ConflictKind.IP_CLAIMED_TWICE, "two hosts on 10.0.0.5", ("a", "b"),
                        blocked=(A("edgemax_host.a.lab"),))
    monkeypatch.setattr(engine.reconcile.bindings, "reconcile",
                        lambda c, o, s, *_: Desired(conflicts=(conflict,)))
    systems["edgemax"].planned = [
        change("create", "edgemax_host.a.lab"),
        change("create", "edgemax_host.b.lab"),
    ]
    plan = make_plan(CONFIG, systems, None)
    assert addresses(plan.changes) == ["edgemax_host.b.lab"]
    assert plan.conflicts == (conflict,)
    assert plan.lineage is None


def test_reconcile_receives_owned_set_with_recovery(systems, monkeypatch):
    seen = {}

    def fake(config, observations, owned, *_):
        seen["owned"] = owned
        return Desired()

    monkeypatch.setattr(engine.reconcile.bindings, "reconcile", fake)
    state = State().with_journal((JournalEntry("1", "nipap_address.lan.b", "create", "sent", "nipap", {}),))
    make_plan(CONFIG, systems, state)
    assert [m.status for m in seen["owned"].values()] == ["recovering"]
    assert systems["nipap"].contexts[0].is_owned(A("nipap_address.lan.b"))


def test_given_observations_are_used_without_reading(systems):
    observations = {name: p.read() for name, p in systems.items()}
    systems["nipap"].read_error = RuntimeError("must not be read again")
    make_plan(CONFIG, systems, None, observations=observations)
    with pytest.raises(PlanError, match="no observation for nipap"):
        make_plan(CONFIG, systems, None, observations={"edgemax": observations["edgemax"],
                                                       "proxmox": observations["proxmox"]})


def test_two_changes_for_one_address_is_a_plan_error(systems):
    systems["nipap"].planned = [
        change("create", "nipap_address.lan.a"),
        change("update", "nipap_address.lan.a"),
    ]
    with pytest.raises(PlanError, match=r"two changes planned for nipap_address\.lan\.a"):
        make_plan(CONFIG, systems, None)


def test_deletes_wait_for_dependencies_recorded_in_state(systems):
    # the provider forgot depends_on; the state remembers the mapping depended on the address
    state = State().with_resource(
        ResourceState("edgemax_dhcp_mapping.LAN.old", "edgemax", None, {}, ("nipap_address.lan.old",))
    ).with_resource(ResourceState("nipap_address.lan.old", "nipap", "5", {}))
    systems["nipap"].planned = [change("delete", "nipap_address.lan.old")]
    systems["edgemax"].planned = [change("delete", "edgemax_dhcp_mapping.LAN.old")]
    plan = make_plan(CONFIG, systems, state)
    assert addresses(plan.changes) == ["edgemax_dhcp_mapping.LAN.old", "nipap_address.lan.old"]
    assert plan.changes[0].depends_on == (A("nipap_address.lan.old"),)


def test_deletes_of_guest_objects_wait_while_a_node_is_unreadable(systems):
    from dataclasses import replace

    state = (
        State()
        .with_resource(ResourceState("nipap_address.lan.vm", "nipap", "5", {}, origin="proxmox"))
        .with_resource(ResourceState("nipap_address.lan.nas", "nipap", "6", {}, origin="import"))
    )
    systems["nipap"].planned = [
        change("delete", "nipap_address.lan.vm"),
        change("delete", "nipap_address.lan.nas"),
        change("create", "nipap_address.lan.new"),
    ]
    observations = {name: p.read() for name, p in systems.items()}
    unread = [{"node": "pve3", "vmid": 104, "reason": "595 Connection refused"}]
    observations["proxmox"] = replace(observations["proxmox"], data={"unread": unread},
                                      incomplete=(f"{len(unread)} guests unread",))
    plan = make_plan(CONFIG, systems, state, observations=observations)
    # the imported NAS lost its source for real; the guest may only be on the unreadable node
    assert sorted(addresses(plan.changes)) == ["nipap_address.lan.nas", "nipap_address.lan.new"]
    assert any("1 deletes postponed" in w and "proxmox: 1 guests unread" in w for w in plan.warnings)
    complete = make_plan(CONFIG, systems, state)
    assert "nipap_address.lan.vm" in addresses(complete.changes)


# --------------------------------------------------------------------------------- target


def test_target_keeps_what_the_target_needs():
    kept = filter_targets(MIXED, frozenset({A("edgemax_dhcp_mapping.LAN.new")}))
    assert addresses(kept) == ["nipap_address.lan.new", "edgemax_dhcp_mapping.LAN.new"]


def test_target_of_a_delete_keeps_the_deletes_of_its_dependents():
    kept = filter_targets(MIXED, frozenset({A("nipap_address.lan.old")}))
    assert sorted(addresses(kept)) == [
        "edgemax_dhcp_mapping.LAN.old", "edgemax_host.old.lab", "nipap_address.lan.old",
    ]


def test_target_prefix_matches_every_instance(systems):
    systems["nipap"].planned = [MIXED[0], MIXED[6], MIXED[7]]
    systems["edgemax"].planned = [MIXED[1], MIXED[2], MIXED[4], MIXED[5]]
    plan = make_plan(CONFIG, systems, None, targets=[A("edgemax_host.new")])
    assert addresses(plan.changes) == ["nipap_address.lan.new", "edgemax_host.new.lab"]
    assert not hasattr(systems["edgemax"].contexts[0], "targets")  # providers plan everything


# ---------------------------------------------------------------------------------- drift


def drift_state() -> State:
    state = State(lineage="L")
    for name, ip in (("a", "10.0.0.1"), ("b", "10.0.0.2"), ("c", "10.0.0.3"), ("d", "10.0.0.4")):
        state = state.with_resource(
            ResourceState(f"edgemax_host.{name}.lab", "edgemax", None, {"inet": ip, "aliases": ["x"]})
        )
    return state


def test_drift_revert_adopt_and_vanished(systems):
    systems["edgemax"].objects = {
        A("edgemax_host.a.lab"): {"inet": "10.0.0.99", "aliases": ("x",)},  # edited, plan reverts
        A("edgemax_host.b.lab"): {"inet": "10.0.0.98", "aliases": ("x",)},  # edited, now wanted
        A("edgemax_host.c.lab"): {"inet": "10.0.0.3", "aliases": ("x",), "extra": 1},  # unchanged
        # d: deleted by hand, the plan re-creates it
    }
    systems["edgemax"].planned = [
        change("update", "edgemax_host.a.lab", before={"inet": "10.0.0.99"}, after={"inet": "10.0.0.1"}),
        change("create", "edgemax_host.d.lab", after={"inet": "10.0.0.4"}),
    ]
    plan = make_plan(CONFIG, systems, drift_state())
    found = {str(d.address): d for d in plan.drift}
    assert sorted(found) == ["edgemax_host.a.lab", "edgemax_host.b.lab", "edgemax_host.d.lab"]
    a, b, d = found["edgemax_host.a.lab"], found["edgemax_host.b.lab"], found["edgemax_host.d.lab"]
    assert a.resolution == "revert" and a.expected["inet"] == "10.0.0.1" and a.actual["inet"] == "10.0.0.99"
    assert "inet '10.0.0.1' → '10.0.0.99'" in a.reason
    assert b.resolution == "adopt" and "adopted" in b.reason
    assert d.resolution == "revert" and d.actual is None and "deleted outside netsot" in d.reason
    drifted = {str(c.address): c.drift for c in plan.changes}
    assert drifted == {"edgemax_host.a.lab": True, "edgemax_host.d.lab": True}


def test_no_drift_for_systems_that_were_not_read():
    plan = make_plan(CONFIG, {"nipap": MemProvider("nipap")}, drift_state())
    assert plan.drift == ()


def test_recovering_object_without_a_change_is_adopted(systems):
    systems["nipap"].objects = {A("nipap_address.lan.b"): {"ip": "10.0.0.4"}}
    state = State().with_journal((
        JournalEntry("1", "nipap_address.lan.b", "create", "sent", "nipap", {"ip": "10.0.0.4"}),
        JournalEntry("2", "nipap_address.lan.c", "create", "intended", "nipap", {"ip": "10.0.0.5"}),
    ))
    plan = make_plan(CONFIG, systems, state)
    found = {str(d.address): d for d in plan.drift}
    assert found["nipap_address.lan.b"].resolution == "adopt"
    assert dict(found["nipap_address.lan.b"].actual) == {"ip": "10.0.0.4"}
    assert found["nipap_address.lan.c"].actual is None


def test_a_provider_planning_for_another_system_is_a_plan_error(systems):
    systems["nipap"].planned = [change("create", "edgemax_host.a.lab")]
    with pytest.raises(PlanError, match="another system"):
        make_plan(CONFIG, systems, None)


def test_unexpected_plan_exception_becomes_a_provider_error(systems, monkeypatch):
    def broken(*args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(systems["proxmox"], "plan", broken)
    with pytest.raises(ProviderError, match=r"^proxmox: planning failed unexpectedly \(ZeroDivisionError"):
        make_plan(CONFIG, systems, None)


def test_objects_with_the_ownership_marker_but_not_in_state_are_adopted(systems):
    from dataclasses import replace

    from core.model import ObservedResource, frozen_map

    address = A("nipap_address.lan.late")
    resource = ObservedResource(address, frozen_map({"ip": "10.0.0.9"}), provider_id="77", owned_marker=True)
    observations = {name: p.read() for name, p in systems.items()}
    observations["nipap"] = replace(observations["nipap"], resources=frozen_map({address: resource}))
    plan = make_plan(CONFIG, systems, State(), observations=observations)
    assert [(str(d.address), d.resolution) for d in plan.drift] == [("nipap_address.lan.late", "adopt")]
    assert systems["nipap"].contexts[-1].owned[address].status == "marked"


def test_an_owned_object_of_an_unread_system_part_is_not_called_deleted(systems):
    from dataclasses import replace

    record = ResourceState("proxmox_ipconfig.pve3.208.net0", "proxmox", "d", {"ip": "x"})
    state = State().with_resource(record)
    observations = {name: p.read() for name, p in systems.items()}
    unread = [{"node": "pve3", "vmid": 208, "reason": "595 Connection refused"}]
    observations["proxmox"] = replace(observations["proxmox"], data={"unread": unread},
                                      incomplete=(f"{len(unread)} guests unread",))
    assert make_plan(CONFIG, systems, state, observations=observations).drift == ()
    assert [d.resolution for d in make_plan(CONFIG, systems, state).drift] == ["adopt"]  # really gone


def test_observation_fingerprints_are_computed_once_and_handed_out_as_copies() -> None:
    """#24: serve's partial runs plan from the same cached observations again and again; their
    fingerprints are computed once (the objects are frozen) and each caller gets its own dict."""
    from core.model import Address, Fact, Observation, ObservedResource, fingerprint

    address = Address.parse("nipap_address.lan.web01")
    resource = ObservedResource(address, {"ip": "192.168.1.5"}, kept={"note": ("x",)})
    obs = Observation("nipap", {address: resource},
                      (Fact("nipap", "r1", "lan", "web01", None, "192.168.1.5", address=address),))
    first = obs.fingerprints()
    assert first == {"nipap_address.lan.web01": fingerprint({"attributes": {"ip": "192.168.1.5"},
                                                             "kept": {"note": ("x",)}}),
                     "fact:r1": fingerprint(obs.facts[0].fingerprint_data())}
    first.clear()
    assert obs.fingerprints() != {} and obs.fingerprints() is not obs.fingerprints()
    assert "_fingerprints" in vars(obs)  # kept on the frozen observation (not on each resource)


def test_owned_from_state_converts_each_state_record_once() -> None:
    """#24: serve plans from the same state object after object; an unchanged record is converted once,
    a changed one again (the records are frozen, so reusing them cannot go stale)."""
    from state.model import ResourceState, State

    state = State(lineage="l")
    state = state.with_resource(ResourceState("nipap_address.lan.a", "nipap", "1", {"ip": "10.0.0.1"}))
    state = state.with_resource(ResourceState("nipap_address.lan.b", "nipap", "2", {"ip": "10.0.0.2"}))
    first = owned_from_state(state)
    changed = state.with_resource(ResourceState("nipap_address.lan.b", "nipap", "2", {"ip": "10.0.0.9"}))
    again = owned_from_state(changed)
    a, b = (Address.parse(f"nipap_address.lan.{n}") for n in "ab")
    assert again[a] is first[a]
    assert again[b] is not first[b] and again[b].attributes["ip"] == "10.0.0.9"
    assert first[b].attributes["ip"] == "10.0.0.2"

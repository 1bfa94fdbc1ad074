import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.errors import ProviderRejected
from core.model import Address, Conflict, ConflictKind, Drift, Plan, frozen_map
from engine.apply.applier import apply_plan
from engine.observe import RecordingObserver
from engine.plan.planner import order_changes, owned_from_state
from state.backend import FileBackend
from state.model import JournalEntry, ResourceState, State
from tests.engine.conftest import RecordingBackend, change

ROOT = Path(__file__).resolve().parents[3]
A = Address.parse


def mixed_plan() -> Plan:
    """nipap creates, edgemax deletes + creates, nipap deletes (the router must commit once)."""
    changes = [
        change("create", "nipap_address.lan.new"),
        change("create", "edgemax_dhcp_mapping.LAN.new", "nipap_address.lan.new"),
        change("delete", "edgemax_dhcp_mapping.LAN.old", "nipap_address.lan.old"),
        change("delete", "nipap_address.lan.old"),
    ]
    return Plan(changes=tuple(order_changes(changes)))


def old_state() -> State:
    return State(lineage="L").with_resource(
        ResourceState("nipap_address.lan.old", "nipap", "7", {"ip": "10.0.0.9"})
    ).with_resource(
        ResourceState("edgemax_dhcp_mapping.LAN.old", "edgemax", None, {"ip": "10.0.0.9"},
                      dependencies=("nipap_address.lan.old",))
    )


def test_batching_gives_the_router_one_commit(systems, calls):
    backend = RecordingBackend(old_state())
    report = apply_plan(mixed_plan(), systems, backend)
    assert calls == [
        ("nipap", ("nipap_address.lan.new",)),
        ("edgemax", ("edgemax_dhcp_mapping.LAN.old", "edgemax_dhcp_mapping.LAN.new")),
        ("nipap", ("nipap_address.lan.old",)),
    ]
    assert report.ok and len(report.applied) == 4
    assert sorted(report.state.resources) == ["edgemax_dhcp_mapping.LAN.new", "nipap_address.lan.new"]
    assert report.state.journal == ()
    assert backend.load().resources.keys() == report.state.resources.keys()
    assert report.logs == {"edgemax": ("edgemax: 2 change(s)",), "nipap": ("nipap: 1 change(s)",) * 2}


def test_independent_systems_run_in_one_round(systems, calls):
    plan = Plan(changes=tuple(order_changes([
        change("create", "nipap_address.lan.a"),
        change("create", "edgemax_host.x.lab"),
        change("create", "proxmox_ipconfig.pve1.100.net0"),
    ])))
    observer = RecordingObserver()
    backend = RecordingBackend()
    apply_plan(plan, systems, backend, observer)
    assert sorted(c[0] for c in calls) == ["edgemax", "nipap", "proxmox"]
    # one journal round for all three: intended, sent, then one save per system batch
    assert len(backend.saved) == 5
    assert [len(s.journal) for s in backend.saved] == [3, 3, 2, 1, 0]


def test_failure_skips_downstream_and_keeps_what_succeeded(systems, calls):
    systems["nipap"].fail = {A("nipap_address.lan.new")}
    backend = RecordingBackend(old_state())
    observer = RecordingObserver()
    report = apply_plan(mixed_plan(), systems, backend, observer)
    assert [str(o.address) for o in report.failed] == ["nipap_address.lan.new"]
    assert [(str(o.address), o.error) for o in report.skipped] == [
        ("edgemax_dhcp_mapping.LAN.new", "skipped: depends on nipap_address.lan.new which failed")
    ]
    # the independent delete branch still ran, and the router still got a single batch
    assert calls[1:] == [
        ("edgemax", ("edgemax_dhcp_mapping.LAN.old",)),
        ("nipap", ("nipap_address.lan.old",)),
    ]
    assert sorted(report.state.resources) == []
    assert backend.load().resources == report.state.resources
    assert not report.ok
    assert ("change_finished", ("edgemax_dhcp_mapping.LAN.new", "skipped")) in observer.events


def test_skip_propagates_through_a_chain(systems):
    plan = Plan(changes=tuple(order_changes([
        change("create", "nipap_prefix.lan"),
        change("create", "nipap_address.lan.a", "nipap_prefix.lan"),
        change("create", "edgemax_host.a.lab", "nipap_address.lan.a"),
    ])))
    systems["nipap"].fail = {A("nipap_prefix.lan")}
    report = apply_plan(plan, systems, RecordingBackend())
    assert [o.error for o in report.skipped] == [
        "skipped: depends on nipap_prefix.lan which failed",
        "skipped: depends on nipap_address.lan.a which was skipped",
    ]


def test_batch_exception_fails_the_batch_and_other_systems_continue(systems, calls):
    systems["nipap"].batch_error = ProviderRejected("nipap", "fault 1100: no such prefix")
    plan = Plan(changes=tuple(order_changes([
        change("create", "nipap_address.lan.a"),
        change("create", "edgemax_host.a.lab", "nipap_address.lan.a"),
        change("create", "proxmox_ipconfig.pve1.100.net0"),
    ])))
    backend = RecordingBackend()
    report = apply_plan(plan, systems, backend)
    assert [(str(o.address), o.error) for o in report.failed] == [
        ("nipap_address.lan.a", "nipap: fault 1100: no such prefix")
    ]
    assert [str(o.address) for o in report.skipped] == ["edgemax_host.a.lab"]
    assert [str(o.address) for o in report.applied] == ["proxmox_ipconfig.pve1.100.net0"]
    assert list(backend.load().resources) == ["proxmox_ipconfig.pve1.100.net0"]
    # the failed change may have landed anyway: its entry stays, so the next plan adopts or reverts it
    assert [(j.address, j.phase) for j in backend.load().journal] == [("nipap_address.lan.a", "sent")]


def test_unexpected_exception_is_a_failed_outcome_without_traceback(systems):
    systems["proxmox"].batch_error = RuntimeError("boom at https://root:pw@pve:8006/api")
    plan = Plan(changes=(change("create", "proxmox_ipconfig.pve1.100.net0"),))
    report = apply_plan(plan, systems, RecordingBackend())
    assert report.failed[0].error == (
        "proxmox: apply failed unexpectedly (RuntimeError: boom at https://***@pve:8006/api)"
    )


def test_journal_contents_at_each_phase(systems):
    plan = Plan(changes=(change("create", "nipap_address.lan.a", after={"ip": "10.0.0.5"}),))
    backend = RecordingBackend()
    apply_plan(plan, systems, backend)
    intended, sent, done = backend.saved
    assert [(j.address, j.action, j.phase, j.system, dict(j.data)) for j in intended.journal] == [
        ("nipap_address.lan.a", "create", "intended", "nipap", {"ip": "10.0.0.5"})
    ]
    assert intended.resources == {}
    assert [j.phase for j in sent.journal] == ["sent"]
    assert sent.journal[0].op_id == intended.journal[0].op_id
    assert done.journal == ()
    res = done.resources["nipap_address.lan.a"]
    assert (res.provider, res.provider_id, dict(res.attributes)) == ("nipap", "id-lan.a", {"ip": "10.0.0.5"})


def test_state_records_dependencies_origin_and_moves(systems):
    start = State(lineage="L").with_resource(ResourceState("nipap_address.lan.old-name", "nipap", "9", {}))
    plan = Plan(changes=tuple(order_changes([
        change("update", "nipap_address.lan.new-name", after={"hostname": "new-name"}, provider_id="9",
               moved_from=A("nipap_address.lan.old-name"), origin="proxmox"),
        change("create", "edgemax_host.new-name.lab", "nipap_address.lan.new-name", origin="proxmox"),
    ])))
    report = apply_plan(plan, systems, RecordingBackend(start))
    assert sorted(report.state.resources) == ["edgemax_host.new-name.lab", "nipap_address.lan.new-name"]
    host = report.state.resources["edgemax_host.new-name.lab"]
    assert host.dependencies == ("nipap_address.lan.new-name",) and host.origin == "proxmox"
    assert host.ownership == "made"  # created by this apply


def test_state_records_who_made_each_object(systems):
    """#20.1: a create is made; a move keeps its record's ownership; an update of an object the state did
    not hold (an apply taking it over) is adopted; an update of a recorded object keeps what it was."""
    start = State(lineage="L").with_resource(
        ResourceState("nipap_address.lan.old-name", "nipap", "9", {}, ownership="adopted")
    ).with_resource(ResourceState("edgemax_host.kept.lab", "edgemax", None, {}, ownership="unknown"))
    plan = Plan(changes=tuple(order_changes([
        change("update", "nipap_address.lan.new-name", after={"hostname": "new-name"}, provider_id="9",
               moved_from=A("nipap_address.lan.old-name")),
        change("create", "edgemax_host.made.lab"),
        change("update", "edgemax_host.taken.lab"),
        change("update", "edgemax_host.kept.lab"),
    ])))
    state = apply_plan(plan, systems, RecordingBackend(start)).state
    assert {a: r.ownership for a, r in state.resources.items()} == {
        "nipap_address.lan.new-name": "adopted", "edgemax_host.made.lab": "made",
        "edgemax_host.taken.lab": "adopted", "edgemax_host.kept.lab": "unknown"}


def test_adopted_drift_and_a_stale_journal_are_recorded_before_the_batches(systems):
    start = State(lineage="L").with_resource(
        ResourceState("edgemax_host.a.lab", "edgemax", None, {"ip": "10.0.0.5", "aliases": []})
    ).with_resource(
        ResourceState("edgemax_host.gone.lab", "edgemax", None, {"ip": "10.0.0.6"})
    ).with_journal((JournalEntry("x", "nipap_address.lan.z", "create", "sent", "nipap", {"ip": "10.0.0.7"}),))
    conflict = Conflict(ConflictKind.IP_CLAIMED_TWICE, "r", ("o",), blocked=(A("edgemax_host.gone.lab"),))
    plan = Plan(
        drift=(
            Drift(A("edgemax_host.a.lab"), frozen_map({"ip": "10.0.0.5"}), frozen_map({"ip": "10.0.0.50"}),
                  "adopt", "r"),
            Drift(A("edgemax_host.gone.lab"), frozen_map({"ip": "10.0.0.6"}), None, "adopt", "r"),
            Drift(A("nipap_address.lan.z"), frozen_map({"ip": "10.0.0.7"}), frozen_map({"ip": "10.0.0.7"}),
                  "adopt", "r"),
        ),
        conflicts=(conflict,),
    )
    backend = RecordingBackend(start)
    report = apply_plan(plan, systems, backend)
    assert len(backend.saved) == 1  # one save for the adoption, no batches
    state = report.state
    assert dict(state.resources["edgemax_host.a.lab"].attributes) == {"ip": "10.0.0.50", "aliases": []}
    assert "edgemax_host.gone.lab" in state.resources  # blocked by a conflict: left alone
    assert dict(state.resources["nipap_address.lan.z"].attributes) == {"ip": "10.0.0.7"}
    assert state.resources["nipap_address.lan.z"].ownership == "made"  # the journal shows netsot created it
    assert state.journal == ()


def test_missing_provider_fails_its_changes(systems):
    del systems["proxmox"]
    plan = Plan(changes=(change("create", "proxmox_ipconfig.pve1.100.net0"),))
    report = apply_plan(plan, systems, RecordingBackend())
    assert "not configured" in report.failed[0].error


def test_observer_sees_batches_outcomes_and_saves(systems):
    observer = RecordingObserver()
    apply_plan(mixed_plan(), systems, RecordingBackend(old_state()), observer)
    assert observer.named("batch_started") == [
        ("nipap", ("nipap_address.lan.new",)),
        ("edgemax", ("edgemax_dhcp_mapping.LAN.old", "edgemax_dhcp_mapping.LAN.new")),
        ("nipap", ("nipap_address.lan.old",)),
    ]
    serials = observer.named("state_saved")
    assert serials == sorted(serials) and len(serials) == 9


CRASH_SCRIPT = textwrap.dedent("""
    import sys
    from engine.apply.applier import apply_plan
    from core.model import Plan
    from state.backend import FileBackend
    from tests.engine.conftest import MemProvider, change

    plan = Plan(changes=(change("create", "nipap_address.lan.a"), change("create", "nipap_address.lan.b")))
    apply_plan(plan, {"nipap": MemProvider("nipap")}, FileBackend(sys.argv[1]))
    print("finished")
""")


def run_with_fault(tmp_path: Path, fault: str) -> tuple[int, State]:
    path = tmp_path / "state.json"
    env = {"NETSOT_FAULT_AT": fault, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, FileBackend(path).load()


@pytest.mark.slow
def test_fault_switch_after_sent_leaves_a_sent_journal(tmp_path):
    code, state = run_with_fault(tmp_path, "after-sent:1")
    assert code == 137
    assert [(j.address, j.phase) for j in state.journal] == [
        ("nipap_address.lan.a", "sent"), ("nipap_address.lan.b", "sent"),
    ]
    owned = owned_from_state(state)
    assert {str(a): m.status for a, m in owned.items()} == {
        "nipap_address.lan.a": "recovering", "nipap_address.lan.b": "recovering",
    }


@pytest.mark.slow
def test_fault_switch_after_batch_and_after_intended(tmp_path):
    code, state = run_with_fault(tmp_path, "after-batch:1")
    assert code == 137 and sorted(state.resources) == ["nipap_address.lan.a", "nipap_address.lan.b"]
    assert state.journal == ()
    code, state = run_with_fault(tmp_path / "..", "after-intended")
    assert code == 137 and [j.phase for j in state.journal] == ["intended", "intended"]
    assert json.loads((tmp_path / ".." / "state.json").read_text())["resources"] == []


def test_next_plan_finishes_an_interrupted_apply(systems):
    from core.config import Config
    from engine.plan.planner import make_plan

    # a crash after "sent": a.lan was written by nipap, b.lan was not
    systems["nipap"].objects = {A("nipap_address.lan.a"): {"ip": "10.0.0.4"}}
    crashed = State(lineage="L").with_journal((
        JournalEntry("1", "nipap_address.lan.a", "create", "sent", "nipap", {"ip": "10.0.0.4"}),
        JournalEntry("2", "nipap_address.lan.b", "create", "sent", "nipap", {"ip": "10.0.0.5"}),
    ))
    systems["nipap"].planned = [change("create", "nipap_address.lan.b", after={"ip": "10.0.0.5"})]
    backend = RecordingBackend(crashed)
    plan = make_plan(Config(), systems, backend.load())
    report = apply_plan(plan, systems, backend)
    assert report.ok and report.state.journal == ()
    assert {k: dict(v.attributes) for k, v in report.state.resources.items()} == {
        "nipap_address.lan.a": {"ip": "10.0.0.4"},
        "nipap_address.lan.b": {"ip": "10.0.0.5"},
    }


def test_a_plan_with_a_cycle_is_refused_before_anything_runs(systems, calls):
    from core.errors import CycleError

    plan = Plan(changes=(
        change("create", "nipap_address.lan.a", "edgemax_host.a.lab"),
        change("create", "edgemax_host.a.lab", "nipap_address.lan.a"),
    ))
    backend = RecordingBackend()
    with pytest.raises(CycleError) as info:
        apply_plan(plan, systems, backend)
    assert info.value.cycles == (("edgemax_host.a.lab", "nipap_address.lan.a"),)
    assert calls == [] and backend.saved == []


def test_an_object_found_by_netsots_marker_is_recorded_as_made_and_one_taken_over_as_adopted(systems):
    marked = Drift(A("nipap_address.lan.m"), frozen_map({"ip": "10.0.0.8"}), frozen_map({"ip": "10.0.0.8"}),
                   "adopt", "found netsot's marker on it; it matches what is wanted, so it is recorded")
    other = Drift(A("edgemax_host.o.lab"), frozen_map({"ip": "10.0.0.9"}), frozen_map({"ip": "10.0.0.9"}),
                  "adopt", "changed outside netsot; this matches what is wanted now, so it is adopted")
    state = apply_plan(Plan(drift=(marked, other)), systems, RecordingBackend(State(lineage="L"))).state
    assert state.resources["nipap_address.lan.m"].ownership == "made"
    assert state.resources["edgemax_host.o.lab"].ownership == "adopted"


def test_no_cyclic_gc_runs_while_the_batches_run(systems, calls, monkeypatch):
    """A router batch models thousands of lines as new tree nodes: a full collection then walked
    the whole heap again (0.2 s of a 1.1 s push with 1,000 guests' plan in memory)."""
    import gc

    seen: list[bool] = []
    edgemax = systems["edgemax"]
    real = edgemax.apply

    def apply(changes):
        seen.append(gc.isenabled())
        return real(changes)

    monkeypatch.setattr(edgemax, "apply", apply)
    assert gc.isenabled()
    report = apply_plan(mixed_plan(), systems, RecordingBackend(old_state()))
    assert report.ok and seen == [False]
    assert gc.isenabled()  # restored afterwards

"""The runs every front end shares: plan, apply (fresh or from a saved plan), import and verify.

Owns: the read → plan → safety policy sequence (``plan_run``), recording an approval (the policy's
orphan marks), applying under the caller's lock (``apply_run``), checking a saved plan against
fresh reads (``saved_plan_run``), adopting a system's existing objects (``import_run``) and
``verify_run``. The CLI, the service and the demo call these; they only wire and render.
Must not: print, prompt, or name a system (the registry and the descriptors do that).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from typing import Any

from core.config import Config
from core.errors import NetsotError
from core.model import Address, Check, Fact, Observation, Plan, to_jsonable
from engine import runtime
from engine import systems as systems_module
from engine.apply import history
from engine.apply.applier import ApplyReport, apply_plan
from engine.observe import NullObserver, Observer
from engine.plan import replacing
from engine.plan.planner import make_plan, owned_from_state, read_all, recalled
from engine.plan.planner import refresh_only as refresh_plan
from engine.plan.policy import PolicyResult, apply_policy, record_orphans
from engine.plan.units import units_of
from engine.reconcile.grouping import config_facts
from engine.report.status import ReadHealth, RunInfo, Snapshot
from providers import registry
from providers.base import ROLE_ADDRESS, Provider
from providers.importing import ImportItem, ImportPlan
from state.model import ADOPTED, ResourceState, State


def plan_run(
    config: Config,
    providers: Mapping[str, Provider],
    state: State,
    *,
    targets: Iterable[Address | str] = (),
    force: bool = False,
    service: bool = False,
    observer: Observer | None = None,
    observations: Mapping[str, Observation] | None = None,
    refresh_only: bool = False,
    adopt: Iterable[Address] = (),
    replace_addresses: Iterable[Address] = (),
) -> PolicyResult:
    """Read every system (unless ``observations`` are given), plan, and apply the safety policy.

    ``service`` applies the unattended gates (deletes need ``delete: auto`` and the grace period);
    ``force`` lifts the change thresholds only. ``refresh_only`` plans no change at all and records
    every drift as the expected state; ``adopt`` makes those objects' values win (see make_plan);
    ``replace_addresses`` deletes and creates those owned objects again (``--replace``: asked for
    by name, so only the checks of ``engine.plan.replacing`` apply to them, not the change gates).
    """
    if observations is None:
        observations = read_all(providers, observer)
    plan = make_plan(config, providers, state, targets=targets, observations=observations,
                     options={"force": True} if force else {}, adopt=adopt,
                     replace_addresses=replace_addresses)
    if refresh_only:
        return PolicyResult(plan=refresh_plan(plan))
    first, rest = replacing.split(plan)
    result = apply_policy(dc_replace(plan, changes=rest), config.policy, owned_from_state(state), force=force,
                          service=service, units=units_of(config, plan, rest))
    if not first:
        return result
    return dc_replace(result, plan=dc_replace(result.plan, changes=first + result.plan.changes))


def record_approval(backend: Any, state: State, result: PolicyResult) -> State:
    """The state with this run's orphan marks recorded (saved only when something changed)."""
    marked = record_orphans(state, result)
    return state if marked.same_content(state) else backend.save(marked)


def apply_run(plan: Plan, providers: Mapping[str, Provider], backend: Any, state: State,
              observer: Observer | None = None) -> ApplyReport:
    """Apply ``plan`` (the caller holds the state lock); never raises for a failed change.

    Every attempted change is recorded in the run history next to the state (``engine.apply.history``), after
    the state save that recorded it; a journal left by an interrupted run is recorded there first.
    """
    started = history.run_id()
    path = history.record_of(backend, history.HISTORY)
    if state.journal:  # an earlier run's leftovers
        leftovers = history.interrupted_entries(state.journal, history.now_iso(), history.read(path))
        history.record(path, leftovers)
    recorder = history.Recorder(path, plan, started, observer or NullObserver())
    report = apply_plan(plan, providers, backend, recorder, state=state)
    recorder.flush()  # what finished after the last save (skipped changes)
    return report


def saved_plan_run(doc: Mapping[str, Any], config: Config, providers: Mapping[str, Provider], state: State,
                   observer: Observer | None = None) -> Plan:
    """The plan of a saved document, after checking it still matches what the systems hold now."""
    from engine.plan.document import plan_from_document
    from engine.plan.saved import check_fresh

    observations = read_all(providers, observer)
    check_fresh(doc, config, observations, state)
    return plan_from_document(doc)


# ----------------------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportOutcome:
    plan: ImportPlan
    written: int
    notes: tuple[str, ...]
    system: str


def import_run(config: Config, target: str, from_file: str | None, dry_run: bool, *,
               force_state: bool = False, lock_timeout: float = 0.0) -> ImportOutcome:
    """Adopt the existing objects of system ``target`` (a kind or instance key) into the state.

    Reads the system (or a backup file, when its descriptor can), and every other configured
    system so each adoption can say why it matches; other systems then adopt their own objects of
    the adopted bindings (their ``adopt`` hook). Re-running is a no-op; nothing is ever changed
    on a system.
    """
    key = _import_key(config, target)
    kind = registry.kind_of(key)
    importer = registry.hook(kind.name, "importer")
    if importer is None:
        raise NetsotError(f"{kind.title} has no import: its objects are adopted when netsot creates them")
    observation, others, notes, facts, address_of = _import_inputs(config, key, from_file)

    def decide(state: State) -> ImportPlan:
        owned = owned_from_state(state)
        plan: ImportPlan = importer(config, key, observation, owned, facts, address_of)
        for other_key, other in others.items():
            adopt = registry.hook(registry.kind_of(other_key).name, "adopt")
            if adopt is not None and plan.claims:
                plan = plan + ImportPlan(tuple(adopt(config, other_key, other, plan.claims, owned)))
        return plan

    backend = runtime.open_backend(config, force=force_state)
    written = 0
    if dry_run:
        plan = decide(backend.load())
    else:
        with backend.lock("import", timeout=lock_timeout):
            state = backend.load()
            plan = decide(state)
            for record in plan.records():
                state = state.with_resource(_adopted(record))
                written += 1
            if written:
                backend.save(state)
    return ImportOutcome(plan, written, tuple(notes), key)


def import_one_run(config: Config, address: Address, ident: str, dry_run: bool = False, *,
                   force_state: bool = False, lock_timeout: float = 0.0) -> ImportOutcome:
    """``netsot import ADDR ID``: adopt the one object ``ident`` of the system ``address`` belongs to.

    The system's ``import_one`` hook knows its ID formats and finds the object; the address's kind
    picks the hook. Refuses (``NetsotError``) an object that does not exist, one whose address is
    not ``address``, one the hook refuses (a conflict), and one netsot already manages (as
    Terraform does: import adopts, it never overwrites what the state holds).
    """
    key = address.system
    kind = registry.kind_of(key)
    if registry.resource_type(address.type) is None or kind.resource_type(address.type) is None:
        types = ", ".join(t.name for t in kind.resource_types if not t.pseudo)
        raise NetsotError(f"{address}: {address.type} is not a resource type of {kind.title} "
                          f"(its types: {types})")
    if key not in config.providers:
        raise NetsotError(f"{address}: providers.{key} is not configured")
    hook = registry.hook(kind.name, "import_one")
    if hook is None:
        raise NetsotError(f"{kind.title} cannot import single objects (`netsot import {key}` adopts in bulk)")
    observation, _, notes, facts, address_of = _import_inputs(config, key, None)

    def decide(state: State) -> ImportItem:
        item: ImportItem = hook(config, key, observation, address, ident, owned_from_state(state), facts,
                                address_of)
        if item.status == "managed":
            raise NetsotError(f"{address} is already managed by netsot (`netsot state show {address}`); "
                              "to import it again, `netsot state rm` it first")
        if item.status != "adopt" or item.record is None:
            raise NetsotError(f"cannot import {address}: {item.reason}")
        return item

    backend = runtime.open_backend(config, force=force_state)
    if dry_run:
        return ImportOutcome(ImportPlan((decide(backend.load()),)), 0, tuple(notes), key)
    with backend.lock("import", timeout=lock_timeout):
        state = backend.load()
        item = decide(state)
        backend.save(state.with_resource(_adopted(dict(to_jsonable(item.record)))))
    return ImportOutcome(ImportPlan((item,)), 1, tuple(notes), key)


def _adopted(record: Mapping[str, Any]) -> ResourceState:
    """An imported object's state record: netsot adopted it, it did not make it (never deleted on its own)."""
    return ResourceState.from_dict({**record, "ownership": ADOPTED})


def _import_key(config: Config, target: str) -> str:
    kind = registry.kind_of(target)  # raises for an unknown system
    if "." in target or target in config.providers:
        return target
    default = config.default_instance(kind.name)
    return default if default is not None else target


def _import_inputs(config: Config, key: str, from_file: str | None) -> tuple[
        Observation, dict[str, Observation], list[str], list[Fact], Callable[[str, str], Address | None]]:
    """What an import of ``key`` decides from: its observation, every other system's (and the notes of
    those that failed), all their facts with the config's, and the IPAM address of a binding."""
    observation = _import_read(config, key, from_file)
    others, notes = _read_others(config, key, registry.kind_of(key).title)
    notes = [*observation.warnings, *notes]  # e.g. the lines of a backup file that were skipped
    facts = config_facts(config) + [f for obs in others.values() for f in obs.facts]
    systems = systems_module.of(config)

    def address_of(network: str, name: str) -> Address | None:
        return systems.role_address(ROLE_ADDRESS, network, name)

    return observation, others, notes, facts, address_of


def _import_read(config: Config, key: str, from_file: str | None) -> Observation:
    kind = registry.kind_of(key)
    reader = registry.hook(kind.name, "import_read")
    if reader is not None:
        return reader(config, key, from_file)
    if from_file:
        raise NetsotError(f"{kind.title} cannot import from a file")
    with runtime.open_providers(config, only=(key,)) as providers:
        return read_all(providers)[key]


def _read_others(config: Config, key: str, title: str) -> tuple[dict[str, Observation], list[str]]:
    """Every other configured system, so matches can be explained; a failure is a note."""
    observations: dict[str, Observation] = {}
    notes: list[str] = []
    for other in (k for k in registry.ordered(config.providers) if k != key):
        try:
            with runtime.open_providers(config, only=(other,)) as providers:
                observations[other] = providers[other].read()
        except NetsotError as exc:
            notes.append(f"could not read {other} ({exc}); matching uses the {title}'s data only")
    return observations, notes


# ----------------------------------------------------------------------------- verify


def verify_run(config: Config, *, force_state: bool = False) -> list[Check]:
    """Every check of ``netsot verify``, in a stable order (reads only; changes no system and not
    the state). The results are kept next to the state for the status page (``engine.apply.history``)."""
    backend = runtime.open_backend(config, force=force_state)
    out = _verify_checks(config, backend)
    history.save_verify(history.record_of(backend, history.VERIFY), out)
    return out


def _verify_checks(config: Config, backend: Any) -> list[Check]:
    from engine.apply import verify
    from engine.reconcile.bindings import reconcile

    state = backend.load()
    owned = owned_from_state(state)
    with runtime.open_providers(config) as providers:
        observations, out = verify.read_checks(providers)
        observations = recalled(providers, observations, owned)
    out += verify.system_checks(config, state, observations)
    out += verify.read_back(state, observations)
    if observations:
        try:
            bindings = reconcile(config, observations, owned).bindings
        except NetsotError:
            bindings = ()
        out += verify.in_use(config, state, observations, bindings)
    return out


# ----------------------------------------------------------------------------- a look (status page, explain)


class HealthObserver(NullObserver):
    """Records how each system's read went (for the status page's per-system health and ages)."""

    def __init__(self, clock: Any = None, previous: Mapping[str, ReadHealth] | None = None) -> None:
        import time

        self.clock = clock or time.time
        self.health: dict[str, ReadHealth] = dict(previous or {})
        self._failed: dict[str, str] = {}

    def read_failed(self, system: str, error: BaseException) -> None:
        self._failed[system] = str(error)

    def read_finished(self, system: str, seconds: float) -> None:
        now = self.clock()
        before = self.health.get(system)
        error = self._failed.pop(system, "")
        last_ok = (before.last_ok if before else None) if error else now
        self.health[system] = ReadHealth(system, not error, now, last_ok, seconds, error)


@dataclass(frozen=True)
class Look:
    """What one read-only look found: the snapshot, or the error that stopped it (with the health)."""

    snapshot: Snapshot | None
    health: tuple[ReadHealth, ...]
    error: str = ""


def look_run(config: Config, *, force_state: bool = False, previous: Mapping[str, ReadHealth] | None = None,
             mode: str = "ui") -> Look:
    """Read every system and plan, as ``plan`` does, but apply nothing, write no state and take no lock:
    what ``netsot ui`` serves and ``netsot explain`` explains."""
    import time

    from engine.plan.planner import read_all

    backend = runtime.open_backend(config, force=force_state)
    observer = HealthObserver(previous=previous)
    try:
        state = backend.load()
        with runtime.open_providers(config) as providers:
            observations = read_all(providers, observer)
            result = plan_run(config, providers, state, observations=observations)
    except NetsotError as exc:
        return Look(None, _ordered(observer.health), str(exc))
    now = time.time()
    health = _ordered(observer.health)
    snapshot = Snapshot(config, result.plan, observations, now, health, RunInfo(mode, now, "planned"),
                        history.load_verify(history.record_of(backend, history.VERIFY)),
                        tuple(history.read(history.record_of(backend, history.HISTORY))))
    return Look(snapshot, health)


def _ordered(health: Mapping[str, ReadHealth]) -> tuple[ReadHealth, ...]:
    return tuple(health[k] for k in registry.ordered(health))

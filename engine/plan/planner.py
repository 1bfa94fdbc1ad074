"""Planning: read every system, reconcile, ask each provider for its changes, order them.

Owns: the parallel read, the owned set (with crash recovery from the state journal), the
``--target`` filter, drift detection and the dependency order of the plan's changes.
Must not: write anything (state, systems, files), render, or decide safety policy.

Order rule: a create/update runs after the creates/updates it depends on; a delete runs
before the delete (or change) of anything it depends on. Edges exist only between changes
present in the plan (:func:`change_edges`, shared with apply).
"""

from __future__ import annotations

import difflib
import gc
import operator
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from core.config import Config
from core.errors import NetsotError, PlanError, ProviderDataError, ProviderError, TargetError
from core.model import (
    Action,
    Address,
    Change,
    Desired,
    Drift,
    Fingerprints,
    ManagedResource,
    Observation,
    Plan,
    frozen_map,
    to_jsonable,
)
from engine import systems as systems_module
from engine.config.load import config_digest
from engine.observe import NullObserver, Observer
from engine.plan import foresight as foresight_module
from engine.plan import lost as lost_module
from engine.plan import ownership as ownership_module
from engine.plan import replacing as replacing_module
from engine.plan import unmanaged as unmanaged_module
from engine.plan.graph import Graph
from engine.plan.unconfigured import unconfigured_notes
from engine.reconcile import bindings as reconcile_module
from engine.reconcile.discovery import find_discovered
from providers import diffing, registry
from providers.base import PlanContext, Provider
from state.model import ResourceState, State

_USERINFO = re.compile(r"(://)[^/@\s]+@")


def system_rank(system: str) -> tuple[int, str]:
    """The registry's order of systems (kinds or instance keys)."""
    return registry.rank(system)


def safe_text(exc: BaseException) -> str:
    """An unexpected exception as one line, with URL credentials removed."""
    text = _USERINFO.sub(r"\1***@", " ".join(str(exc).split()) or "no details")
    return f"{type(exc).__name__}: {text}"[:500]


# ------------------------------------------------------------------------------ read


def read_all(providers: Mapping[str, Provider], observer: Observer | None = None) -> dict[str, Observation]:
    """Every provider's ``read()`` in parallel. The first failure (by priority) is raised after
    all reads have finished; non-netsot exceptions become a ProviderError naming the system."""
    observer = observer or NullObserver()
    if not providers:
        return {}

    def one(name: str) -> Observation:
        observer.read_started(name)
        start = time.monotonic()
        try:
            observation = providers[name].read()
            if not isinstance(observation, Observation):
                raise ProviderDataError(name, f"read() returned {type(observation).__name__}, "
                                              "not an Observation")
        except NetsotError as exc:
            observer.read_failed(name, exc)
            raise
        except Exception as exc:
            error = ProviderError(name, f"reading failed unexpectedly ({safe_text(exc)})")
            observer.read_failed(name, error)
            raise error from exc
        finally:
            observer.read_finished(name, time.monotonic() - start)
        return observation

    names = sorted(providers, key=system_rank)
    # no cyclic collection while reading either: a collection holds the GIL, and every read worker
    # whose answer arrived meanwhile waits for it (a full one took ~50 ms at 1,000 guests)
    with gc_paused(), ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="netsot-read") as pool:
        futures = {name: pool.submit(one, name) for name in names}
    errors = [(name, f.exception()) for name, f in futures.items() if f.exception() is not None]
    for name, exc in errors[1:]:
        observer.message(f"also failed: {exc}" if isinstance(exc, ProviderError) else f"{name}: also failed")
    if errors:
        raise errors[0][1]  # type: ignore[misc]
    return {name: f.result() for name, f in futures.items()}


# ------------------------------------------------------------------------ gc pause

_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while reading or planning (reference counting still frees
    everything else).

    Planning allocates hundreds of thousands of small, long-lived objects; every few thousand of
    them the collector walked the whole heap again (the observations included), which cost as much
    as the planning itself at 10,000 bindings. Nested and concurrent uses are counted: the first
    one in disables the collector, the last one out restores what it found.
    """
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                _promote_to_oldest()
                gc.enable()


def _promote_to_oldest() -> None:
    """Move every object the collector tracks into its oldest generation, without walking them.

    Re-enabled, the collector would start with a young collection over everything made while it was
    paused (the plan: ~170,000 objects at 10,000 bindings, ~60 ms) only to promote what survives, which
    is nearly all of it. ``freeze`` + ``unfreeze`` promote them in one list splice each; cyclic
    garbage among them is freed by the next full collection instead.
    """
    gc.freeze()
    gc.unfreeze()


# --------------------------------------------------------------------------- ownership


# id(ResourceState) -> (it, its ManagedResource): both frozen, so a state's unchanged records (serve
# plans from the same state again and again; a run asks several times) are converted once. Rebuilt
# with the resources of the last state asked for, so it never outgrows one state.
_MANAGED: dict[int, tuple[ResourceState, ManagedResource]] = {}


def _managed(res: ResourceState) -> ManagedResource:
    address = Address.parse(res.address)
    return ManagedResource(
        address=address,
        provider_id=res.provider_id,
        attributes=frozen_map(dict(res.attributes)),
        dependencies=tuple(Address.parse(d) for d in res.dependencies),
        origin=res.origin,
        status=res.status,
        orphaned_since=res.orphaned_since,
        ownership=res.ownership,
    )


def owned_from_state(state: State | None) -> dict[Address, ManagedResource]:
    """What netsot owns: the state's resources, plus objects a crashed apply may have written
    (journal entries still ``intended``/``sent``) with ``status="recovering"``."""
    global _MANAGED
    if state is None:
        return {}
    owned: dict[Address, ManagedResource] = {}
    known, kept = _MANAGED, {}
    for res in state.resources.values():
        hit = known.get(id(res))
        record = hit[1] if hit is not None and hit[0] is res else _managed(res)
        kept[id(res)] = (res, record)
        owned[record.address] = record
    _MANAGED = kept
    for entry in state.journal:
        if entry.phase not in ("intended", "sent"):
            continue
        address = Address.parse(entry.address)
        if address not in owned:
            owned[address] = ManagedResource(address, None, frozen_map(dict(entry.data)), status="recovering")
    return owned


def with_marked(
    owned: Mapping[Address, ManagedResource], observations: Mapping[str, Observation],
) -> dict[Address, ManagedResource]:
    """Add objects that carry netsot's ownership marker but are missing from state (``marked``).

    They were written by netsot but never recorded (a timeout after the server acted, a lost
    journal): the plan adopts them when they match what is wanted. Deleting one still goes
    through the policy's orphan gates, as for any object that lost its source.
    """
    out = dict(owned)
    for observation in observations.values():
        for address, resource in observation.resources.items():
            if resource.owned_marker and address not in out:
                out[address] = ManagedResource(address, resource.provider_id, resource.attributes,
                                               status="marked")
    return out


# ------------------------------------------------------------------------------ plan


def make_plan(
    config: Config,
    providers: Mapping[str, Provider],
    state: State | None,
    *,
    targets: Iterable[Address | str] = (),
    observations: Mapping[str, Observation] | None = None,
    options: Mapping[str, Any] | None = None,
    observer: Observer | None = None,
    adopt: Iterable[Address] = (),
    replace_addresses: Iterable[Address] = (),
) -> Plan:
    """Read (unless ``observations`` are given) → reconcile → provider plans → filter → order.

    ``adopt``: objects whose current IP and host name win over precedence (``--adopt ADDR``: keep a
    hand edit, and make the other systems follow it). ``replace_addresses`` (``--replace ADDR``):
    owned objects deleted and created again (see ``engine.plan.replacing``). A target that matches
    nothing netsot plans, reads or owns is an error naming it (``TargetError``).
    """
    targets = frozenset(str(t) for t in targets)
    if observations is None:
        observations = read_all(providers, observer)
    missing = sorted(set(providers) - set(observations))
    if missing:
        raise PlanError(f"no observation for {', '.join(missing)}; read every system before planning")
    adopted = frozenset(adopt)
    unknown = sorted(str(a) for a in adopted if not any(a in o.resources for o in observations.values()))
    if unknown:
        raise PlanError(f"--adopt {unknown[0]}: no system holds that object (`netsot state list` shows "
                        "what netsot owns)")
    with gc_paused():
        return _plan(config, providers, state, targets, observations, options, adopted,
                     frozenset(replace_addresses))


def _plan(
    config: Config,
    providers: Mapping[str, Provider],
    state: State | None,
    targets: frozenset[str],
    observations: Mapping[str, Observation],
    options: Mapping[str, Any] | None,
    adopt: frozenset[Address] = frozenset(),
    replacing: frozenset[Address] = frozenset(),
) -> Plan:
    owned = with_marked(owned_from_state(state), observations)
    observations = recalled(providers, observations, owned)
    desired = reconcile_module.reconcile(config, observations, owned, adopt)
    ctx = context_for(config, owned, options)
    changes = _provider_changes(providers, desired, observations, ctx)
    if targets:
        check_targets(targets, _known_addresses(changes, observations, owned, desired))
    pairs: list[Change] = []
    if replacing:
        pairs, changes = replacing_module.replacements(config, replacing, changes, owned, observations,
                                                       desired.blocked)
    blocked = desired.blocked  # a property that builds the set
    changes = [c for c in changes if c.address not in blocked]
    changes, dropped = unmanaged_module.drop_marked_deletes(changes, owned)
    changes, postponed = _postpone_unsafe_deletes(changes, owned, observations)
    changes = _with_recorded_dependencies(changes, state)
    changes = lost_module.reword(changes, owned, observations)
    changes = ownership_module.hold_adopted(changes, owned, observations)
    if targets:
        changes = filter_targets(changes, targets)
    # what a system would refuse at commit is held as a conflict; the rest of the run goes ahead
    changes, desired = foresight_module.hold_foreseen(providers, changes, desired)
    drift = find_drift(state, owned, observations, changes, desired, dropped)
    if targets:
        kept = {c.address for c in changes}
        drift = [d for d in drift if d.address in kept or _matches(d.address, targets)]
    reverting = {d.address for d in drift if d.resolution == "revert"}
    changes = [replace(c, drift=True) if c.address in reverting else c for c in changes]
    ranked = sorted(observations, key=system_rank)
    warnings: list[str] = []
    for name in ranked:
        warnings += observations[name].warnings
    warnings += postponed
    warnings += desired.notes
    warnings += unconfigured_notes(owned, providers)
    return Plan(
        changes=tuple(replacing_module.ordered(pairs, order_changes(changes))),
        conflicts=desired.conflicts,
        drift=tuple(drift),
        warnings=tuple(warnings),
        fingerprints=Fingerprints(observations[name] for name in ranked),  # digested when first read
        config_digest=config_digest(config),
        lineage=state.lineage if state is not None else None,
        serial=state.serial if state is not None else None,
        bindings=desired.bindings,
        unmanaged=unmanaged_module.find_unmanaged(config, observations, owned, changes, state, dropped),
        discovered=find_discovered(config, observations, desired.bindings),
    )


def recalled(providers: Mapping[str, Provider], observations: Mapping[str, Observation],
             owned: Mapping[Address, ManagedResource]) -> dict[str, Observation]:
    """Each observation refined by its provider's optional ``recall(observation, owned)``: what netsot's
    state remembers of that system's objects and the system itself cannot say (a write-back that has not
    reached a guest yet)."""
    out = dict(observations)
    for key, provider in providers.items():
        recall = getattr(provider, "recall", None)
        if recall is not None and key in out:
            out[key] = recall(out[key], {a: r for a, r in owned.items() if a.system == key})
    return out


def refresh_only(plan: Plan) -> Plan:
    """``--refresh-only``: no change to any system; every drift is recorded as the new expected state."""
    drift = tuple(
        replace(d, resolution="adopt",
                reason=f"{d.reason.split('; ', 1)[0]}; refresh-only records what the system holds now")
        for d in plan.drift
    )
    return replace(plan, changes=(), held=(), drift=drift, refresh_only=True)


def context_for(config: Config, owned: Mapping[Address, ManagedResource] | None = None,
                options: Mapping[str, Any] | None = None) -> PlanContext:
    """What every provider's ``plan`` gets: ownership, options and the systems' role lookups."""
    return PlanContext(owned=frozen_map(dict(owned or {})), options=frozen_map(dict(options or {})),
                       roles=systems_module.of(config).role_address)


def _postpone_unsafe_deletes(
    changes: list[Change], owned: Mapping[Address, ManagedResource], observations: Mapping[str, Observation],
) -> tuple[list[Change], list[str]]:
    """No deletes of guest-born objects while a source system could not be read completely.

    A guest on an offline or hung node reports no NICs; without this rule its NIPAP host,
    DHCP mapping and DNS name would look orphaned and be deleted.
    """
    unread = {name: obs.incomplete for name, obs in observations.items() if obs.incomplete}
    if not unread:
        return changes, []
    kept, postponed = [], 0
    for change in changes:
        record = owned.get(change.address)
        born_elsewhere = record is not None and record.origin in ("config", "import")
        if change.action is Action.DELETE and change.moved_from is None and not born_elsewhere:
            postponed += 1
            continue
        kept.append(change)
    if not postponed:
        return kept, []
    what = "; ".join(f"{name}: {', '.join(items)}" for name, items in sorted(unread.items()))
    return kept, [f"{postponed} deletes postponed because a source could not be read completely ({what}); "
                  "their objects are kept until the next complete read"]


def _provider_changes(
    providers: Mapping[str, Provider], desired: Desired, observations: Mapping[str, Observation],
    ctx: PlanContext,
) -> list[Change]:
    out: list[Change] = []
    seen: set[Address] = set()
    for name in sorted(providers, key=system_rank):
        try:
            planned = diffing.plan(providers[name], desired, observations[name], ctx)  # the one diff
        except NetsotError:
            raise
        except Exception as exc:
            raise ProviderError(name, f"planning failed unexpectedly ({safe_text(exc)})") from exc
        for change in planned:
            if change.system != name:
                raise PlanError(f"the {name} provider planned a change of another system: {change.address}")
            if change.address in seen:
                raise PlanError(f"two changes planned for {change.address}")
            seen.add(change.address)
            out.append(change)
    return out


def _with_recorded_dependencies(changes: list[Change], state: State | None) -> list[Change]:
    """Deletes also wait on the dependencies recorded in state, so the plan is self-contained."""
    if state is None:
        return changes
    out = []
    for change in changes:
        recorded = state.resources.get(str(change.address)) if change.action is Action.DELETE else None
        if recorded is not None and recorded.dependencies:
            parsed = (Address.parse(d) for d in recorded.dependencies)
            extra = tuple(d for d in parsed if d not in change.depends_on)
            if extra:
                change = replace(change, depends_on=change.depends_on + extra)
        out.append(change)
    return out


def _matches(address: Address, targets: frozenset[str] | frozenset[Address]) -> bool:
    """``nipap_address.lan`` targets ``nipap_address.lan`` and every ``nipap_address.lan.*``; a type
    (``nipap_address``) or a type of one instance (``edgemax_host[cabin]``) targets all of them."""
    text = str(address)
    return any(text == str(t) or text.startswith(f"{t}.") for t in targets)


def _known_addresses(changes: Iterable[Change], observations: Mapping[str, Observation],
                     owned: Mapping[Address, ManagedResource], desired: Desired) -> set[Address]:
    """Every address a target may name: planned changes, objects read, objects owned, and what
    conflicts block (their changes were planned, then removed)."""
    known = {c.address for c in changes} | set(owned) | set(desired.blocked)
    for observation in observations.values():
        known.update(observation.resources)
    return known


def check_targets(targets: Iterable[str], known: Iterable[Address]) -> None:
    """Raise ``TargetError`` for the first target that matches no known address, with close ones."""
    known = list(known)
    names = sorted({str(a) for a in known} | {a.type for a in known}
                   | {f"{a.type}[{a.instance}]" for a in known if a.instance})
    for target in sorted(targets):
        if not any(_matches(a, frozenset([target])) for a in known):
            raise TargetError(target, difflib.get_close_matches(target, names, n=3, cutoff=0.85))


def filter_targets(changes: list[Change], targets: frozenset[str] | frozenset[Address]) -> list[Change]:
    """Keep targeted changes plus what they need (like Terraform ``-target``): a create/update
    keeps the creates/updates it depends on; a delete keeps the deletes of what depends on it."""
    by_address = {c.address: c for c in changes}
    keep = {c.address for c in changes if _matches(c.address, targets)}
    todo = list(keep)
    while todo:
        change = by_address[todo.pop()]
        if change.action is Action.DELETE:
            extra = [c.address for c in changes
                     if c.action is Action.DELETE and change.address in c.depends_on]
        else:
            extra = [d for d in change.depends_on
                     if d in by_address and by_address[d].action is not Action.DELETE]
        for address in extra:
            if address not in keep:
                keep.add(address)
                todo.append(address)
    return [c for c in changes if c.address in keep]


def change_edges(changes: Iterable[Change]) -> list[tuple[Address, Address]]:
    """``(node, runs_after)`` edges between changes of one plan (see the module docstring)."""
    return _edges({c.address: c for c in changes})


def _edges(by_address: Mapping[Address, Change]) -> list[tuple[Address, Address]]:
    edges = []
    for change in by_address.values():
        for dep in change.depends_on:
            other = by_address.get(dep)
            if other is None or other is change:
                continue
            if change.action is Action.DELETE:
                edges.append((dep, change.address))  # remove the dependent first
            elif other.action is not Action.DELETE:
                edges.append((change.address, dep))
    return edges


def order_changes(changes: Iterable[Change]) -> list[Change]:
    changes = list(changes)
    by_address = {c.address: c for c in changes}
    graph = Graph(by_address, _edges(by_address), key=_address_key)
    return [by_address[a] for a in graph.order()]


# the order of ``Address`` itself (its fields in turn), compared in C rather than by its methods
_address_key = operator.attrgetter("type", "name", "instance")


# ------------------------------------------------------------------------------ drift


def find_drift(
    state: State | None,
    owned: Mapping[Address, ManagedResource],
    observations: Mapping[str, Observation],
    changes: Iterable[Change],
    desired: Desired,
    unwanted: set[Address] | frozenset[Address] = frozenset(),
) -> list[Drift]:
    """Owned objects that differ from what netsot last wrote (or vanished), and what happens."""
    planned = {c.address: c for c in changes}
    blocked = desired.blocked  # a property that builds the set
    out = []
    # the observation of each address's system, found once per type and instance (``Address.system`` is
    # a Python property; a plan owns tens of thousands of objects of a few types)
    holders: dict[tuple[str, str], Observation | None] = {}
    for address in sorted(owned, key=_address_order):
        resource = owned[address]
        where = (address.type, address.instance)
        if where not in holders:
            holders[where] = observations.get(address.system)
        observation = holders[where]
        if observation is None:
            continue  # that system was not read: nothing to compare with
        seen = observation.resources.get(address)
        if seen is None and observation.incomplete:
            continue  # the system could not read everything: missing is not the same as deleted
        change = planned.get(address)
        if resource.status in ("recovering", "marked"):
            if change is None and address not in unwanted:
                out.append(_recovered(resource, seen))
            continue
        if seen is not None and not _differing(resource.attributes, seen.attributes):
            continue  # as netsot wrote it (most objects): nothing copied
        expected = dict(resource.attributes)
        actual = dict(seen.attributes) if seen is not None else None
        if address in blocked:
            reason = "changed outside netsot; it is part of a conflict, so it is left alone"
            out.append(Drift(address, frozen_map(expected), _maybe(actual), "adopt", reason))
            continue
        out.append(_drift(address, expected, actual, change))
    return out


# the order of ``Address`` itself, without the dataclass comparison methods (10,000+ objects): its
# (type, name), made in C (equal ones keep the owned mapping's order)
_address_order = operator.attrgetter("type", "name")


def _differing(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Keys both sides report whose values differ (tuples and lists compare equal)."""
    # equal values are equal as JSON too: the conversion only for values that differ as they are
    return sorted(k for k in expected if k in actual and expected[k] != actual[k]
                  and to_jsonable(expected[k]) != to_jsonable(actual[k]))


def _maybe(data: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return frozen_map(dict(data)) if data is not None else None


def _frozen(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``data`` itself when it is a frozen map already (what a system read), else a frozen copy."""
    return data if type(data) is MappingProxyType else frozen_map(data)


def _drift(address: Address, expected: dict[str, Any], actual: dict[str, Any] | None,
           change: Change | None) -> Drift:
    if actual is None:
        what = "deleted outside netsot"
    else:
        diffs = [f"{k} {expected[k]!r} → {actual[k]!r}" for k in _differing(expected, actual)]
        what = "changed outside netsot: " + ", ".join(diffs)
    if change is not None and change.action is not Action.DELETE:
        return Drift(address, frozen_map(expected), _maybe(actual), "revert",
                     f"{what}; the plan {change.action.value}s it back to the desired value")
    if change is not None:
        return Drift(address, frozen_map(expected), _maybe(actual), "revert",
                     f"{what}; it is no longer wanted and the plan deletes it")
    tail = ("it is no longer wanted, so it is forgotten" if actual is None
            else "this matches what is wanted now, so it is adopted")
    return Drift(address, frozen_map(expected), _maybe(actual), "adopt", f"{what}; {tail}")


FOUND_BY_MARKER = "found netsot's marker on it"  # a drift reason: netsot made the object (engine.apply)


def _recovered(resource: ManagedResource, seen: Any) -> Drift:
    """An object of an interrupted apply (or one carrying netsot's marker that the state does not
    hold) that needs no change: record (or forget) it."""
    if seen is not None:
        reason = _MARKED if resource.status == "marked" else _RECOVERED
        return Drift(resource.address, resource.attributes, _frozen(seen.attributes), "adopt", reason)
    return Drift(resource.address, resource.attributes, None, "adopt",
                 "an interrupted apply did not write it and it is not wanted; nothing to do")


# the reasons of ``_recovered`` drift, one string each however many objects they are given to
_MARKED = f"{FOUND_BY_MARKER}; it matches what is wanted, so it is recorded in state"
_RECOVERED = "an interrupted apply wrote it; it matches what is wanted, so it is recorded in state"

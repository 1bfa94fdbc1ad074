"""The one diff at the boundary: what a provider wants, against what its system holds and netsot owns.

Owns: ``Want`` (one object a provider wants, as it wants it), ``Wanted`` (a provider's whole answer:
its wants, the types it answers for completely, its hooks), ``diff`` (wanted + observed + owned →
create / update / delete), the ownership rule (``may_change``) and ``plan`` — the engine's one call
per system (``engine.plan.planner._provider_changes``): a provider with ``wants`` is diffed here, any other
plans itself.
Must not: name a system, do I/O, or know a system's special cases (hooks carry them).

The contract, for a provider moving onto it (octoDNS: the framework owns the diff, a provider
populates and applies):

* ``wants(desired, observed, ctx) -> Wanted`` — pure. One ``Want`` per object the desired bindings
  need in this system (its address, its ``attributes`` exactly as ``Change.after`` should hold them, its
  ``depends_on``, its ``kept`` data, a known ``provider_id``, the reason and provenance to show), in the
  order the changes should come out. It may look at ``observed`` (to keep what a person added, to
  name a rename's candidates) but decides nothing about ownership, blocking or deleting.
* the diff, for each want, in order: its address blocked by a conflict (``desired.blocked``) → no
  change, and the object is never deleted; not observed → a ``create`` (unless ``creates=False``), or an
  ``update`` that moves an owned object found at one of ``moves_from``; observed → an ``update`` when
  netsot may change it and the attributes differ (unless ``updates=False``); otherwise nothing. Then
  every observed object of a type in ``Wanted.prune`` that no want took is deleted when netsot may
  change it. ``Wanted.extra`` (a provider's own changes, e.g. a pseudo resource) pass when not blocked.
* **the ownership rule, here and nowhere else** (``may_change``): netsot changes or deletes an object
  only when it owns it — its state records it (``ctx.owned``) or the object carries netsot's marker
  (``ObservedResource.owned_marker``) — and never an object that originates a binding (an origin
  ``Fact`` names it), unless that object itself lets netsot write it (``Fact.ip_writable``: Proxmox
  write-back); never anything at a blocked address.
* hooks for special cases: ``merge(want, seen)`` — the ``after`` of an update from what the object holds
  (NIPAP keeps foreign avps); ``finish(change, want, seen)`` — the last word on each change the diff
  made (its reason, an ``adopted`` note, an extra dependency, ``loses``; None drops it, a sequence
  replaces it by several); ``create(want)`` — for a provider that words its creates itself (the Vyatta
  routers: drift, kept data, ``replaces``): the change for a want the diff decided to create (None drops
  it, a sequence replaces it by several); the diff then makes no create of its own for that want and
  asks no ``finish`` about it, so a create is made, and its fields checked, once;
  ``sort_key`` — the order of the result (default: the wants' order, then deletes by address). A rename:
  name the old object in ``moves_from`` — the diff plans an update of the new address with ``moved_from``
  (NIPAP), which ``finish`` may turn into a create (``replaces``) + delete pair (a router entry that
  cannot be renamed in place); Proxmox write-back: ``creates=False``.
* ``Change.before`` / ``after`` are checked against the type's declared fields (``core.fields``) when the
  change is made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from core.model import (
    EMPTY,
    Action,
    Address,
    Change,
    Desired,
    Observation,
    ObservedResource,
    Provenance,
    frozen_map,
)
from providers.base import PlanContext

DELETE_REASON = "no longer wanted"
UPDATE_REASON = "attributes differ"


class Want(NamedTuple):
    """One object a provider wants, as it wants it (a named tuple: plans make tens of thousands)."""

    address: Address
    attributes: Mapping[str, Any]  # as ``Change.after`` should hold them (frozen by the diff when emitted)
    depends_on: tuple[Address, ...] = ()
    # what the object keeps besides its attributes, written with it (an update's default: what it holds)
    kept: Mapping[str, Any] = EMPTY
    provider_id: str | None = None  # the object's id when known (an update's default: the observed one)
    reason: str = ""  # a create's reason
    update_reason: str = ""  # an update's reason (default: UPDATE_REASON)
    provenance: Mapping[str, Provenance] = EMPTY
    origin: str = ""
    creates: bool = True  # False: only ever updated (it must exist: a guest's address, written back)
    updates: bool = True  # False: only ever created (made once, then left as it is)
    # objects of this system that may be this one under an older address (a rename), best first: the
    # first that netsot may change and no other want took is updated in place (``moved_from``)
    moves_from: tuple[Address, ...] = ()


Merge = Callable[[Want, ObservedResource], Mapping[str, Any]]
# a want the diff decided to create -> the provider's change for it, None to drop it, or several
Create = Callable[[Want], "Change | Sequence[Change] | None"]
# the diff's change -> the change to plan, None to drop it, or several (a rename as create + delete)
Finish = Callable[[Change, "Want | None", "ObservedResource | None"], "Change | Sequence[Change] | None"]


@dataclass(frozen=True)
class Wanted:
    """A provider's answer to the diff: its wants, the types it answers for completely, its hooks."""

    wants: tuple[Want, ...] = ()
    prune: frozenset[str] = frozenset()  # resource types whose owned, unwanted objects are deleted
    extra: tuple[Change, ...] = ()  # changes the provider plans itself (pseudo resources)
    delete_reason: str = DELETE_REASON
    merge: Merge | None = None
    create: Create | None = None
    finish: Finish | None = None
    sort_key: Callable[[Change], Any] | None = None


class WantingProvider(Protocol):
    """A provider moved onto the shared diff (``plan`` finds it by its ``wants``)."""

    def wants(self, desired: Desired, observed: Observation, ctx: PlanContext) -> Wanted: ...


def sources(observed: Observation) -> frozenset[Address]:
    """The objects that originate a binding and do not let netsot write them: never a target."""
    return frozenset(f.address for f in observed.facts
                     if f.origin and f.address is not None and not f.ip_writable)


def may_change(address: Address, seen: ObservedResource, ctx: PlanContext,
               untouchable: frozenset[Address]) -> bool:
    """THE ownership rule: netsot owns it (state or the object's marker) and it is no binding's source."""
    # ``not untouchable or``: a set lookup hashes the address (a Python ``__hash__`` call) even in an empty
    # set, and a router's or an IPAM's observation names no source (only the guests' does)
    return (seen.owned_marker or ctx.is_owned(address)) and (not untouchable or address not in untouchable)


def diff(wanted: Wanted, desired: Desired, observed: Observation, ctx: PlanContext) -> list[Change]:
    """Create / update / delete that make the system hold what is wanted, touching only what netsot owns
    and nothing blocked (the module docstring is the contract)."""
    blocked = desired.blocked
    untouchable = sources(observed)
    resources = observed.resources
    finish, create = wanted.finish, wanted.create
    taken: set[Address] = set()  # observed objects a want accounts for: never deleted
    out: list[Change] = []

    def add(done: Change | Sequence[Change] | None) -> None:
        if isinstance(done, Change):
            out.append(done)
        elif done:
            out.extend(done)

    def emit(change: Change, want: Want | None, seen: ObservedResource | None) -> None:
        if finish is None:
            out.append(change)
        else:
            add(finish(change, want, seen))

    for want in wanted.wants:
        address = want.address
        if blocked and address in blocked:  # (no conflict, the usual plan: no hash of the address)
            taken.add(address)
            continue
        seen = resources.get(address)
        moved: Address | None = None
        if seen is None and want.moves_from:
            moved = _moved(want, resources, ctx, untouchable, taken)
            if moved is not None and moved in blocked:
                moved = None
            seen = resources.get(moved) if moved is not None else None
        if seen is None:
            if want.creates and create is not None:
                add(create(want))
            elif want.creates:
                emit(Change(Action.CREATE, address, None, _frozen(want.attributes), reason=want.reason,
                            provenance=want.provenance, depends_on=want.depends_on,
                            provider_id=want.provider_id, origin=want.origin, kept=want.kept), want, None)
            continue
        taken.add(moved or address)
        if not want.updates or not may_change(moved or address, seen, ctx, untouchable):
            continue
        after = wanted.merge(want, seen) if wanted.merge is not None else want.attributes
        if moved is None and _same(seen.attributes, after):
            continue
        emit(Change(Action.UPDATE, address, _frozen(seen.attributes), _frozen(after),
                    reason=want.update_reason or UPDATE_REASON, provenance=want.provenance,
                    depends_on=want.depends_on, provider_id=want.provider_id or seen.provider_id,
                    moved_from=moved, origin=want.origin, kept=want.kept or seen.kept), want, seen)
    if wanted.prune:
        prune = wanted.prune
        # the objects no want took, found by a set difference (not a loop over every object read)
        leaving = [(address, seen) for address in resources.keys() - taken
                   if address.type in prune and address not in blocked
                   and may_change(address, seen := resources[address], ctx, untouchable)]
        for address, seen in sorted(leaving, key=_by_address):  # sort the few, not everything read
            gone = Change(Action.DELETE, address, _frozen(seen.attributes), None,
                          reason=wanted.delete_reason, provider_id=seen.provider_id, kept=seen.kept)
            emit(gone, None, seen)
    out.extend(c for c in wanted.extra if c.address not in blocked)
    if wanted.sort_key is not None:
        out.sort(key=wanted.sort_key)
    return out


def _moved(want: Want, resources: Mapping[Address, ObservedResource], ctx: PlanContext,
           untouchable: frozenset[Address], taken: set[Address]) -> Address | None:
    """The first of ``want.moves_from`` that is there, netsot may change, and no want took yet."""
    for candidate in want.moves_from:
        seen = resources.get(candidate)
        if seen is not None and candidate not in taken and may_change(candidate, seen, ctx, untouchable):
            return candidate
    return None


def _frozen(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return data if isinstance(data, MappingProxyType) else frozen_map(data)


def _same(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    # dicts and mapping proxies compare by content directly; any other Mapping through a dict copy
    if before == after:
        return True
    return (type(before) not in _PLAIN or type(after) not in _PLAIN) and dict(before) == dict(after)


_PLAIN = (dict, MappingProxyType)


def _by_address(item: tuple[Address, ObservedResource]) -> tuple[str, str, str]:
    # address order without dataclass comparisons (thousands of objects)
    return (item[0].type, item[0].name, item[0].instance)


def plan(provider: WantingProvider | Any, desired: Desired, observed: Observation,
         ctx: PlanContext) -> list[Change]:
    """The engine's one call per system: the shared diff of what the provider wants, or — for a provider
    without ``wants`` (not moved onto the diff yet) — its own ``plan``."""
    wants = getattr(provider, "wants", None)
    if wants is None:
        return list(provider.plan(desired, observed, ctx))
    return diff(wants(desired, observed, ctx), desired, observed, ctx)


class Wanting:
    """A provider's ``plan`` through the shared diff (for whoever calls ``plan`` directly): a provider that
    subclasses it writes ``wants`` (+ ``read``, ``apply``, ``close``)."""

    def wants(self, desired: Desired, observed: Observation, ctx: PlanContext) -> Wanted:
        raise NotImplementedError

    def plan(self, desired: Desired, observed: Observation, ctx: PlanContext) -> list[Change]:
        return diff(self.wants(desired, observed, ctx), desired, observed, ctx)


__all__ = ["Want", "Wanted", "Wanting", "WantingProvider", "diff", "may_change", "plan", "sources"]

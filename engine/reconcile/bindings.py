"""Reconcile: observations + config + ownership → desired bindings and conflicts.

Owns: the public ``reconcile`` pipeline, per-attribute precedence and assembling ``Binding``s.
The steps live in ``grouping`` (facts → groups), ``allocate`` (first free address) and
``conflicts`` (what precedence cannot settle, and exactly which objects each one blocks).
Must not: do I/O, read state files or talk to providers; the output depends only on the inputs
(never on their iteration order).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from core.config import Config
from core.ipv4 import Span
from core.model import (
    Address,
    Binding,
    Conflict,
    Desired,
    ManagedResource,
    Observation,
    OriginRef,
    Provenance,
)
from engine import systems as systems_module
from engine.reconcile.allocate import ALLOCATOR_RULE, allocate
from engine.reconcile.conflicts import identity_conflicts, ip_conflicts
from engine.reconcile.grouping import (
    FactView,
    Group,
    attach_support,
    collect,
    dependants_of,
    group_origins,
    relate,
)
from engine.reconcile.precedence import pick, ranking
from engine.systems import Systems
from providers.base import ROLE_ADDRESS

__all__ = ["ALLOCATOR_RULE", "reconcile"]


def reconcile(
    config: Config,
    observations: Mapping[str, Observation],
    owned: Mapping[Address, ManagedResource],
    adopt: frozenset[Address] = frozenset(),
) -> Desired:
    """The bindings to enforce and the conflicts precedence cannot settle.

    1. origin facts (Proxmox NICs, config hosts, facts of imported objects) grouped by
       (network, MAC), MAC-less ones by (network, host name);
    2. other facts support a group by MAC, MAC-less ones by name;
    3. ip / hostname / mac resolved with ``config.precedence``;
    4. groups without an IP get the first free address (sorted by network, name, MAC);
    5. conflicts block only the groups and objects involved.
    Raises ``ConfigError`` if a config host names an undefined network.
    """
    nets = {n.name: n for n in config.networks}
    systems = systems_module.of(config)
    facts = collect(config, observations, owned, nets, adopt)
    grouped = group_origins(facts, nets, systems)
    groups = grouped.groups
    dependants = dependants_of(owned)
    attach_support(facts, grouped, nets, dependants)
    rankings = _rankings(systems)
    by_source = source_ranks(rankings)
    order = _Order(systems)
    seen = _Seen.of(facts)
    for g in groups:
        _resolve(g, rankings, order, seen, by_source)
    relate(groups, dependants, owned)

    conflicts: list[Conflict] = []
    conflicts += identity_conflicts(groups)
    spans = {name: Span.of(net) for name, net in nets.items()}
    allocate(groups, facts, spans)
    conflicts += ip_conflicts(groups, facts, spans)

    live = [g for g in groups if not g.blocked]
    bindings = sorted((_binding(g, order) for g in live), key=lambda b: (b.network, b.hostname))
    conflicts.sort(key=lambda c: (c.network or "", c.kind.value, c.reason))
    notes = sorted({n for g in live for o in g.origins for n in o.fact.notes}
                   | {n for g in live for n in g.notes})
    return Desired(bindings=tuple(bindings), conflicts=tuple(conflicts), notes=tuple(notes))


# ---------------------------------------------------------------- precedence


Rankings = tuple[tuple[dict[str, int], str], tuple[dict[str, int], str], tuple[dict[str, int], str]]


def _rankings(systems: Systems) -> Rankings:
    return (ranking("hostname", systems.precedence("hostname")), ranking("mac", systems.precedence("mac")),
            ranking("ip", systems.precedence("ip")))


SourceRanks = dict[str, tuple[int, int, int]]


def source_ranks(rankings: Rankings) -> SourceRanks:
    """Each ranked source's (host name, MAC, IP) ranks, a source a ranking leaves out at that ranking's
    "no opinion" rank (its length): one lookup per fact instead of three. A source no ranking names is
    not in it (``_pick_values`` reads it as no opinion on all three)."""
    (h_ranks, _), (m_ranks, _), (i_ranks, _) = rankings
    h_none, m_none, i_none = len(h_ranks), len(m_ranks), len(i_ranks)
    return {source: (h_ranks.get(source, h_none), m_ranks.get(source, m_none), i_ranks.get(source, i_none))
            for source in {*h_ranks, *m_ranks, *i_ranks}}


class _Order:
    """The registry's orders as ranks: which origin names a binding, how sources are listed."""

    def __init__(self, systems: Systems) -> None:
        self.origin = {kind: i for i, kind in enumerate(systems.origin_order)}
        self.source = {source: i for i, source in enumerate(systems.source_order)}
        self._listed: dict[frozenset[str], tuple[str, ...]] = {}

    def naming_rank(self, o: FactView) -> tuple[int, bool]:
        """The origin that names a binding: the best-ranked kind; among origins of one kind (an imported
        binding's), never an object netsot made for it (its IPAM host after the apply) before another."""
        return (self.origin.get(o.kind or "", len(self.origin)), o.made)

    def source_rank(self, source: str) -> tuple[int, str]:
        return (self.source.get(source, len(self.source)), source)

    def listed(self, sources: frozenset[str]) -> tuple[str, ...]:
        """``sources`` in the registry's order (sorted once per set: a plan has only a few)."""
        found = self._listed.get(sources)
        if found is None:
            found = self._listed[sources] = tuple(sorted(sources, key=self.source_rank))
        return found


@dataclass(frozen=True)
class _Seen:
    """What any fact of the run has at all, looked at once: no group needs to look for what no fact has
    (most runs adopt nothing and derive no name)."""

    adopted: bool = True  # ``--adopt``
    aliases: bool = True  # says something about extra names
    derived: bool = True  # a host name derived from the object's own name (``hostname_from``)

    @classmethod
    def of(cls, facts: list[FactView]) -> _Seen:
        return cls(any(f.adopted for f in facts), any(f.aliases is not None for f in facts),
                   any(f.hostname_from for f in facts))


def _resolve(g: Group, rankings: Rankings, order: _Order, seen: _Seen = _Seen(),
             by_source: SourceRanks | None = None) -> None:
    # The same decisions as ``precedence.resolve`` per attribute (``pick``), without building a
    # Candidate per fact: facts without a value have no opinion.
    first_origin = g.origins[0] if len(g.origins) == 1 else min(g.origins, key=order.naming_rank)
    facts = g.facts()
    picked = _pick_values(facts, g.mac_key, rankings, by_source)
    (value, provenance), (mac, mac_provenance), (ip, ip_provenance) = picked

    if provenance is None and first_origin.hostname:
        # The precedence list excludes the origin's own source: the origin still names it.
        value = first_origin.hostname
        provenance = Provenance(
            first_origin.fact.source, "hostname: the origin of the binding", first_origin.fact.ref
        )
    if provenance is not None and seen.derived:
        provenance = _with_derivation(provenance, value, facts)
    g.hostname = value
    if provenance:
        g.provenance["hostname"] = provenance
    if value is not None and seen.aliases:
        _resolve_aliases(g, value, facts, first_origin, rankings[0])

    if mac_provenance is None and g.mac_key:
        mac = g.mac_key
        mac_provenance = Provenance(
            first_origin.fact.source, "mac: identity of the binding", first_origin.fact.ref
        )
    g.mac = mac
    if mac_provenance:
        g.provenance["mac"] = mac_provenance

    g.ip = ip
    if ip_provenance:
        g.provenance["ip"] = ip_provenance
    if seen.adopted and g.adopted:
        _adopt(g)
    _overridden_names(g)


Picked = tuple[Any, Provenance | None]


def _pick_values(facts: list[FactView], mac_key: str | None, rankings: Rankings,
                 by_source: SourceRanks | None = None) -> tuple[Picked, Picked, Picked]:
    """The host name, MAC and IP a group's facts give it: ``precedence.pick_by`` of each (the MAC's only over
    the origins and the facts on ``mac_key``, when the group has one), in one pass over the facts instead of
    three (the three loops were most of a reconcile's picking). Pinned to ``pick_by`` by
    tests/engine/reconcile/test_precedence_pick.py. ``by_source``: ``source_ranks(rankings)``, made once per
    reconcile (made here when not given)."""
    (h_ranks, h_rule), (m_ranks, m_rule), (i_ranks, i_rule) = rankings
    h_rank = h_none = len(h_ranks)
    m_rank = m_none = len(m_ranks)
    i_rank = i_none = len(i_ranks)
    nones = (h_none, m_none, i_none)  # a source no ranking names: no opinion on any of the three
    if by_source is None:
        by_source = source_ranks(rankings)
    h_best: FactView | None = None  # the winner of each so far, as in pick_by
    m_best: FactView | None = None
    i_best: FactView | None = None
    for f in facts:
        fact = f.fact
        ref = fact.ref
        rh, rm, ri = by_source.get(fact.source, nones)  # one lookup, not one per attribute
        if f.hostname is not None and (h_best is None or rh < h_rank or (
                rh == h_rank and _before(ref, f.hostname, h_best.fact.ref, h_best.hostname))):
            h_best, h_rank = f, rh
        # a MAC-keyed binding's MAC is its identity: only its origins may say otherwise, never an object
        # that merely supports it under another MAC (its router entry, on the MAC the device had before)
        if f.mac is not None and (not mac_key or f.kind is not None or f.mac == mac_key) and (
                m_best is None or rm < m_rank or (
                    rm == m_rank and _before(ref, f.mac, m_best.fact.ref, m_best.mac))):
            m_best, m_rank = f, rm
        if f.ip is not None and (i_best is None or ri < i_rank or (
                ri == i_rank and _before(ref, f.ip, i_best.fact.ref, i_best.ip))):
            i_best, i_rank = f, ri
    return (
        (h_best.hostname, Provenance(h_best.fact.source, h_rule, h_best.fact.ref))
        if h_best is not None and h_rank < h_none else (None, None),
        (m_best.mac, Provenance(m_best.fact.source, m_rule, m_best.fact.ref))
        if m_best is not None and m_rank < m_none else (None, None),
        (i_best.ip, Provenance(i_best.fact.source, i_rule, i_best.fact.ref))
        if i_best is not None and i_rank < i_none else (None, None),
    )


def _before(ref: str, value: Any, best_ref: str, best_value: Any) -> bool:
    """Between two values of one rank: ``pick``'s tie-break (the smaller ref, then the smaller repr)."""
    return ref < best_ref or (ref == best_ref and repr(value) < repr(best_value))


def _resolve_aliases(g: Group, name: str, facts: list[FactView], first_origin: FactView,
                     ranks: tuple[dict[str, int], str]) -> None:
    """The binding's extra names: those of the best-ranked source (the host name's precedence) that
    says anything about them and knows the binding by its name or its MAC (an object of an old name
    without the MAC, say a renamed guest's old DNS entry, does not name the new binding's aliases)."""
    if not any(f.aliases is not None for f in facts):
        return
    offered = [(f.fact.source, f.aliases, f.fact.ref) for f in facts
               if f.aliases is not None and (f.hostname == name or name in f.aliases
                                             or (f.mac is not None and f.mac == g.mac_key))]
    if not offered:
        return
    value, provenance = pick(offered, ranks[0], ranks[1].replace("hostname:", "aliases:", 1))
    if provenance is None and first_origin.aliases is not None:
        value = first_origin.aliases
        provenance = Provenance(first_origin.fact.source, "aliases: the origin of the binding",
                                first_origin.fact.ref)
    if provenance is None:
        return
    g.aliases = tuple(a for a in dict.fromkeys(value) if a != name)
    if g.aliases:
        g.provenance["aliases"] = provenance


def _adopt(g: Group) -> None:
    """``--adopt ADDR``: the object's own IP and host name win over every precedence rule."""
    for f in g.facts():
        if not f.adopted or f.fact.address is None:
            continue
        rule = f"adopted from {f.fact.address} (--adopt)"
        if f.ip:
            g.ip = f.ip
            g.provenance["ip"] = Provenance(f.fact.source, f"ip: {rule}", f.fact.ref)
        if f.hostname:
            g.hostname = f.hostname
            g.provenance["hostname"] = Provenance(f.fact.source, f"hostname: {rule}", f.fact.ref)


def _overridden_names(g: Group) -> None:
    """An origin whose own name loses to another source's says so (a rename the rule keeps out)."""
    won = g.provenance.get("hostname")
    if won is None or g.hostname is None:
        return
    for o in g.origins:
        if o.hostname and o.hostname != g.hostname and o.fact.source != won.source:
            rule = won.rule.split(":", 1)[0] if ":" in won.rule else won.rule
            g.notes.append(f"{o.fact.source} says {o.hostname} ({o.fact.ref}); kept {g.hostname} from "
                           f"{won.source} by rule {rule}")


def _with_derivation(provenance: Provenance, value: str | None, facts: list[FactView]) -> Provenance:
    """The hostname provenance, with how the winning fact derived the name (if it did)."""
    for f in facts:
        if f.hostname_from and f.fact.ref == provenance.ref and f.hostname == value:
            return replace(provenance, derived=f.hostname_from)
    return provenance


# ---------------------------------------------------------------- output


def _imported_by(g: Group) -> FactView:
    """The object that names an imported binding: one the import adopted, never one netsot made for the
    binding (its IPAM host, its DNS entries: they become the binding's origins after the apply and must not
    rename it, whatever their refs' order); the imported system's own object before the IPAM host an import
    took along (``Hooks.adopt``); then the object that identifies the binding (its MAC); then the ref."""
    if len(g.origins) == 1:
        return g.origins[0]
    ipam = {t.name for s in g.systems.serving(g.network.name)
            if (t := s.kind.role_type(ROLE_ADDRESS)) is not None}
    return min(g.origins, key=lambda o: (o.made, o.fact.address is not None and o.fact.address.type in ipam,
                                         o.mac is None, o.fact.ref))


def _binding(g: Group, order: _Order) -> Binding:
    assert g.hostname is not None and g.ip is not None  # unblocked groups always have both
    config: FactView | None = None
    described: FactView | None = None  # the first origin object that describes itself
    refs: list[OriginRef] = []
    origin, origin_rank = "", len(order.origin)
    # the first config origin and described object, the origin refs (``Binding.first_origin`` first), the
    # best-ranked origin kind: in the registry's origin order (never by the kinds' names, which order the
    # collected facts), then as collected
    ranked = g.origins if len(g.origins) == 1 else sorted(g.origins, key=order.naming_rank)
    for o in ranked:
        kind = o.kind
        ref = o.fact.origin_ref
        if ref is not None and ref not in refs:
            refs.append(ref)
        if kind == "config":
            if config is None:
                config = o
        elif described is None and o.fact.description and kind != "import":
            described = o
        rank = order.origin.get(kind or "", origin_rank)
        if rank < origin_rank:
            origin, origin_rank = kind or "", rank
    if config is not None and config.fact.description:
        description = config.fact.description
    elif described is not None:
        description = described.fact.description
    else:
        description = f"{_imported_by(g).fact.ref} (imported)"
    sources = order.listed(frozenset([f.fact.source for f in g.facts()]))
    resolved = g.provenance
    provenance = {k: resolved[k] for k in ("ip", "hostname", "mac", "aliases") if k in resolved}
    answers_at, waiting = None, ""
    for o in g.origins:  # an origin that does not answer at the binding's address yet (pending restart)
        if o.fact.answers_at and o.fact.answers_at != g.ip:
            answers_at, waiting = o.fact.answers_at, o.fact.waiting
            break
        if o.fact.waiting and not waiting:
            waiting = o.fact.waiting
    return Binding(
        network=g.network.name,
        hostname=g.hostname,
        mac=g.mac,
        ip=g.ip,
        provenance=MappingProxyType(provenance),
        origin=origin,
        origin_refs=tuple(refs),
        sources=sources,
        description=description,
        answers_at=answers_at,
        waiting=waiting,
        aliases=g.aliases,
    )

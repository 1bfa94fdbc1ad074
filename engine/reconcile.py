"""Reconcile: observations + config + ownership → desired bindings and conflicts.

Owns: the public ``reconcile`` pipeline, per-attribute precedence and assembling ``Binding``s.
The steps live in ``grouping`` (facts → groups), ``allocate`` (first free address) and
``conflicts`` (what precedence cannot settle, and exactly which objects each one blocks).
Must not: do I/O, read state files or talk to providers; the output depends only on the inputs
(never on their iteration order).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from engine.allocate import ALLOCATOR_RULE, allocate
from engine.config import Config
from engine.conflicts import NAME_RE, identity_conflicts, ip_conflicts
from engine.grouping import FactView, Group, attach_support, collect, dependants_of, group_origins, relate
from engine.ipv4 import Span
from engine.model import (
    Address,
    Binding,
    Conflict,
    Desired,
    ManagedResource,
    Observation,
    Provenance,
    ProxmoxRef,
)
from engine.precedence import pick, ranking

__all__ = ["ALLOCATOR_RULE", "NAME_RE", "reconcile"]

SOURCE_ORDER = ("config", "proxmox", "nipap", "edgemax")
ORIGIN_ORDER = ("config", "proxmox", "import")  # which origin names a merged binding
ORIGIN_RANK = {kind: i for i, kind in enumerate(ORIGIN_ORDER)}
SOURCE_RANK = {source: i for i, source in enumerate(SOURCE_ORDER)}


def reconcile(
    config: Config,
    observations: Mapping[str, Observation],
    owned: Mapping[Address, ManagedResource],
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
    facts = collect(config, observations, owned, nets)
    groups = group_origins(facts, nets)
    dependants = dependants_of(owned)
    attach_support(facts, groups, nets, dependants)
    rankings = _rankings(config)
    for g in groups:
        _resolve(g, rankings)
    relate(groups, dependants)

    conflicts: list[Conflict] = []
    conflicts += identity_conflicts(groups)
    spans = {name: Span.of(net) for name, net in nets.items()}
    allocate(groups, facts, spans)
    conflicts += ip_conflicts(groups, facts, spans, config)

    bindings = sorted((_binding(g) for g in groups if not g.blocked), key=lambda b: (b.network, b.hostname))
    conflicts.sort(key=lambda c: (c.network or "", c.kind.value, c.reason))
    return Desired(bindings=tuple(bindings), conflicts=tuple(conflicts))


# ---------------------------------------------------------------- precedence


Rankings = tuple[tuple[dict[str, int], str], tuple[dict[str, int], str], tuple[dict[str, int], str]]


def _rankings(config: Config) -> Rankings:
    prec = config.precedence
    return ranking("hostname", prec.hostname), ranking("mac", prec.mac), ranking("ip", prec.ip)


def _origin_rank(o: FactView) -> int:
    return ORIGIN_RANK.get(o.kind or "", 9)


def _resolve(g: Group, rankings: Rankings) -> None:
    # The same decisions as ``precedence.resolve`` per attribute (``pick``), without building a
    # Candidate per fact: facts without a value have no opinion.
    first_origin = g.origins[0] if len(g.origins) == 1 else min(g.origins, key=_origin_rank)
    facts = g.facts()

    value, provenance = pick([(f.fact.source, f.hostname, f.fact.ref) for f in facts], *rankings[0])
    if provenance is None and first_origin.hostname:
        # The precedence list excludes the origin's own source: the origin still names it.
        value = first_origin.hostname
        provenance = Provenance(
            first_origin.fact.source, "hostname: the origin of the binding", first_origin.fact.ref
        )
    g.hostname = value
    if provenance:
        g.provenance["hostname"] = provenance

    value, provenance = pick([(f.fact.source, f.mac, f.fact.ref) for f in facts], *rankings[1])
    if provenance is None and g.mac_key:
        value = g.mac_key
        provenance = Provenance(
            first_origin.fact.source, "mac: identity of the binding", first_origin.fact.ref
        )
    g.mac = value
    if provenance:
        g.provenance["mac"] = provenance

    value, provenance = pick([(f.fact.source, f.ip, f.fact.ref) for f in facts], *rankings[2])
    g.ip = value
    if provenance:
        g.provenance["ip"] = provenance


# ---------------------------------------------------------------- output


def _binding(g: Group) -> Binding:
    assert g.hostname is not None and g.ip is not None  # unblocked groups always have both
    proxmox: FactView | None = None
    config: FactView | None = None
    origin, origin_rank = "", len(ORIGIN_ORDER)
    for o in g.origins:  # the first proxmox and config origins; the best-ranked origin kind
        kind = o.kind
        if kind == "proxmox" and proxmox is None:
            proxmox = o
        elif kind == "config" and config is None:
            config = o
        rank = ORIGIN_RANK.get(kind or "", origin_rank)
        if rank < origin_rank:
            origin, origin_rank = kind or "", rank
    ref = None
    if proxmox is not None:
        extra = proxmox.fact.extra
        ref = ProxmoxRef(
            node=str(extra.get("node", "")),
            vmid=int(extra.get("vmid", 0)),
            type=str(extra.get("type", "")),
            nic=str(extra.get("nic", "")),
            writeback=bool(extra.get("writeback", False)),
            configured_ip=extra.get("configured_ip"),
            gateway=extra.get("gateway"),
        )
    if config is not None and config.fact.extra.get("description"):
        description = str(config.fact.extra["description"])
    elif proxmox is not None:
        description = f"{proxmox.fact.ref} ({proxmox.fact.extra.get('type', 'guest')})"
    else:
        description = f"{min(o.fact.ref for o in g.origins)} (imported)"
    sources = {f.fact.source for f in g.origins}
    sources.update(f.fact.source for f in g.support)
    ordered = sorted(sources, key=_source_order) if len(sources) > 1 else list(sources)
    provenance = {k: g.provenance[k] for k in ("ip", "hostname", "mac") if k in g.provenance}
    return Binding(
        network=g.network.name,
        hostname=g.hostname,
        mac=g.mac,
        ip=g.ip,
        provenance=MappingProxyType(provenance),
        origin=origin,
        proxmox=ref,
        sources=tuple(ordered),
        description=description,
    )


def _source_order(source: str) -> tuple[int, str]:
    return (SOURCE_RANK.get(source, 99), source)

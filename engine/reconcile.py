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
from engine.precedence import Candidate, Resolved, resolve

__all__ = ["ALLOCATOR_RULE", "NAME_RE", "reconcile"]

SOURCE_ORDER = ("config", "proxmox", "nipap", "edgemax")
ORIGIN_ORDER = ("config", "proxmox", "import")  # which origin names a merged binding


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
    for g in groups:
        _resolve(g, config)
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


def _candidates(facts: list[FactView], attribute: str) -> list[Candidate]:
    # facts without a value have no opinion (``resolve`` would drop them anyway)
    return [Candidate(f.fact.source, value, f.fact.ref) for f in facts
            if (value := getattr(f, attribute)) is not None]


def _resolve(g: Group, config: Config) -> None:
    prec = config.precedence
    first_origin = min(g.origins, key=lambda o: ORIGIN_ORDER.index(o.kind) if o.kind in ORIGIN_ORDER else 9)
    facts = g.facts()

    hostname = resolve("hostname", _candidates(facts, "hostname"), prec.hostname)
    if not hostname.found and first_origin.hostname:
        # The precedence list excludes the origin's own source: the origin still names it.
        hostname = Resolved(
            first_origin.hostname,
            Provenance(
                first_origin.fact.source, "hostname: the origin of the binding", first_origin.fact.ref
            ),
        )
    g.hostname = hostname.value
    if hostname.provenance:
        g.provenance["hostname"] = hostname.provenance

    mac = resolve("mac", _candidates(facts, "mac"), prec.mac)
    if not mac.found and g.mac_key:
        mac = Resolved(
            g.mac_key,
            Provenance(first_origin.fact.source, "mac: identity of the binding", first_origin.fact.ref),
        )
    g.mac = mac.value
    if mac.provenance:
        g.provenance["mac"] = mac.provenance

    ip = resolve("ip", _candidates(facts, "ip"), prec.ip)
    g.ip = ip.value
    if ip.provenance:
        g.provenance["ip"] = ip.provenance


# ---------------------------------------------------------------- output


def _binding(g: Group) -> Binding:
    assert g.hostname is not None and g.ip is not None  # unblocked groups always have both
    proxmox = next((o for o in g.origins if o.kind == "proxmox"), None)
    config = next((o for o in g.origins if o.kind == "config"), None)
    origin = min((o.kind for o in g.origins if o.kind in ORIGIN_ORDER), key=ORIGIN_ORDER.index, default="")
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
    sources = {f.fact.source for f in g.facts()}
    ordered = sorted(sources, key=lambda s: (SOURCE_ORDER.index(s) if s in SOURCE_ORDER else 99, s))
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

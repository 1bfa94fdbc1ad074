"""Reconcile: observations + config + ownership → desired bindings and conflicts.

Owns: turning origin facts (Proxmox NICs, config ``hosts:``, imported objects) into
bindings, gathering supporting facts, per-attribute precedence, address allocation and
the conflicts precedence cannot settle (with exactly which objects they block).
Must not: do I/O, read state files or talk to providers; the output depends only on the inputs
(never on their iteration order).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from engine.config import Config, Network
from engine.errors import ConfigError
from engine.model import (
    Address,
    Binding,
    Conflict,
    ConflictKind,
    Desired,
    Fact,
    ManagedResource,
    Observation,
    Provenance,
    ProxmoxRef,
    frozen_map,
)
from engine.precedence import Candidate, Resolved, resolve

# What EdgeOS accepts as a static-mapping name and a host-name label (checked after lower-casing).
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
ALLOCATOR_RULE = "first free address outside the DHCP range"
SOURCE_ORDER = ("config", "proxmox", "nipap", "edgemax")
ORIGIN_ORDER = ("config", "proxmox", "import")  # which origin names a merged binding


@dataclass(eq=False)
class _F:
    """A fact plus what reconcile derived about it (identity-hashed: facts may be equal)."""

    fact: Fact
    kind: str | None  # origin kind ("proxmox", "config", "import"); None = supporting fact
    owned: bool  # netsot owns the object (state or the NIPAP avps marker)
    hostname: str | None  # lower-cased
    mac: str | None  # lower-cased
    ip: str | None  # canonical text when parseable


@dataclass(eq=False)
class _Group:
    """One binding candidate: its origin facts, supporting facts and the resolved values."""

    network: Network
    mac_key: str | None
    origins: list[_F]
    support: list[_F] = field(default_factory=list)
    clashes: list[_F] = field(default_factory=list)  # same name, another MAC: not support
    related: set[Address] = field(default_factory=set)  # owned objects depending on ours
    hostname: str | None = None
    mac: str | None = None
    ip: str | None = None
    provenance: dict[str, Provenance] = field(default_factory=dict)
    blocked: bool = False
    no_free: bool = False  # allocation found no address

    def facts(self) -> list[_F]:
        return self.origins + self.support

    def names(self) -> list[str]:
        found = {o.hostname for o in self.origins if o.hostname}
        if self.hostname:
            found.add(self.hostname)
        return sorted(found)

    @property
    def key(self) -> str:
        return f"{self.network.name}.{self.hostname or self.mac or '?'}"

    def sort_key(self) -> tuple[str, str, str]:
        return (self.network.name, self.hostname or "", self.mac or "")


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
    facts = _collect(config, observations, owned, nets)
    groups = _group_origins(facts, nets)
    dependants = _dependants(owned)
    _attach_support(facts, groups, nets, dependants)
    for g in groups:
        _resolve(g, config)
    _relate(groups, dependants)

    conflicts: list[Conflict] = []
    conflicts += _identity_conflicts(groups)
    spans = {name: _Span.of(net) for name, net in nets.items()}
    _allocate(groups, facts, spans)
    conflicts += _ip_conflicts(groups, facts, spans, config)

    bindings = sorted((_binding(g) for g in groups if not g.blocked), key=lambda b: (b.network, b.hostname))
    conflicts.sort(key=lambda c: (c.network or "", c.kind.value, c.reason))
    return Desired(bindings=tuple(bindings), conflicts=tuple(conflicts))


# ---------------------------------------------------------------- collecting and grouping


def _canon_ip(text: str | None) -> str | None:
    if text is None:
        return None
    value = _ip_int(str(text).strip())
    # an unparseable value is kept as-is and reported as a conflict if it ever wins
    return _ip_text(value) if value is not None else str(text)


def _lower(text: str | None) -> str | None:
    return text.lower() if text else None


def _collect(
    config: Config,
    observations: Mapping[str, Observation],
    owned: Mapping[Address, ManagedResource],
    nets: Mapping[str, Network],
) -> list[_F]:
    raw: list[tuple[Fact, str | None, bool]] = []
    for host in config.hosts:
        if host.network not in nets:
            raise ConfigError(f"host {host.name} names network {host.network!r}, which is not defined")
        fact = Fact(
            source="config",
            ref=f"config host {host.name}",
            network=host.network,
            hostname=host.name,
            mac=host.mac,
            ip=str(host.ip) if host.ip is not None else None,
            origin=True,
            extra=frozen_map({"description": host.description}),
        )
        raw.append((fact, "config", False))
    for obs in observations.values():
        for fact in obs.facts:
            managed = owned.get(fact.address) if owned and fact.address is not None else None
            if fact.source == "lease":
                kind = None
            elif managed is not None and managed.origin == "import":
                kind = "import"  # an adopted object stands for its binding on its own
            elif fact.origin:
                kind = fact.source
            else:
                kind = None
            raw.append((fact, kind, managed is not None))

    def order(item: tuple[Fact, str | None, bool]) -> tuple[str, ...]:
        f = item[0]
        return (
            f.source,
            f.ref,
            str(f.address or ""),
            f.network or "",
            f.hostname or "",
            f.mac or "",
            f.ip or "",
        )

    return [
        _F(
            fact,
            kind,
            in_state or bool(fact.extra.get("owned")),
            _lower(fact.hostname),
            _lower(fact.mac),
            _canon_ip(fact.ip),
        )
        for fact, kind, in_state in sorted(raw, key=order)
    ]


def _group_origins(facts: list[_F], nets: Mapping[str, Network]) -> list[_Group]:
    """Origin facts → groups: by MAC within a network; MAC-less origins by host name."""
    by_mac: dict[tuple[str, str], _Group] = {}
    nameless: dict[tuple[str, str], list[_F]] = {}
    domains = _domain_index(nets)
    for f in facts:
        if f.kind is None:
            continue
        net = f.fact.network
        if net not in nets:
            # an imported DNS host entry whose domain the provider could not pin to one network
            scope = _name_scope(f, net, nets, domains)
            net = scope[0] if len(scope) == 1 else None
        if net is None:
            continue
        if f.mac:
            by_mac.setdefault((net, f.mac), _Group(nets[net], f.mac, [])).origins.append(f)
        elif f.hostname:
            nameless.setdefault((net, f.hostname), []).append(f)
    groups = list(by_mac.values())
    by_name = _name_index(groups)
    for (net, name), origins in nameless.items():
        targets = by_name.get((net, name), [])
        if len(targets) == 1:
            targets[0].origins.extend(origins)  # e.g. a config host without MAC naming a guest
        else:
            groups.append(_Group(nets[net], None, origins))
    return groups


def _name_index(groups: Iterable[_Group]) -> dict[tuple[str, str], list[_Group]]:
    index: dict[tuple[str, str], list[_Group]] = defaultdict(list)
    for g in groups:
        for name in sorted({o.hostname for o in g.origins if o.hostname}):
            index[(g.network.name, name)].append(g)
    return index


def _dependants(owned: Mapping[Address, ManagedResource]) -> dict[Address, list[Address]]:
    """Owned addresses by the address they depend on (a DNS entry → its NIPAP host)."""
    out: dict[Address, list[Address]] = defaultdict(list)
    for address, managed in owned.items():
        for dep in managed.dependencies:
            out[dep].append(address)
    return out


def _attach_support(
    facts: list[_F],
    groups: list[_Group],
    nets: Mapping[str, Network],
    dependants: Mapping[Address, list[Address]],
) -> None:
    """Non-origin facts support a group by MAC; MAC-less ones (or MAC-less groups) by name."""
    by_mac = {(g.network.name, g.mac_key): g for g in groups if g.mac_key}
    by_name = _name_index(groups)
    nets_of_domain = _domain_index(nets)
    by_name_only: list[_F] = []
    for f in facts:
        if f.kind is not None or f.fact.source == "lease":
            continue
        if f.mac and (f.fact.network, f.mac) in by_mac:
            by_mac[(f.fact.network, f.mac)].support.append(f)
        elif f.hostname:
            by_name_only.append(f)
    # An owned object that depends on another group's object stays with that group even if
    # its name now matches someone else (a renamed guest's old DNS entry vs. a new guest
    # that took the old name).
    tied: dict[Address, _Group] = {}
    for g in groups:
        for f in g.support:
            for address in dependants.get(f.fact.address, ()) if f.fact.address else ():
                tied.setdefault(address, g)
    for f in by_name_only:
        for target_net in _name_scope(f, f.fact.network, nets, nets_of_domain):
            for g in by_name.get((target_net, f.hostname or ""), []):
                if f.fact.address in tied and tied[f.fact.address] is not g:
                    continue
                if f.mac is None or g.mac_key is None:
                    g.support.append(f)
                elif f.mac != g.mac_key:
                    g.clashes.append(f)


def _domain_index(nets: Mapping[str, Network]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for net in nets.values():
        if net.domain:
            out[net.domain.lower()].append(net.name)
    return out


def _name_scope(
    f: _F, net: str | None, nets: Mapping[str, Network], nets_of_domain: Mapping[str, list[str]]
) -> list[str]:
    """Networks in which a fact's name counts: a DNS host entry belongs to its whole domain."""
    address = f.fact.address
    if f.fact.extra.get("kind") == "host" and address is not None and "." in address.name:
        domain = address.name.partition(".")[2].lower()
        if domain in nets_of_domain:
            return nets_of_domain[domain]
    return [net] if net in nets else []


# ---------------------------------------------------------------- precedence


def _candidates(g: _Group, attribute: str) -> list[Candidate]:
    return [Candidate(f.fact.source, getattr(f, attribute), f.fact.ref) for f in g.facts()]


def _resolve(g: _Group, config: Config) -> None:
    prec = config.precedence
    first_origin = min(g.origins, key=lambda o: ORIGIN_ORDER.index(o.kind) if o.kind in ORIGIN_ORDER else 9)

    hostname = resolve("hostname", _candidates(g, "hostname"), prec.hostname)
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

    mac = resolve("mac", _candidates(g, "mac"), prec.mac)
    if not mac.found and g.mac_key:
        mac = Resolved(
            g.mac_key,
            Provenance(first_origin.fact.source, "mac: identity of the binding", first_origin.fact.ref),
        )
    g.mac = mac.value
    if mac.provenance:
        g.provenance["mac"] = mac.provenance

    ip = resolve("ip", _candidates(g, "ip"), prec.ip)
    g.ip = ip.value
    if ip.provenance:
        g.provenance["ip"] = ip.provenance


def _relate(groups: list[_Group], dependants: Mapping[Address, list[Address]]) -> None:
    """Owned objects depending on a group's objects belong to it (e.g. the old DNS entry of a
    renamed guest depends on the NIPAP host that now supports the new name)."""
    if not dependants:
        return
    for g in groups:
        roots = {f.fact.address for f in g.facts() if f.fact.address is not None} | _derived(g)
        for root in roots:
            g.related.update(dependants.get(root, ()))


# ---------------------------------------------------------------- addresses and blocking


def _derived(g: _Group) -> set[Address]:
    """Every resource address netsot would manage for this group (under any of its names)."""
    net = g.network
    out: set[Address] = set()
    for name in g.names():
        out.add(Address.nipap_address(net.name, name))
        if net.edgemax is not None:
            out.add(Address.edgemax_dhcp_mapping(net.edgemax.shared_network, name))
        if net.domain:
            out.add(Address.edgemax_host(f"{name}.{net.domain}"))
    for o in g.origins:
        extra = o.fact.extra
        if o.kind == "proxmox" and {"node", "vmid", "nic"} <= set(extra):
            out.add(Address.proxmox_ipconfig(str(extra["node"]), int(extra["vmid"]), str(extra["nic"])))
    return out


def _blocked_addresses(g: _Group) -> set[Address]:
    return _derived(g) | {f.fact.address for f in g.facts() if f.fact.address is not None} | g.related


def _conflict(
    kind: ConflictKind,
    reason: str,
    groups: Iterable[_Group],
    others: Iterable[_F] = (),
    network: str | None = None,
    spare: Iterable[_F] = (),
) -> Conflict:
    """Build a conflict and block its groups. ``spare`` facts are named but not blocked
    (owned leftovers that netsot will delete, which is what resolves the conflict)."""
    groups, others, spare = list(groups), list(others), list(spare)
    refs: set[str] = set()
    blocked: set[Address] = set()
    keys: set[str] = set()
    for g in groups:
        g.blocked = True
        refs.update(f.fact.ref for f in g.facts())
        blocked |= _blocked_addresses(g)
        keys.update(f"{g.network.name}.{name}" for name in g.names())
        if not g.names():
            keys.add(g.key)
    for f in others:
        refs.add(f.fact.ref)
        if f.fact.address is not None:
            blocked.add(f.fact.address)
    refs.update(f.fact.ref for f in spare)
    return Conflict(
        kind=kind,
        reason=" ".join(reason.split()),  # always one line, whatever a name contains
        objects=tuple(sorted(refs)),
        network=network,
        blocked=tuple(sorted(blocked)),
        blocked_keys=tuple(sorted(keys)),
    )


def _origin_ref(g: _Group) -> str:
    return ", ".join(sorted(o.fact.ref for o in g.origins))


# ---------------------------------------------------------------- identity conflicts


def _identity_conflicts(groups: list[_Group]) -> list[Conflict]:
    out: list[Conflict] = []
    for g in groups:
        if _origins_disagree(g):
            names = ", ".join(sorted(f"{o.hostname} ({o.fact.ref})" for o in g.origins))
            out.append(
                _conflict(
                    ConflictKind.MAC_IN_TWO_BINDINGS,
                    f"MAC {g.mac_key} is on more than one host in {g.network.name}: {names}",
                    [g],
                    network=g.network.name,
                )
            )
        if g.hostname is None:
            out.append(
                _conflict(
                    ConflictKind.INVALID_NAME,
                    f"{_origin_ref(g)} in {g.network.name} has no host name",
                    [g],
                    network=g.network.name,
                )
            )
        elif not NAME_RE.match(g.hostname):
            source = g.provenance["hostname"].ref if "hostname" in g.provenance else _origin_ref(g)
            out.append(
                _conflict(
                    ConflictKind.INVALID_NAME,
                    f"{g.hostname!r} (from {source}) is not a valid host name for EdgeOS "
                    "(one DNS label: a-z, 0-9 and inner '-', at most 63)",
                    [g],
                    network=g.network.name,
                )
            )
        foreign = [f for f in g.clashes if not f.owned]
        if foreign and g.hostname is not None:
            others = ", ".join(f"{f.mac} ({f.fact.ref})" for f in foreign)
            out.append(
                _conflict(
                    ConflictKind.HOSTNAME_ON_TWO_MACS,
                    f"host name {g.hostname} in {g.network.name} is on {g.mac} ({_origin_ref(g)}) "
                    f"and on {others}, which netsot does not own",
                    [g],
                    foreign,
                    network=g.network.name,
                )
            )

    by_scope: dict[tuple[str, str], list[_Group]] = defaultdict(list)
    by_mac: dict[tuple[str, str], list[_Group]] = defaultdict(list)
    for g in groups:
        scope = f"domain {g.network.domain}" if g.network.domain else g.network.name
        if g.hostname is not None:
            by_scope[(scope, g.hostname)].append(g)
        if g.mac is not None:
            by_mac[(g.network.name, g.mac)].append(g)
    for (scope, name), members in sorted(by_scope.items()):
        if len(members) > 1:
            members.sort(key=_Group.sort_key)
            parts = ", ".join(f"{m.mac or 'no MAC'} ({m.network.name}: {_origin_ref(m)})" for m in members)
            nets = {m.network.name for m in members}
            out.append(
                _conflict(
                    ConflictKind.HOSTNAME_ON_TWO_MACS,
                    f"host name {name} in {scope} is on {len(members)} MACs: {parts}",
                    members,
                    network=min(nets) if len(nets) == 1 else None,
                )
            )
    for (net, mac), members in sorted(by_mac.items()):
        if len(members) > 1:
            members.sort(key=_Group.sort_key)
            parts = ", ".join(f"{m.hostname} ({_origin_ref(m)})" for m in members)
            out.append(
                _conflict(
                    ConflictKind.MAC_IN_TWO_BINDINGS,
                    f"MAC {mac} is on more than one host in {net}: {parts}",
                    members,
                    network=net,
                )
            )
    return out


def _origins_disagree(g: _Group) -> bool:
    """Origins of one kind must describe one object; different kinds (config, guest, import) merge."""
    seen: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    for o in g.origins:
        if o.kind == "proxmox":
            seen[o.kind].add((o.hostname, o.fact.extra.get("type"), o.fact.extra.get("vmid")))
        else:
            seen[o.kind or ""].add((o.hostname,))
    return any(len(v) > 1 for v in seen.values())


# ---------------------------------------------------------------- allocation


@lru_cache(maxsize=1 << 16)
def _ip_int(text: str | None) -> int | None:
    """Dotted-quad → integer, None if it is not one (no leading zeros, like ``ipaddress``).

    Hand-rolled because ``ipaddress`` parsing dominated reconcile at 10,000 bindings.
    """
    if not text:
        return None
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 3 or (len(part) > 1 and part[0] == "0"):
            return None
        octet = int(part)
        if octet > 255:
            return None
        value = value << 8 | octet
    return value


def _ip_text(value: int) -> str:
    return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"


@dataclass(frozen=True)
class _Span:
    """A network's addresses as integers."""

    first: int  # network address
    last: int  # broadcast address
    usable: tuple[int, int]
    gateway: int | None
    dynamic: tuple[int, int] | None

    @classmethod
    def of(cls, net: Network) -> _Span:
        first, last = int(net.prefix.network_address), int(net.prefix.broadcast_address)
        usable = (first + 1, last - 1) if net.prefix.prefixlen < 31 else (first, last)
        dynamic = (int(net.dhcp_range.start), int(net.dhcp_range.stop)) if net.dhcp_range else None
        return cls(first, last, usable, int(net.gateway) if net.gateway else None, dynamic)


def _allocate(groups: list[_Group], facts: list[_F], spans: Mapping[str, _Span]) -> None:
    """First free address per network, skipping everything any source uses.

    One moving cursor per network over a set of used integers: linear in the part of the
    prefix actually walked, never quadratic in the number of bindings.
    """
    texts: list[str | None] = [g.ip for g in groups]
    for f in facts:
        texts.append(f.ip)
        # a running guest's agent-reported addresses are in use even if no source records them
        texts.extend(str(a) for a in f.fact.extra.get("agent_ips") or ())
    used = {n for n in map(_ip_int, texts) if n is not None}
    cursors: dict[str, int] = {}
    for g in sorted((g for g in groups if g.ip is None and not g.blocked), key=_Group.sort_key):
        span = spans[g.network.name]
        cur, last = cursors.get(g.network.name, span.usable[0]), span.usable[1]
        while cur <= last:
            if span.dynamic and span.dynamic[0] <= cur <= span.dynamic[1]:
                cur = span.dynamic[1] + 1
            elif cur in used or cur == span.gateway:
                cur += 1
            else:
                break
        cursors[g.network.name] = cur + 1
        if cur > last:
            g.no_free = True  # reported by _ip_conflicts
            continue
        used.add(cur)
        g.ip = _ip_text(cur)
        g.provenance["ip"] = Provenance("allocator", ALLOCATOR_RULE, g.network.name)


# ---------------------------------------------------------------- IP conflicts


def _ip_conflicts(
    groups: list[_Group], facts: list[_F], spans: Mapping[str, _Span], config: Config
) -> list[Conflict]:
    out: list[Conflict] = []
    tag = config.providers.proxmox.writeback_tag if config.providers.proxmox else "netsot-static"

    def add(kind: ConflictKind, reason: str, g: _Group) -> None:
        out.append(_conflict(kind, f"{g.key}: {reason}", [g], network=g.network.name))

    for g in groups:
        net, span = g.network, spans[g.network.name]
        if g.no_free:
            add(
                ConflictKind.NO_FREE_ADDRESS,
                f"no free address left in {net.prefix} outside the DHCP range",
                g,
            )
            continue
        if g.ip is None:
            continue
        src = g.provenance["ip"].source
        value = _ip_int(g.ip)
        if value is None:
            add(ConflictKind.IP_OUTSIDE_NETWORK, f"{g.ip!r} (from {src}) is not an IPv4 address", g)
            continue
        what = f"IP {g.ip} (from {src})"
        if not span.first <= value <= span.last:
            add(ConflictKind.IP_OUTSIDE_NETWORK, f"{what} is outside {net.prefix}", g)
        elif not span.usable[0] <= value <= span.usable[1]:
            edge = "network" if value == span.first else "broadcast"
            add(ConflictKind.IP_OUTSIDE_NETWORK, f"{what} is the {edge} address of {net.prefix}", g)
        if span.dynamic and span.dynamic[0] <= value <= span.dynamic[1]:
            rng = f"{_ip_text(span.dynamic[0])}-{_ip_text(span.dynamic[1])}"
            add(ConflictKind.IP_IN_DYNAMIC_RANGE, f"{what} is inside the DHCP range {rng} of {net.name}", g)
        if value == span.gateway:
            add(ConflictKind.IP_CLAIMED_TWICE, f"{what} is the gateway of {net.name}", g)
        for o in g.origins:
            extra = o.fact.extra
            static = o.kind == "proxmox" and extra.get("ip_mode") == "static" and o.ip is not None
            if static and o.ip != g.ip and src != "proxmox" and not extra.get("writeback"):
                add(
                    ConflictKind.STATIC_IP_DISAGREES,
                    f"{o.fact.ref} has static IP {o.ip} but {g.ip} (from {src}) wins "
                    f"and write-back is off (tag the guest {tag} to let netsot rewrite it)",
                    g,
                )
    out += _claimed_twice(groups, facts)
    return out


def _claimed_twice(groups: list[_Group], facts: list[_F]) -> list[Conflict]:
    """One IP, several claimants: bindings resolving to it, or objects holding it that are
    not part of the binding (another MAC or name, not owned by it)."""
    at_ip: dict[str, list[_Group]] = defaultdict(list)
    for g in groups:
        if g.ip is not None:
            at_ip[g.ip].append(g)
    holders_at: dict[str, list[_F]] = defaultdict(list)
    for f in facts:
        if f.ip is not None and f.fact.source != "lease":  # leases are discovery only
            holders_at[f.ip].append(f)
    member_of: dict[_F, list[_Group]] = defaultdict(list)
    related_of: dict[Address, list[_Group]] = defaultdict(list)
    for g in groups:
        for f in g.facts():
            member_of[f].append(g)
        for address in g.related:
            related_of[address].append(g)

    def belongs(h: _F, claimants: list[_Group]) -> bool:
        return any(g in member_of[h] or h.fact.address in g.related for g in claimants)

    out: list[Conflict] = []
    for ip in sorted(at_ip, key=lambda t: (_ip_int(t) or 0, t)):
        claimants = sorted(at_ip[ip], key=_Group.sort_key)
        foreign = [h for h in holders_at.get(ip, ()) if not belongs(h, claimants)]
        if len(claimants) < 2 and not foreign:
            continue
        involved = list(claimants)
        others: list[_F] = []
        spare: list[_F] = []
        for h in foreign:
            owners = member_of.get(h, []) + (related_of.get(h.fact.address, []) if h.fact.address else [])
            for og in owners:
                if og not in involved:
                    involved.append(og)
            if not owners and h.owned:
                spare.append(h)  # netsot's own leftover: deleting it resolves the conflict
            elif not owners:
                others.append(h)
        parts = [f"{g.key} ({g.mac or 'no MAC'}, from {g.provenance['ip'].source})" for g in claimants]
        for h in foreign:
            note = ", owned by netsot, no longer backed by a source" if h in spare else ""
            parts.append(f"{h.fact.ref} ({h.mac or 'no MAC'}{note})")
        nets = {g.network.name for g in involved}
        out.append(
            _conflict(
                ConflictKind.IP_CLAIMED_TWICE,
                f"{ip} is claimed by {', '.join(parts)}",
                involved,
                others,
                network=min(nets) if len(nets) == 1 else None,
                spare=spare,
            )
        )
    return out


# ---------------------------------------------------------------- output


def _binding(g: _Group) -> Binding:
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

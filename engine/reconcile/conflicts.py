"""Conflicts for reconcile: what precedence cannot settle, and exactly what each one blocks.

Owns: identity conflicts (names, MACs, invalid names), IP conflicts (outside the network,
in the DHCP range, the gateway, claimed twice, static IP disagreeing) and the blocked
addresses/keys of each conflict (building a conflict marks its groups blocked).
Must not: resolve precedence or allocate addresses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from core.ipv4 import Span, ip_int, ip_text
from core.model import Address, Conflict, ConflictKind
from core.names import HOSTNAME_RULE, hostname_problem, is_multicast_mac
from engine.reconcile import fixes
from engine.reconcile.grouping import FactView, Group, derived
from providers.base import ROLE_ADDRESS, NameRule


def _blocked_addresses(g: Group) -> set[Address]:
    return derived(g) | {f.fact.address for f in g.facts() if f.fact.address is not None} | g.related


def _conflict(
    kind: ConflictKind,
    reason: str,
    groups: Iterable[Group],
    others: Iterable[FactView] = (),
    network: str | None = None,
    spare: Iterable[FactView] = (),
    fix: str = "",
) -> Conflict:
    """Build a conflict and block its groups. ``spare`` facts are named but not blocked
    (owned leftovers that netsot will delete, which is what resolves the conflict); ``fix`` is the
    action that resolves it (``engine.reconcile.fixes``)."""
    groups, others, spare = list(groups), list(others), list(spare)
    refs: set[str] = set()
    blocked: set[Address] = set()
    keys: set[str] = set()
    per_group: list[tuple[Group, set[Address]]] = []
    for g in groups:
        g.blocked = True
        refs.update(f.fact.ref for f in g.facts())
        mine = _blocked_addresses(g)
        per_group.append((g, mine))
        blocked |= mine
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
        fix=" ".join(fix.split()),
        effects=fixes.effects(per_group),
    )


def _origin_ref(g: Group) -> str:
    return ", ".join(sorted(o.fact.ref for o in g.origins))


def identity_conflicts(groups: list[Group]) -> list[Conflict]:
    out: list[Conflict] = []
    for g in groups:
        if len(g.origins) > 1 and _origins_disagree(g):
            names = ", ".join(sorted(f"{o.hostname} ({o.fact.ref})" for o in g.origins))
            out.append(
                _conflict(
                    ConflictKind.MAC_IN_TWO_BINDINGS,
                    f"MAC {g.mac_key} is on more than one host in {g.network.name}: {names}",
                    [g],
                    network=g.network.name,
                    fix=fixes.mac_twice([g]),
                )
            )
        else:
            shadow = _ipam_host_elsewhere(g, g.systems.role_types(ROLE_ADDRESS, g.network.name))
            if shadow is not None:
                made, other = shadow
                out.append(
                    _conflict(
                        ConflictKind.MAC_IN_TWO_BINDINGS,
                        f"MAC {g.mac_key} of {made.fact.ref} ({made.hostname}, {made.ip}), a host made in "
                        f"{fixes.ipam_title(g).split(' (')[0]}, is also on {other.fact.ref} "
                        f"({other.hostname}, {other.ip}) "
                        f"in {g.network.name}: one device cannot hold two addresses",
                        [g],
                        network=g.network.name,
                        fix=fixes.ipam_host_elsewhere(g, made, other),
                    )
                )
        if g.hostname is None:
            out.append(
                _conflict(
                    ConflictKind.INVALID_NAME,
                    f"{_origin_ref(g)} in {g.network.name} has no host name",
                    [g],
                    network=g.network.name,
                    fix=fixes.no_name(g),
                )
            )
        else:
            problem = _name_problem(g, g.systems.name_rules(g.network.name))
            if problem:
                source = g.provenance["hostname"].ref if "hostname" in g.provenance else _origin_ref(g)
                out.append(
                    _conflict(
                        ConflictKind.INVALID_NAME,
                        f"{g.hostname!r} (from {source}) {problem}",
                        [g],
                        network=g.network.name,
                        fix=fixes.bad_name(g),
                    )
                )
        bad = [(a, p) for a in g.aliases if (p := _alias_problem(g, a))] if g.aliases else ()
        if bad and g.hostname is not None:
            source = g.provenance["aliases"].ref if "aliases" in g.provenance else _origin_ref(g)
            alias, problem = bad[0]
            out.append(
                _conflict(
                    ConflictKind.INVALID_NAME,
                    f"extra name {alias!r} of {g.key} (from {source}) {problem}",
                    [g],
                    network=g.network.name,
                    fix=fixes.bad_alias(g, alias),
                )
            )
        if g.mac is not None and is_multicast_mac(g.mac):
            source = g.provenance["mac"].ref if "mac" in g.provenance else _origin_ref(g)
            out.append(
                _conflict(
                    ConflictKind.INVALID_MAC,
                    f"MAC {g.mac} of {g.key} (from {source}) is a multicast address: no DHCP client "
                    "sends it, so a reservation for it would never be used",
                    [g],
                    network=g.network.name,
                    fix=fixes.bad_mac(g),
                )
            )
        foreign = [f for f in g.clashes if not f.owned] if g.clashes else None
        if foreign and g.hostname is not None:
            others = ", ".join(f"{f.mac} ({f.fact.ref})" for f in foreign)
            clashing = sorted({f.hostname for f in foreign if f.hostname} - {g.hostname})
            what = (f"host name {g.hostname}" if not clashing else
                    f"extra name {', '.join(clashing)} of {g.hostname}")
            out.append(
                _conflict(
                    ConflictKind.HOSTNAME_ON_TWO_MACS,
                    f"{what} in {g.network.name} is on {g.mac} ({_origin_ref(g)}) "
                    f"and on {others}, which netsot does not own",
                    [g],
                    foreign,
                    network=g.network.name,
                    fix=fixes.name_clash(g, foreign),
                )
            )

    # only shared keys make conflicts: the first group under each key, and every group under a shared one
    # (in the groups' order; no list per key that only one group has)
    first: dict[tuple[str, str], Group] = {}
    by_scope: dict[tuple[str, str], list[Group]] = {}
    first_mac: dict[tuple[str, str], Group] = {}
    by_mac: dict[tuple[str, str], list[Group]] = {}
    scopes: dict[str, str] = {}  # network name → the scope its host names live in
    for g in groups:
        net = g.network
        scope = scopes.get(net.name)
        if scope is None:
            scope = scopes[net.name] = f"domain {net.domain}" if net.domain else net.name
        if g.hostname is not None:
            for name in (g.hostname, *g.aliases) if g.aliases else (g.hostname,):
                held = first.setdefault((scope, name), g)
                if held is not g:
                    by_scope.setdefault((scope, name), [held]).append(g)
        if g.mac is not None:
            held = first_mac.setdefault((net.name, g.mac), g)
            if held is not g:
                by_mac.setdefault((net.name, g.mac), [held]).append(g)
    # sort the shared keys only, in the order of the whole key set
    for (scope, name), members in sorted(by_scope.items()):
        if len(members) > 1:
            members.sort(key=Group.sort_key)
            nets = {m.network.name for m in members}
            if any(name in m.aliases for m in members):
                out.append(_alias_taken(name, scope, members, nets))
                continue
            parts = ", ".join(f"{m.mac or 'no MAC'} ({m.network.name}: {_origin_ref(m)})" for m in members)
            out.append(
                _conflict(
                    ConflictKind.HOSTNAME_ON_TWO_MACS,
                    f"host name {name} in {scope} is on {len(members)} MACs: {parts}",
                    members,
                    network=min(nets) if len(nets) == 1 else None,
                    fix=fixes.shared_name(name, members),
                )
            )
    for (net, mac), members in sorted(by_mac.items()):
        if len(members) > 1:
            members.sort(key=Group.sort_key)
            parts = ", ".join(f"{m.hostname} ({_origin_ref(m)})" for m in members)
            out.append(
                _conflict(
                    ConflictKind.MAC_IN_TWO_BINDINGS,
                    f"MAC {mac} is on more than one host in {net}: {parts}",
                    members,
                    network=net,
                    fix=fixes.mac_twice(members),
                )
            )
    return out


def _alias_taken(name: str, scope: str, members: list[Group], nets: set[str]) -> Conflict:
    """One name that is an extra name of one binding and the name (or an extra name) of another."""
    parts = ", ".join(
        f"{'an extra name' if name in m.aliases else 'the host name'} of {m.key} "
        f"({m.mac or 'no MAC'}, {m.network.name}: {_origin_ref(m)})" for m in members)
    return _conflict(
        ConflictKind.HOSTNAME_ON_TWO_MACS,
        f"name {name} in {scope} is {parts}",
        members,
        network=min(nets) if len(nets) == 1 else None,
        fix=fixes.alias_taken(name, members),
    )


def _name_problem(g: Group, rules: tuple[NameRule, ...]) -> str | None:
    """What is wrong with the group's host name: a serving system's rule (the first that has something
    to say, in ``Systems.name_rules``' order), else the DNS-label rule."""
    assert g.hostname is not None
    for name_rule in rules:
        problem = name_rule(g.hostname)
        if problem:
            return problem
    problem = hostname_problem(g.hostname)
    if problem:
        return f"is not a valid host name: it {problem} ({HOSTNAME_RULE})"
    return None


def _ipam_host_elsewhere(g: Group, types: frozenset[str]) -> tuple[FactView, FactView] | None:
    """A host made in the IPAM (a binding's origin) whose MAC another host of the binding holds at
    another address — e.g. netsot's own host of a guest: the two are never merged silently.
    ``types``: the resource types of the network's IPAM hosts."""

    # the origins come first among the group's facts: look at the rest only once an origin is such a host
    # (most groups have none: no test function is made for them)
    for made in g.origins:
        address = made.fact.address
        if address is not None and address.type in types and made.ip:
            break
    else:
        return None

    def is_host(f: FactView) -> bool:
        return f.fact.address is not None and f.fact.address.type in types and bool(f.ip)

    other = next((f for f in g.facts() if f is not made and is_host(f) and f.ip != made.ip), None)
    if other is None:
        other = next((o for o in g.origins if o is not made and o.ip and o.ip != made.ip
                      and o.fact.static_ip), None)
    return (made, other) if other is not None else None


def _alias_problem(g: Group, alias: str) -> str | None:
    problem = hostname_problem(alias)
    return f"is not a valid host name: it {problem} ({HOSTNAME_RULE})" if problem else None


def _origins_disagree(g: Group) -> bool:
    """Origins of one kind must describe one object; different kinds (config, guest, import) merge.
    An origin that gives the binding's name as one of its names (the router's host names on one
    address) describes the binding under that name."""
    seen: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    for o in g.origins:
        ref = o.fact.origin_ref
        name = g.hostname if o.aliases and g.hostname in o.names() else o.hostname
        seen[o.kind or ""].add((name, ref.system, ref.object) if ref is not None else (name,))
    return any(len(v) > 1 for v in seen.values())


def ip_conflicts(groups: list[Group], facts: list[FactView], spans: Mapping[str, Span]) -> list[Conflict]:
    out: list[Conflict] = []

    def add(kind: ConflictKind, reason: str, g: Group, fix: str) -> None:
        out.append(_conflict(kind, f"{g.key}: {reason}", [g], network=g.network.name, fix=fix))

    for g in groups:
        net, span = g.network, spans[g.network.name]
        if g.no_free:
            add(
                ConflictKind.NO_FREE_ADDRESS,
                f"no free address left in {net.prefix} outside the DHCP range",
                g,
                fixes.no_free(g),
            )
            continue
        if g.ip is None:
            continue
        src = g.provenance["ip"].source
        value = ip_int(g.ip)
        if value is None:
            add(ConflictKind.IP_OUTSIDE_NETWORK, f"{g.ip!r} (from {src}) is not an IPv4 address", g,
                fixes.outside(g, f"an IPv4 address inside {net.prefix}"))
            continue
        usable, dynamic = span.usable, span.dynamic
        # most are plain host addresses (the usable ones are inside the network): nothing to say, no text
        if not (usable[0] <= value <= usable[1] and value != span.gateway
                and not (dynamic and dynamic[0] <= value <= dynamic[1])):
            what = f"IP {g.ip} (from {src})"
            if not span.first <= value <= span.last:
                add(ConflictKind.IP_OUTSIDE_NETWORK, f"{what} is outside {net.prefix}", g,
                    fixes.outside(g, f"one inside {net.prefix}"))
            elif not usable[0] <= value <= usable[1]:
                edge = "network" if value == span.first else "broadcast"
                add(ConflictKind.IP_OUTSIDE_NETWORK, f"{what} is the {edge} address of {net.prefix}", g,
                    fixes.outside(g, f"a host address of {net.prefix}"))
            if dynamic and dynamic[0] <= value <= dynamic[1]:
                rng = f"{ip_text(dynamic[0])}-{ip_text(dynamic[1])}"
                add(ConflictKind.IP_IN_DYNAMIC_RANGE, f"{what} is inside the DHCP range {rng} of {net.name}",
                    g, fixes.in_range(g, rng))
            if value == span.gateway:
                add(ConflictKind.IP_CLAIMED_TWICE, f"{what} is the gateway of {net.name}", g,
                    fixes.gateway(g))
        for o in g.origins:
            fact = o.fact
            static = fact.static_ip and o.ip is not None
            if static and o.ip != g.ip and src != fact.source and not fact.ip_writable:
                hint = f" ({fact.writable_hint})" if fact.writable_hint else ""
                add(
                    ConflictKind.STATIC_IP_DISAGREES,
                    f"{fact.ref} has static IP {o.ip} but {g.ip} (from {src}) wins "
                    f"and write-back is off{hint}",
                    g,
                    fixes.static_disagrees(g, o),
                )
    out += _claimed_twice(groups, facts)
    return out


def _related(h: FactView, claimants: list[Group]) -> bool:
    """The object is an owned object depending on one of the claimants' objects."""
    address = h.fact.address
    return address is not None and any(address in g.related for g in claimants if g.related)


def _claimed_twice(groups: list[Group], facts: list[FactView]) -> list[Conflict]:
    """One IP, several claimants: bindings resolving to it, or objects holding it that are
    not part of the binding (another MAC or name, not owned by it)."""
    at_ip: dict[str, list[Group]] = {}
    # the facts at the IP their own group resolves to: they hold it for a claimant (most do); a fact
    # holding an IP is one of its claimants' facts exactly when it is one of these
    members: set[FactView] = set()
    for g in groups:
        ip = g.ip
        if ip is not None:
            at_ip.setdefault(ip, []).append(g)
            members.update([f for f in g.origins if f.ip == ip])
            if g.support:
                members.update([f for f in g.support if f.ip == ip])
    foreign_at: dict[str, list[FactView]] = {}
    for f in facts:
        # only the IPs bindings resolve to can be contested; leases are discovery only
        if f.ip is not None and f not in members and f.ip in at_ip and not f.fact.discovery \
                and not _related(f, at_ip[f.ip]):
            foreign_at.setdefault(f.ip, []).append(f)

    # Which IPs conflict does not depend on the order they are looked at: find them first,
    # then sort only those.
    contested: list[tuple[str, list[Group], list[FactView]]] = []
    for ip, claimants in at_ip.items():
        foreign = foreign_at.get(ip, [])
        if len(claimants) < 2 and not foreign:
            continue
        contested.append((ip, claimants, foreign))
    if not contested:
        return []
    contested.sort(key=lambda item: (ip_int(item[0]) or 0, item[0]))
    member_of: dict[FactView, list[Group]] = {}
    related_of: dict[Address, list[Group]] = {}
    for g in groups:
        for f in g.origins:
            member_of.setdefault(f, []).append(g)
        for f in g.support:
            member_of.setdefault(f, []).append(g)
        for address in g.related:
            related_of.setdefault(address, []).append(g)

    out: list[Conflict] = []
    for ip, claimants, foreign in contested:
        claimants = sorted(claimants, key=Group.sort_key)
        involved = list(claimants)
        others: list[FactView] = []
        spare: list[FactView] = []
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
                fix=fixes.claimed_twice(ip, claimants, foreign, spare),
            )
        )
    return out

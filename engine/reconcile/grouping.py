"""Grouping for reconcile: facts → binding candidates (groups) with their supporting facts.

Owns: ``FactView`` and ``Group``, collecting facts from config and observations in a stable
order, grouping origin facts by (network, MAC) or name, attaching supporting facts, and
relating owned dependants and the resource addresses a group stands for.
Must not: resolve precedence, allocate addresses or decide conflicts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

from core.config import Config, Network
from core.errors import ConfigError
from core.ipv4 import canon_ip
from core.model import Address, Fact, ManagedResource, Observation, Provenance
from core.names import short_name
from engine.systems import Systems


@dataclass(eq=False, slots=True)
class FactView:
    """A fact plus what reconcile derived about it (identity-hashed: facts may be equal)."""

    fact: Fact
    kind: str | None  # origin kind ("proxmox", "config", "import"); None = supporting fact
    owned: bool  # netsot owns the object (state or the NIPAP avps marker)
    hostname: str | None  # lower-cased; an FQDN in its network's domain becomes its first label
    mac: str | None  # lower-cased
    ip: str | None  # canonical text when parseable
    adopted: bool = False  # --adopt: this object's values win
    # netsot made the object for its binding (the state says ``made``, or cannot tell and the object carries
    # netsot's marker): an origin only because its binding is imported, it never names the binding
    made: bool = False
    hostname_from: str = ""  # how ``hostname`` was derived from the object's own name, if it was
    # the fact's names besides or including ``hostname``, made binding names as ``hostname`` is;
    # None: the object says nothing about extra names
    aliases: tuple[str, ...] | None = None

    def names(self) -> tuple[str, ...]:
        """Every name this fact gives its host: ``hostname`` first, then its other names."""
        if not self.aliases:
            return (self.hostname,) if self.hostname else ()
        first = (self.hostname,) if self.hostname else ()
        return first + tuple(a for a in self.aliases if a != self.hostname)


@dataclass(eq=False, slots=True)
class Group:
    """One binding candidate: its origin facts, supporting facts and the resolved values."""

    network: Network
    mac_key: str | None
    origins: list[FactView]
    systems: Systems
    support: list[FactView] = field(default_factory=list)
    clashes: list[FactView] = field(default_factory=list)  # same name, another MAC: not support
    related: set[Address] = field(default_factory=set)  # owned objects depending on ours
    hostname: str | None = None
    aliases: tuple[str, ...] = ()  # the binding's extra names (resolved with the hostname's precedence)
    mac: str | None = None
    ip: str | None = None
    provenance: dict[str, Provenance] = field(default_factory=dict)
    blocked: bool = False
    no_free: bool = False  # allocation found no address
    notes: list[str] = field(default_factory=list)  # shown in the plan (e.g. a name a rule kept out)

    @property
    def adopted(self) -> bool:
        return any(f.adopted for f in self.support) or any(f.adopted for f in self.origins)

    def facts(self) -> list[FactView]:
        return self.origins + self.support if self.support else list(self.origins)

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


def config_facts(config: Config) -> list[Fact]:
    """The ``hosts:`` of the configuration as origin facts (source ``config``)."""
    return [
        Fact(
            source="config",
            ref=f"config host {host.name}",
            network=host.network,
            hostname=host.name,
            mac=host.mac,
            ip=str(host.ip) if host.ip is not None else None,
            origin=True,
            description=host.description,
            aliases=host.aliases,
        )
        for host in config.hosts
    ]


def collect(
    config: Config,
    observations: Mapping[str, Observation],
    owned: Mapping[Address, ManagedResource],
    nets: Mapping[str, Network],
    adopt: frozenset[Address] = frozenset(),
) -> list[FactView]:
    facts = config_facts(config)
    for fact in facts:
        if fact.network not in nets:
            raise ConfigError(f"host {fact.hostname} names network {fact.network!r}, which is not defined")
    for obs in observations.values():
        facts.extend(obs.facts)
    # By (source, ref), which names one object in almost every case; only if two facts share both does
    # the whole order (``_order``) decide: a further stable sort then gives what sorting by it at once gives.
    # Two stable sorts by one text each (ref, then source) are the (source, ref) order without a key tuple
    # per fact (a third of the time); facts with equal keys keep the order above.
    facts.sort(key=_REF)
    facts.sort(key=_SOURCE)
    out = []
    ips: dict[str, str | None] = {}  # canonical IP texts: most IPs are reported by several systems
    adopting = bool(adopt)
    tied = False
    last_source = last_ref = None
    for fact in facts:
        source, ref = fact.source, fact.ref
        if ref == last_ref and source == last_source:
            tied = True
        last_source, last_ref = source, ref
        # (a config host, an origin without an address, is of kind "config", its source)
        managed = owned.get(fact.address) if owned and fact.address is not None else None
        if fact.discovery:
            kind = None
        elif managed is not None and managed.origin == "import":
            kind = "import"  # an adopted object stands for its binding on its own
        elif fact.origin:
            kind = source
        else:
            kind = None
        name = fact.hostname
        if name and "." not in name:
            hostname, derived = name.lower(), fact.hostname_from  # ``_hostname``'s plain case, inline
        else:
            hostname, derived = _hostname(fact, nets)
        ip = fact.ip
        if ip is not None:
            ip = ips.get(ip) or ips.setdefault(ip, canon_ip(ip))
        out.append(
            FactView(  # every field by position: keywords make this call twice as slow, once per fact
                fact,
                kind,
                managed is not None or fact.owned,  # owned
                hostname,
                fact.mac.lower() if fact.mac else None,  # mac
                ip,
                adopting and fact.address in adopt,  # adopted
                managed is not None and _made(managed, fact),  # made
                derived,  # hostname_from
                _aliases(fact, nets) if fact.aliases is not None else None,  # aliases
            )
        )
    if tied:
        out.sort(key=lambda view: _order(view.fact))
    return out


_SOURCE, _REF = attrgetter("source"), attrgetter("ref")


def _made(managed: ManagedResource, fact: Fact) -> bool:
    """Whether netsot made the object: the state says so, or cannot tell (a state from before netsot
    recorded it) and the object carries netsot's marker — the rule ``engine/plan/ownership.py`` reads."""
    return managed.ownership == "made" or (managed.ownership == "unknown" and fact.owned)


def _aliases(fact: Fact, nets: Mapping[str, Network]) -> tuple[str, ...]:
    """A fact's extra names as binding names (lower case; an FQDN in the domain is its first label)."""
    net = nets.get(fact.network) if fact.network is not None else None
    domain = net.domain if net is not None and net.domain else fact.domain
    out: dict[str, None] = {}
    for alias in fact.aliases or ():
        name = alias.lower()
        if name:
            out[short_name(name, domain) if "." in name else name] = None
    return tuple(out)


def _hostname(fact: Fact, nets: Mapping[str, Network]) -> tuple[str | None, str]:
    """The binding host name a fact names, and how it was derived (empty: it is the name itself).

    An FQDN inside the domain of the fact's network (or of the DNS entry) is its first label
    (``cloud.example.com`` in ``example.com`` → ``cloud``); any other FQDN stays whole.
    """
    if not fact.hostname:
        return None, fact.hostname_from
    name = fact.hostname.lower()
    if "." not in name:
        return name, fact.hostname_from
    net = nets.get(fact.network) if fact.network is not None else None
    domain = net.domain if net is not None and net.domain else fact.domain
    short = short_name(name, domain)
    if short == name:
        return name, fact.hostname_from
    note = f"{short}: first label of {name}, which is in the network's domain {domain}"
    return short, f"{fact.hostname_from}; {note}" if fact.hostname_from else note


def _order(f: Fact) -> tuple[str, ...]:
    """The order facts are collected in, whatever order the observations listed them in."""
    a = f.address
    return (
        f.source,
        f.ref,
        f"{a.type}.{a.name}" if a is not None else "",  # str(address) without the method call
        f.network or "",
        f.hostname or "",
        f.mac or "",
        f.ip or "",
    )


class Grouped(NamedTuple):
    """The groups of :func:`group_origins`, with the indexes both grouping and :func:`attach_support` use."""

    groups: list[Group]
    by_mac: dict[tuple[str, str], Group]  # the groups with a MAC, by (network, MAC)
    by_name: dict[tuple[str, str], list[Group]]  # every group under each of its names (``_name_index``)


def group_origins(facts: list[FactView], nets: Mapping[str, Network], systems: Systems) -> Grouped:
    """Origin facts → groups: by MAC within a network; MAC-less origins by host name."""
    by_mac: dict[tuple[str, str], Group] = {}
    nameless: dict[tuple[str, str], list[FactView]] = {}
    domains = _domain_index(nets)
    for f in facts:
        if f.kind is None:
            continue
        net = f.fact.network
        if net not in nets:
            # an imported DNS host entry whose domain the provider could not pin to one network
            scope = _name_scope(f, net, nets, domains)
            owners = [n for n in scope if nets[n].dns_owner]  # a shared domain names its owner
            net = scope[0] if len(scope) == 1 else owners[0] if len(owners) == 1 else None
        if net is None:
            continue
        if f.mac:
            group = by_mac.get((net, f.mac))
            if group is None:
                group = by_mac[(net, f.mac)] = Group(nets[net], f.mac, [], systems)
            group.origins.append(f)
        elif f.hostname:
            nameless.setdefault((net, f.hostname), []).append(f)
    groups = list(by_mac.values())
    by_name = _name_index(groups)
    if any(f.aliases for fs in nameless.values() for f in fs):
        nameless = _merge_by_names(nameless)
    for (net, name), origins in nameless.items():
        targets = by_name.get((net, name), [])
        if not targets:  # one of its other names may be a binding's (an extra host name on its address)
            names = dict.fromkeys(n for o in origins for n in o.names())
            found = [g for n in names for g in by_name.get((net, n), ())]
            targets = list(dict.fromkeys(found))
        if len(targets) == 1:
            targets[0].origins.extend(origins)  # e.g. a config host without MAC naming a guest
        else:
            groups.append(Group(nets[net], None, origins, systems))
    # the MAC-less origins gave groups new names (or are new groups): index them all again
    return Grouped(groups, by_mac, _name_index(groups) if nameless else by_name)


def _merge_by_names(nameless: dict[tuple[str, str], list[FactView]]) -> dict[tuple[str, str], list[FactView]]:
    """MAC-less origins that share a name (one entry's extra name is another's host name) are one
    candidate: the names one address has on the router. Keyed by the first name of each set."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(k: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(k, k) != k:
            k = parent[k]
        return k

    for (net, name), origins in nameless.items():
        for o in origins:
            for other in o.names():
                a, b = find((net, name)), find((net, other))
                if a != b:
                    parent[max(a, b)] = min(a, b)
    out: dict[tuple[str, str], list[FactView]] = {}
    for key, origins in nameless.items():
        out.setdefault(find(key), []).extend(origins)
    return out


def _name_index(groups: Iterable[Group]) -> dict[tuple[str, str], list[Group]]:
    # each list keeps the order of ``groups``; a group appears once under each of its names (its
    # origins' host names and the extra names they give it)
    index: dict[tuple[str, str], list[Group]] = {}
    for g in groups:
        net = g.network.name
        if len(g.origins) == 1 and not g.origins[0].aliases:
            name = g.origins[0].hostname
            if name:
                index.setdefault((net, name), []).append(g)
            continue
        for name in dict.fromkeys(n for o in g.origins for n in o.names()):
            index.setdefault((net, name), []).append(g)
    return index


def dependants_of(owned: Mapping[Address, ManagedResource]) -> dict[Address, list[Address]]:
    """Owned addresses by the address they depend on (a DNS entry → its NIPAP host)."""
    out: dict[Address, list[Address]] = defaultdict(list)
    for address, managed in owned.items():
        for dep in managed.dependencies:
            out[dep].append(address)
    return out


def attach_support(
    facts: list[FactView],
    grouped: Grouped,
    nets: Mapping[str, Network],
    dependants: Mapping[Address, list[Address]],
) -> None:
    """Non-origin facts support a group by MAC; MAC-less ones (or MAC-less groups) by name."""
    groups, by_mac, by_name = grouped
    nets_of_domain = _domain_index(nets)
    by_name_only: list[FactView] = []
    for f in facts:
        if f.kind is not None or f.fact.discovery:
            continue
        if f.mac:
            target = by_mac.get((f.fact.network, f.mac))
            if target is not None:
                target.support.append(f)
                continue
        if f.hostname:
            by_name_only.append(f)
    # An owned object that depends on another group's object stays with that group even if
    # its name now matches someone else (a renamed guest's old DNS entry vs. a new guest
    # that took the old name).
    tied: dict[Address, Group] = {}
    if dependants:
        for g in groups:
            for f in g.support:
                for address in dependants.get(f.fact.address, ()) if f.fact.address else ():
                    tied.setdefault(address, g)
    by_annotation: dict[tuple[Any, ...], list[Group]] | None = None  # built when first needed
    for f in by_name_only:
        named = False
        for target_net in _name_scope(f, f.fact.network, nets, nets_of_domain):
            for g in _named(by_name, target_net, f):
                named = True
                if tied and f.fact.address in tied and tied[f.fact.address] is not g:
                    continue
                if f.mac is None or g.mac_key is None or f.owned:
                    # an owned object of this name whose MAC no origin has any more: the binding's
                    # device got a new MAC (a NIC replaced, a VM restored), and the binding follows it
                    g.support.append(f)
                elif f.mac != g.mac_key:
                    g.clashes.append(f)
        if not named and f.owned and f.mac and f.fact.annotations:
            # renamed too: the object still records which origin it belongs to (e.g. a VM id)
            if by_annotation is None:
                by_annotation = _annotation_index(groups)
            found = by_annotation.get((f.fact.network or "", *sorted(f.fact.annotations.items())), [])
            if len(found) == 1:
                found[0].support.append(f)


def _named(by_name: Mapping[tuple[str, str], list[Group]], net: str, f: FactView) -> list[Group]:
    """The groups a fact names: by its host name, else by one of its other names (an extra host
    name on a binding's address names the binding through the names it shares)."""
    found = by_name.get((net, f.hostname or ""), [])
    if found or not f.aliases:
        return found
    return list(dict.fromkeys(g for n in f.aliases for g in by_name.get((net, n), ())))


def _annotation_index(groups: Iterable[Group]) -> dict[tuple[Any, ...], list[Group]]:
    """Groups by (network, the annotations of one of their origin objects)."""
    out: dict[tuple[Any, ...], list[Group]] = {}
    for g in groups:
        for o in g.origins:
            ref = o.fact.origin_ref
            if ref is not None and ref.annotations:
                key = (g.network.name, *sorted(ref.annotations.items()))
                if g not in out.setdefault(key, []):
                    out[key].append(g)
    return out


def _domain_index(nets: Mapping[str, Network]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for net in nets.values():
        if net.domain:
            out[net.domain.lower()].append(net.name)
    return out


def _name_scope(
    f: FactView, net: str | None, nets: Mapping[str, Network], nets_of_domain: Mapping[str, list[str]]
) -> list[str]:
    """Networks in which a fact's name counts: a DNS host entry belongs to its whole domain."""
    domain = f.fact.domain
    if domain and domain.lower() in nets_of_domain:
        return nets_of_domain[domain.lower()]
    return [net] if net in nets else []


def relate(groups: list[Group], dependants: Mapping[Address, list[Address]],
           owned: Mapping[Address, ManagedResource] | None = None) -> None:
    """Owned objects depending on a group's objects belong to it (e.g. the old DNS entry of a
    renamed guest depends on the NIPAP host that now supports the new name), and so do the owned
    objects that share a dependency with an owned object supporting it (the old DNS entry and the
    old reservation of a host renamed in the IPAM both depend on its old IPAM address)."""
    if not dependants:
        return
    for g in groups:
        roots = {f.fact.address for f in g.facts() if f.fact.address is not None} | derived(g)
        siblings: set[Address] = set()
        for root in roots:
            g.related.update(dependants.get(root, ()))
            record = owned.get(root) if owned else None
            if record is not None and root not in g.related:
                siblings.update(record.dependencies)
        for dep in siblings - roots:
            g.related.update(a for a in dependants.get(dep, ()) if a not in roots)


def derived(g: Group) -> set[Address]:
    """Every resource address netsot would manage for this group (under any of its names)."""
    out: set[Address] = set()
    for name in g.names():
        out.update(g.systems.binding_addresses(g.network, name))
    for o in g.origins:
        ref = o.fact.origin_ref
        if ref is not None and ref.address is not None:
            out.add(ref.address)
    return out

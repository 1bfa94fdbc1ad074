"""Import for a Vyatta kind: adopt the router's existing static mappings and host names.

Owns: the pure decision of what to adopt and why (matched by MAC / name / IP against what the
other sources and the config say) and what to refuse as a conflict — a mapping without
ip-address or MAC, duplicate MAC or IP in one shared network, an IP outside its subnet or
network, one name on two addresses, a host name without exactly one IPv4 inet, a name netsot
cannot derive a DNS name from — each with the rule it breaks. Every name of an address is adopted:
several host names on one address (and their aliases, and the reservation's name) are one binding's
names, the reservation's name (else the first host name) its canonical one and the rest its extra
names. Every entry keeps its router name exactly; the binding it joins is named by the DNS name
derived from it (``ROOM_1_SWITCH`` → ``room-1-switch``; a host name is its first label inside its
network's domain, else the FQDN — the domain's own name, the apex, is the binding of that name). The
network of an entry is the one its address is in; the domain is only a hint (``observe`` decides, so
import and plan agree). Nothing is adopted blindly; already-managed objects are left as they are.
The kind (``VyattaKind``) says what differs: its name, product word, types and name rules.
Must not: change anything on the router, or read it (each kind's ``importer`` does).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import Any

from core.config import Config, Network, split_key
from core.errors import ConfigError, NetsotError
from core.ipv4 import ip_int
from core.model import Address, Fact, ManagedResource, Observation, ObservedResource, to_jsonable
from core.names import hostname_problem, short_name
from providers.vyatta.family import VyattaKind
from providers.vyatta.kept import derive_label, is_ipv4, kept_lines

MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


@dataclass(frozen=True)
class Boundary:
    """The boundary's import types, handed in by the kind (a library never imports the boundary):
    ``item(address, status, reason, record, claim)``, ``claim(address, network, hostname, ip, mac,
    origin)`` and ``plan(items)`` (``ImportItem``, ``BindingClaim``, ``ImportPlan``)."""

    item: Callable[..., Any]
    claim: Callable[..., Any]
    plan: Callable[[tuple[Any, ...]], Any]


@lru_cache(maxsize=1024)
def _span(cidr: str) -> tuple[int, int] | None:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    return (int(net.network_address), int(net.broadcast_address)) if net.version == 4 else None


def _in(value: int | None, cidr: str) -> bool:
    """Whether the IPv4 address ``value`` (``ip_int``; None: not one) lies in ``cidr`` (integers: an
    import checks thousands of entries)."""
    span = _span(cidr)
    return value is not None and span is not None and span[0] <= value <= span[1]


def _span_of(net: Network) -> tuple[int, int]:
    """The configured network's first and last address, as integers (its prefix is parsed already)."""
    return int(net.prefix.network_address), int(net.prefix.broadcast_address)


def _in_network(value: int | None, span: tuple[int, int]) -> bool:
    """Whether the IPv4 address ``value`` (``ip_int``; None: not one) lies in a configured network's
    ``span`` (``_span_of``, made once per network: an import checks thousands of entries)."""
    return value is not None and span[0] <= value <= span[1]


class _Matches:
    """The other sources' facts indexed by (network, MAC / name / IP): one pass, then lookups (an
    import — and every plan's Unmanaged section — asks this for thousands of router entries)."""

    def __init__(self, others: Sequence[Fact]) -> None:
        self.by: dict[tuple[str, str, str | None], list[Fact]] = {}
        for f in others:
            keys = (("same MAC", (f.mac or "").lower()), ("same name", (f.hostname or "").lower()),
                    ("same IP", f.ip or ""))
            for label, value in keys:
                if value:
                    self.by.setdefault((label, value, f.network), []).append(f)

    def why(self, network: str, name: str, mac: str | None, ip: str | None) -> tuple[str, str]:
        """Why this router entry is adopted, and the origin of the binding it joins.

        A match by MAC or name with a guest NIC or a config host makes the entry part of that
        binding (its origin); otherwise it stays a standalone binding ("import").
        """
        for label, value in (("same MAC", mac or ""), ("same name", name), ("same IP", ip or "")):
            hits = sorted(self.by.get((label, value, network), ()), key=lambda f: f.ref) if value else []
            if hits:
                refs = ", ".join(sorted({f.ref for f in hits}))
                joins = label != "same IP" and hits[0].origin
                return f"matches {refs} ({label})", hits[0].source if joins else "import"
        return "router entry kept as a standalone binding", "import"


def _record(
    address: Address, provider_id: str | None, attrs: Mapping[str, Any], deps: Sequence[Address], origin: str
) -> dict:
    return {
        "address": str(address),
        "provider": address.system,
        "provider_id": provider_id,
        "attributes": to_jsonable(attrs),
        "dependencies": [str(d) for d in deps],
        "origin": origin,
    }


def _kept_note(r: ObservedResource) -> str:
    lines = kept_lines(r.kept)
    return f"; keeps what netsot does not manage: {', '.join(lines)}" if lines else ""


class _Adopt:
    """One import decision over one router instance's observation."""

    def __init__(self, kind: VyattaKind, made: Boundary, config: Config, key: str, observation: Observation,
                 owned: Mapping[Address, ManagedResource], others: Sequence[Fact], address_of: Any,
                 only: Collection[Address] | None = None, verdicts_only: bool = False) -> None:
        self.kind, self.made = kind, made
        self.nets = {n.name: n for n in kind.served(config, key)}
        self.spans = {name: _span_of(n) for name, n in self.nets.items()}
        self.shared = {own.shared_network for n in self.nets.values()
                       if (own := n.settings_for(kind.name)) is not None}
        self.facts = {f.address: f for f in observation.facts if f.address is not None}
        self.others = others
        self.owned, self.address_of = owned, address_of
        self.items: list[Any] = []
        self.of_type: dict[str, list[ObservedResource]] = defaultdict(list)  # one pass for every type
        for r in observation.resources.values():
            self.of_type[r.address.type].append(r)
        self.only = only
        self.verdicts_only = verdicts_only

    @cached_property
    def matches(self) -> _Matches:
        """The other sources' facts, indexed when an adopted entry's reason first needs them."""
        return _Matches([f for f in self.others if f.source != self.kind.name and not f.discovery])

    def judged(self, r: ObservedResource) -> bool:
        """Whether a verdict on ``r`` is wanted (every object weighs in on the others' verdicts)."""
        return self.only is None or r.address in self.only

    def deps(self, network: str, name: str) -> tuple[Address, ...]:
        dep = self.address_of(network, name) if self.address_of is not None else None
        return (dep,) if dep is not None else ()

    def adopt(self, text: str, r: ObservedResource, net: Network, name: str, ip: str | None, mac: str | None,
              note: str = "") -> None:
        """Adopt ``r`` (``text``: its address as text, made once by ``resources``)."""
        if self.verdicts_only:
            self.items.append(self.made.item(text, "adopt", ""))
            return
        reason, origin = self.matches.why(net.name, name, mac, ip)
        claim = self.made.claim(text, net.name, name, ip, mac, origin)
        record = _record(r.address, r.provider_id, r.attributes, self.deps(net.name, name), origin)
        why = reason + note + _kept_note(r)
        self.items.append(self.made.item(text, "adopt", why, record, claim))

    def refuse(self, text: str, why: str) -> None:
        self.items.append(self.made.item(text, "conflict", why))

    def resources(self, rtype: str) -> list[tuple[str, ObservedResource]]:
        """The objects of ``rtype`` in address order, each with its address as text (made once: the
        sort key, and the address of its item)."""
        return sorted(((str(r.address), r) for r in self.of_type.get(rtype, ())), key=itemgetter(0))


class _Places:
    """Where each name is, per network: (network, name) → its first address, and every address of a
    name seen on a second one (the few of thousands: a router's names are almost all on one address).
    Fed by the static mappings (their binding names) and the host names (their own names and aliases)."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, str], str] = {}
        self.more: dict[tuple[str, str], set[str]] = {}

    def add(self, network: str, name: str, ip: str) -> None:
        key = (network, name)
        had = self.first.setdefault(key, ip)
        if had != ip:
            self.more.setdefault(key, {had}).add(ip)

    def ambiguous(self) -> dict[tuple[str, str], list[str]]:
        """Names that more than one address has (a host name or alias on two addresses, or on another
        address than the reservation of that name): (network, name) → the addresses, sorted."""
        return {k: sorted(v, key=lambda ip: ip_int(ip) or 0) for k, v in self.more.items()}


def _mapping_problem(kind: VyattaKind, a: Mapping[str, Any], net: Network, span: tuple[int, int],
                     binding: str, macs: Counter, ips: Counter) -> str | None:
    sn, name, ip, mac, subnet = (a.get("shared_network"), a.get("name"), a.get("ip_address"),
                                 a.get("mac_address"), a.get("subnet"))
    if not isinstance(name, str) or not kind.mapping_name_re.fullmatch(name):
        return (f"name {name!r} is not a static-mapping name {kind.product} accepts "
                "(ASCII letters, digits, '-', '_' and '.')")
    problem = hostname_problem(binding)
    if problem:
        return f"its DNS name {binding!r} (derived from {name}) {problem}; rename it on the router"
    if ip is None:
        return f"static mapping {name} has no ip-address"
    if mac is None:
        return f"static mapping {name} has no {kind.mac_words}"
    if not MAC.fullmatch(str(mac)):
        return f"mac-address {mac!r} is not a MAC address (six groups of 1-2 hex digits separated by ':')"
    value = ip_int(ip)  # once for both checks
    if not _in(value, str(subnet)):
        return f"ip-address {ip} is outside its subnet {subnet}"
    if not _in_network(value, span):
        return f"ip-address {ip} is outside network {net.name} ({net.prefix})"
    if macs[(sn, mac)] > 1:
        return f"MAC {mac} is used by {macs[(sn, mac)]} static mappings in {sn}"
    if ips[(sn, ip)] > 1:
        return f"IP {ip} is used by {ips[(sn, ip)]} static mappings in {sn}"
    return None


def _mappings(run: _Adopt, places: _Places) -> None:
    """Adopt or refuse every static mapping; each one's binding name goes into ``places`` at its IP."""
    mappings = run.resources(run.kind.mapping_type)
    macs = Counter((r.attributes.get("shared_network"), r.attributes.get("mac_address")) for _, r in mappings)
    ips = Counter((r.attributes.get("shared_network"), r.attributes.get("ip_address")) for _, r in mappings)
    # the run's indexes as locals: the loop runs once per static mapping, thousands per plan
    only, owned, facts, nets, shared, items, made = (run.only, run.owned, run.facts, run.nets, run.shared,
                                                      run.items, run.made)
    for text, r in mappings:
        a = r.attributes
        sn, ip, name = a.get("shared_network"), a.get("ip_address"), str(a.get("name"))
        fact = facts.get(r.address)
        net = nets.get(fact.network) if fact is not None and fact.network else None
        binding = short_name(derive_label(name), net.domain) if net is not None else name
        if net is not None and ip and sn in shared:
            places.add(net.name, binding, str(ip))
        if only is not None and r.address not in only:  # ``run.judged``, inline
            continue
        if sn not in shared:
            items.append(made.item(text, "ignored", f"shared network {sn} is not in the config"))
            continue
        if net is None:
            run.refuse(text, f"static mapping {a.get('name')} has no ip-address" if not ip else
                       f"ip-address {ip} is in none of the networks served by shared network {sn}")
            continue
        if r.address in owned:
            items.append(made.item(text, "managed", "already managed by netsot"))
            continue
        problem = _mapping_problem(run.kind, a, net, run.spans[net.name], binding, macs, ips)
        if problem:
            run.refuse(text, problem)
            continue
        note = f"; binding {binding} (derived from the name {name})" if binding != name else ""
        run.adopt(text, r, net, binding, ip, a.get("mac_address"), note)


def _host_problem(r: ObservedResource, net: Network, span: tuple[int, int], name: str, owns: Sequence[str],
                  ambiguous: Mapping[tuple[str, str], list[str]]) -> str | None:
    inet = r.attributes.get("inet")
    value = ip_int(inet) if isinstance(inet, str) else None  # once, for the IPv4 check and the network's
    v4 = [inet] if value is not None or (inet and is_ipv4(inet)) else []
    kept = r.kept.get("inet")
    if kept:  # an inet netsot does not manage (the usual host name has none)
        v4 += [v for v in kept if v and is_ipv4(v)]
    if not v4:
        host_name = str(r.attributes.get("host_name"))
        return f"host name {host_name} has no IPv4 inet (netsot manages one IPv4 address per name)"
    if len(v4) > 1:
        host_name = str(r.attributes.get("host_name"))
        return (f"host name {host_name} has {len(v4)} IPv4 inet values ({', '.join(v4)}); "
                "netsot manages exactly one")
    problem = hostname_problem(name)
    if problem:
        return f"its DNS name {name!r} {problem}"
    if not _in_network(value, span):
        return f"inet {inet} is outside network {net.name} ({net.prefix})"
    for own in owns:
        addresses = ambiguous.get((net.name, own))
        if addresses:
            return (f"the name {own} is on {len(addresses)} addresses ({', '.join(addresses)}); netsot "
                    "cannot tell which host it names (keep it on one address, or remove it)")
    return None


def _own_names(r: ObservedResource, net: Network) -> list[str]:
    """The names a host name gives its address: its own (first label in the domain) and its aliases."""
    own = short_name(str(r.attributes.get("host_name")).lower(), net.domain)
    aliases = r.attributes.get("aliases")
    if not aliases:
        return [own]  # the usual host name (a plan's Unmanaged section asks for thousands)
    return list(dict.fromkeys([own, *(short_name(str(a).lower(), net.domain) for a in aliases)]))


# a placed host name: its address as text, the object, its fact, its network, binding name and own names
_Placed = tuple[str, ObservedResource, Fact, Network, str, list[str]]


def _unplaced(run: _Adopt, text: str, r: ObservedResource, host_name: str, domain: str | None) -> None:
    """A host name no network takes: outside every network and domain, or in a shared domain."""
    if domain is None:
        why = f"{host_name}: neither its address nor its domain belongs to a configured network"
        run.items.append(run.made.item(text, "ignored", why))
        return
    inet = r.attributes.get("inet")
    sharing = sorted(n.name for n in run.nets.values() if n.domain and n.domain.lower() == domain)
    if not inet:
        run.refuse(text, f"host name {host_name} has no IPv4 inet (netsot manages one IPv4 address per name)")
        return
    run.refuse(text, f"inet {inet} is in none of the networks of domain {domain} ({', '.join(sharing)}); "
                     "give one of them dns_owner: true, or fix the address")


def _hosts(run: _Adopt, places: _Places) -> None:
    # each placed host with its own names (``_own_names``), made once for the ambiguity index and its verdict
    placed: list[_Placed] = []
    # the run's indexes as locals: the loops run once per host name, thousands per plan
    only, owned, facts, nets, spans = run.only, run.owned, run.facts, run.nets, run.spans
    for text, r in run.resources(run.kind.host_type):
        fact = facts.get(r.address)
        net = nets.get(fact.network) if fact is not None and fact.network else None
        if net is None or fact is None or not fact.hostname:
            if run.judged(r):
                domain = fact.domain if fact is not None else None
                _unplaced(run, text, r, str(r.attributes.get("host_name")), domain)
            continue
        owns = _own_names(r, net)
        placed.append((text, r, fact, net, fact.hostname, owns))
        inet = r.attributes.get("inet")
        if inet:
            for own in owns:
                places.add(net.name, own, str(inet))
    ambiguous = places.ambiguous()
    for text, r, fact, net, name, owns in placed:
        if only is not None and r.address not in only:  # ``run.judged``, inline: thousands per plan
            continue
        if r.address in owned:
            run.items.append(run.made.item(text, "managed", "already managed by netsot"))
            continue
        problem = _host_problem(r, net, spans[net.name], name, owns, ambiguous)
        if problem:
            run.refuse(text, problem)
            continue
        if run.verdicts_only:
            run.adopt(text, r, net, name, r.attributes.get("inet"), None)
            continue
        apex = net.domain is not None and name == net.domain.lower()
        note = f"; the domain's own name (apex): binding {name}" if apex else ""
        note += _names_note(fact, name, owns[0])
        run.adopt(text, r, net, name, r.attributes.get("inet"), None, note)


def _names_note(fact: Fact, name: str, own: str) -> str:
    """What an adopted host name says about the binding's names (its extra names, or whose it is)."""
    extra = [a for a in dict.fromkeys(short for short in fact.aliases or ()) if a != name]
    if not extra:
        return ""
    if own != name:
        return f"; an extra name ({own}) of binding {name}, the first name of {fact.ip}"
    return f"; binding {name} with its extra names {', '.join(extra)}"


def adopt(
    kind: VyattaKind,
    made: Boundary,
    config: Config,
    key: str,
    observation: Observation,
    owned: Mapping[Address, ManagedResource],
    others: Sequence[Fact] = (),
    address_of: Any = None,
    only: Collection[Address] | None = None,
    verdicts_only: bool = False,
) -> Any:
    """What to adopt from the router, and why; conflicts are refused, never adopted.

    ``others`` are the facts of every other source (config hosts included) that explain matches;
    ``address_of(network, name)`` is the binding's IPAM address the entries depend on (or None);
    ``only`` limits the verdicts to those objects (the plan's Unmanaged section), each judged
    against the whole router as ``netsot import`` judges it. ``verdicts_only``: each item is the
    verdict alone (its status, and why it is refused or ignored) — an adopted entry's item has no
    reason, state record or claim (what the plan's Unmanaged section does not use).
    """
    run = _Adopt(kind, made, config, key, observation, owned, others, address_of, only, verdicts_only)
    places = _Places()
    _mappings(run, places)
    _hosts(run, places)
    return made.plan(tuple(run.items))


# ---------------------------------------------------------------------------------------------
# one entry: `netsot import ADDR "service dhcp-server … static-mapping NAME"`

_MAPPING_PATH = ("service", "dhcp-server", "shared-network-name", None, "subnet", None, "static-mapping",
                 None)
_HOST_PATH = ("system", "static-host-mapping", "host-name", None)


def entry_address(kind: VyattaKind, ident: str, key: str = "") -> tuple[Address, Mapping[str, str]]:
    """The address of the router entry at config path ``ident``, and what the path says about it."""
    words = [w.strip("'\"") for w in ident.replace("set ", "", 1).split()]
    for pattern in (_MAPPING_PATH, _HOST_PATH):
        if len(words) != len(pattern) or any(p not in (None, w) for p, w in zip(pattern, words, strict=True)):
            continue
        if pattern is _MAPPING_PATH:
            said = {"shared_network": words[3], "subnet": words[5], "name": words[7]}
            return kind.mapping_address(words[3], words[7], key), said
        return kind.host_address(words[3], key), {"host_name": words[3]}
    raise ConfigError(
        f"{ident!r} is not the config path of a router entry netsot manages: write "
        "'service dhcp-server shared-network-name NET subnet CIDR static-mapping NAME' or "
        "'system static-host-mapping host-name NAME'"
    )


def import_one(kind: VyattaKind, made: Boundary, config: Config, key: str, observation: Observation,
               address: Address, ident: str, owned: Mapping[Address, ManagedResource],
               facts: Sequence[Fact] = (), address_of: Any = None) -> Any:
    """The router entry at config path ``ident`` as the item to adopt at ``address`` (the same checks as
    ``netsot import KIND``: a shared MAC or IP, an IP outside the subnet, a name netsot cannot manage)."""
    found, said = entry_address(kind, ident, split_key(key)[1])
    resource = observation.resources.get(found)
    path = " ".join(ident.split())
    if resource is None or any(resource.attributes.get(k) != v for k, v in said.items() if k != "name"):
        raise NetsotError(f"the router {key} has no entry at '{path}' (`netsot inventory {key}` lists them)")
    if found != address:
        raise NetsotError(f"'{path}' is {found} to netsot, not {address}; run "
                          f"`netsot import {found} \"{path}\"`")
    plan = adopt(kind, made, config, key, observation, owned, facts, address_of, only=(address,))
    items = [i for i in plan.items if i.address == str(address)]
    if not items:
        raise NetsotError(f"{address} is not in a configured network of {key}")
    item = items[0]
    if item.status == "ignored":
        return made.item(item.address, "conflict", item.reason)
    return item

"""Pure planning for a Vyatta kind: what the router's DHCP static mappings and static host mappings
should be for the desired bindings, as wishes for the boundary's one diff (``providers.diffing``).

Owns: what each binding wants on the router (a static mapping in its network's shared network, in
the router's subnet holding its address; a host name ``NAME.DOMAIN`` pointing where the host
answers, holding its single-label name and its extra names as aliases), the identity of router
objects (its name exact, then any case, then the name netsot derives from the router's:
``ROOM_1_SWITCH`` for ``room-1-switch``; then — for an owned mapping whose router name netsot would
not create — its MAC; found objects keep the router's name, and netsot never creates a second
mapping or host name that differs from an existing one only by case), and the hooks that word each
change the diff makes (``create`` and ``finish``): moves and renames (a new object takes the place and the
kept data of the owned one it replaces: applied or held together), drift, updates compared without
case, human reasons, provenance, what each change keeps and what a delete would lose; plus the
``saved`` pseudo resource. The diff decides ownership, blocking and what is deleted.
The kind passes plain values: its ``VyattaKind``, the owned records, the binding's IPAM address
(``depends``), the router's subnets per shared network, and optionally the host names it does not
publish (``unpublished``, EdgeOS's disabled reservations), and the diff's two constructors (``Diff``).
Must not: do I/O, import a kind or the provider boundary, or touch an object netsot does not own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import Any

from core.config import Config, Network
from core.ipv4 import ip_int
from core.model import (
    EMPTY,
    Action,
    Address,
    Binding,
    Change,
    Desired,
    ManagedResource,
    Observation,
    ObservedResource,
    Provenance,
    frozen_map,
)
from core.names import short_name
from providers.vyatta import kept as kept_module
from providers.vyatta.family import HOST_BASE, VyattaKind, host_name_for, mapping_path
from providers.vyatta.observe import host_attrs, mapping_attrs

UNSAVED_REASON = (
    "the router has committed changes that were never saved (an apply was interrupted?); "
    "saving them so a reboot keeps them"
)
# resource attribute ← binding attribute whose provenance it carries
MAPPING_PROVENANCE = (("ip_address", "ip"), ("mac_address", "mac"), ("name", "hostname"))
HOST_PROVENANCE = (("inet", "ip"), ("host_name", "hostname"), ("aliases", "hostname"))
# (network, hostname) → the address resource the binding's router objects depend on (None: none)
Depends = Callable[[str, str], Address | None]
# (the binding of each wanted object by its address, observation) → {host address: why netsot does not
# publish it}
Unpublished = Callable[[Mapping[Address, Binding], Observation], Mapping[Address, str]]


def binding_aliases(name: str) -> list[str]:
    """The aliases netsot gives a binding's host name: its single-label name (none for an FQDN)."""
    return [] if "." in name else [name]


# ---------------------------------------------------------------------------------------------
# planning: subnets


# (parsed subnet, its text as the router has it, IPv4 network and mask as integers or None for IPv6)
Subnets = tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str, int | None, int | None], ...]


def _parsed_subnets(cidrs: Sequence[str]) -> Subnets:
    """The router subnets of one shared network parsed once (unparseable ones skipped), in router order."""
    out = []
    for cidr in cidrs:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        if net.version == 4:
            out.append((net, cidr, int(net.network_address), int(net.netmask)))
        else:
            out.append((net, cidr, None, None))
    return tuple(out)


def _subnet_for(subnets: Subnets, network: Network, ip: str, fallback: str | None = None) -> str:
    """The router subnet holding ``ip``; the config prefix (``fallback``) when the router has none."""
    value = ip_int(ip)
    if value is None:  # not a dotted quad (reconcile blocks those): the general, slower test
        addr = ipaddress.ip_address(ip)
        for net, cidr, _, _ in subnets:
            if addr in net:
                return cidr
    else:
        # ``addr in net`` for an IPv4 address, in integers (an IPv6 subnet never holds it)
        for _, cidr, base, mask in subnets:
            if mask is not None and value & mask == base:
                return cidr
    return fallback if fallback is not None else str(network.prefix)


# ---------------------------------------------------------------------------------------------
# planning: finding a binding's router objects


class _Index:
    """The instance's observed mappings and host names, looked up the ways a binding finds them: at the
    address its name gives it, else by name without case (and derived names), else by MAC. The tables of
    the last two are made when an object is first not found at its address, the mappings' per shared
    network (a plan whose objects all are where their names put them never needs them; a new network's
    bindings need no table of the other networks' reservations)."""

    def __init__(self, kind: VyattaKind, observation: Observation, config: Config, key: str,
                 owned: Mapping[Address, ManagedResource]) -> None:
        self.kind = kind
        self.resources = observation.resources
        # the instance's observed mappings and host names by their address's name, as the observation's
        # own keys: a binding's object found there needs no address made, and a wish keyed by that very
        # object makes every later lookup of it (the diff's, the hooks') an identity hit
        instance = key.partition(".")[2]
        self._mapping_at: dict[str, Address] = {}
        self._host_at: dict[str, Address] = {}
        for address in self.resources:
            if address.instance != instance:
                continue
            if address.type == kind.mapping_type:
                self._mapping_at[address.name] = address
            elif address.type == kind.host_type:
                self._host_at[address.name] = address
        self._config, self._key, self._owned = config, key, owned
        # shared network → (by name, by MAC) of its observed mappings, made on first need
        self._mapping_tables: dict[str, tuple[dict[str, list[Address]], dict[str, list[Address]]]] = {}

    @cached_property
    def _by_shared_network(self) -> dict[str, list[Address]]:
        """Every observed mapping by the shared network that holds it."""
        out: dict[str, list[Address]] = {}
        for address, res in self.resources.items():
            if address.type == self.kind.mapping_type:
                out.setdefault(str(res.attributes.get("shared_network")), []).append(address)
        return out

    @cached_property
    def _domains(self) -> dict[str, set[str]]:
        return {sn: {n.domain for n in nets if n.domain}
                for sn, nets in self.kind.shared_networks(self._config, self._key).items()}

    def _tables(self, sn: str) -> tuple[dict[str, list[Address]], dict[str, list[Address]]]:
        """(by name, by MAC) over the observed mappings of shared network ``sn`` (by MAC: the owned ones,
        the only ones a binding finds by MAC)."""
        found = self._mapping_tables.get(sn)
        if found is not None:
            return found
        by_name: dict[str, list[Address]] = {}
        by_mac: dict[str, list[Address]] = {}
        domains = self._domains.get(sn, ())
        for address in self._by_shared_network.get(sn, ()):
            a = self.resources[address].attributes
            name = str(a.get("name"))
            derived = kept_module.derive_label(name)
            labels = {name.lower(), derived}
            for domain in domains:
                labels.add(short_name(derived, domain))
            for label in labels:
                by_name.setdefault(label, []).append(address)
            if address in self._owned and a.get("mac_address"):
                by_mac.setdefault(str(a["mac_address"]).lower(), []).append(address)
        found = self._mapping_tables[sn] = (by_name, by_mac)
        return found

    @cached_property
    def _hosts_by_name(self) -> dict[str, list[Address]]:
        """Every observed host name by its name without case."""
        out: dict[str, list[Address]] = {}
        for address, res in self.resources.items():
            if address.type == self.kind.host_type:
                out.setdefault(str(res.attributes.get("host_name")).lower(), []).append(address)
        return out

    def _pick(self, found: Sequence[Address], owned: Mapping[Address, ManagedResource]) -> Address | None:
        if not found:
            return None
        mine = sorted((a for a in found if a in owned), key=str)
        return mine[0] if mine else sorted(found, key=str)[0]

    def mapping(self, sn: str, b: Binding, owned: Mapping[Address, ManagedResource],
                key: str) -> tuple[Address | None, Address]:
        """(the observed mapping of binding ``b`` in shared network ``sn`` or None, the address the
        binding's name gives it)."""
        kind = self.kind
        at = self._mapping_at.get(kind.mapping_name(sn, b.hostname))
        if at is not None:
            return at, at
        derived = kind.mapping_address(sn, b.hostname, key)
        by_name, by_mac = self._tables(sn)
        found = self._pick(by_name.get(b.hostname, ()), owned)
        if found is not None or b.mac is None:
            return found, derived
        # an adopted entry with a name netsot would not create (ROOM_1_SWITCH) keeps it, found by MAC
        mine = [a for a in by_mac.get(b.mac.lower(), ())
                if kind.name_rule(str(self.resources[a].attributes.get("name")))]
        return self._pick(mine, owned), derived

    def host(self, fqdn: str, owned: Mapping[Address, ManagedResource],
             key: str) -> tuple[Address | None, Address]:
        """(the observed host name ``fqdn`` or None, the address that name gives it)."""
        at = self._host_at.get(fqdn)
        if at is not None:
            return at, at
        return self._pick(self._hosts_by_name.get(fqdn.lower(), ()), owned), self.kind.host_address(fqdn, key)


# ---------------------------------------------------------------------------------------------
# planning: what is wanted


def _source_text(b: Binding) -> str:
    ref = b.first_origin
    if ref is not None:
        return f"{ref.noun} {b.hostname} ({ref.label})"
    if b.origin == "config":
        return f"host {b.hostname} (config)"
    if b.origin == "import":
        return f"host {b.hostname} (adopted from the router)"
    return f"host {b.hostname}"


def _lost_reason(managed: ManagedResource) -> str:
    why = {
        "proxmox": "guest removed",
        "nipap": "host removed from NIPAP",
        "config": "host removed from the config",
        "import": "no source reports it any more",
    }.get(managed.origin, "no source reports it any more")
    return f"lost its source: {why}"


def _norm(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    if isinstance(value, str):
        return value.lower()
    return value


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    keys = sorted(set(before) | set(after))
    return [k for k in keys if _norm(before.get(k)) != _norm(after.get(k))]


def _describe(keys: list[str], before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    def show(v: Any) -> str:
        if isinstance(v, list | tuple):
            return "[" + ", ".join(map(str, v)) + "]"
        return "none" if v is None else str(v)

    return ", ".join(f"{k} {show(before.get(k))} -> {show(after.get(k))}" for k in keys)


def _desired(
    kind: VyattaKind, config: Config, desired: Desired, router_subnets: Mapping[str, Sequence[str]],
    index: _Index, owned: Mapping[Address, ManagedResource], key: str, depends: Depends,
    want: Callable[..., Any],
) -> tuple[dict[Address, Any], dict[Address, Binding]]:
    """(address → the diff's ``Want`` of each router object the bindings want, address → its binding):
    each want made once, as the diff takes it (its ``attributes`` are its change's ``after``, its
    ``provider_id`` its config path). One whose binding's name is blocked only holds its place."""
    out: dict[Address, Any] = {}
    of: dict[Address, Binding] = {}
    blocked = desired.blocked
    nets = {n.name: n for n in kind.served(config, key)}
    owns = {name: n.settings_for(kind.name) for name, n in nets.items()}
    prefixes = {name: str(n.prefix) for name, n in nets.items()}  # the text once per network
    subnets: dict[str, Subnets] = {}  # per shared network, parsed once per plan (not per binding)
    for b in sorted(desired.bindings, key=attrgetter("network", "hostname")):
        net = nets.get(b.network)
        if net is None:
            continue
        own = owns[b.network]
        prov = b.provenance
        dep = depends(b.network, b.hostname)
        depends_on = (dep,) if dep is not None else ()
        if b.mac is not None and own is not None:
            sn = own.shared_network
            found, derived = index.mapping(sn, b, owned, key)
            address = found or derived
            if address not in out:
                seen = index.resources[found].attributes if found is not None else {}
                name = str(seen["name"]) if found is not None else b.hostname
                if found is not None and not kind.moves_subnet:  # the mapping stays where the router has it
                    subnet = str(seen["subnet"])
                else:
                    if sn not in subnets:
                        subnets[sn] = _parsed_subnets(router_subnets.get(sn, ()))
                    subnet = _subnet_for(subnets[sn], net, b.ip, prefixes[b.network])
                # a fresh dict of plain strings: read-only as it is (what ``frozen_map`` would copy)
                attrs = MappingProxyType(mapping_attrs(sn, subnet, name, b.ip, b.mac.lower()))
                p = _provenance({k: prov[src] for k, src in MAPPING_PROVENANCE if src in prov})
                live = not (blocked and derived in blocked)
                out[address] = want(address, attrs, depends_on=depends_on,
                                    provider_id=" ".join(mapping_path(sn, subnet, name)), provenance=p,
                                    origin=b.origin, creates=live, updates=live)
                of[address] = b
        fqdn = host_name_for(b.hostname, net.domain)
        if fqdn is not None:
            for address, attrs, derived in _host_wants(b, net, fqdn, index, owned, key):
                if address in out:
                    continue
                # the names point where the host answers now (a guest pending restart keeps its old
                # address): inet is not the binding's ip then
                p = {k: prov[src] for k, src in HOST_PROVENANCE
                     if src in prov and not (k == "inet" and b.answers_at)}
                if "aliases" in prov:
                    p["aliases"] = prov["aliases"]
                live = not (blocked and derived in blocked)
                out[address] = want(address, attrs, depends_on=depends_on,
                                    provider_id=" ".join((*HOST_BASE, attrs["host_name"])),
                                    provenance=_provenance(p), origin=b.origin, creates=live, updates=live)
                of[address] = b
    return out, of


def _provenance(made: dict[str, Provenance]) -> Mapping[str, Provenance]:
    """A want's fresh provenance read-only as it is (what ``frozen_map`` makes of it, without a copy)."""
    return MappingProxyType(made) if made else EMPTY


def _host_wants(b: Binding, net: Network, fqdn: str, index: _Index,
                owned: Mapping[Address, ManagedResource],
                key: str) -> list[tuple[Address, Mapping[str, Any], Address]]:
    """(address, attributes, derived address) of every host name a binding wants on the router.

    Its canonical name is one host name, holding its single-label name as an alias (as before) and
    each extra name as an alias. An extra name the router already has as a host name of its own is
    that host name (its address follows the binding's); an alias the router already has keeps its
    form (``www`` or ``www.lab.example``); a new extra name is written as an alias ``NAME.DOMAIN``.
    """
    domain = net.domain
    separate: dict[str, Address] = {}
    for alias in b.aliases:
        alias_fqdn = host_name_for(alias, domain)
        found_alias = index.host(alias_fqdn, owned, key)[0] if alias_fqdn is not None else None
        if found_alias is not None:
            separate[alias] = found_alias
    found, derived = index.host(fqdn, owned, key)
    seen = index.resources[found].attributes if found is not None else None
    # the router's host name keeps the aliases it has that are the binding's names (a new one: none)
    words = _kept_aliases(seen, b, domain) if seen is not None else []
    if words:
        have = {_name_of(w, domain) for w in words}
        words += [a for a in binding_aliases(b.hostname) if a not in have]
        words += [host_name_for(a, domain) or a for a in b.aliases if a not in separate and a not in have]
    else:  # nothing kept: the binding's own aliases
        words = binding_aliases(b.hostname)
        if b.aliases:
            words += [host_name_for(a, domain) or a for a in b.aliases if a not in separate]
    host_name = fqdn if seen is None else str(seen["host_name"])
    out = [(found or derived, _frozen_host(host_name, b.dns_ip, words), derived)]
    for address in separate.values():
        other = index.resources[address].attributes
        out.append((address, _frozen_host(str(other["host_name"]), b.dns_ip, _kept_aliases(other, b, domain)),
                    address))
    return out


def _name_of(word: str, domain: str | None) -> str:
    return short_name(word.lower(), domain)


def _kept_aliases(seen: Mapping[str, Any], b: Binding, domain: str | None) -> list[str]:
    """The aliases a router host name already has that are names of binding ``b``, in its form."""
    aliases = seen.get("aliases")
    if not aliases:
        return []
    names = set(b.names)
    return [str(w) for w in aliases if _name_of(str(w), domain) in names]


def _frozen_host(host_name: str, inet: str | None, aliases: list[str]) -> Mapping[str, Any]:
    """``host_attrs`` read-only (its aliases a tuple, as ``frozen_map`` makes them)."""
    attrs = host_attrs(host_name, inet, ())
    attrs["aliases"] = tuple(aliases)
    return MappingProxyType(attrs)


def _waiting(address: Address, b: Binding, host_type: str) -> str:
    """``; pending restart: web09 answers at 192.168.10.150 until …`` for a host name of a binding whose
    new address has not reached the host yet."""
    if address.type != host_type or not b.answers_at or b.answers_at == b.ip:
        return ""
    why = f"{b.waiting}: " if b.waiting else ""
    return (f"; {why}{b.hostname} answers at {b.answers_at} until its new address {b.ip} reaches it, so the "
            "name points there and moves when the host reports the new one")


def _renewal(attrs: Mapping[str, Any], old: Any, *, dynamic: bool) -> str:
    """``; effect: web02 moves from 192.168.10.30 to .9 at its next DHCP renewal`` — what a reservation
    whose IP differs from the device's current address (its reservation, or a dynamic lease) does."""
    new, name = attrs.get("ip_address"), attrs.get("name")
    if not new or not old or old == new or "ip_address" not in attrs:
        return ""
    head_old, _, _ = str(old).rpartition(".")
    head_new, _, tail_new = str(new).rpartition(".")
    short = f".{tail_new}" if head_old == head_new else str(new)
    if dynamic:
        return f"; effect: {name} leaves its dynamic address {old} for {short} at its next DHCP renewal"
    return f"; effect: {name} moves from {old} to {short} at its next DHCP renewal"


def _seen_host(
    seen: ObservedResource, want: Mapping[str, Any], managed: ManagedResource | None
) -> ObservedResource:
    """A host name re-split so that the IPv4 value netsot wants (or last wrote) is the owned one,
    when the host holds it among other IPv4 values (someone added a second one by hand)."""
    current = seen.attributes.get("inet")
    prefer = [str(want.get("inet") or "")]
    if managed is not None and managed.attributes.get("inet"):
        prefer.append(str(managed.attributes["inet"]))
    kept_inet = list(seen.kept.get("inet", ()))
    pick = next((p for p in prefer if p in kept_inet and kept_module.is_ipv4(p)), None)
    if current in prefer or pick is None:
        return seen
    rest = [v for v in kept_inet if v != pick] + ([current] if current else [])
    kept = {k: (rest if k == "inet" else v) for k, v in seen.kept.items()}
    attrs = frozen_map({**seen.attributes, "inet": pick})
    return ObservedResource(seen.address, attrs, seen.provider_id, seen.owned_marker, frozen_map(kept))


# ---------------------------------------------------------------------------------------------
# planning: changes


class _Planner:
    """One plan of one router instance."""

    def __init__(self, kind: VyattaKind, config: Config, desired: Desired, observation: Observation, key: str,
                 owned: Mapping[Address, ManagedResource], depends: Depends,
                 subnets: Mapping[str, Sequence[str]], unpublished: Unpublished | None,
                 want: Callable[..., Any]) -> None:
        self.kind, self.key, self.observation = kind, key, observation
        self.owned, self.depends = owned, depends
        self.mapping_type, self.host_type = kind.mapping_type, kind.host_type
        self.blocked = desired.blocked
        self.index = _Index(kind, observation, config, key, owned)
        self.want = want
        # address → the diff's want of it, address → the binding that wants it
        self.wanted, self.binding = _desired(kind, config, desired, subnets, self.index, owned, key, depends,
                                             want)
        # no DNS name for a binding whose reservation is disabled on the router (it is not served);
        # one that exists already is left as it is (the observation's warning says so)
        self.unpublished = dict(unpublished(self.binding, observation)) if unpublished is not None else {}
        self.held = {address: self.wanted.pop(address) for address in self.unpublished}
        # owned objects of this instance's two types (the state holds every system's objects)
        types = (kind.mapping_type, kind.host_type)
        self.mine = [a for a in owned if a.type in types and a.system == key]
        self.leaving = self._leaving()
        # leaving objects holding kept data: what a new object may take over (usually very few)
        self.movable = {a: r for a, r in self.leaving.items() if r.kept}
        self.carried: dict[Address, Address] = {}  # old object → the new one its kept data moves to
        # new object → the owned one it renames (same MAC / same address): applied or held together
        self.renamed = _renamed(kind, self.wanted, observation.resources, self.mine)
        self.successor = {old: new for new, old in self.renamed.items()}
        # MAC → the IP of its dynamic lease: a new reservation says the device moves at its renewal
        self.leased = {str(x.get("mac") or "").lower(): str(x.get("ip"))
                       for x in observation.data.get("leases", ())}

    def allowed(self, address: Address) -> bool:
        return address not in self.blocked

    def _leaving(self) -> dict[Address, ObservedResource]:
        """Owned router objects no binding wants any more (deleted unless blocked)."""
        out = {}
        for address in sorted(self.mine, key=str):
            seen = self.observation.resources.get(address)
            if address in self.wanted or address in self.unpublished or seen is None:
                continue
            if not self.allowed(address):
                continue
            out[address] = seen
        return out

    def _predecessor(self, address: Address, attrs: Mapping[str, Any]) -> Address | None:
        """The leaving object a new one replaces (same MAC or name; for host names the same address
        or first label): its kept data moves to the new object."""
        if not self.movable:  # nothing leaving holds kept data (the usual plan)
            return None
        if address.type == self.mapping_type:
            keys = (("mac_address", lambda a: str(a.get("mac_address") or "").lower()),
                    ("name", lambda a: kept_module.derive_label(str(a.get("name")))))
        else:
            keys = (("inet", lambda a: str(a.get("inet") or "")),
                    ("host_name", lambda a: str(a.get("host_name")).lower().split(".", 1)[0]))
        for attribute, norm in keys:
            if attrs.get(attribute) is None:
                continue
            for old, seen in self.movable.items():
                same = old.type == address.type and norm(seen.attributes) == norm(attrs)
                if same and old not in self.carried:
                    return old
        return None

    def _successor_holds(self, old: Address, seen: ObservedResource) -> bool:
        """An existing wanted object of the same binding already holds all of ``old``'s kept data."""
        for address in self.wanted:
            other = self.observation.resources.get(address)
            if other is None or address.type != old.type or not other.kept:
                continue
            attribute = "mac_address" if old.type == self.mapping_type else "inet"
            same = other.attributes.get(attribute) == seen.attributes.get(attribute)
            if same and kept_module.holds(other.kept, seen.kept):
                return True
        return False

    def create(self, address: Address, want: Any, drift: bool) -> Change:
        """``want``: the diff's want of ``address``."""
        b = self.binding[address]
        attrs = want.attributes
        reason = (f"router entry deleted by hand; recreating for {_source_text(b)}" if drift
                  else f"new {_source_text(b)}")
        kept: Mapping[str, Any] = EMPTY
        old = None if drift else self._predecessor(address, attrs)
        if old is not None:
            self.carried[old] = address
            kept = self.movable[old].kept
            reason += f"; takes over what {old.name} holds besides netsot's attributes"
        mac = str(attrs.get("mac_address") or "").lower()
        reason += _renewal(attrs, self.leased.get(mac), dynamic=True)
        reason += _waiting(address, b, self.host_type)
        return Change(Action.CREATE, address, None, attrs, reason, provider_id=want.provider_id,
                      drift=drift, kept=kept, replaces=None if drift else self.renamed.get(address),
                      provenance=want.provenance, depends_on=want.depends_on, origin=b.origin)

    def update(self, address: Address, want: Any, seen: ObservedResource) -> Change | None:
        """``want``: the diff's want of ``address``."""
        attrs = want.attributes
        managed = self.owned.get(address)
        if address.type == self.host_type:
            seen = _seen_host(seen, attrs, managed)
        keys = _diff(seen.attributes, attrs)
        if not keys:
            return None
        recorded = managed.attributes if managed is not None else None
        drift = recorded is not None and bool(_diff(recorded, seen.attributes))
        what = _describe(keys, seen.attributes, attrs)
        b = self.binding[address]
        if drift:
            reason = f"router entry edited by hand: {what}"
        elif "mac_address" in keys and "mac" in b.provenance and seen.attributes.get("mac_address"):
            reason = f"MAC changed on {b.provenance['mac'].ref}: {what}"
        else:
            reason = f"{_source_text(b)} changed: {what}"
        if "ip_address" in keys:
            reason += _renewal(attrs, seen.attributes.get("ip_address"), dynamic=False)
        if "inet" in keys:
            reason += _waiting(address, b, self.host_type)
        return Change(Action.UPDATE, address, seen.attributes, attrs, reason,
                      provider_id=seen.provider_id or want.provider_id, drift=drift, kept=seen.kept,
                      provenance=want.provenance, depends_on=want.depends_on, origin=b.origin)

    def delete(self, address: Address, seen: ObservedResource) -> Change:
        managed = self.owned[address]
        successor = self.successor.get(address)
        reason = f"renamed: {successor} takes its place" if successor else _lost_reason(managed)
        loses: tuple[str, ...] = ()
        new = self.carried.get(address)
        if new is not None:
            reason += f"; what else it holds moves to {new}"
        elif seen.kept and not self._successor_holds(address, seen):
            loses = kept_module.kept_lines(seen.kept)
        return Change(Action.DELETE, address, seen.attributes, None, reason,
                      provider_id=seen.provider_id or managed.provider_id, origin=managed.origin, loses=loses)

    def wishes(self) -> tuple[Any, ...]:
        """Every object a binding wants (the diff's ``Want``), in address order; one whose binding's name
        is blocked, and a host name netsot does not publish, only holds its place (never created,
        changed or deleted)."""
        wanted = self.wanted
        # (text, want) pairs sorted by the text: no lookup of each address again after the sort
        out = [w for _, w in sorted(zip(map(str, wanted), wanted.values(), strict=True), key=itemgetter(0))]
        out += [self.want(address, w.attributes, creates=False, updates=False)
                for address, w in self.held.items()]
        return tuple(out)

    def extra(self) -> tuple[Change, ...]:
        """The ``saved`` pseudo resource, when the router holds committed changes it never saved."""
        saved_at = self.kind.saved_address(self.key)
        saved = self.observation.resources.get(saved_at)
        if saved is None or saved.attributes.get("saved") is not False:
            return ()
        # no line to send: the configure session of this batch runs `save` (no depends_on, so it
        # goes with the first batch of the router); after it, `compare saved` is empty and this disappears
        return (Change(Action.UPDATE, saved_at, frozen_map({"saved": False}), frozen_map({"saved": True}),
                       UNSAVED_REASON),)

    def created(self, wish: Any) -> Change:
        """The create of a wish the shared diff decided to make, as this planner says it (made once: the
        diff makes no create of its own for it): one that recreates what was deleted by hand or takes a
        renamed object's place and kept data."""
        address = wish.address
        return self.create(address, wish, address in self.owned)

    def finish(self, change: Change, wish: Any, seen: ObservedResource | None) -> Change | None:
        """The shared diff's update or delete (``wish``: the want it updates), as this planner says it: an
        update compared without case (None: nothing differs), a delete that says what takes its place or
        what it loses."""
        address = change.address
        if change.action is Action.DELETE:
            return self.delete(address, seen) if seen is not None and address in self.owned else None
        return self.update(address, wish, seen) if seen is not None else None

    def order(self, change: Change) -> int:
        """Creates and updates first (the wishes' order), then the ``saved`` pseudo resource, then deletes."""
        if change.address.type == self.kind.config_type:
            return 1
        return 2 if change.action is Action.DELETE else 0


@dataclass(frozen=True)
class Diff:
    """The boundary diff's types, handed in by the kind (a library never imports the boundary):
    ``want(address, attributes, depends_on=, provider_id=, provenance=, origin=, creates=, updates=)`` and
    ``wanted(wants=, prune=, extra=, sort_key=, create=, finish=)`` (``diffing.Want``, ``diffing.Wanted``)."""

    want: Callable[..., Any]
    wanted: Callable[..., Any]


def wanted(
    kind: VyattaKind,
    made: Diff,
    config: Config,
    desired: Desired,
    observation: Observation,
    *,
    key: str,
    owned: Mapping[Address, ManagedResource],
    depends: Depends,
    subnets: Mapping[str, Sequence[str]],
    unpublished: Unpublished | None = None,
) -> Any:
    """What the router's static mappings / host names should be for ``desired``, as the shared diff's
    ``Wanted``: the wishes, the two types it answers for completely (an owned object of them no wish
    holds is deleted), the ``saved`` change, the ``create`` and ``finish`` hooks that word each change
    (renames, kept data, drift) and the order of the result.

    ``owned``: what netsot manages (the state's records); ``depends(network, hostname)``: the address
    resource a binding's objects depend on; ``subnets``: the router's subnets per shared network (where
    a new mapping goes); ``unpublished``: the host names the kind does not publish, and why."""
    planner = _Planner(kind, config, desired, observation, key, owned, depends, subnets, unpublished,
                       made.want)
    return made.wanted(wants=planner.wishes(), prune=frozenset({kind.mapping_type, kind.host_type}),
                       extra=planner.extra(), sort_key=planner.order, create=planner.created,
                       finish=planner.finish)


def _renamed(kind: VyattaKind, wanted: Mapping[Address, Any], resources: Mapping[Address, ObservedResource],
             mine: Sequence[Address]) -> dict[Address, Address]:
    """New entry → the owned entry it renames: same MAC in the same shared network (a reservation),
    same address (a host name). The two are applied together or held together, so the router never
    holds both (two reservations for one MAC) nor neither. ``mine``: the instance's owned objects."""
    old_mapping: dict[tuple[Any, Any], Address] = {}
    old_host: dict[Any, Address] = {}
    for address in mine:
        seen = resources.get(address)
        if address in wanted or seen is None:
            continue
        if address.type == kind.mapping_type and seen.attributes.get("mac_address"):
            old_mapping[(seen.attributes.get("shared_network"), seen.attributes["mac_address"])] = address
        elif address.type == kind.host_type and seen.attributes.get("inet"):
            old_host[seen.attributes["inet"]] = address
    out: dict[Address, Address] = {}
    if not old_mapping and not old_host:  # nothing owned is leaving (the usual plan): nothing to rename
        return out
    for address, want in wanted.items():
        if address in resources:
            continue
        attrs = want.attributes
        if address.type == kind.mapping_type:
            old = old_mapping.pop((attrs.get("shared_network"), attrs.get("mac_address")), None)
        else:
            old = old_host.pop(attrs.get("inet"), None)
        if old is not None:
            out[address] = old
    return out

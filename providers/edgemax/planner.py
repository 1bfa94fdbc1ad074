"""Pure EdgeMax planning: what the router holds as an Observation, and the changes to make.

Owns: ``observation_from_config`` (extracted config + leases → resources with exactly the leaves
netsot manages as attributes and everything else as ``kept``, binding facts with host names derived
from the router's names, leases) and ``plan_edgemax`` (desired bindings vs observed router →
create/update/delete Changes for DHCP static mappings and static host mappings, plus the
``edgemax_config.saved`` pseudo-resource that saves committed-but-unsaved router config), with
human reasons, provenance, what each change keeps and what a delete would lose.
Must not: do I/O, touch an object netsot does not own, or plan anything in ``desired.blocked``.

Identity: a binding's router object is found by its name (exact, then any case, then the name
netsot derives from the router's: ``ROOM_1_SWITCH`` for ``room-1-switch``), then — for an owned
mapping whose router name netsot would not create — by MAC. Found objects keep the router's name;
netsot never creates a second mapping or host name that differs from an existing one only by case.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    Fact,
    ManagedResource,
    Observation,
    ObservedResource,
    Provenance,
    frozen_map,
)
from core.names import short_name
from providers.base import ROLE_ADDRESS, PlanContext
from providers.edgemax import commitrules
from providers.edgemax.commands import HOST_BASE, mapping_path
from providers.edgemax.descriptor import (
    CONFIG_TYPE,
    HOST_TYPE,
    MAPPING_TYPE,
    host_address,
    host_name_for,
    mapping_address,
    name_rule,
)
from providers.edgemax.extract import EdgeConfig, HostMapping, SharedNetwork, StaticMapping, Subnet
from providers.edgemax.leases import Lease, iso_expiry
from providers.vyatta import kept as kept_module

SYSTEM = "edgemax"
MAPPING = MAPPING_TYPE
HOST = HOST_TYPE
# Pseudo-resource: whether the router's committed (active) config is also in /config/config.boot.
SAVED = Address(CONFIG_TYPE, "saved")


def saved_address(key: str = SYSTEM) -> Address:
    return Address.of(CONFIG_TYPE, "saved", key)


def label(key: str) -> str:
    """How refs and messages name the instance: ``edgemax`` or ``edgemax[cabin]``."""
    kind, _, instance = key.partition(".")
    return f"{kind}[{instance}]" if instance else kind


UNSAVED_REASON = (
    "the router has committed changes that were never saved (an apply was interrupted?); "
    "saving them so a reboot keeps them"
)
# resource attribute ← binding attribute whose provenance it carries
MAPPING_PROVENANCE = (("ip_address", "ip"), ("mac_address", "mac"), ("name", "hostname"))
HOST_PROVENANCE = (("inet", "ip"), ("host_name", "hostname"), ("aliases", "hostname"))


# ---------------------------------------------------------------------------------------------
# observation


def mapping_attrs(
    shared_network: str, subnet: str, name: str, ip: str | None, mac: str | None
) -> dict[str, Any]:
    return {
        "shared_network": shared_network,
        "subnet": subnet,
        "name": name,
        "ip_address": ip,
        "mac_address": mac,
    }


def host_attrs(host_name: str, inet: str | None, aliases: Iterable[str]) -> dict[str, Any]:
    return {"host_name": host_name, "inet": inet, "aliases": list(aliases)}


def binding_aliases(name: str) -> list[str]:
    """The aliases netsot gives a binding's host name: its single-label name (none for an FQDN)."""
    return [] if "." in name else [name]


def _networks_of_shared(config: Config, key: str = SYSTEM) -> dict[str, list[Network]]:
    out: dict[str, list[Network]] = {}
    for n in config.networks_of(key):
        own = n.settings_for(SYSTEM)
        if own is not None:
            out.setdefault(own.shared_network, []).append(n)
    return out


def _network_of_ip(config: Config, ip: str | None, key: str = SYSTEM) -> Network | None:
    try:
        addr = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    hits = [n for n in config.networks_of(key) if addr in n.prefix]
    return hits[0] if len(hits) == 1 else None


def _by_address(nets: Sequence[Network], ip: str | None) -> Network | None:
    """The one network of ``nets`` (those of one shared network) a mapping belongs to: by its IP."""
    if len(nets) == 1:
        return nets[0]
    try:
        addr = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    hits = [n for n in nets if addr in n.prefix]
    return hits[0] if len(hits) == 1 else None


def _domain_of(name: str, domains: Iterable[str]) -> str | None:
    """The longest configured domain ``name`` is in (or is: the apex)."""
    low = name.lower()
    hits = [d for d in domains if low == d or low.endswith("." + d)]
    return max(hits, key=len) if hits else None


@dataclass
class _Observed:
    """The observation being built (one instance of the router)."""

    config: Config
    key: str
    resources: dict[Address, ObservedResource] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return label(self.key)


def _add_mapping(obs: _Observed, nets: Sequence[Network], sn: SharedNetwork, subnet: Subnet,
                 m: StaticMapping) -> None:
    address = mapping_address(sn.name, m.name, obs.key)
    if address in obs.resources:
        obs.warnings.append(
            f"static mapping {m.name} appears twice in shared network {sn.name}; using the first")
        return
    obs.resources[address] = ObservedResource(
        address,
        frozen_map(mapping_attrs(sn.name, subnet.cidr, m.name, m.ip, m.mac)),
        provider_id=" ".join(mapping_path(sn.name, subnet.cidr, m.name)),
        kept=m.other,
    )
    net = _by_address(nets, m.ip)
    if net is None:
        return
    derived = kept_module.derive_label(m.name)
    obs.facts.append(
        Fact(
            source=SYSTEM,
            ref=f"{obs.name} static-mapping {sn.name}/{m.name}",
            network=net.name,
            hostname=derived,
            mac=m.mac,
            ip=m.ip,
            address=address,
            extra=frozen_map({"kind": "mapping", "shared_network": sn.name, "mapping": m.name,
                              "subnet": subnet.cidr, "disabled": m.disabled}),
            hostname_from=kept_module.derivation(m.name, derived, "static-mapping"),
        )
    )


def host_network(
    config: Config, key: str, host_name: str, inet: str | None
) -> tuple[Network | None, str | None]:
    """(network, domain) of a host name: the network holding its address, else its domain's.

    ``domain`` is the longest configured domain the name is in (the apex: the name itself). A
    domain shared by several networks goes to the one holding the address, else to its
    ``dns_owner``.
    """
    served = config.networks_of(key)
    domain = _domain_of(host_name, {n.domain.lower() for n in served if n.domain})
    by_ip = _network_of_ip(config, inet, key)
    if by_ip is not None:
        return by_ip, domain
    nets = [n for n in served if n.domain and n.domain.lower() == domain]
    owner = next((n for n in nets if n.dns_owner), None)
    return (nets[0] if len(nets) == 1 else owner), domain


def host_label(host_name: str, net: Network | None, domain: str | None) -> str:
    """The binding name of a host name: its first label inside its network's domain, else the FQDN."""
    own = net.domain if net is not None and net.domain else domain
    return short_name(host_name.lower(), own)


@dataclass(frozen=True)
class _Placed:
    """A host name placed: its network and domain, its binding name and its IPv4 address."""

    host: HostMapping
    net: Network | None
    domain: str | None
    name: str
    v4: str | None

    @property
    def at(self) -> tuple[str, str] | None:
        """Where its address is: (network or domain, IPv4), None without either."""
        scope = self.net.name if self.net is not None else self.domain
        return (scope, self.v4) if scope and self.v4 else None

    def names(self) -> list[str]:
        """Its binding name and every alias that is a DNS name, as binding names."""
        out = [self.name]
        out += [host_label(a, self.net, self.domain) for a in self.host.aliases if kept_module.is_dns_name(a)]
        return out


def _place_host(config: Config, key: str, h: HostMapping) -> _Placed:
    v4 = next((v for v in h.inet if kept_module.is_ipv4(v)), None)
    net, domain = host_network(config, key, h.host_name, v4)
    return _Placed(h, net, domain, host_label(h.host_name, net, domain), v4)


def names_at_addresses(config: Config, key: str, cfg: EdgeConfig) -> dict[tuple[str, str], list[str]]:
    """Every name each address has on the router, the canonical one first: per (network or domain,
    IPv4), the binding name of the static mapping holding it (the reservation's name), else the
    first host name's; then every host name and DNS-name alias on that address, in router order."""
    mapped: dict[tuple[str, str], str] = {}
    by_shared = _networks_of_shared(config, key)
    for sn, _, m in cfg.mappings():
        net = _by_address(by_shared.get(sn.name, []), m.ip)
        if net is not None and m.ip:
            mapped.setdefault((net.name, m.ip), short_name(kept_module.derive_label(m.name), net.domain))
    out: dict[tuple[str, str], list[str]] = {}
    for h in cfg.host_mappings:
        placed = _place_host(config, key, h)
        at = placed.at
        if at is not None:
            out.setdefault(at, []).extend(placed.names())
    for at, names in out.items():
        first = mapped.get(at)
        out[at] = list(dict.fromkeys([first, *names] if first in names else names))
    return out


def _add_host(obs: _Observed, h: HostMapping, names_at: Mapping[tuple[str, str], list[str]]) -> None:
    address = host_address(h.host_name, obs.key)
    placed = _place_host(obs.config, obs.key, h)
    net, domain, name = placed.net, placed.domain, placed.name
    inet, aliases, kept = kept_module.split_host(h.inet, h.aliases, h.other, None if "." in name else name)
    obs.resources[address] = ObservedResource(
        address,
        frozen_map(host_attrs(h.host_name, inet, aliases)),
        provider_id=" ".join((*HOST_BASE, h.host_name)),
        kept=kept,
    )
    # the names its address has: an address with several names is one binding, named by its
    # reservation (else its first host name), whichever host name or alias holds each name
    names = names_at.get(placed.at, []) if placed.at is not None else []
    if len(names) > 1:
        hostname, alias_names = names[0], tuple(names)
    else:  # no other name: it says nothing about extra names (None), like a guest
        own = tuple(dict.fromkeys(placed.names()))
        hostname, alias_names = name, (own if len(own) > 1 else None)
    obs.facts.append(
        Fact(
            source=SYSTEM,
            ref=f"{obs.name} static-host-mapping {h.host_name}",
            network=net.name if net is not None else None,
            hostname=hostname,
            mac=None,
            ip=inet,
            address=address,
            extra=frozen_map({"kind": "host", "host_name": h.host_name, "aliases": list(h.aliases)}),
            domain=domain,
            aliases=alias_names,
            hostname_from="" if hostname == name else (
                f"{hostname}: the first name of {placed.v4}, which {h.host_name} shares"),
        )
    )


def _add_lease(obs: _Observed, by_shared: Mapping[str, list[Network]], lease: Lease) -> None:
    net = _by_address(by_shared.get(lease.pool or "", []), lease.ip) or _network_of_ip(
        obs.config, lease.ip, obs.key)
    obs.facts.append(
        Fact(
            source=SYSTEM,
            ref=f"lease {lease.ip}" if obs.name == SYSTEM else f"{obs.name} lease {lease.ip}",
            network=net.name if net is not None else None,
            hostname=lease.hostname.lower() if lease.hostname else None,
            mac=lease.mac,
            ip=lease.ip,
            extra=frozen_map({"pool": lease.pool, "expires": lease.expires}),
            discovery=True,
            hostname_hint=lease.hostname,
            lease_expires=iso_expiry(lease.expires),
        )
    )


def observation_from_config(
    cfg: EdgeConfig, config: Config, leases: Sequence[Lease] = (), unsaved: str | None = None,
    key: str = SYSTEM, warnings: Sequence[str] = (),
) -> Observation:
    """The router as an Observation: every mapping / host entry, binding facts, leases.

    ``unsaved`` is the router's `compare saved` diff ("" when the active config is saved); when
    given, the observation holds the ``edgemax_config.saved`` pseudo-resource and
    ``data["unsaved"]``. None (a config file read offline, or a router that refused the check)
    leaves both out.
    """
    obs = _Observed(config, key, warnings=list(warnings))
    if unsaved is not None:
        saved = saved_address(key)
        obs.resources[saved] = ObservedResource(saved, frozen_map({"saved": not unsaved}))
    by_shared = _networks_of_shared(config, key)
    for sn, subnet, m in cfg.mappings():
        _add_mapping(obs, by_shared.get(sn.name, []), sn, subnet, m)
    names_at = names_at_addresses(config, key, cfg)
    for h in cfg.host_mappings:
        _add_host(obs, h, names_at)
    for lease in leases:
        _add_lease(obs, by_shared, lease)
    named = [sn for sn, nets in by_shared.items() if any(n.domain for n in nets)]
    obs.warnings += commitrules.disabled_warnings(cfg, key, named)
    return Observation(
        system=key,
        resources=frozen_map_addresses(obs.resources),
        facts=tuple(obs.facts),
        warnings=tuple(obs.warnings),
        data=frozen_map(
            {
                "dnsmasq": cfg.dnsmasq,
                "leases": [lease.to_dict() for lease in leases],
                **({"unsaved": unsaved} if unsaved is not None else {}),
            }
        ),
    )


def frozen_map_addresses(data: Mapping[Address, ObservedResource]) -> Mapping[Address, ObservedResource]:
    return MappingProxyType(dict(data))


# ---------------------------------------------------------------------------------------------
# planning: subnets


# (parsed subnet, its text as the router has it, IPv4 network and mask as integers or None for IPv6)
Subnets = tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str, int | None, int | None], ...]


def _parsed_subnets(sn: SharedNetwork | None) -> Subnets:
    """The router subnets of ``sn`` parsed once (unparseable ones skipped), in router order."""
    out = []
    for subnet in sn.subnets if sn is not None else ():
        try:
            net = ipaddress.ip_network(subnet.cidr, strict=False)
        except ValueError:
            continue
        if net.version == 4:
            out.append((net, subnet.cidr, int(net.network_address), int(net.netmask)))
        else:
            out.append((net, subnet.cidr, None, None))
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
    """The instance's observed mappings and host names, looked up the ways a binding finds them."""

    def __init__(self, observation: Observation, config: Config, key: str) -> None:
        self.resources = observation.resources
        self.by_name: dict[tuple[str, ...], list[Address]] = {}
        self.by_mac: dict[tuple[str, str], list[Address]] = {}
        domains = {sn: {n.domain for n in nets if n.domain}
                   for sn, nets in _networks_of_shared(config, key).items()}
        for address, res in observation.resources.items():
            a = res.attributes
            if address.type == MAPPING:
                sn, name = str(a.get("shared_network")), str(a.get("name"))
                derived = kept_module.derive_label(name)
                names = {("m", sn, name.lower()), ("m", sn, derived)}
                names |= {("m", sn, short_name(derived, d)) for d in domains.get(sn, ())}
                for k in names:
                    self.by_name.setdefault(k, []).append(address)
                if a.get("mac_address"):
                    self.by_mac.setdefault((sn, str(a["mac_address"]).lower()), []).append(address)
            elif address.type == HOST:
                self.by_name.setdefault(("h", str(a.get("host_name")).lower()), []).append(address)

    def _pick(self, found: Sequence[Address], owned: Mapping[Address, ManagedResource]) -> Address | None:
        if not found:
            return None
        mine = sorted((a for a in found if a in owned), key=str)
        return mine[0] if mine else sorted(found, key=str)[0]

    def mapping(
        self, sn: str, b: Binding, owned: Mapping[Address, ManagedResource], key: str
    ) -> Address | None:
        """The observed mapping of binding ``b`` in shared network ``sn`` (None: there is none)."""
        exact = mapping_address(sn, b.hostname, key)
        if exact in self.resources:
            return exact
        found = self._pick(self.by_name.get(("m", sn, b.hostname), ()), owned)
        if found is not None or b.mac is None:
            return found
        # an adopted entry with a name netsot would not create (ROOM_1_SWITCH) keeps it, found by MAC
        mine = [a for a in self.by_mac.get((sn, b.mac.lower()), ())
                if a in owned and name_rule(str(self.resources[a].attributes.get("name"))) is not None]
        return self._pick(mine, owned)

    def host(self, fqdn: str, owned: Mapping[Address, ManagedResource], key: str) -> Address | None:
        exact = host_address(fqdn, key)
        if exact in self.resources:
            return exact
        return self._pick(self.by_name.get(("h", fqdn.lower()), ()), owned)


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


@dataclass(frozen=True)
class _Want:
    """One router object a binding wants: its attributes, the binding, provenance, its path."""

    attrs: dict[str, Any]
    binding: Binding
    provenance: dict[str, Provenance]
    path: str
    derived: Address  # the address the binding's name gives it (blocked by conflicts of the binding)


def _desired(
    config: Config, desired: Desired, observed_cfg: EdgeConfig, index: _Index,
    owned: Mapping[Address, ManagedResource], key: str = SYSTEM,
) -> dict[Address, _Want]:
    out: dict[Address, _Want] = {}
    nets = {n.name: n for n in config.networks_of(key)}
    subnets: dict[str, Subnets] = {}  # per shared network, parsed once per plan (not per binding)
    for b in sorted(desired.bindings, key=lambda b: (b.network, b.hostname)):
        net = nets.get(b.network)
        if net is None:
            continue
        own = net.settings_for(SYSTEM)
        prov = b.provenance
        if b.mac is not None and own is not None:
            sn = own.shared_network
            if sn not in subnets:
                subnets[sn] = _parsed_subnets(observed_cfg.shared_network(sn))
            subnet = _subnet_for(subnets[sn], net, b.ip, str(net.prefix))
            found = index.mapping(sn, b, owned, key)
            name = str(index.resources[found].attributes["name"]) if found is not None else b.hostname
            attrs = mapping_attrs(sn, subnet, name, b.ip, b.mac.lower())
            p = {k: prov[src] for k, src in MAPPING_PROVENANCE if src in prov}
            derived = mapping_address(sn, b.hostname, key)
            out.setdefault(found or derived,
                           _Want(attrs, b, p, " ".join(mapping_path(sn, subnet, name)), derived))
        fqdn = host_name_for(b.hostname, net.domain)
        if fqdn is not None:
            for address, attrs, derived in _host_wants(b, net, fqdn, index, owned, key):
                # the names point where the host answers now (a guest pending restart keeps its old
                # address): inet is not the binding's ip then
                p = {k: prov[src] for k, src in HOST_PROVENANCE
                     if src in prov and not (k == "inet" and b.answers_at)}
                if "aliases" in prov:
                    p["aliases"] = prov["aliases"]
                path = " ".join((*HOST_BASE, attrs["host_name"]))
                out.setdefault(address, _Want(attrs, b, p, path, derived))
    return out


def _host_wants(b: Binding, net: Network, fqdn: str, index: _Index, owned: Mapping[Address, ManagedResource],
                key: str) -> list[tuple[Address, dict[str, Any], Address]]:
    """(address, attributes, derived address) of every host name a binding wants on the router.

    Its canonical name is one host name, holding its single-label name as an alias (as before) and
    each extra name as an alias. An extra name the router already has as a host name of its own is
    that host name (its address follows the binding's); an alias the router already has keeps its
    form (``www`` or ``www.lab.example``); a new extra name is written as an alias ``NAME.DOMAIN``.
    """
    def name_of(word: str) -> str:
        return short_name(word.lower(), net.domain)

    names = set(b.names)
    separate: dict[str, Address] = {}
    for alias in b.aliases:
        alias_fqdn = host_name_for(alias, net.domain)
        found_alias = index.host(alias_fqdn, owned, key) if alias_fqdn is not None else None
        if found_alias is not None:
            separate[alias] = found_alias
    found = index.host(fqdn, owned, key)
    seen = index.resources[found].attributes if found is not None else {}
    words = [str(w) for w in seen.get("aliases") or () if name_of(str(w)) in names]
    have = {name_of(w) for w in words}
    words += [a for a in binding_aliases(b.hostname) if a not in have]
    words += [host_name_for(a, net.domain) or a for a in b.aliases if a not in separate and a not in have]
    host_name = str(seen["host_name"]) if found is not None else fqdn
    derived = host_address(fqdn, key)
    out = [(found or derived, host_attrs(host_name, b.dns_ip, words), derived)]
    for address in separate.values():
        other = index.resources[address].attributes
        kept_words = [str(w) for w in other.get("aliases") or () if name_of(str(w)) in names]
        out.append((address, host_attrs(str(other["host_name"]), b.dns_ip, kept_words), address))
    return out


def _waiting(address: Address, b: Binding) -> str:
    """``; pending restart: web09 answers at 192.168.10.150 until …`` for a host name of a binding whose
    new address has not reached the host yet."""
    if address.type != HOST or not b.answers_at or b.answers_at == b.ip:
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

    def __init__(self, config: Config, desired: Desired, observed_cfg: EdgeConfig, observation: Observation,
                 ctx: PlanContext, key: str) -> None:
        self.ctx, self.key, self.observation = ctx, key, observation
        self.blocked = desired.blocked
        self.index = _Index(observation, config, key)
        self.wanted = _desired(config, desired, observed_cfg, self.index, ctx.owned, key)
        # no DNS name for a binding whose reservation is disabled on the router (it is not served);
        # one that exists already is left as it is (the observation's warning says so)
        self.unpublished = commitrules.unpublished(self.wanted, observation)
        for address in self.unpublished:
            del self.wanted[address]
        self.leaving = self._leaving()
        # leaving objects holding kept data: what a new object may take over (usually very few)
        self.movable = {a: r for a, r in self.leaving.items() if r.kept}
        self.carried: dict[Address, Address] = {}  # old object → the new one its kept data moves to
        # new object → the owned one it renames (same MAC / same address): applied or held together
        self.renamed = _renamed(self.wanted, observation.resources, ctx.owned, key)
        self.successor = {old: new for new, old in self.renamed.items()}
        # MAC → the IP of its dynamic lease: a new reservation says the device moves at its renewal
        self.leased = {str(x.get("mac") or "").lower(): str(x.get("ip"))
                       for x in observation.data.get("leases", ())}

    def allowed(self, address: Address) -> bool:
        return address not in self.blocked

    def common(self, b: Binding, prov: Mapping[str, Provenance]) -> dict[str, Any]:
        dep = self.ctx.role_address(ROLE_ADDRESS, b.network, b.hostname)
        return {"provenance": frozen_map(prov), "depends_on": (dep,) if dep is not None else (),
                "origin": b.origin}

    def _leaving(self) -> dict[Address, ObservedResource]:
        """Owned router objects no binding wants any more (deleted unless blocked)."""
        out = {}
        for address in sorted(self.ctx.owned, key=str):
            if address.type not in (MAPPING, HOST) or address.system != self.key:
                continue
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
        if address.type == MAPPING:
            keys = (("mac_address", lambda a: str(a.get("mac_address") or "").lower()),
                    ("name", lambda a: kept_module.derive_label(str(a.get("name")))))
        else:
            keys = (("inet", lambda a: str(a.get("inet") or "")),
                    ("host_name", lambda a: str(a.get("host_name")).lower().split(".", 1)[0]))
        if not self.movable:
            return None
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
            same = (other.attributes.get("mac_address") == seen.attributes.get("mac_address")
                    if old.type == MAPPING else other.attributes.get("inet") == seen.attributes.get("inet"))
            if same and kept_module.holds(other.kept, seen.kept):
                return True
        return False

    def create(self, address: Address, want: _Want, drift: bool) -> Change:
        b = want.binding
        reason = (f"router entry deleted by hand; recreating for {_source_text(b)}" if drift
                  else f"new {_source_text(b)}")
        kept: Mapping[str, Any] = EMPTY
        old = None if drift else self._predecessor(address, want.attrs)
        if old is not None:
            self.carried[old] = address
            kept = self.movable[old].kept
            reason += f"; takes over what {old.name} holds besides netsot's attributes"
        mac = str(want.attrs.get("mac_address") or "").lower()
        reason += _renewal(want.attrs, self.leased.get(mac), dynamic=True) + _waiting(address, b)
        return Change(Action.CREATE, address, None, frozen_map(want.attrs), reason, provider_id=want.path,
                      drift=drift, kept=kept, replaces=None if drift else self.renamed.get(address),
                      **self.common(b, want.provenance))

    def update(self, address: Address, want: _Want, seen: ObservedResource) -> Change | None:
        managed = self.ctx.owned.get(address)
        if address.type == HOST:
            seen = _seen_host(seen, want.attrs, managed)
        keys = _diff(seen.attributes, want.attrs)
        if not keys:
            return None
        recorded = managed.attributes if managed is not None else None
        drift = recorded is not None and bool(_diff(recorded, seen.attributes))
        what = _describe(keys, seen.attributes, want.attrs)
        b = want.binding
        if drift:
            reason = f"router entry edited by hand: {what}"
        elif "mac_address" in keys and "mac" in b.provenance and seen.attributes.get("mac_address"):
            reason = f"MAC changed on {b.provenance['mac'].ref}: {what}"
        else:
            reason = f"{_source_text(b)} changed: {what}"
        if "ip_address" in keys:
            reason += _renewal(want.attrs, seen.attributes.get("ip_address"), dynamic=False)
        if "inet" in keys:
            reason += _waiting(address, b)
        return Change(Action.UPDATE, address, seen.attributes, frozen_map(want.attrs), reason,
                      provider_id=seen.provider_id or want.path, drift=drift, kept=seen.kept,
                      **self.common(want.binding, want.provenance))

    def delete(self, address: Address, seen: ObservedResource) -> Change:
        managed = self.ctx.owned[address]
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

    def changes(self) -> list[Change]:
        out: list[Change] = []
        owned = self.ctx.owned
        for address, want in sorted(self.wanted.items(), key=lambda kv: str(kv[0])):
            if self.blocked and (address in self.blocked or want.derived in self.blocked):
                continue
            seen = self.observation.resources.get(address)
            managed = owned.get(address)
            if seen is None:
                out.append(self.create(address, want, managed is not None))
                continue
            if managed is None and not seen.owned_marker:
                continue  # someone else's object: reconcile reports the conflict, we never touch it
            change = self.update(address, want, seen)
            if change is not None:
                out.append(change)
        saved_at = saved_address(self.key)
        saved = self.observation.resources.get(saved_at)
        if saved is not None and saved.attributes.get("saved") is False and self.allowed(saved_at):
            # no line to send: the configure session of this batch runs `save` (no depends_on, so it
            # goes with the first EdgeMax batch); after it, `compare saved` is empty and this disappears
            out.append(Change(Action.UPDATE, saved_at, frozen_map({"saved": False}),
                              frozen_map({"saved": True}), UNSAVED_REASON))
        out += [self.delete(address, seen) for address, seen in self.leaving.items()]
        return out


def plan_edgemax(
    config: Config,
    desired: Desired,
    observed_cfg: EdgeConfig,
    observation: Observation,
    ctx: PlanContext,
    key: str = SYSTEM,
) -> list[Change]:
    """Changes that make the router's static mappings / host entries match ``desired``."""
    return _Planner(config, desired, observed_cfg, observation, ctx, key).changes()


def _renamed(wanted: Mapping[Address, _Want], resources: Mapping[Address, ObservedResource],
             owned: Mapping[Address, ManagedResource], key: str) -> dict[Address, Address]:
    """New entry → the owned entry it renames: same MAC in the same shared network (a reservation),
    same address (a host name). The two are applied together or held together, so the router never
    holds both (two reservations for one MAC) nor neither."""
    old_mapping: dict[tuple[Any, Any], Address] = {}
    old_host: dict[Any, Address] = {}
    for address in owned:
        seen = resources.get(address)
        if address.system != key or address in wanted or seen is None:
            continue
        if address.type == MAPPING and seen.attributes.get("mac_address"):
            old_mapping[(seen.attributes.get("shared_network"), seen.attributes["mac_address"])] = address
        elif address.type == HOST and seen.attributes.get("inet"):
            old_host[seen.attributes["inet"]] = address
    out: dict[Address, Address] = {}
    for address, want in wanted.items():
        if address in resources:
            continue
        attrs = want.attrs
        if address.type == MAPPING:
            old = old_mapping.pop((attrs.get("shared_network"), attrs.get("mac_address")), None)
        else:
            old = old_host.pop(attrs.get("inet"), None)
        if old is not None:
            out[address] = old
    return out

"""A Vyatta router as an Observation: its DHCP static mappings and host names, binding facts, leases.

Owns: resources with exactly the leaves netsot manages as attributes — a mapping's ``ip_address`` /
``mac_address`` (whatever the dialect calls the MAC leaf: one attribute), a host name's first IPv4
``inet`` and its DNS-name aliases — and everything else as ``kept`` (shown, never lost); the binding
facts with host names derived from the router's (``ROOM_1_SWITCH`` → ``room-1-switch``) and every
name an address has; leases as discovery facts; the ``saved`` pseudo resource when the running and
saved configs were compared. Each kind reads its router into ``MappingEntry``/``HostEntry`` values
and calls ``observation`` with its ``VyattaKind``.
Must not: do I/O or decide what to change.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from core.config import Config, Network
from core.model import EMPTY, Address, Fact, Observation, ObservedResource, frozen_map
from core.names import short_name
from providers.vyatta import kept as kept_module
from providers.vyatta.family import HOST_BASE, VyattaKind, label, mapping_path

_EXPIRY = re.compile(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})")


def iso_expiry(text: str | None) -> str | None:
    """A lease's ``YYYY/MM/DD HH:MM:SS`` (the router keeps UTC) as ISO 8601 UTC; None if it is not one
    (``never``, empty)."""
    match = _EXPIRY.search(text or "")
    if match is None:
        return None
    y, mo, d, h, mi, se = match.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{se}Z"


@dataclass(frozen=True)
class MappingEntry:
    """A DHCP static mapping as the router holds it (``kept``: every child besides ip and MAC)."""

    shared_network: str
    subnet: str
    name: str
    ip: str | None
    mac: str | None
    kept: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    disabled: bool = False


@dataclass(frozen=True)
class HostEntry:
    """A static host mapping as the router holds it (``other``: every child besides inet and alias)."""

    host_name: str
    inet: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    other: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


class Lease(Protocol):
    """A DHCP lease as each kind reads it."""

    ip: str
    mac: str | None
    expires: str | None
    pool: str | None
    hostname: str | None


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


def _network_of_ip(served: Sequence[Network], ip: str | None) -> Network | None:
    try:
        addr = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    hits = [n for n in served if addr in n.prefix]
    return hits[0] if len(hits) == 1 else None


def by_address(nets: Sequence[Network], ip: str | None) -> Network | None:
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


def host_network(
    served: Sequence[Network], host_name: str, inet: str | None
) -> tuple[Network | None, str | None]:
    """(network, domain) of a host name: the network holding its address, else its domain's.

    ``domain`` is the longest configured domain the name is in (the apex: the name itself). A
    domain shared by several networks goes to the one holding the address, else to its
    ``dns_owner``.
    """
    domain = _domain_of(host_name, {n.domain.lower() for n in served if n.domain})
    by_ip = _network_of_ip(served, inet)
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

    host: HostEntry
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


def _place_host(served: Sequence[Network], h: HostEntry) -> _Placed:
    v4 = next((v for v in h.inet if kept_module.is_ipv4(v)), None)
    net, domain = host_network(served, h.host_name, v4)
    return _Placed(h, net, domain, host_label(h.host_name, net, domain), v4)


def names_at_addresses(
    kind: VyattaKind, config: Config, key: str, mappings: Sequence[MappingEntry], hosts: Sequence[HostEntry]
) -> dict[tuple[str, str], list[str]]:
    """Every name each address has on the router, the canonical one first: per (network or domain,
    IPv4), the binding name of the static mapping holding it (the reservation's name), else the
    first host name's; then every host name and DNS-name alias on that address, in router order."""
    mapped: dict[tuple[str, str], str] = {}
    by_shared = kind.shared_networks(config, key)
    for m in mappings:
        net = by_address(by_shared.get(m.shared_network, []), m.ip)
        if net is not None and m.ip:
            mapped.setdefault((net.name, m.ip), short_name(kept_module.derive_label(m.name), net.domain))
    served = kind.served(config, key)
    out: dict[tuple[str, str], list[str]] = {}
    for h in hosts:
        placed = _place_host(served, h)
        at = placed.at
        if at is not None:
            out.setdefault(at, []).extend(placed.names())
    for at, names in out.items():
        first = mapped.get(at)
        out[at] = list(dict.fromkeys([first, *names] if first in names else names))
    return out


@dataclass
class _Observed:
    """The observation being built (one instance of the router)."""

    kind: VyattaKind
    config: Config
    key: str
    served: Sequence[Network]
    resources: dict[Address, ObservedResource] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return label(self.key)


def _add_mapping(obs: _Observed, nets: Sequence[Network], m: MappingEntry) -> None:
    address = obs.kind.mapping_address(m.shared_network, m.name, obs.key)
    if address in obs.resources:
        obs.warnings.append(
            f"static mapping {m.name} appears twice in shared network {m.shared_network}; using the first")
        return
    obs.resources[address] = ObservedResource(
        address,
        frozen_map(mapping_attrs(m.shared_network, m.subnet, m.name, m.ip, m.mac)),
        provider_id=" ".join(mapping_path(m.shared_network, m.subnet, m.name)),
        kept=m.kept,
    )
    net = by_address(nets, m.ip)
    if net is None:
        return
    derived = kept_module.derive_label(m.name)
    obs.facts.append(
        Fact(
            source=obs.kind.name,
            ref=f"{obs.name} static-mapping {m.shared_network}/{m.name}",
            network=net.name,
            hostname=derived,
            mac=m.mac,
            ip=m.ip,
            address=address,
            extra=frozen_map({"kind": "mapping", "shared_network": m.shared_network, "mapping": m.name,
                              "subnet": m.subnet, "disabled": m.disabled}),
            hostname_from=kept_module.derivation(m.name, derived, "static-mapping"),
        )
    )


def _add_host(obs: _Observed, h: HostEntry, names_at: Mapping[tuple[str, str], list[str]]) -> None:
    address = obs.kind.host_address(h.host_name, obs.key)
    placed = _place_host(obs.served, h)
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
            source=obs.kind.name,
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
    net = by_address(by_shared.get(lease.pool or "", []), lease.ip) or _network_of_ip(obs.served, lease.ip)
    obs.facts.append(
        Fact(
            source=obs.kind.name,
            ref=f"lease {lease.ip}" if obs.name == obs.kind.name else f"{obs.name} lease {lease.ip}",
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


def observation(
    kind: VyattaKind, config: Config, key: str, mappings: Sequence[MappingEntry], hosts: Sequence[HostEntry],
    leases: Sequence[Lease] = (), *, saved: bool | None = None, warnings: Sequence[str] = (),
    notes: Sequence[str] = (), data: Mapping[str, Any] = EMPTY,
) -> Observation:
    """The router as an Observation: every mapping / host entry, binding facts, leases.

    ``saved``: whether the committed config is saved (None: unknown, e.g. a file read offline — the
    ``saved`` pseudo resource is then left out). ``warnings`` come first, ``notes`` after the
    observation's own; ``data`` is the kind's ``Observation.data`` (its leases included).
    """
    obs = _Observed(kind, config, key, kind.served(config, key), warnings=list(warnings))
    if saved is not None:
        saved_at = kind.saved_address(key)
        obs.resources[saved_at] = ObservedResource(saved_at, frozen_map({"saved": saved}))
    by_shared = kind.shared_networks(config, key)
    for m in mappings:
        _add_mapping(obs, by_shared.get(m.shared_network, []), m)
    names_at = names_at_addresses(kind, config, key, mappings, hosts)
    for h in hosts:
        _add_host(obs, h, names_at)
    for lease in leases:
        _add_lease(obs, by_shared, lease)
    obs.warnings += notes
    return Observation(
        system=key,
        resources=MappingProxyType(dict(obs.resources)),
        facts=tuple(obs.facts),
        warnings=tuple(obs.warnings),
        data=frozen_map(data),
    )

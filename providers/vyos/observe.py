"""A VyOS router as an Observation: its DHCP static mappings and host names, binding facts, leases.

Owns: turning what ``read`` found (either dialect) into resources with exactly the leaves netsot
manages as attributes — a mapping's ``ip_address``/``mac_address`` (``mac`` in 1.5, ``mac-address``
in 1.4: one attribute), a host name's first IPv4 ``inet`` and its DNS-name aliases — and everything
else as ``kept`` (``description``, ``disable``, ``option``, ``duid``, other ``inet`` values, unknown
children: shown, never lost), in the shape of the EdgeOS kind's observation (same attributes, same
kept shape); the binding facts with names derived from the router's (``ROOM_1_SWITCH`` →
``room-1-switch``), every name an address has; leases as discovery facts; the ``saved`` pseudo
resource when the running and saved configs were compared.
Must not: do I/O or decide what to change.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.config import Config, Network
from core.model import Address, Fact, Observation, ObservedResource, frozen_map
from core.names import short_name
from providers.vyatta import kept as kept_module
from providers.vyos.commands import host_path, mapping_path
from providers.vyos.descriptor import CONFIG_TYPE, host_address, mapping_address, served
from providers.vyos.leases import Lease
from providers.vyos.read import Host, StaticMapping, VyosConfig

SYSTEM = "vyos"
_EXPIRY = re.compile(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})")


def label(key: str) -> str:
    """How refs and messages name the instance: ``vyos`` or ``vyos[cabin]``."""
    kind, _, instance = key.partition(".")
    return f"{kind}[{instance}]" if instance else kind


def saved_address(key: str = SYSTEM) -> Address:
    return Address.of(CONFIG_TYPE, "saved", key)


def kept_shape(value: Any) -> Any:
    """A ``read`` kept value (the API's JSON shape) in the kept shape of ``ObservedResource``:
    a leaf's values as a list, ``True`` for a valueless child, a mapping for a node."""
    if isinstance(value, Mapping):
        if not value:
            return True
        return frozen_map({k: kept_shape(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return True if value == "" else [str(value)]


def mapping_kept(m: StaticMapping) -> Mapping[str, Any]:
    kept = {k: kept_shape(v) for k, v in m.kept.items()}
    if m.duid is not None:
        kept["duid"] = [m.duid]
    return frozen_map(kept)


def mapping_attrs(m: StaticMapping) -> dict[str, Any]:
    return {"shared_network": m.shared_network, "subnet": m.subnet, "name": m.name, "ip_address": m.ip,
            "mac_address": m.mac}  # fmt: skip


def iso_expiry(text: str | None) -> str | None:
    """A lease's ``YYYY/MM/DD HH:MM:SS`` (UTC) as ISO 8601; None for anything else."""
    match = _EXPIRY.search(text or "")
    if match is None:
        return None
    y, mo, d, h, mi, se = match.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{se}Z"


def networks_of_shared(config: Config, key: str) -> dict[str, list[Network]]:
    out: dict[str, list[Network]] = {}
    for n in served(config, key):
        own = n.settings_for(SYSTEM)
        if own is not None:
            out.setdefault(own.shared_network, []).append(n)
    return out


def _in(nets: Sequence[Network], ip: str | None) -> Network | None:
    try:
        addr = ipaddress.ip_address(ip or "")
    except ValueError:
        return nets[0] if len(nets) == 1 else None
    hits = [n for n in nets if addr in n.prefix]
    return hits[0] if len(hits) == 1 else None


def _domain_of(name: str, domains: Iterable[str]) -> str | None:
    lower = name.lower()
    hits = [d for d in domains if lower == d or lower.endswith("." + d)]
    return max(hits, key=len) if hits else None


def _place(config: Config, key: str, h: Host) -> tuple[Network | None, str | None, str, str | None]:
    """(network, domain, binding name, IPv4) of a host name: the network holding its address, else
    its domain's (the one ``dns_owner`` network when several share it)."""
    nets_served = served(config, key)
    v4 = next((v for v in h.inet if kept_module.is_ipv4(v)), None)
    domain = _domain_of(h.host_name, {n.domain.lower() for n in nets_served if n.domain})
    net = _in(nets_served, v4) if v4 else None
    if net is None:
        nets = [n for n in nets_served if n.domain and n.domain.lower() == domain]
        net = nets[0] if len(nets) == 1 else next((n for n in nets if n.dns_owner), None)
    own = net.domain if net is not None and net.domain else domain
    return net, domain, short_name(h.host_name.lower(), own), v4


def observation(cfg: VyosConfig, config: Config, key: str = SYSTEM, leases: Sequence[Lease] = (),
                unsaved: bool | None = None, warnings: Sequence[str] = ()) -> Observation:
    """The router as an Observation. ``unsaved``: whether committed config is not saved (None:
    unknown, e.g. a file read offline — the ``saved`` pseudo resource is then left out)."""
    name = label(key)
    resources: dict[Address, ObservedResource] = {}
    facts: list[Fact] = []
    notes = list(warnings)
    if unsaved is not None:
        saved = saved_address(key)
        resources[saved] = ObservedResource(saved, frozen_map({"saved": not unsaved}))
    by_shared = networks_of_shared(config, key)
    reserved: dict[tuple[str, str], str] = {}  # (network, ip) -> the reservation's binding name
    for m in cfg.mappings:
        address = mapping_address(m.shared_network, m.name, key)
        if address in resources:
            notes.append(f"{name}: static mapping {m.name} appears twice in shared network "
                         f"{m.shared_network}; using the first")
            continue
        resources[address] = ObservedResource(address, frozen_map(mapping_attrs(m)),
                                              provider_id=" ".join(mapping_path(m.shared_network, m.subnet,
                                                                                m.name)),
                                              kept=mapping_kept(m))
        net = _in(by_shared.get(m.shared_network, []), m.ip)
        if net is None:
            continue
        derived = kept_module.derive_label(m.name)
        if m.ip:
            reserved.setdefault((net.name, m.ip), short_name(derived, net.domain))
        facts.append(Fact(
            source=SYSTEM, ref=f"{name} static-mapping {m.shared_network}/{m.name}", network=net.name,
            hostname=derived, mac=m.mac, ip=m.ip, address=address,
            extra=frozen_map({"kind": "mapping", "shared_network": m.shared_network, "mapping": m.name,
                              "subnet": m.subnet, "disabled": m.disabled}),
            hostname_from=kept_module.derivation(m.name, derived, "static-mapping")))
    placed = [(h, *_place(config, key, h)) for h in cfg.hosts]
    names_at: dict[tuple[str, str], list[str]] = {}
    for h, net, domain, bname, v4 in placed:
        scope = net.name if net is not None else domain
        if scope and v4:
            aliases = [short_name(a.lower(), net.domain if net is not None else domain)
                       for a in h.aliases if kept_module.is_dns_name(a)]
            names_at.setdefault((scope, v4), []).extend([bname, *aliases])
    for at, names in names_at.items():
        first = reserved.get(at)
        names_at[at] = list(dict.fromkeys([first, *names] if first in names else names))
    for h, net, domain, bname, v4 in placed:
        address = host_address(h.host_name, key)
        other = {k: kept_shape(v) for k, v in h.kept.items()}
        single = None if "." in bname else bname
        inet, aliases, kept = kept_module.split_host(h.inet, h.aliases, other, single)
        resources[address] = ObservedResource(
            address, frozen_map({"host_name": h.host_name, "inet": inet, "aliases": list(aliases)}),
            provider_id=" ".join(host_path(h.host_name)), kept=kept)
        scope = net.name if net is not None else domain
        names = names_at.get((scope, v4), []) if scope and v4 else []
        own = tuple(dict.fromkeys([bname, *(short_name(a.lower(), domain) for a in h.aliases
                                             if kept_module.is_dns_name(a))]))
        hostname, alias_names = (names[0], tuple(names)) if len(names) > 1 else (
            bname, own if len(own) > 1 else None)
        facts.append(Fact(
            source=SYSTEM, ref=f"{name} static-host-mapping {h.host_name}",
            network=net.name if net is not None else None, hostname=hostname, mac=None, ip=inet,
            address=address, extra=frozen_map({"kind": "host", "host_name": h.host_name,
                                               "aliases": list(h.aliases)}),
            domain=domain, aliases=alias_names,
            hostname_from="" if hostname == bname else f"{hostname}: the first name of {v4}, which "
                                                         f"{h.host_name} shares"))
    for lease in leases:
        net = _in(by_shared.get(lease.pool or "", []), lease.ip) or _in(served(config, key), lease.ip)
        facts.append(Fact(
            source=SYSTEM, ref=f"lease {lease.ip}" if name == SYSTEM else f"{name} lease {lease.ip}",
            network=net.name if net is not None else None,
            hostname=lease.hostname.lower() if lease.hostname else None, mac=lease.mac, ip=lease.ip,
            extra=frozen_map({"pool": lease.pool, "expires": lease.expires}), discovery=True,
            hostname_hint=lease.hostname, lease_expires=iso_expiry(lease.expires)))
    return Observation(
        system=key, resources=frozen_map(resources), facts=tuple(facts), warnings=tuple(notes),
        data=frozen_map({"leases": [le.to_dict() for le in leases], "dialect_shape": cfg.shape,
                         "subnet_ids": dict(cfg.subnet_ids),
                         **({"unsaved": unsaved} if unsaved is not None else {})}))

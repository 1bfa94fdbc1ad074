"""Pure EdgeMax planning: what the router holds as an Observation, and the changes to make.

Owns: ``observation_from_config`` (extracted config + leases → resources and facts) and
``plan_edgemax`` (desired bindings vs observed router → create/update/delete Changes for
DHCP static mappings and static host mappings, plus the ``edgemax_config.saved`` pseudo-resource
that saves committed-but-unsaved router config), with human reasons and provenance.
Must not: do I/O, touch an object netsot does not own, or plan anything in ``desired.blocked``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from core.config import Config, Network
from core.ipv4 import ip_int
from core.model import (
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
from providers.base import ROLE_ADDRESS, PlanContext
from providers.edgemax.commands import HOST_BASE, mapping_path
from providers.edgemax.descriptor import CONFIG_TYPE, HOST_TYPE, MAPPING_TYPE, host_address, mapping_address
from providers.edgemax.extract import EdgeConfig, SharedNetwork
from providers.edgemax.leases import Lease

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


def _network_of_shared(config: Config, key: str = SYSTEM) -> dict[str, Network]:
    out = {}
    for n in config.networks_of(key):
        own = n.settings_for(SYSTEM)
        if own is not None:
            out[own.shared_network] = n
    return out


def _network_of_ip(config: Config, ip: str | None, key: str = SYSTEM) -> Network | None:
    try:
        addr = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    hits = [n for n in config.networks_of(key) if addr in n.prefix]
    return hits[0] if len(hits) == 1 else None


def observation_from_config(
    cfg: EdgeConfig, config: Config, leases: Sequence[Lease] = (), unsaved: str | None = None,
    key: str = SYSTEM,
) -> Observation:
    """The router as an Observation: every mapping / host entry, binding facts, leases.

    ``unsaved`` is the router's `compare saved` diff ("" when the active config is saved); when
    given, the observation holds the ``edgemax_config.saved`` pseudo-resource and
    ``data["unsaved"]``. None (a config file read offline) leaves both out.
    """
    resources: dict[Address, ObservedResource] = {}
    if unsaved is not None:
        saved = saved_address(key)
        resources[saved] = ObservedResource(saved, frozen_map({"saved": not unsaved}))
    facts: list[Fact] = []
    warnings: list[str] = []
    name = label(key)
    by_shared = _network_of_shared(config, key)
    for sn, subnet, m in cfg.mappings():
        address = mapping_address(sn.name, m.name, key)
        if address in resources:
            warnings.append(
                f"static mapping {m.name} appears twice in shared network {sn.name}; using the first"
            )
            continue
        resources[address] = ObservedResource(
            address,
            frozen_map(mapping_attrs(sn.name, subnet.cidr, m.name, m.ip, m.mac)),
            provider_id=" ".join(mapping_path(sn.name, subnet.cidr, m.name)),
        )
        net = by_shared.get(sn.name)
        if net is None:
            continue
        facts.append(
            Fact(
                source=SYSTEM,
                ref=f"{name} static-mapping {sn.name}/{m.name}",
                network=net.name,
                hostname=m.name.lower(),
                mac=m.mac,
                ip=m.ip,
                address=address,
                extra=frozen_map(
                    {
                        "kind": "mapping",
                        "shared_network": sn.name,
                        "mapping": m.name,
                        "subnet": subnet.cidr,
                        "disabled": m.disabled,
                    }
                ),
            )
        )
    domains: dict[str, list[Network]] = {}
    for n in config.networks_of(key):
        if n.domain:
            domains.setdefault(n.domain.lower(), []).append(n)
    for h in cfg.host_mappings:
        address = host_address(h.host_name, key)
        inet = h.inet[0] if h.inet else None
        resources[address] = ObservedResource(
            address,
            frozen_map(host_attrs(h.host_name, inet, h.aliases)),
            provider_id=" ".join((*HOST_BASE, h.host_name)),
        )
        first, _, domain = h.host_name.partition(".")
        nets = domains.get(domain.lower(), []) if domain else []
        owner = next((n for n in nets if n.dns_owner), None)  # a shared domain's names are its owner's
        net = nets[0] if len(nets) == 1 else _network_of_ip(config, inet, key) or owner
        facts.append(
            Fact(
                source=SYSTEM,
                ref=f"{name} static-host-mapping {h.host_name}",
                network=net.name if net is not None else None,
                hostname=first.lower(),
                mac=None,
                ip=inet,
                address=address,
                extra=frozen_map({"kind": "host", "host_name": h.host_name, "aliases": list(h.aliases)}),
                domain=domain or None,
            )
        )
    for lease in leases:
        net = by_shared.get(lease.pool or "") or _network_of_ip(config, lease.ip, key)
        facts.append(
            Fact(
                source=SYSTEM,
                ref=f"lease {lease.ip}" if name == SYSTEM else f"{name} lease {lease.ip}",
                network=net.name if net is not None else None,
                hostname=lease.hostname.lower() if lease.hostname else None,
                mac=lease.mac,
                ip=lease.ip,
                extra=frozen_map({"pool": lease.pool, "expires": lease.expires}),
                discovery=True,
            )
        )
    return Observation(
        system=key,
        resources=frozen_map_addresses(resources),
        facts=tuple(facts),
        warnings=tuple(warnings),
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
# planning


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
    config: Config, desired: Desired, observed_cfg: EdgeConfig, key: str = SYSTEM
) -> dict[Address, tuple[dict[str, Any], Binding, dict[str, Provenance], str]]:
    out: dict[Address, tuple[dict[str, Any], Binding, dict[str, Provenance], str]] = {}
    nets = {n.name: n for n in config.networks_of(key)}
    subnets: dict[str, Subnets] = {}  # per shared network, parsed once per plan (not per binding)
    prefixes: dict[str, str] = {}  # config prefix text per network
    for b in sorted(desired.bindings, key=lambda b: (b.network, b.hostname)):
        net = nets.get(b.network)
        if net is None:
            continue
        own = net.settings_for(SYSTEM)
        prov = b.provenance
        if b.mac is not None and own is not None:
            sn_name = own.shared_network
            if sn_name not in subnets:
                subnets[sn_name] = _parsed_subnets(observed_cfg.shared_network(sn_name))
            prefix = prefixes.get(net.name)
            if prefix is None:
                prefix = prefixes[net.name] = str(net.prefix)
            subnet = _subnet_for(subnets[sn_name], net, b.ip, prefix)
            attrs = mapping_attrs(sn_name, subnet, b.hostname, b.ip, b.mac.lower())
            p = {k: prov[src] for k, src in MAPPING_PROVENANCE if src in prov}
            out.setdefault(
                mapping_address(sn_name, b.hostname, key),
                (attrs, b, p, " ".join(mapping_path(sn_name, subnet, b.hostname))),
            )
        if net.domain:
            fqdn = f"{b.hostname}.{net.domain}"
            attrs = host_attrs(fqdn, b.ip, [b.hostname])
            p = {k: prov[src] for k, src in HOST_PROVENANCE if src in prov}
            out.setdefault(host_address(fqdn, key), (attrs, b, p, " ".join((*HOST_BASE, fqdn))))
    return out


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


def plan_edgemax(
    config: Config,
    desired: Desired,
    observed_cfg: EdgeConfig,
    observation: Observation,
    ctx: PlanContext,
    key: str = SYSTEM,
) -> list[Change]:
    """Changes that make the router's static mappings / host entries match ``desired``."""
    blocked = desired.blocked
    wanted = _desired(config, desired, observed_cfg, key)
    changes: list[Change] = []

    def allowed(address: Address) -> bool:
        return address not in blocked

    def common(b: Binding, prov: dict[str, Provenance]) -> dict[str, Any]:
        # built only for the entries that get a change (most wanted entries usually match)
        dep = ctx.role_address(ROLE_ADDRESS, b.network, b.hostname)
        return {"provenance": frozen_map(prov), "depends_on": (dep,) if dep is not None else (),
                "origin": b.origin}

    resources, owned_objects = observation.resources, ctx.owned
    renamed = _renamed(wanted, resources, owned_objects, key)
    leased = {str(x.get("mac") or "").lower(): str(x.get("ip")) for x in observation.data.get("leases", ())}
    for address, (attrs, b, prov, path) in sorted(wanted.items(), key=lambda kv: str(kv[0])):
        if blocked and address in blocked:
            continue  # not ``allowed``
        seen = resources.get(address)
        managed = owned_objects.get(address)
        owned = managed is not None or (seen is not None and seen.owned_marker)
        if seen is None:
            drift = managed is not None
            reason = (
                f"router entry deleted by hand; recreating for {_source_text(b)}"
                if drift
                else f"new {_source_text(b)}"
            ) + _renewal(attrs, leased.get(str(attrs.get("mac_address") or "").lower()), dynamic=True)
            changes.append(Change(Action.CREATE, address, None, frozen_map(attrs), reason, provider_id=path,
                                  drift=drift, replaces=renamed.get(address), **common(b, prov)))  # fmt: skip
            continue
        if not owned:
            continue  # someone else's object: reconcile reports the conflict, we never touch it
        keys = _diff(seen.attributes, attrs)
        if not keys:
            continue
        recorded = managed.attributes if managed is not None else None
        drift = recorded is not None and bool(_diff(recorded, seen.attributes))
        if drift:
            reason = "router entry edited by hand: " + _describe(keys, seen.attributes, attrs)
        elif "mac_address" in keys and "mac" in b.provenance and seen.attributes.get("mac_address"):
            reason = f"MAC changed on {b.provenance['mac'].ref}: " + _describe(keys, seen.attributes, attrs)
        else:
            reason = f"{_source_text(b)} changed: " + _describe(keys, seen.attributes, attrs)
        if "ip_address" in keys:
            reason += _renewal(attrs, seen.attributes.get("ip_address"), dynamic=False)
        changes.append(
            Change(
                Action.UPDATE,
                address,
                seen.attributes,
                frozen_map(attrs),
                reason,
                provider_id=seen.provider_id or path,
                drift=drift,
                **common(b, prov),
            )
        )
    saved_at = saved_address(key)
    saved = observation.resources.get(saved_at)
    if saved is not None and saved.attributes.get("saved") is False and allowed(saved_at):
        # no line to send: the configure session of this batch runs `save` (no depends_on, so it
        # goes with the first EdgeMax batch); after it, `compare saved` is empty and this disappears
        changes.append(
            Change(Action.UPDATE, saved_at, frozen_map({"saved": False}), frozen_map({"saved": True}),
                   UNSAVED_REASON)
        )
    for address, managed in sorted(ctx.owned.items(), key=lambda kv: str(kv[0])):
        if address.type not in (MAPPING, HOST) or address.system != key:
            continue
        if address in wanted or not allowed(address):
            continue
        seen = observation.resources.get(address)
        if seen is None:
            continue  # already gone; the engine drops it from state
        successor = next((new for new, old in renamed.items() if old == address), None)
        changes.append(
            Change(
                Action.DELETE,
                address,
                seen.attributes,
                None,
                f"renamed: {successor} takes its place" if successor else _lost_reason(managed),
                provider_id=seen.provider_id or managed.provider_id,
                origin=managed.origin,
            )
        )
    return changes


def _renamed(wanted: Mapping[Address, Any], resources: Mapping[Address, ObservedResource],
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
    for address, (attrs, *_rest) in wanted.items():
        if address in resources:
            continue
        if address.type == MAPPING:
            old = old_mapping.pop((attrs.get("shared_network"), attrs.get("mac_address")), None)
        else:
            old = old_host.pop(attrs.get("inet"), None)
        if old is not None:
            out[address] = old
    return out

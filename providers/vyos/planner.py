"""Pure VyOS planning: desired bindings vs the observed router → changes of static mappings and host names.

Owns: what each binding wants on the router (a static mapping in its network's shared network,
in the router's subnet holding its address; a host name ``NAME.DOMAIN`` pointing where the host
answers, holding its single-label name and its extra names as aliases), the identity of router
objects (exact name, then any case, then the name derived from the router's: ``ROOM_1_SWITCH`` for
``room-1-switch``; for an owned mapping, its MAC) — found objects keep the router's real name —
and create / update / delete changes with reasons, provenance, the kept data each change leaves
in place and what a delete would lose. The rules are the EdgeOS kind's: only owned objects change,
someone else's object is left to reconcile's conflict, nothing in ``desired.blocked`` is planned.
Must not: do I/O, or touch an object netsot does not own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.config import Config, Network
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
from providers.base import ROLE_ADDRESS, PlanContext
from providers.vyatta import kept as kept_module
from providers.vyos.commands import host_path, mapping_path
from providers.vyos.descriptor import (
    HOST_TYPE,
    MAPPING_TYPE,
    host_address,
    host_name_for,
    mapping_address,
    name_rule,
    served,
)

MAPPING_PROVENANCE = (("ip_address", "ip"), ("mac_address", "mac"), ("name", "hostname"))
HOST_PROVENANCE = (("inet", "ip"), ("host_name", "hostname"), ("aliases", "hostname"))
LOST = {"proxmox": "guest removed", "nipap": "host removed from NIPAP",
        "config": "host removed from the config", "import": "no source reports it any more"}


@dataclass(frozen=True)
class _Want:
    attrs: dict[str, Any]
    binding: Binding
    provenance: dict[str, Provenance]
    path: str
    derived: Address  # the address the binding's name gives it (what conflicts block)


def _norm(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    return value.lower() if isinstance(value, str) else value


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [k for k in sorted(set(before) | set(after)) if _norm(before.get(k)) != _norm(after.get(k))]


def _describe(keys: Sequence[str], before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    def show(v: Any) -> str:
        if isinstance(v, list | tuple):
            return "[" + ", ".join(map(str, v)) + "]"
        return "none" if v is None else str(v)

    return ", ".join(f"{k} {show(before.get(k))} -> {show(after.get(k))}" for k in keys)


def _source_text(b: Binding) -> str:
    ref = b.first_origin
    if ref is not None:
        return f"{ref.noun} {b.hostname} ({ref.label})"
    if b.origin == "config":
        return f"host {b.hostname} (config)"
    if b.origin == "import":
        return f"host {b.hostname} (adopted from the router)"
    return f"host {b.hostname}"


def subnet_for(subnets: Sequence[str], net: Network, ip: str) -> str:
    """The router's subnet of the shared network holding ``ip`` (the network's prefix when none does)."""
    addr = ipaddress.ip_address(ip)
    for cidr in subnets:
        try:
            if addr in ipaddress.ip_network(cidr, strict=False):
                return cidr
        except ValueError:
            continue
    return str(net.prefix)


class _Index:
    """The router's objects by the keys a binding finds them by."""

    def __init__(self, observation: Observation, key: str) -> None:
        self.resources = observation.resources
        self.key = key

    def _one(self, found: Sequence[Address], owned: Mapping[Address, ManagedResource]) -> Address | None:
        mine = [a for a in found if a in owned]
        if len(mine) == 1:
            return mine[0]
        return found[0] if len(found) == 1 else None

    def mapping(self, sn: str, b: Binding, owned: Mapping[Address, ManagedResource]) -> Address | None:
        exact = mapping_address(sn, b.hostname, self.key)
        if exact in self.resources:
            return exact
        same_sn = [a for a, r in self.resources.items() if a.type == MAPPING_TYPE
                   and r.attributes.get("shared_network") == sn]  # fmt: skip
        by_case = [a for a in same_sn
                   if str(self.resources[a].attributes["name"]).lower() == b.hostname.lower()]
        by_label = [a for a in same_sn
                    if kept_module.derive_label(str(self.resources[a].attributes["name"])) == b.hostname]
        # an owned mapping whose router name netsot would not create (``ROOM_1_SWITCH``) is found by its
        # MAC; one with a name netsot would create is renamed instead (create + delete, one commit)
        by_mac = [a for a in same_sn if a in owned and b.mac
                  and name_rule(str(self.resources[a].attributes["name"])) is not None
                  and str(self.resources[a].attributes.get("mac_address") or "").lower() == b.mac.lower()]
        for found in (by_case, by_label, by_mac):
            pick = self._one(found, owned)
            if pick is not None:
                return pick
        return None

    def host(self, fqdn: str, owned: Mapping[Address, ManagedResource]) -> Address | None:
        exact = host_address(fqdn, self.key)
        if exact in self.resources:
            return exact
        by_case = [a for a in self.resources if a.type == HOST_TYPE and a.name.lower() == fqdn.lower()]
        return self._one(by_case, owned)


def _wants(config: Config, desired: Desired, subnets: Mapping[str, Sequence[str]], index: _Index,
           owned: Mapping[Address, ManagedResource], key: str) -> dict[Address, _Want]:
    out: dict[Address, _Want] = {}
    nets = {n.name: n for n in served(config, key)}
    for b in sorted(desired.bindings, key=lambda b: (b.network, b.hostname)):
        net = nets.get(b.network)
        if net is None:
            continue
        prov = b.provenance
        own = net.settings_for("vyos")
        if b.mac is not None and own is not None:
            sn = own.shared_network
            found = index.mapping(sn, b, owned)
            seen = index.resources[found].attributes if found is not None else {}
            name = str(seen.get("name") or b.hostname)
            subnet = str(seen.get("subnet") or subnet_for(subnets.get(sn, ()), net, b.ip))
            attrs = {"shared_network": sn, "subnet": subnet, "name": name, "ip_address": b.ip,
                     "mac_address": b.mac.lower()}  # fmt: skip
            p = {k: prov[src] for k, src in MAPPING_PROVENANCE if src in prov}
            derived = mapping_address(sn, b.hostname, key)
            path = " ".join(mapping_path(sn, subnet, name))
            out.setdefault(found or derived, _Want(attrs, b, p, path, derived))
        fqdn = host_name_for(b.hostname, net.domain)
        if fqdn is None:
            continue
        found = index.host(fqdn, owned)
        seen = index.resources[found].attributes if found is not None else {}
        names = {n.lower() for n in b.names}
        words = [str(w) for w in seen.get("aliases") or () if short_name(str(w).lower(), net.domain) in names]
        have = {short_name(w.lower(), net.domain) for w in words}
        if "." not in b.hostname and b.hostname.lower() not in have:
            words.append(b.hostname)
            have.add(b.hostname.lower())
        words += [host_name_for(a, net.domain) or a for a in b.aliases if a.lower() not in have]
        host_name = str(seen.get("host_name") or fqdn)
        attrs = {"host_name": host_name, "inet": b.dns_ip, "aliases": words}
        p = {k: prov[src] for k, src in HOST_PROVENANCE if src in prov and not (k == "inet" and b.answers_at)}
        if "aliases" in prov:
            p["aliases"] = prov["aliases"]
        derived = host_address(fqdn, key)
        out.setdefault(found or derived, _Want(attrs, b, p, " ".join(host_path(host_name)), derived))
    return out


def plan_vyos(config: Config, desired: Desired, subnets: Mapping[str, Sequence[str]],
              observation: Observation, ctx: PlanContext, key: str = "vyos") -> list[Change]:
    """Changes that make the router's static mappings / host names match ``desired``.

    ``subnets``: the router's subnets per shared network (where a new mapping goes)."""
    blocked = desired.blocked
    owned = ctx.owned
    index = _Index(observation, key)
    wanted = _wants(config, desired, subnets, index, owned, key)
    leaving = _leaving(owned, wanted, observation, blocked, key)
    renamed = _renamed(wanted, observation.resources, leaving)
    carried: dict[Address, Address] = {}  # old object -> the new one that takes its place
    out: list[Change] = []

    def common(b: Binding, prov: Mapping[str, Provenance]) -> dict[str, Any]:
        dep = ctx.role_address(ROLE_ADDRESS, b.network, b.hostname)
        return {"provenance": frozen_map(prov), "depends_on": (dep,) if dep is not None else (),
                "origin": b.origin}

    for address, want in sorted(wanted.items(), key=lambda kv: str(kv[0])):
        if address in blocked or want.derived in blocked:
            continue
        seen = observation.resources.get(address)
        managed = owned.get(address)
        b = want.binding
        if seen is None:
            drift = managed is not None
            reason = (f"router entry deleted by hand; recreating for {_source_text(b)}" if drift
                      else f"new {_source_text(b)}")
            old = None if drift else renamed.get(address)
            kept = leaving[old].kept if old is not None else EMPTY
            if old is not None:
                carried[old] = address
                reason += f"; takes the place of {old.name}" + (
                    ", with what it holds besides netsot's attributes" if kept else "")
            out.append(Change(Action.CREATE, address, None, frozen_map(want.attrs), reason,
                              provider_id=want.path, drift=drift, replaces=old, kept=kept,
                              **common(b, want.provenance)))
            continue
        if managed is None and not seen.owned_marker:
            continue  # someone else's object: reconcile reports the conflict, netsot never touches it
        keys = _diff(seen.attributes, want.attrs)
        if not keys:
            continue
        drift = bool(_diff(managed.attributes, seen.attributes)) if managed is not None else False
        what = _describe(keys, seen.attributes, want.attrs)
        reason = f"router entry edited by hand: {what}" if drift else f"{_source_text(b)} changed: {what}"
        out.append(Change(Action.UPDATE, address, seen.attributes, frozen_map(want.attrs), reason,
                          provider_id=seen.provider_id or want.path, drift=drift, kept=seen.kept,
                          **common(b, want.provenance)))
    for address, seen in leaving.items():
        managed = owned[address]
        new = carried.get(address)
        if new is not None:  # a rename: the new object takes its place and what else it holds
            reason, loses = f"renamed: {new} takes its place", ()
        else:
            why = LOST.get(managed.origin, "no source reports it any more")
            reason = f"lost its source: {why}"
            loses = kept_module.kept_lines(seen.kept) if seen.kept else ()
        out.append(Change(Action.DELETE, address, seen.attributes, None, reason,
                          provider_id=seen.provider_id or managed.provider_id, origin=managed.origin,
                          loses=loses))
    return out


def _leaving(owned: Mapping[Address, ManagedResource], wanted: Mapping[Address, _Want],
             observation: Observation, blocked: frozenset[Address],
             key: str) -> dict[Address, ObservedResource]:
    """Owned router objects no binding wants any more (deleted unless blocked)."""
    out = {}
    for address in sorted(owned, key=str):
        if address.type not in (MAPPING_TYPE, HOST_TYPE) or address.system != key or address in wanted:
            continue
        seen = observation.resources.get(address)
        if seen is not None and address not in blocked:
            out[address] = seen
    return out


def _renamed(wanted: Mapping[Address, _Want], resources: Mapping[Address, ObservedResource],
             leaving: Mapping[Address, ObservedResource]) -> dict[Address, Address]:
    """New object → the leaving owned one it renames: the same MAC in the same shared network (a
    reservation), the same address (a host name). They go in one commit, so the router never holds both."""
    old_mapping: dict[tuple[Any, Any], Address] = {}
    old_host: dict[Any, Address] = {}
    for address, seen in leaving.items():
        a = seen.attributes
        if address.type == MAPPING_TYPE and a.get("mac_address"):
            old_mapping[(a.get("shared_network"), str(a["mac_address"]).lower())] = address
        elif address.type == HOST_TYPE and a.get("inet"):
            old_host[a["inet"]] = address
    out: dict[Address, Address] = {}
    for address, want in wanted.items():
        if address in resources:
            continue
        a = want.attrs
        if address.type == MAPPING_TYPE:
            old = old_mapping.pop((a.get("shared_network"), str(a.get("mac_address") or "").lower()), None)
        else:
            old = old_host.pop(a.get("inet"), None)
        if old is not None:
            out[address] = old
    return out

"""`netsot import edgemax`: adopt the router's existing static mappings and host entries.

Owns: the pure decision of what to adopt and why (matched by MAC / name / IP against what the
other sources and the config say) and what to refuse as a conflict (duplicate MAC or IP in one
shared network, IP outside its subnet, a name netsot cannot manage), plus ``run`` which reads
the router or a config.boot backup, prints the table (or JSON) and records the adoptions in the
state under its lock. Nothing is adopted blindly; already-managed objects are left as they are.
Must not: change anything on the router.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.config import Config, Network, split_key
from core.errors import ConfigError, ProviderDataError
from core.model import Address, Fact, ManagedResource, Observation, to_jsonable
from providers.edgemax.descriptor import HOST_TYPE, MAPPING_TYPE
from providers.importing import BindingClaim, ImportItem, ImportPlan

# what the planner can manage: the mapping name / host label is the binding's host name
LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _in(ip: str | None, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(ip or "") in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _why(
    network: str, name: str, mac: str | None, ip: str | None, others: Sequence[Fact]
) -> tuple[str, str]:
    """Why this router entry is adopted, and the origin of the binding it joins.

    A match by MAC or name with a Proxmox NIC or a config host makes the entry part of that
    binding (origin "proxmox"/"config"); otherwise it stays a standalone binding ("import").
    """
    same_net = [f for f in others if f.network == network]
    for label, test in (
        ("same MAC", lambda f: mac is not None and (f.mac or "").lower() == mac),
        ("same name", lambda f: (f.hostname or "").lower() == name),
        ("same IP", lambda f: ip is not None and f.ip == ip),
    ):
        hits = sorted((f for f in same_net if test(f)), key=lambda f: f.ref)
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


def adopt(
    config: Config,
    key: str,
    observation: Observation,
    owned: Mapping[Address, ManagedResource],
    others: Sequence[Fact] = (),
    address_of: Any = None,
) -> ImportPlan:
    """What to adopt from the router, and why; conflicts are refused, never adopted.

    ``others`` are the facts of every other source (config hosts included) that explain matches;
    ``address_of(network, name)`` is the binding's IPAM address the entries depend on (or None).
    """
    by_shared: dict[str, Network] = {}
    for n in config.networks_of(key):
        own = n.settings_for("edgemax")
        if own is not None:
            by_shared[own.shared_network] = n
    facts = [f for f in others if f.source != "edgemax" and not f.discovery]

    def deps(network: str, name: str) -> tuple[Address, ...]:
        dep = address_of(network, name) if address_of is not None else None
        return (dep,) if dep is not None else ()

    mappings = sorted(
        (r for r in observation.resources.values() if r.address.type == MAPPING_TYPE),
        key=lambda r: str(r.address),
    )
    macs = Counter((r.attributes.get("shared_network"), r.attributes.get("mac_address")) for r in mappings)
    ips = Counter((r.attributes.get("shared_network"), r.attributes.get("ip_address")) for r in mappings)
    items: list[ImportItem] = []
    for r in mappings:
        a = r.attributes
        sn, name, ip, mac, subnet = (
            a.get(k) for k in ("shared_network", "name", "ip_address", "mac_address", "subnet")
        )
        address = str(r.address)
        net = by_shared.get(sn)
        if net is None:
            items.append(ImportItem(address, "ignored", f"shared network {sn} is not in the config"))
            continue
        if r.address in owned:
            items.append(ImportItem(address, "managed", "already managed by netsot"))
            continue
        problem = None
        if not isinstance(name, str) or not LABEL_RE.fullmatch(name):
            problem = (
                f"name {name!r} is not a lower-case host name netsot can manage; rename it on the router"
            )
        elif mac is None or not re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", str(mac)):
            problem = f"MAC address {mac!r} is missing or invalid"
        elif ip is None or not _in(ip, str(subnet)):
            problem = f"IP address {ip} is outside its subnet {subnet}"
        elif not _in(ip, str(net.prefix)):
            problem = f"IP address {ip} is outside network {net.name} ({net.prefix})"
        elif macs[(sn, mac)] > 1:
            problem = f"MAC {mac} is used by {macs[(sn, mac)]} static mappings in {sn}"
        elif ips[(sn, ip)] > 1:
            problem = f"IP {ip} is used by {ips[(sn, ip)]} static mappings in {sn}"
        if problem:
            items.append(ImportItem(address, "conflict", problem))
            continue
        reason, origin = _why(net.name, name, mac, ip, facts)
        claim = BindingClaim(address, net.name, name, ip, mac, origin)
        items.append(ImportItem(address, "adopt", reason,
                                _record(r.address, r.provider_id, a, deps(net.name, name), origin), claim))
    domains = {n.domain.lower(): n for n in config.networks_of(key) if n.domain}
    hosts = sorted(
        (r for r in observation.resources.values() if r.address.type == HOST_TYPE),
        key=lambda r: str(r.address),
    )
    for r in hosts:
        a = r.attributes
        host_name, inet = str(a.get("host_name")), a.get("inet")
        address = str(r.address)
        label, _, domain = host_name.partition(".")
        net = domains.get(domain.lower())
        if net is None:
            items.append(
                ImportItem(address, "ignored", f"{host_name} is not in the domain of a configured network")
            )
            continue
        if r.address in owned:
            items.append(ImportItem(address, "managed", "already managed by netsot"))
            continue
        if not LABEL_RE.fullmatch(label):
            items.append(
                ImportItem(address, "conflict", f"host label {label!r} is not a lower-case host name")
            )
            continue
        if not _in(inet, str(net.prefix)):
            items.append(
                ImportItem(address, "conflict", f"inet {inet} is outside network {net.name} ({net.prefix})")
            )
            continue
        reason, origin = _why(net.name, label, None, inet, facts)
        claim = BindingClaim(address, net.name, label, inet, None, origin)
        items.append(ImportItem(address, "adopt", reason,
                                _record(r.address, r.provider_id, a, deps(net.name, label), origin), claim))
    return ImportPlan(tuple(items))


# ---------------------------------------------------------------------------------------------
# CLI entry point (I/O)


def read_observation(config: Config, key: str, from_file: str | None) -> Observation:
    """The router as an Observation: from a config.boot backup, or read live over SSH."""
    from providers.edgemax.extract import extract
    from providers.edgemax.parse import parse_boot
    from providers.edgemax.planner import observation_from_config

    if from_file:
        path = Path(from_file)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ProviderDataError("edgemax", f"cannot read {path}: {exc.strerror}") from None
        return observation_from_config(extract(parse_boot(text, path.name)), config, key=key)
    if key not in config.providers:
        raise ConfigError(f"providers.{key} is not configured (or use --from-file)")
    from providers.edgemax.provider import EdgemaxProvider

    provider = EdgemaxProvider(config, config.settings(key), split_key(key)[1])
    try:
        return provider.read()
    finally:
        provider.close()


# ---------------------------------------------------------------------------------------------
# one entry: `netsot import ADDR "service dhcp-server … static-mapping NAME"`

_MAPPING_PATH = ("service", "dhcp-server", "shared-network-name", None, "subnet", None, "static-mapping",
                 None)
_HOST_PATH = ("system", "static-host-mapping", "host-name", None)


def entry_address(ident: str, key: str = "") -> tuple[Address, Mapping[str, str]]:
    """The address of the router entry at config path ``ident``, and what the path says about it."""
    from providers.edgemax.descriptor import host_address, mapping_address

    words = [w.strip("'\"") for w in ident.replace("set ", "", 1).split()]
    for pattern in (_MAPPING_PATH, _HOST_PATH):
        if len(words) != len(pattern) or any(p not in (None, w) for p, w in zip(pattern, words, strict=True)):
            continue
        if pattern is _MAPPING_PATH:
            said = {"shared_network": words[3], "subnet": words[5], "name": words[7]}
            return mapping_address(words[3], words[7], key), said
        return host_address(words[3], key), {"host_name": words[3]}
    raise ConfigError(
        f"{ident!r} is not the config path of a router entry netsot manages: write "
        "'service dhcp-server shared-network-name NET subnet CIDR static-mapping NAME' or "
        "'system static-host-mapping host-name NAME'"
    )


def import_one(config: Config, key: str, observation: Observation, address: Address, ident: str,
               owned: Mapping[Address, ManagedResource], facts: Sequence[Fact] = (),
               address_of: Any = None) -> ImportItem:
    """The router entry at config path ``ident`` as the item to adopt at ``address`` (the same checks as
    ``netsot import edgemax``: a shared MAC or IP, an IP outside the subnet, a name netsot cannot manage)."""
    from core.errors import NetsotError

    found, said = entry_address(ident, split_key(key)[1])
    resource = observation.resources.get(found)
    path = " ".join(ident.split())
    if resource is None or any(resource.attributes.get(k) != v for k, v in said.items() if k != "name"):
        raise NetsotError(f"the router {key} has no entry at '{path}' (`netsot inventory {key}` lists them)")
    if found != address:
        raise NetsotError(f"'{path}' is {found} to netsot, not {address}; run "
                          f"`netsot import {found} \"{path}\"`")
    plan = adopt(config, key, observation, owned, facts, address_of)
    items = [i for i in plan.items if i.address == str(address)]
    if not items:
        raise NetsotError(f"{address} is not in a configured network of {key}")
    item = items[0]
    if item.status == "ignored":
        return ImportItem(item.address, "conflict", item.reason)
    return item

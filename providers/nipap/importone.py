"""`netsot import nipap_address.NET.NAME ID`: adopt one NIPAP host, named by its prefix id or its IP.

Owns: finding the host among the managed networks' hosts NIPAP holds (``ID`` is the prefix id, as
``nipap address list`` and the plan's refs show it, or the host's address), checking that ``ADDR``
is the address netsot gives that host, and the state record (origin ``import``: the host then
stands for a binding of its own, as the router entries ``netsot import edgemax`` adopts do).
Must not: change NIPAP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.config import Config
from core.errors import NetsotError
from core.model import Address, Fact, ManagedResource, Observation, to_jsonable
from core.names import HOSTNAME_RE
from providers.importing import BindingClaim, ImportItem
from providers.nipap.descriptor import ADDRESS_TYPE


def import_one(config: Config, key: str, observation: Observation, address: Address, ident: str,
               owned: Mapping[Address, ManagedResource], facts: Sequence[Fact] = (),
               address_of: Any = None) -> ImportItem:
    """The one host ``ident`` (a prefix id or an IP) as the item to adopt at ``address``."""
    hosts = [r for r in observation.resources.values() if r.address.type == ADDRESS_TYPE]
    ident = ident.strip()
    found = [r for r in hosts if r.provider_id == ident or r.attributes.get("ip") == ident.split("/")[0]]
    if not found:
        nets = ", ".join(n.name for n in config.networks_of(key)) or "none"
        raise NetsotError(f"NIPAP holds no host with id or address {ident} in the managed networks ({nets}); "
                          "`netsot inventory nipap` lists them")
    host = found[0]
    attrs = host.attributes
    what = f"NIPAP host {attrs.get('ip')} (id {host.provider_id}, node {attrs.get('hostname') or 'none'})"
    if host.address != address:
        raise NetsotError(f"{what} is {host.address} to netsot, not {address}; run "
                          f"`netsot import {host.address} {ident}`")
    if address in owned:
        return ImportItem(str(address), "managed", "already managed by netsot")
    if any(f.origin and f.address == address for f in observation.facts):
        return ImportItem(str(address), "conflict", f"{what} is a binding's source (made in NIPAP and "
                                                    "tagged): netsot follows it and never adopts it")
    node = attrs.get("hostname")
    if not isinstance(node, str) or not HOSTNAME_RE.match(node.lower()):
        return ImportItem(str(address), "conflict", f"{what} has no node name netsot can use as a host name; "
                                                    "set one in NIPAP first")
    network = address.name.split(".", 1)[0]
    record = {
        "address": str(address),
        "provider": key,
        "provider_id": host.provider_id,
        "attributes": to_jsonable(attrs),
        "dependencies": [],
        "origin": "import",
    }
    claim = BindingClaim(str(address), network, node.lower(), attrs.get("ip"), attrs.get("mac"), "import")
    return ImportItem(str(address), "adopt", f"{what}, imported by id", record, claim)

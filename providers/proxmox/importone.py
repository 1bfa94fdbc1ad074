"""`netsot import proxmox_ipconfig.NODE.VMID.NIC NODE/VMID/NIC`: adopt one guest NIC's address setting.

Owns: finding the NIC (``ID`` is ``node/vmid/netN``, as the plan's refs name it: ``proxmox pve1/101
net0``), checking that ``ADDR`` is its address, and refusing a NIC netsot may not write (its guest
lacks the write-back tag, ``providers.proxmox.writeback_tag``) or a NIC on a bridge no network maps.
Must not: change Proxmox.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.config import Config
from core.errors import NetsotError
from core.model import Address, Fact, ManagedResource, Observation, to_jsonable
from providers.importing import ImportItem
from providers.proxmox.descriptor import ipconfig_address

_ID = re.compile(r"^([A-Za-z0-9][A-Za-z0-9.-]*)/(\d+)/(net\d+)$")


def import_one(config: Config, key: str, observation: Observation, address: Address, ident: str,
               owned: Mapping[Address, ManagedResource], facts: Sequence[Fact] = (),
               address_of: Any = None) -> ImportItem:
    """The NIC ``ident`` (``node/vmid/netN``) as the item to adopt at ``address``."""
    match = _ID.match(ident.strip().replace(" ", "/"))
    if match is None:
        raise NetsotError(f"{ident!r} is not a Proxmox NIC id: write NODE/VMID/NIC, e.g. pve1/101/net0")
    node, vmid, nic = match.group(1), int(match.group(2)), match.group(3)
    guest = next((g for g in observation.data.get("guests", ()) if g["vmid"] == vmid), None)
    if guest is None or guest["node"] != node:
        where = f" (it is on {guest['node']})" if guest else ""
        raise NetsotError(f"{key} has no guest {vmid} on node {node}{where}")
    if not any(n["id"] == nic for n in guest["nics"]):
        have = ", ".join(n["id"] for n in guest["nics"]) or "none"
        raise NetsotError(f"guest {node}/{vmid} ({guest['name']}) has no {nic} (its NICs: {have})")
    expected = ipconfig_address(node, vmid, nic, key)
    if expected != address:
        raise NetsotError(f"{node}/{vmid} {nic} is {expected} to netsot, not {address}; run "
                          f"`netsot import {expected} {ident}`")
    if address in owned:
        return ImportItem(str(address), "managed", "already managed by netsot")
    resource = observation.resources.get(address)
    if resource is None:
        tag = config.settings(key).writeback_tag
        why = (f"guest {node}/{vmid} ({guest['name']}) is not tagged {tag}, so netsot may not write its "
               "address; tag it on Proxmox first")
        if tag.lower() in guest.get("tags", ()) and guest.get("type") == "qemu":
            why = (f"guest {node}/{vmid} ({guest['name']}) has no cloud-init drive, so an address netsot "
                   f"writes would never reach it; add one first (`qm set {vmid} --ide2 <storage>:cloudinit`)")
        return ImportItem(str(address), "conflict", why)
    if not any(f.address == address for f in observation.facts):
        return ImportItem(str(address), "conflict", f"{node}/{vmid} {nic} is on a bridge/VLAN no configured "
                                                    "network maps (`netsot inventory` lists it as unmanaged)")
    dep = None
    fact = next(f for f in observation.facts if f.address == address)
    if address_of is not None and fact.network and fact.hostname:
        dep = address_of(fact.network, fact.hostname)
    record = {
        "address": str(address),
        "provider": key,
        "provider_id": resource.provider_id,
        "attributes": to_jsonable(resource.attributes),
        "dependencies": [str(dep)] if dep is not None else [],
        "origin": "proxmox",
    }
    return ImportItem(str(address), "adopt", f"guest {guest['name']} ({node}/{vmid} {nic}) is tagged for "
                                             "write-back", record)

"""The VyOS commit rules netsot can foresee for its own changes (vyos.md §2.1: ``verify()`` of
``service_dhcp-server.py``), so the engine holds a change the router would refuse instead of sending a
batch whose DHCP part fails while its host names commit (VyOS commits are not all-or-nothing).

Owns: in each subnet, after the planned changes, an IP address or a MAC on two active (not
``disable``d) static mappings; in 1.5, a subnet without ``subnet-id`` (netsot never invents one).
Each rule blocks the changes that break it, as a ``commit_rule`` conflict with the router's words.
Must not: do I/O, or judge objects no change touches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from core.model import Action, Address, Change, Conflict, ConflictKind, Observation
from providers.vyos.descriptor import MAPPING_TYPE


def _after(observation: Observation, changes: Sequence[Change]) -> dict[Address, Mapping[str, Any]]:
    """Every mapping's attributes (and whether it is disabled) once ``changes`` are applied."""
    out: dict[Address, Mapping[str, Any]] = {
        a: {**r.attributes, "disabled": "disable" in r.kept}
        for a, r in observation.resources.items() if a.type == MAPPING_TYPE}
    for c in changes:
        if c.address.type != MAPPING_TYPE:
            continue
        if c.action is Action.DELETE or c.after is None:
            out.pop(c.address, None)
        else:
            out[c.address] = {**c.after, "disabled": "disable" in (c.kept or {})}
    return out


def foresee(observation: Observation, changes: Sequence[Change], dialect: str,
            subnet_ids: Mapping[str, str], networks: Mapping[str, str]) -> list[Conflict]:
    """The ``commit_rule`` conflicts of ``changes``; ``networks``: shared network → netsot network."""
    touched = {c.address: c for c in changes if c.address.type == MAPPING_TYPE and c.after is not None}
    if not touched:
        return []
    final = _after(observation, changes)
    out: list[Conflict] = []
    if dialect == "1.5":
        for address, c in sorted(touched.items(), key=lambda kv: str(kv[0])):
            subnet = str(c.after["subnet"]) if c.after else ""
            if subnet not in subnet_ids:
                out.append(Conflict(
                    ConflictKind.COMMIT_RULE, f'Unique subnet ID not specified for subnet "{subnet}"',
                    (str(address),), networks.get(str(c.after.get("shared_network"))) if c.after else None,
                    blocked=(address,),
                    fix=f"set a subnet-id on the router: set service dhcp-server shared-network-name "
                        f"{c.after.get('shared_network') if c.after else 'SN'} subnet {subnet} subnet-id N"))
    for what, attribute in (("IP address", "ip_address"), ("MAC address", "mac_address")):
        holders: dict[tuple[str, str], list[Address]] = defaultdict(list)
        for address, a in final.items():
            value = a.get(attribute)
            if value and not a.get("disabled"):
                holders[(str(a.get("subnet")), str(value).lower())].append(address)
        for (subnet, value), addresses in sorted(holders.items()):
            if len(addresses) < 2:
                continue
            blocked = tuple(sorted((a for a in addresses if a in touched), key=str))
            if not blocked:
                continue
            name = blocked[0].name.split(".", 1)[-1]
            sn = blocked[0].name.split(".", 1)[0]
            out.append(Conflict(
                ConflictKind.COMMIT_RULE,
                f'Configured {what} for static mapping "{name}" already exists on another static mapping '
                f"({value} in {subnet})",
                tuple(str(a) for a in sorted(addresses, key=str)), networks.get(sn), blocked=blocked,
                fix=f"free {value} on the router (or give the host another {what.split()[0]})"))
    return out

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

from core.model import Action, Address, Change, Conflict, ConflictKind, Observation
from providers.vyatta import records
from providers.vyatta.records import MappingRecord
from providers.vyos.descriptor import MAPPING_TYPE


def _after(observation: Observation, changes: Sequence[Change],
           touched: Mapping[Address, MappingRecord]) -> dict[Address, tuple[MappingRecord, bool]]:
    """Every mapping (and whether it is disabled) once ``changes`` are applied (``touched``: the
    mapping each change writes, read once)."""
    out: dict[Address, tuple[MappingRecord, bool]] = {
        a: (records.mapping_of(r.attributes, a.type, f"the router's {a}"), "disable" in r.kept)
        for a, r in observation.resources.items() if a.type == MAPPING_TYPE}
    for c in changes:
        if c.address.type != MAPPING_TYPE:
            continue
        after = touched.get(c.address) if c.action is not Action.DELETE else None
        if after is None:
            out.pop(c.address, None)
        else:
            out[c.address] = (after, "disable" in (c.kept or {}))
    return out


def foresee(observation: Observation, changes: Sequence[Change], dialect: str,
            subnet_ids: Mapping[str, str], networks: Mapping[str, str]) -> list[Conflict]:
    """The ``commit_rule`` conflicts of ``changes``; ``networks``: shared network → netsot network."""
    touched = {c.address: after for c in changes
               if c.address.type == MAPPING_TYPE and (after := records.mapping(c)) is not None}
    if not touched:
        return []
    final = _after(observation, changes, touched)
    out: list[Conflict] = []
    if dialect == "1.5":
        for address, m in sorted(touched.items(), key=lambda kv: str(kv[0])):
            if m.subnet not in subnet_ids:
                out.append(Conflict(
                    ConflictKind.COMMIT_RULE, f'Unique subnet ID not specified for subnet "{m.subnet}"',
                    (str(address),), networks.get(m.shared_network), blocked=(address,),
                    fix=f"set a subnet-id on the router: set service dhcp-server shared-network-name "
                        f"{m.shared_network} subnet {m.subnet} subnet-id N"))
    for what, value_of in (("IP address", _ip), ("MAC address", _mac)):
        holders: dict[tuple[str, str], list[Address]] = defaultdict(list)
        for address, (m, disabled) in final.items():
            value = value_of(m)
            if value and not disabled:
                holders[(m.subnet, value.lower())].append(address)
        # only the values on two mappings or more are sorted (a router holds thousands of single ones)
        for (subnet, value), addresses in sorted(kv for kv in holders.items() if len(kv[1]) > 1):
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


def _ip(m: MappingRecord) -> str | None:
    return m.ip_address


def _mac(m: MappingRecord) -> str | None:
    return m.mac_address

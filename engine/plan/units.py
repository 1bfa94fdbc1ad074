"""A binding's changes across its objects as one unit: what the safety policy applies or holds together.

Owns: grouping a plan's changes by the binding they serve — the objects a binding produces in every
system serving its network (``Systems.binding_addresses``) and on its origins, the objects a change
renames (``replaces``, ``moved_from``), the leaving objects of a binding that was renamed or readdressed
(linked to each other through the object they were recorded to depend on, and to the new binding
through its MAC) — and naming each unit (``lan/camera``).
Must not: do I/O, name a system, or decide what is held (``engine.plan.policy`` does, unit by unit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.config import Config
from core.model import Action, Address, Binding, Change, Plan
from core.names import normalize_mac
from engine import systems as systems_module
from providers import registry
from providers.base import ROLE_NETWORK


class _Sets:
    """Union-find over addresses."""

    def __init__(self) -> None:
        self.parent: dict[Address, Address] = {}

    def find(self, a: Address) -> Address:
        root = self.parent.setdefault(a, a)
        while root != self.parent[root]:
            root = self.parent[root]
        while a != root:  # path compression
            self.parent[a], a = root, self.parent[a]
        return root

    def union(self, a: Address, b: Address) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb, key=str)] = min(ra, rb, key=str)


def units_of(config: Config, plan: Plan, changes: Iterable[Change] | None = None) -> dict[Address, str]:
    """Each change's address → its unit's name (the binding's ``network/hostname``, else the first address).

    Changes of no binding and linked to nothing are units of their own.
    """
    changes = tuple(plan.changes if changes is None else changes)
    systems = systems_module.of(config)
    sets = _Sets()
    anchor: dict[Address, Binding] = {}
    by_mac: dict[str, Address] = {}
    for b in plan.bindings:
        addresses = list(_binding_addresses(systems, config, b))
        if not addresses:
            continue
        first = addresses[0]
        anchor[first] = b
        for other in addresses[1:]:
            sets.union(first, other)
        if b.mac:
            by_mac.setdefault(b.mac.lower(), first)
    for c in changes:
        sets.find(c.address)
        for other in (c.replaces, c.moved_from):
            if other is not None:
                sets.union(c.address, other)
        if c.action is Action.DELETE:
            for dep in c.depends_on:
                if not _is_network(dep):
                    sets.union(c.address, dep)
            mac = mac_in(c.before)
            if mac is not None and mac in by_mac:
                sets.union(c.address, by_mac[mac])
    names: dict[Address, str] = {}
    for first, b in anchor.items():
        names.setdefault(sets.find(first), f"{b.network}/{b.hostname}")
    out: dict[Address, str] = {}
    for c in changes:
        root = sets.find(c.address)
        out[c.address] = names.get(root) or str(root)
    return out


def _binding_addresses(systems: Any, config: Config, b: Binding) -> tuple[Address, ...]:
    try:
        network = config.network(b.network)
    except KeyError:
        return ()
    refs = tuple(r.address for r in b.origin_refs if r.address is not None)
    return (*systems.binding_addresses(network, b.hostname), *refs)


def _is_network(address: Address) -> bool:
    rtype = registry.resource_type(address.type)
    return rtype is not None and rtype.role == ROLE_NETWORK


def mac_in(attrs: Mapping[str, Any] | None) -> str | None:
    """The MAC among an object's attributes (whatever the system calls it), if any."""
    for key, value in (attrs or {}).items():
        if "mac" in key and isinstance(value, str) and value:
            try:
                return normalize_mac(value)
            except ValueError:
                continue
    return None

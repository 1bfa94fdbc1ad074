"""The ``/configure`` operations of planned changes, per dialect, and which changes landed.

Owns: a change of a static mapping or a host name as the word-path operations that write exactly
netsot's leaves (``ip-address`` and ``mac``/``mac-address``; one ``inet`` value and the owned
aliases) — kept children are never named, so they stay; a rename's new object gets what the old one
held — and the outcome of each change from the
operations that really landed (``transact``'s read-back after a failure).
Must not: do I/O or decide what to change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.model import Action, Change
from providers.vyatta.commands import host_delta
from providers.vyatta.kept import kept_paths
from providers.vyos import commands
from providers.vyos.client import Op
from providers.vyos.descriptor import CONFIG_TYPE, HOST_TYPE, MAPPING_TYPE


def _mapping_ops(c: Change, dialect: str, subnet_ids: Mapping[str, str]) -> list[Op]:
    a: Mapping[str, Any] = c.after or c.before or {}
    sn, subnet, name = str(a["shared_network"]), str(a["subnet"]), str(a["name"])
    if c.action is Action.DELETE:
        return commands.delete_mapping(sn, subnet, name)
    before = c.before or {}
    ops = commands.set_mapping(dialect, sn, subnet, name,
                               _new(before, a, "ip_address"), _new(before, a, "mac_address"), subnet_ids)
    if c.action is Action.CREATE and c.kept:  # a rename: what the old mapping held moves with it
        base = commands.mapping_path(sn, subnet, name)
        ops += [Op("set", (*base, *path)) for path in kept_paths(c.kept)]
    if a.get("mac_address") is None and before.get("mac_address") is not None:
        ops.append(Op("delete", (*commands.mapping_path(sn, subnet, name), commands.MAC_LEAF[dialect])))
    return ops


def _new(before: Mapping[str, Any], after: Mapping[str, Any], key: str) -> str | None:
    value = after.get(key)
    return None if value is None or (before.get(key) == value) else str(value)


def _host_ops(c: Change) -> list[Op]:
    if c.action is Action.DELETE:
        return commands.delete_host(str((c.before or {})["host_name"]))
    before, after = c.before or {}, c.after or {}
    if c.action is Action.CREATE and c.kept:  # a rename: what the old host name held moves with it
        base = commands.host_path(str(after["host_name"]))
        kept = [Op("set", (*base, *path)) for path in kept_paths(c.kept)]
    else:
        kept = []
    delta = host_delta(before, after)  # the EdgeOS kind's: one inet value, aliases one by one
    return kept + commands.set_host(
        str(after["host_name"]),
        [str(delta.add_inet)] if delta.add_inet else [],
        list(delta.add_aliases),
        drop_inet=[str(delta.drop_inet)] if delta.drop_inet else [],
        drop_aliases=list(delta.drop_aliases),
    )


def change_ops(c: Change, dialect: str, subnet_ids: Mapping[str, str]) -> list[Op]:
    """The operations of one change ([] for the ``saved`` pseudo resource: every apply saves)."""
    if c.address.type == MAPPING_TYPE:
        return _mapping_ops(c, dialect, subnet_ids)
    if c.address.type == HOST_TYPE:
        return _host_ops(c)
    if c.address.type == CONFIG_TYPE:
        return []
    raise ValueError(f"not a VyOS resource: {c.address}")


def landed(ops_of: Mapping[int, Sequence[Op]], on_router: Sequence[Op]) -> set[int]:
    """The indexes of the changes all of whose operations landed."""
    there = set(on_router)
    return {i for i, ops in ops_of.items() if all(o in there for o in ops)}

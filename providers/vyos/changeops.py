"""The ``/configure`` operations of planned changes, per dialect, and which changes landed.

Owns: a change of a static mapping or a host name as the word-path operations that write exactly
netsot's leaves (``ip-address`` and ``mac``/``mac-address``; one ``inet`` value and the owned
aliases) — kept children are never named, so they stay; a rename's new object gets what the old one
held; a change's records read typed (``vyatta.records``) — and the outcome of each change from the
operations that really landed (``transact``'s read-back after a failure).
Must not: do I/O or decide what to change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.errors import ProviderRejected
from core.model import Action, Change
from providers.vyatta import records
from providers.vyatta.commands import host_delta
from providers.vyatta.kept import kept_paths
from providers.vyos import commands
from providers.vyos.client import Op
from providers.vyos.descriptor import CONFIG_TYPE, HOST_TYPE, MAPPING_TYPE


def _mapping_ops(c: Change, dialect: str, subnet_ids: Mapping[str, str]) -> list[Op]:
    before, after = records.mapping(c, before=True), records.mapping(c)
    a = after or before
    if a is None:
        raise ProviderRejected("vyos", f"cannot apply {c.address}: it holds no static mapping")
    sn, subnet, name = a.place
    if c.action is Action.DELETE:
        return commands.delete_mapping(sn, subnet, name)
    old_ip = before.ip_address if before is not None else None
    old_mac = before.mac_address if before is not None else None
    ops = commands.set_mapping(dialect, sn, subnet, name, _new(old_ip, a.ip_address),
                               _new(old_mac, a.mac_address), subnet_ids)
    if c.action is Action.CREATE and c.kept:  # a rename: what the old mapping held moves with it
        base = commands.mapping_path(sn, subnet, name)
        ops += [Op("set", (*base, *path)) for path in kept_paths(c.kept)]
    if a.mac_address is None and old_mac is not None:
        ops.append(Op("delete", (*commands.mapping_path(sn, subnet, name), commands.MAC_LEAF[dialect])))
    return ops


def _new(old: str | None, new: str | None) -> str | None:
    """The value to set: ``new`` when there is one and it differs from ``old``."""
    return None if new is None or old == new else new


def _host_ops(c: Change) -> list[Op]:
    before, after = records.host(c, before=True), records.host(c)
    if c.action is Action.DELETE:
        if before is None:
            raise ProviderRejected("vyos", f"cannot apply {c.address}: its before holds no host name")
        return commands.delete_host(before.host_name)
    if after is None:
        raise ProviderRejected("vyos", f"cannot apply {c.address}: its after holds no host name")
    if c.action is Action.CREATE and c.kept:  # a rename: what the old host name held moves with it
        base = commands.host_path(after.host_name)
        kept = [Op("set", (*base, *path)) for path in kept_paths(c.kept)]
    else:
        kept = []
    delta = host_delta(before, after)  # the EdgeOS kind's: one inet value, aliases one by one
    return kept + commands.set_host(
        after.host_name,
        [delta.add_inet] if delta.add_inet else [],
        list(delta.add_aliases),
        drop_inet=[delta.drop_inet] if delta.drop_inet else [],
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

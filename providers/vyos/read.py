"""The parts of a VyOS config tree netsot reads, for both dialects, and which dialect a router speaks.

Owns: DHCP static mappings (1.4 ``mac-address``; 1.5 ``mac`` or ``duid``) with their subnet's
``subnet-id`` and everything else they hold (``kept``: ``description``, ``disable``, ``option``,
unknown children — shown, never lost), static host mappings (multi ``inet``, aliases, kept), and
``dialect``: from the version string when the router names one, else from the tree's shape
(``subnet-id``/``option``/``mac`` → 1.5, ``mac-address`` or options under ``subnet`` → 1.4).
Must not: parse text, do I/O or decide what to change. Deactivated (``!``) nodes are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.model import EMPTY, frozen_map
from core.names import mac_or_text
from providers.vyatta.tree import Kind, Node, Tree
from providers.vyos.configjson import node_json

DHCP = ("service", "dhcp-server")
HOSTS = ("system", "static-host-mapping")
DIALECTS = ("1.4", "1.5")
_OPTION_LEAVES = frozenset({"default-router", "name-server", "domain-name", "domain-search", "ntp-server"})
_MAPPING_OWNED = frozenset({"ip-address", "mac-address", "mac", "duid"})


@dataclass(frozen=True)
class StaticMapping:
    shared_network: str
    subnet: str
    name: str
    ip: str | None
    mac: str | None  # ``mac`` (1.5) or ``mac-address`` (1.4), lower case
    duid: str | None
    subnet_id: str | None
    # description, disable, option, unknown children
    kept: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @property
    def disabled(self) -> bool:
        return "disable" in self.kept


@dataclass(frozen=True)
class Host:
    host_name: str
    inet: tuple[str, ...]
    aliases: tuple[str, ...]
    kept: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # children besides inet and alias


@dataclass(frozen=True)
class VyosConfig:
    mappings: tuple[StaticMapping, ...] = ()
    hosts: tuple[Host, ...] = ()
    subnet_ids: Mapping[str, str] = field(default_factory=lambda: EMPTY)  # subnet CIDR -> subnet-id (1.5)
    shape: str | None = None  # the dialect the tree's shape shows, None when it shows none


def _values(node: Node) -> Iterator[Node]:
    """The value nodes of a tag node (or the children of a node the library read as plain)."""
    yield from (c for c in node.children if not c.inactive)


def _leaf(node: Node, name: str) -> str | None:
    child = node.child(name)
    return child.value if child is not None and child.kind is Kind.LEAF and not child.inactive else None


def _sub(node: Node | None, name: str) -> Node | None:
    child = node.child(name) if node is not None else None
    return None if child is None or child.inactive else child


def read(tree: Tree) -> VyosConfig:
    """What netsot reads of ``tree`` (either dialect)."""
    dhcp = tree.node(list(DHCP))
    mappings: list[StaticMapping] = []
    ids: dict[str, str] = {}
    shapes: set[str] = set()
    for net in _values(_sub(dhcp, "shared-network-name") or _EMPTY):
        for sub in _values(_sub(net, "subnet") or _EMPTY):
            sid = _leaf(sub, "subnet-id")
            if sid is not None:
                ids[sub.name] = sid
                shapes.add("1.5")
            if sub.child("option") is not None:
                shapes.add("1.5")
            if any(sub.child(o) is not None for o in _OPTION_LEAVES):
                shapes.add("1.4")
            for m in _values(_sub(sub, "static-mapping") or _EMPTY):
                if m.child("mac-address") is not None:
                    shapes.add("1.4")
                if m.child("mac") is not None or m.child("duid") is not None:
                    shapes.add("1.5")
                mac = _leaf(m, "mac") or _leaf(m, "mac-address")
                kept = {c.name: node_json(c) for c in m.children if c.name not in _MAPPING_OWNED}
                mappings.append(StaticMapping(net.name, sub.name, m.name, _leaf(m, "ip-address"),
                                              mac_or_text(mac), _leaf(m, "duid"), sid,
                                              frozen_map(kept)))
    hosts: list[Host] = []
    for h in _values(_sub(tree.node(list(HOSTS)), "host-name") or _EMPTY):
        inet = h.child("inet")
        alias = h.child("alias")
        kept = {c.name: node_json(c) for c in h.children if c.name not in ("inet", "alias")}
        hosts.append(Host(h.name, inet.values if inet is not None else (),
                          alias.values if alias is not None else (), frozen_map(kept)))
    shape = shapes.pop() if len(shapes) == 1 else None
    return VyosConfig(tuple(mappings), tuple(hosts), frozen_map(ids), shape)


_EMPTY = Node("", Kind.NODE)
_VERSION = re.compile(r"\b1\.(\d+)")


def dialect(version: str | None, cfg: VyosConfig, override: str | None = None) -> str:
    """The dialect to speak: ``override`` when set, else the version's, else the tree's shape, else 1.5."""
    if override:
        if override not in DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, not {override!r}")
        return override
    if version:
        m = _VERSION.search(version)
        if m:
            return "1.4" if int(m.group(1)) <= 4 else "1.5"
        if "circinus" in version or "stream" in version or "rolling" in version:
            return "1.5"
        if "sagitta" in version:
            return "1.4"
    return cfg.shape or "1.5"

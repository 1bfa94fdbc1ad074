"""Read the parts of an EdgeOS config tree netsot cares about into frozen values.

Owns: DHCP shared networks (subnets, ranges, static mappings), static host mappings,
``system domain-name`` and the dnsmasq / disabled / hostfile-update switches — and, for each static
mapping and host name, everything else it holds (``other``: the children netsot does not model,
``static-mapping-parameters``, ``disable``, unknown ones) in the ``kept`` shape of
``core.model.ObservedResource``, so no change can lose them.
Must not: validate for conflicts (``importer``/reconcile do), parse text, or do I/O.
Deactivated (``!``) nodes are ignored: the router does not use them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.model import EMPTY, frozen_map
from core.names import mac_or_text
from providers.vyatta.tree import Kind, Node, Tree


@dataclass(frozen=True)
class StaticMapping:
    name: str
    ip: str | None
    mac: str | None  # normalised (lower-case, zero-padded) when valid
    disabled: bool = False
    other: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # children besides ip/mac


@dataclass(frozen=True)
class Subnet:
    cidr: str
    default_router: str | None = None
    domain_name: str | None = None
    dns_servers: tuple[str, ...] = ()
    ranges: tuple[tuple[str, str | None], ...] = ()
    static_mappings: tuple[StaticMapping, ...] = ()


@dataclass(frozen=True)
class SharedNetwork:
    name: str
    subnets: tuple[Subnet, ...] = ()
    disabled: bool = False
    authoritative: bool = False
    description: str | None = None


@dataclass(frozen=True)
class HostMapping:
    host_name: str
    inet: tuple[str, ...] = ()  # every value, in the router's order (IPv4 and IPv6)
    aliases: tuple[str, ...] = ()
    other: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # children besides inet/alias


@dataclass(frozen=True)
class EdgeConfig:
    shared_networks: tuple[SharedNetwork, ...] = ()
    host_mappings: tuple[HostMapping, ...] = ()
    domain_name: str | None = None
    dnsmasq: bool = False
    dhcp_disabled: bool = False
    hostfile_update: bool = False

    def shared_network(self, name: str) -> SharedNetwork | None:
        for sn in self.shared_networks:
            if sn.name == name:
                return sn
        return None

    def mappings(self) -> Iterator[tuple[SharedNetwork, Subnet, StaticMapping]]:
        """Every static mapping with its shared network and subnet, in config order."""
        for sn in self.shared_networks:
            for subnet in sn.subnets:
                for mapping in subnet.static_mappings:
                    yield sn, subnet, mapping

    def host_mapping(self, host_name: str) -> HostMapping | None:
        for host in self.host_mappings:
            if host.host_name == host_name:
                return host
        return None


def _active(node: Node | None) -> Node | None:
    return None if node is None or node.inactive else node


def _leaf(node: Node, name: str) -> str | None:
    child = _active(node.child(name))
    return child.value if child is not None and child.kind is Kind.LEAF else None


def _leaves(node: Node, name: str) -> tuple[str, ...]:
    child = _active(node.child(name))
    return child.values if child is not None and child.kind is Kind.LEAF else ()


def _flag(node: Node, name: str) -> bool:
    return _active(node.child(name)) is not None


def _tag_values(node: Node | None, name: str) -> tuple[Node, ...]:
    if node is None:
        return ()
    tag = _active(node.child(name))
    if tag is None or tag.kind is not Kind.TAG:
        return ()
    return tuple(v for v in tag.children if not v.inactive)


def node_data(node: Node) -> Any:
    """A node as kept data: a leaf's values, ``True`` for a valueless leaf, else its children."""
    if node.kind is Kind.LEAF:
        return node.values
    if node.kind is Kind.FLAG:
        return True
    return frozen_map({c.name: node_data(c) for c in node.children if not c.inactive})


def other_children(node: Node, owned: frozenset[str]) -> Mapping[str, Any]:
    """The active children of ``node`` not named in ``owned``, as kept data."""
    return frozen_map({c.name: node_data(c) for c in node.children if c.name not in owned and not c.inactive})


_MAPPING_OWNED = frozenset({"ip-address", "mac-address"})
_HOST_OWNED = frozenset({"inet", "alias"})


def _subnet(node: Node) -> Subnet:
    mappings = tuple(
        StaticMapping(
            name=m.name,
            ip=_leaf(m, "ip-address"),
            mac=mac_or_text(_leaf(m, "mac-address")),
            disabled=_flag(m, "disable"),
            other=other_children(m, _MAPPING_OWNED),
        )
        for m in _tag_values(node, "static-mapping")
    )
    ranges = tuple((start.name, _leaf(start, "stop")) for start in _tag_values(node, "start"))
    return Subnet(
        cidr=node.name,
        default_router=_leaf(node, "default-router"),
        domain_name=_leaf(node, "domain-name"),
        dns_servers=_leaves(node, "dns-server"),
        ranges=ranges,
        static_mappings=mappings,
    )


def _node(tree: Tree, words: list[str]) -> Node | None:
    """The node at ``words`` unless it or an ancestor is deactivated."""
    node = tree.root
    for word in words:
        nxt = node.child(word) if node.kind in (Kind.NODE, Kind.TAG) else None
        if nxt is None or nxt.inactive:
            return None
        node = nxt
    return node


def extract(tree: Tree) -> EdgeConfig:
    """The DHCP/DNS view of a config tree."""
    dhcp = _node(tree, ["service", "dhcp-server"])
    shared: list[SharedNetwork] = []
    for sn in _tag_values(dhcp, "shared-network-name"):
        shared.append(
            SharedNetwork(
                name=sn.name,
                subnets=tuple(_subnet(s) for s in _tag_values(sn, "subnet")),
                disabled=_flag(sn, "disable"),
                authoritative=_leaf(sn, "authoritative") == "enable",
                description=_leaf(sn, "description"),
            )
        )
    hosts = tuple(
        HostMapping(h.name, _leaves(h, "inet"), _leaves(h, "alias"), other_children(h, _HOST_OWNED))
        for h in _tag_values(_node(tree, ["system", "static-host-mapping"]), "host-name")
    )
    system = _node(tree, ["system"])
    return EdgeConfig(
        shared_networks=tuple(shared),
        host_mappings=hosts,
        domain_name=_leaf(system, "domain-name") if system is not None else None,
        dnsmasq=dhcp is not None and _leaf(dhcp, "use-dnsmasq") == "enable",
        dhcp_disabled=dhcp is not None and _leaf(dhcp, "disabled") == "true",
        hostfile_update=dhcp is not None and _leaf(dhcp, "hostfile-update") == "enable",
    )

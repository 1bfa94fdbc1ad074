"""The Vyatta/EdgeOS configuration tree: immutable nodes, Debian version ordering, set/delete.

Owns: the in-memory shape of an EdgeOS config (intermediate nodes, tag nodes with their
values, single/multi-value leaves, valueless leaves), the sibling order EdgeOS prints, and the
``set``/``delete`` semantics of the EdgeOS CLI. Trees are immutable, so a copy is free.
Must not: parse or render text (``parse.py`` / ``render.py``) or do any I/O.

EdgeOS decides node kinds from its templates; we do not ship templates, so :func:`classify`
uses a small table of names seen in real configs plus structural hints (a word followed by a
value that has children is a tag node, a word followed only by one bare word is a leaf...).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

# ---------------------------------------------------------------------------------------------
# Debian version ordering (APT debVersioningSystem::CmpVersion, used by cstore sort_func_deb_version)

_DIGITS = frozenset("0123456789")


def _order(ch: str) -> int:
    if ch in _DIGITS:
        return 0
    if ch.isascii() and ch.isalpha():
        return ord(ch)
    if ch == "~":
        return -1
    return ord(ch) + 256


def _fragment_key(text: str) -> tuple[object, ...]:
    """Alternating (non-digit part, number) key, ending with a non-digit part.

    Non-digit parts compare char by char with dpkg's ``order`` (``~`` < end < letters <
    others); the part is terminated by 0 so that a shorter part sorts before a longer one
    unless the longer continues with ``~``. Digit runs compare numerically.
    """
    out: list[object] = []
    i, n = 0, len(text)
    while True:
        j = i
        while j < n and text[j] not in _DIGITS:
            j += 1
        out.append((*(_order(c) for c in text[i:j]), 0))
        if j >= n:
            break
        k = j
        while k < n and text[k] in _DIGITS:
            k += 1
        out.append(int(text[j:k]))
        i = k
        if i >= n:
            out.append((0,))
            break
    return tuple(out)


def _split_version(text: str) -> tuple[str, str, str]:
    epoch, colon, rest = text.partition(":")
    if not colon:
        epoch, rest = "", text
    else:
        epoch = epoch.lstrip("0")
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, "0"
    return epoch, upstream, revision


@functools.lru_cache(maxsize=65536)
def deb_version_key(text: str) -> tuple[object, ...]:
    """Sort key giving Debian version order (``eth2`` < ``eth10``, ``A`` < ``a``).

    Ties between different spellings of one version (``1.0`` / ``1.00``) are broken by the
    raw text so the order is total and sorting is independent of insertion order.
    """
    epoch, upstream, revision = _split_version(text)
    return (_fragment_key(epoch), _fragment_key(upstream), _fragment_key(revision), text)


# ---------------------------------------------------------------------------------------------
# Node kinds and the naming knowledge used when the text format does not say the kind


class Kind(StrEnum):
    NODE = "node"  # `name {` … `}` (also a tag value: `static-mapping web01 {`)
    TAG = "tag"  # a tag node: its children are the value nodes
    LEAF = "leaf"  # `name value` (one line per value for multi-value leaves)
    FLAG = "flag"  # valueless leaf: `disable`, `force-public-dns-boost`


# Leaves that keep several values in insertion order. `inet` (static-host-mapping) is multi-valued
# on EdgeOS (an IPv4 and an IPv6 under one host-name; edgeos.md §4.2), unlike upstream VyOS.
MULTI_VALUE_LEAVES: frozenset[str] = frozenset(
    {
        "dns-server", "alias", "inet", "listen-on", "options", "name-server", "global-parameters",
        "shared-network-parameters", "subnet-parameters", "static-mapping-parameters", "exclude",
        "ntp-server", "wins-server", "smtp-server", "pop-server", "time-server", "except-interface",
        "address", "network", "domain-search", "include",
    }
)  # fmt: skip

# Tag nodes: name → schema parents where it is a tag (None: anywhere).
TAG_NODES: dict[str, frozenset[str] | None] = {
    "address-group": frozenset({"group"}),
    "network-group": frozenset({"group"}),
    "port-group": frozenset({"group"}),
    "ipv6-address-group": frozenset({"group"}),
    "ipv6-network-group": frozenset({"group"}),
    "bridge": frozenset({"interfaces"}),
    "ethernet": frozenset({"interfaces"}),
    "loopback": frozenset({"interfaces"}),
    "switch": frozenset({"interfaces"}),
    "bonding": frozenset({"interfaces"}),
    "openvpn": frozenset({"interfaces"}),
    "tunnel": frozenset({"interfaces"}),
    "wireguard": frozenset({"interfaces"}),
    "pseudo-ethernet": frozenset({"interfaces"}),
    "l2tpv3": frozenset({"interfaces"}),
    "vti": frozenset({"interfaces"}),
    "name": frozenset({"firewall"}),
    "ipv6-name": frozenset({"firewall"}),
    "modify": frozenset({"firewall"}),
    "ipv6-modify": frozenset({"firewall"}),
    "host-name": frozenset({"static-host-mapping"}),
    "server": frozenset({"ntp"}),
    "source": frozenset({"qos-policy", "traffic-policy", "shaper", "smart-queue"}),
    "domain": frozenset({"forwarding"}),
    "route": frozenset({"static"}),
    "route6": frozenset({"static"}),
    "interface-route": frozenset({"static"}),
    "next-hop": frozenset({"route", "route6"}),
    "next-hop-interface": frozenset({"interface-route"}),
    "host": frozenset({"syslog"}),
    "file": frozenset({"syslog"}),
    "pppoe": frozenset({"ethernet", "vif", "switch", "bridge"}),
    "vif": None,
    "pd": None,
    "class": None,
    "community": None,
    "device": None,
    "facility": None,
    "interface": None,
    "match": None,
    "public-keys": None,
    "repository": None,
    "rule": None,
    "shaper": frozenset({"traffic-policy"}),
    "smart-queue": frozenset({"traffic-control"}),
    "shared-network-name": None,
    "start": None,
    "static-mapping": None,
    "subnet": None,
    "task": None,
    "user": None,
    "peer": None,
    "esp-group": None,
    "ike-group": None,
    "proposal": None,
    "prefix": frozenset({"router-advert"}),
    "destination-subnet": frozenset({"static-route"}),
}

# Nodes that exist with no children and print as `name {` `}` rather than a bare word
# (name → schema parents, None: anywhere).
CONTAINERS: dict[str, frozenset[str] | None] = {
    **dict.fromkeys(("firewall", "interfaces", "service", "system", "protocols"), frozenset({""})),
    **dict.fromkeys(
        ("gui", "ssh", "dns", "dhcp-server", "nat", "upnp2", "unms", "snmp"), frozenset({"service"})
    ),
    **dict.fromkeys(("static-host-mapping", "ntp", "login", "syslog", "offload", "package",
                     "conntrack", "traffic-analysis"), frozenset({"system"})),
    "forwarding": frozenset({"dns"}),
    "traffic-control": None,
    "ip": None,
    "ipv6": None,
}  # fmt: skip

# Plain nodes whose only children may be valueless leaves (so they are not leaves themselves).
NODE_NAMES: frozenset[str] = frozenset({"unms", "p2p", "dhcp-server", "ssh", "gui", "state"})

# Tags that are also leaves under a parent of the same name (`firewall group network-group X {…}`
# vs a rule's `destination group network-group X`): a tag only when a value has children.
AMBIGUOUS_TAGS: frozenset[str] = frozenset(
    {"address-group", "network-group", "port-group", "ipv6-address-group", "ipv6-network-group"}
)

# Valueless leaves: a terminal word with one of these names under a plain node is a flag,
# so its parent is a node and not a leaf holding that word as its value.
FLAG_NAMES: frozenset[str] = frozenset(
    {"system", "force-public-dns-boost", "disable-password-authentication", "enable-default-log",
     "enable-proxy-arp", "no-dhcp-server"}
)  # fmt: skip

_NODE_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


class TreeError(ValueError):
    """A set/delete that EdgeOS would refuse; ``str`` is the EdgeOS wording."""


class InvalidPath(TreeError):
    def __init__(self, message: str = "The specified configuration node is not valid") -> None:
        super().__init__(message)


class NodeExists(TreeError):
    def __init__(self) -> None:
        super().__init__("The specified configuration node already exists")


class NothingToDelete(TreeError):
    def __init__(self, what: str = "node") -> None:
        self.what = what
        super().__init__(f"Nothing to delete (the specified {what} does not exist)")


# A raw word trie (insertion ordered) — the shape of `set` lines before kinds are known.
Raw = dict[str, "Raw"]


def _in_context(table: dict[str, frozenset[str] | None], name: str, schema_parent: str) -> bool:
    if name not in table:
        return False
    parents = table[name]
    return parents is None or schema_parent in parents


def classify(schema_parent: str, name: str, raw: Raw) -> Kind:
    """The kind of node ``name`` (under ``schema_parent``) given the words that follow it."""
    terminal = all(not sub for sub in raw.values())
    if raw and name in TAG_NODES and not (name in AMBIGUOUS_TAGS and terminal):
        parents = TAG_NODES[name]
        if parents is None or schema_parent in parents:
            return Kind.TAG
    if not raw:
        return Kind.NODE if _in_context(CONTAINERS, name, schema_parent) else Kind.FLAG
    if name in NODE_NAMES or schema_parent == "":
        return Kind.NODE
    if name in MULTI_VALUE_LEAVES and terminal:
        return Kind.LEAF
    deep = [word for word, sub in raw.items() if sub]
    if deep:
        if any(not _NODE_NAME.match(word) for word in deep):
            return Kind.TAG
        return Kind.NODE
    if all(word in FLAG_NAMES or _in_context(CONTAINERS, word, name) for word in raw):
        return Kind.NODE
    return Kind.LEAF


# ---------------------------------------------------------------------------------------------
# Nodes


def _node_key(node: Node) -> tuple[object, ...]:
    return node.sort_key


@dataclass(frozen=True)
class Node:
    """One config node. Tag nodes hold their values as ``Kind.NODE`` children."""

    name: str
    kind: Kind = Kind.NODE
    children: tuple[Node, ...] = ()
    values: tuple[str, ...] = ()
    multi: bool = field(default=False, compare=False)
    inactive: bool = False  # `!` marker in config.boot (deactivated)

    def _find(self, name: str) -> tuple[int, bool]:
        """(position of ``name`` among the sorted children, whether a child has that name).

        Children are always in Debian version order (``make_node`` / ``with_child`` keep it) and
        the key is unique per name, so a binary search is exact: O(log n) per lookup, which keeps
        a tag node with 20,000 values (host names, static mappings) cheap to read and to change.
        """
        kids = self.children
        i = bisect.bisect_left(kids, deb_version_key(name), key=_node_key)
        return i, i < len(kids) and kids[i].name == name

    def child(self, name: str) -> Node | None:
        i, found = self._find(name)
        return self.children[i] if found else None

    def with_child(self, node: Node) -> Node:
        """A copy with ``node`` added or replacing the child of the same name, kept sorted."""
        kids = self.children
        i, found = self._find(node.name)
        # two slices and one concatenation: a single copy of the sibling tuple
        return self._with_children(kids[:i] + (node,) + kids[i + 1 if found else i :])  # noqa: RUF005

    def without_child(self, name: str) -> Node:
        i, found = self._find(name)
        if not found:
            return self
        return self._with_children(self.children[:i] + self.children[i + 1 :])

    def _with_children(self, children: tuple[Node, ...]) -> Node:
        """A copy with other children, keeping the computed sort key. Applying a batch of lines
        copies a path of nodes per line: the constructor is ~5x cheaper than ``dataclasses.replace``
        and the copy need not compute its ``deb_version_key`` again."""
        node = Node(self.name, self.kind, children, self.values, self.multi, self.inactive)
        if "sort_key" in self.__dict__:
            node.__dict__["sort_key"] = self.__dict__["sort_key"]
        return node

    @functools.cached_property
    def sort_key(self) -> tuple[object, ...]:
        """``deb_version_key(name)``, kept on the node: binary searches read it ~15 times per lookup."""
        return deb_version_key(self.name)

    @property
    def value(self) -> str | None:
        """The (first) value of a leaf, None otherwise."""
        return self.values[0] if self.values else None


def make_node(
    name: str,
    kind: Kind,
    children: Iterable[Node] = (),
    values: Sequence[str] = (),
    *,
    inactive: bool = False,
) -> Node:
    """A node with children sorted in Debian version order (values keep their order)."""
    kids = tuple(sorted(children, key=_node_key))
    vals = tuple(values)
    multi = kind is Kind.LEAF and (name in MULTI_VALUE_LEAVES or len(vals) > 1)
    return Node(name, kind, kids, vals, multi, inactive)


def _from_raw(schema_parent: str, name: str, raw: Raw, *, is_value: bool = False) -> Node:
    if is_value:
        kids = [_from_raw(schema_parent, w, sub) for w, sub in raw.items()]
        return make_node(name, Kind.NODE, kids)
    kind = classify(schema_parent, name, raw)
    if kind is Kind.TAG:
        return make_node(name, kind, [_from_raw(name, w, sub, is_value=True) for w, sub in raw.items()])
    if kind is Kind.LEAF:
        if any(raw.values()):
            raise InvalidPath()
        return make_node(name, kind, values=list(raw))
    if kind is Kind.FLAG:
        return make_node(name, kind)
    return make_node(name, kind, [_from_raw(name, w, sub) for w, sub in raw.items()])


def _chain(words: Sequence[str]) -> Raw:
    raw: Raw = {}
    for word in reversed(words):
        raw = {word: raw}
    return raw


# ---------------------------------------------------------------------------------------------
# Tree


@dataclass(frozen=True)
class Tree:
    """A whole configuration. Immutable: ``set``/``delete`` return a new tree."""

    root: Node = field(default_factory=lambda: Node("", Kind.NODE))

    @classmethod
    def empty(cls) -> Tree:
        return cls()

    @classmethod
    def from_raw(cls, raw: Raw) -> Tree:
        """Build a tree from a word trie (the shape of ``set`` lines), classifying every node."""
        kids = [_from_raw("", w, sub) for w, sub in raw.items()]
        return cls(make_node("", Kind.NODE, kids))

    def copy(self) -> Tree:
        return self  # immutable: sharing is safe

    def __bool__(self) -> bool:
        return bool(self.root.children)

    # -- reading ------------------------------------------------------------------------------
    def node(self, words: Sequence[str]) -> Node | None:
        """The node at ``words`` (a tag value path ends at the value node), or None.

        A path ending in a leaf value returns the leaf if it holds that value.
        """
        node = self.root
        i = 0
        while i < len(words):
            if node.kind in (Kind.NODE, Kind.TAG):
                nxt = node.child(words[i])
                if nxt is None:
                    return None
                node = nxt
                i += 1
            elif node.kind is Kind.LEAF:
                return node if i == len(words) - 1 and words[i] in node.values else None
            else:
                return None
        return node

    get = node

    def exists(self, words: Sequence[str]) -> bool:
        return self.node(words) is not None

    def values(self, words: Sequence[str]) -> tuple[str, ...]:
        """The values of the leaf at ``words`` (empty if absent or not a leaf)."""
        node = self.node(words)
        return node.values if node is not None and node.kind is Kind.LEAF else ()

    def value(self, words: Sequence[str]) -> str | None:
        vals = self.values(words)
        return vals[0] if vals else None

    def tag_values(self, words: Sequence[str]) -> tuple[Node, ...]:
        """The value nodes of the tag node at ``words`` (empty if absent)."""
        node = self.node(words)
        return node.children if node is not None and node.kind is Kind.TAG else ()

    def walk(self) -> Iterator[tuple[tuple[str, ...], Node]]:
        """Every node depth-first in tree order, with its path (tag values included)."""

        def rec(path: tuple[str, ...], node: Node) -> Iterator[tuple[tuple[str, ...], Node]]:
            for child in node.children:
                cpath = (*path, child.name)
                yield cpath, child
                yield from rec(cpath, child)

        yield from rec((), self.root)

    def commands(self) -> Iterator[tuple[str, ...]]:
        """The word paths of ``show configuration commands``: one per leaf value / childless node."""

        def rec(path: tuple[str, ...], node: Node) -> Iterator[tuple[str, ...]]:
            for child in node.children:
                cpath = (*path, child.name)
                if child.kind is Kind.LEAF:
                    for v in child.values:
                        yield (*cpath, v)
                elif not child.children:
                    yield cpath
                else:
                    yield from rec(cpath, child)

        yield from rec((), self.root)

    # -- changing -----------------------------------------------------------------------------
    def set(self, words: Sequence[str]) -> Tree:
        """``set <words>``; raises NodeExists when nothing would change, InvalidPath on a bad path."""
        if not words:
            raise InvalidPath("Need to specify the config node to set")
        new_root = _set(self.root, "", list(words), parent_is_tag=False)
        if new_root is self.root:
            raise NodeExists()
        return Tree(new_root)

    def delete(self, words: Sequence[str]) -> Tree:
        """``delete <words>``; raises NothingToDelete when the path or value is absent."""
        if not words:
            raise InvalidPath("Need to specify the config node to delete")
        return Tree(_delete(self.root, list(words)))


def _set(node: Node, schema_parent: str, words: list[str], *, parent_is_tag: bool) -> Node:
    """Return ``node`` with ``words`` set below it (``node`` is NODE or TAG)."""
    word, rest = words[0], words[1:]
    existing = node.child(word)
    if node.kind is Kind.TAG:
        # ``word`` is a tag value
        if existing is None:
            return node.with_child(_from_raw(node.name, word, _chain(rest), is_value=True))
        if not rest:
            return node
        sub = _set(existing, node.name, rest, parent_is_tag=True)
        return node if sub is existing else node.with_child(sub)
    child_schema_parent = schema_parent if parent_is_tag else node.name
    if existing is None:
        new = _from_raw(child_schema_parent, word, _chain(rest))
        return node.with_child(new)
    if existing.kind is Kind.LEAF:
        if not rest:
            raise InvalidPath("The specified configuration node requires a value")
        if len(rest) > 1:
            raise InvalidPath()
        value = rest[0]
        if value in existing.values:
            return node
        if existing.multi:
            return node.with_child(replace(existing, values=(*existing.values, value)))
        return node.with_child(replace(existing, values=(value,)))
    if existing.kind is Kind.FLAG:
        if rest:
            raise InvalidPath()
        return node
    if not rest:
        return node
    sub = _set(existing, word, rest, parent_is_tag=False)
    return node if sub is existing else node.with_child(sub)


def _delete(node: Node, words: list[str]) -> Node:
    word, rest = words[0], words[1:]
    existing = node.child(word)
    if existing is None:
        raise NothingToDelete("node")
    if not rest:
        out = node.without_child(word)
    elif existing.kind is Kind.LEAF:
        if len(rest) > 1:
            raise InvalidPath()
        if rest[0] not in existing.values:
            raise NothingToDelete("value")
        vals = tuple(v for v in existing.values if v != rest[0])
        out = node.with_child(replace(existing, values=vals)) if vals else node.without_child(word)
    elif existing.kind is Kind.FLAG:
        raise InvalidPath()
    else:
        sub = _delete(existing, rest)
        # a tag node without values does not exist
        gone = sub.kind is Kind.TAG and not sub.children
        out = node.without_child(word) if gone else node.with_child(sub)
    return out

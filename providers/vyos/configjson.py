"""VyOS's JSON view of a config tree (``show configuration json``, API ``showConfig``) and back.

Owns: tree → JSON (a tag node is an object keyed by its values, a single-value leaf a string, a
multi-value leaf always a list, a valueless node ``{}``: vyos.md §4) and JSON → tree (through the
Vyatta library's word trie, so node kinds are decided as for every other text), and grafting one
subtree of a tree into another (a commit that lands one subsystem at a time), and VyOS's node
kinds where the library's EdgeOS-learnt classification differs (``normalize``: a DHCP ``range``
is a tag node with ``start``/``stop`` leaves, never EdgeOS's ``start <ip> stop <ip>`` tag).
Must not: do I/O or know the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from providers.vyatta.tree import Kind, Node, Raw, Tree, make_node

JSON = dict[str, Any]


def node_json(node: Node) -> Any:
    """The JSON of one node's content (its children, or its value(s))."""
    if node.kind is Kind.LEAF:
        return list(node.values) if node.multi else (node.values[0] if node.values else "")
    return {child.name: node_json(child) for child in node.children}


def tree_json(tree: Tree, path: Sequence[str] = ()) -> Any:
    """The JSON under ``path`` (``[]``: the whole config), None when nothing is there."""
    node = tree.node(list(path)) if path else tree.root
    if node is None:
        return None
    return node_json(node)


def _raw(data: Any) -> Raw:
    if isinstance(data, Mapping):
        return {str(k): _raw(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return {str(v): {} for v in data}
    return {str(data): {}}


def json_tree(data: Mapping[str, Any], path: Sequence[str] = ()) -> Tree:
    """The tree holding ``data`` under ``path`` (``showConfig`` of ``path``)."""
    raw: Raw = _raw(data)
    for word in reversed(path):
        raw = {word: raw}
    return normalize(Tree.from_raw(raw))


def normalize(tree: Tree) -> Tree:
    """``tree`` with VyOS's node kinds under ``service dhcp-server`` (unchanged elsewhere)."""
    service = tree.root.child("service")
    dhcp = service.child("dhcp-server") if service is not None else None
    if dhcp is None:
        return tree
    fixed = _fix(dhcp, "")
    if fixed == dhcp:
        return tree
    return Tree(tree.root.with_child(service.with_child(fixed)))  # type: ignore[union-attr]


def _fix(node: Node, parent: str) -> Node:
    if node.name == "range" and parent == "subnet" and node.kind is Kind.NODE and node.children:
        node = replace(node, kind=Kind.TAG)
    leafy = node.kind is Kind.TAG and all(not c.children for c in node.children)
    if node.name in ("start", "stop") and parent == "range" and leafy:
        return make_node(node.name, Kind.LEAF, values=[c.name for c in node.children])
    if node.kind is Kind.TAG:  # a tag's values stand for the tag: their children see its name
        kids = tuple(replace(v, children=tuple(_fix(c, node.name) for c in v.children))
                     for v in node.children)
    else:
        kids = tuple(_fix(c, node.name) for c in node.children)
    return node if kids == node.children else replace(node, children=kids)


def graft(base: Tree, donor: Tree, path: Sequence[str]) -> Tree:
    """``base`` with the subtree at ``path`` (plain nodes) taken from ``donor`` (absent there: removed)."""
    return Tree(_graft(base.root, donor.root, list(path)))


def _graft(base: Node, donor: Node | None, path: list[str]) -> Node:
    word, rest = path[0], path[1:]
    theirs = donor.child(word) if donor is not None else None
    if not rest:
        return base.with_child(theirs) if theirs is not None else base.without_child(word)
    mine = base.child(word)
    if mine is None:
        if theirs is None:
            return base
        mine = replace(theirs, children=())
    sub = _graft(mine, theirs, rest)
    return base.without_child(word) if not sub.children and theirs is None else base.with_child(sub)

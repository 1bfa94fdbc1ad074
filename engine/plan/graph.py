"""A generic, deterministic dependency graph (a DAG).

Owns: topological order, levels, reverse order, ancestors/descendants and the report of
every cycle in a stable rotation. Nodes are any sortable, hashable values.
Must not: know about resources, changes or providers.

An edge ``(node, dependency)`` means *node depends on dependency*: the dependency comes first
in :meth:`Graph.order`. Cycles are reported in the same direction (``a -> b`` = a depends on b).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Set
from typing import Any

from core.errors import CycleError

MAX_CYCLES = 50  # a pathological graph has exponentially many cycles; the first ones are enough
_NONE: frozenset[Any] = frozenset()  # every node's deps and users until an edge gives it its own set


class Graph:
    """An immutable DAG. Construction raises :class:`CycleError` listing every cycle.

    ``key`` sorts the nodes within a level (default: the nodes themselves): a plan passes its addresses'
    fields, which sort in C instead of through ``Address``'s comparison methods, in the same order.
    """

    def __init__(self, nodes: Iterable[Hashable], edges: Iterable[tuple[Hashable, Hashable]] = (), *,
                 key: Callable[[Any], Any] | None = None) -> None:
        # Most nodes of a plan have no edge at all: they share one empty set, and a dict of nodes (a plan
        # passes its changes by address) is copied with its keys' hashes, without hashing them again
        self._deps: dict[Any, Set[Any]] = dict.fromkeys(nodes, _NONE)
        for node, dependency in edges:
            deps = self._deps.get(node, _NONE)
            if deps is _NONE:
                deps = self._deps[node] = set()
            deps.add(dependency)  # type: ignore[attr-defined]
            self._deps.setdefault(dependency, _NONE)
        self._users: dict[Any, Set[Any]] = dict.fromkeys(self._deps, _NONE)
        for node, deps in self._deps.items():
            for dep in deps:
                users = self._users[dep]
                if users is _NONE:
                    users = self._users[dep] = set()
                users.add(node)  # type: ignore[attr-defined]
        levels = self._compute_levels(key)
        if levels is None:  # nodes that never became ready: on or behind a cycle
            raise CycleError([[str(n) for n in c] for c in self.cycles()])
        self._levels = levels

    @property
    def nodes(self) -> list[Any]:
        return sorted(self._deps)

    def dependencies(self, node: Hashable) -> list[Any]:
        """Direct dependencies of ``node`` (sorted)."""
        return sorted(self._deps[node])

    def dependents(self, node: Hashable) -> list[Any]:
        """Nodes that depend directly on ``node`` (sorted)."""
        return sorted(self._users[node])

    def _compute_levels(self, key: Callable[[Any], Any] | None) -> list[list[Any]] | None:
        """Kahn's algorithm a level at a time (None when a cycle leaves nodes that never become ready)."""
        waiting = {n: len(deps) for n, deps in self._deps.items() if deps}
        # Taking the whole ready set at once, sorted, makes the order independent of
        # insertion order and hash seeds.
        level = sorted((n for n, deps in self._deps.items() if not deps), key=key)
        # the nodes of the level that have users: for the first level, found among the few nodes that have
        # any (not a look-up per node: a plan's nodes are addresses, hashed by a Python method)
        senders = [n for n, users in self._users.items() if users and not self._deps[n]]
        levels: list[list[Any]] = []
        placed = 0
        while level:
            levels.append(level)
            placed += len(level)
            ready = []
            for node in senders:
                for user in self._users[node]:
                    waiting[user] -= 1
                    if waiting[user] == 0:
                        ready.append(user)
            level = senders = sorted(ready, key=key)
        return levels if placed == len(self._deps) else None

    def levels(self) -> list[list[Any]]:
        """Groups of nodes whose dependencies are all in earlier groups (each sorted)."""
        return [list(level) for level in self._levels]

    def order(self) -> list[Any]:
        """Every node after all of its dependencies; deterministic."""
        return [n for level in self._levels for n in level]

    def reverse_order(self) -> list[Any]:
        """Every node before all of its dependencies (the order for deletes)."""
        return [n for level in reversed(self._levels) for n in level]

    def descendants(self, node: Hashable) -> set[Any]:
        """Everything that depends on ``node``, directly or not (skipped when it fails)."""
        return self._walk(node, self._users)

    def ancestors(self, node: Hashable) -> set[Any]:
        """Everything ``node`` depends on, directly or not."""
        return self._walk(node, self._deps)

    @staticmethod
    def _walk(start: Hashable, adjacency: dict[Any, set[Any]]) -> set[Any]:
        seen: set[Any] = set()
        stack = list(adjacency[start])
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(adjacency[node])
        return seen

    def cycles(self) -> list[list[Any]]:
        """Every elementary cycle, each rotated to start at its smallest node, sorted."""
        found: list[list[Any]] = []
        for component in _strongly_connected(self._deps):
            found.extend(_cycles_in(component, self._deps))
        return sorted(found)[:MAX_CYCLES]


def _strongly_connected(deps: dict[Any, set[Any]]) -> list[set[Any]]:
    """Tarjan's algorithm (iterative); only components that contain a cycle."""
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    on_stack: set[Any] = set()
    stack: list[Any] = []
    out: list[set[Any]] = []
    counter = 0
    for root in sorted(deps):
        if root in index:
            continue
        work: list[tuple[Any, list[Any]]] = [(root, sorted(deps[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop(0)
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(deps[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[Any] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in deps[node]:
                    out.append(component)
    return out


def _cycles_in(component: set[Any], deps: dict[Any, set[Any]]) -> list[list[Any]]:
    """Elementary cycles of one component: for each start node, paths back to it through
    larger nodes only, so every cycle is found exactly once, starting at its smallest node."""
    cycles: list[list[Any]] = []
    for start in sorted(component):
        path = [start]
        stack = [iter(sorted(n for n in deps[start] if n in component and n >= start))]
        while stack and len(cycles) < MAX_CYCLES:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                path.pop()
            elif nxt == start:
                cycles.append(list(path))
            elif nxt not in path:
                path.append(nxt)
                stack.append(iter(sorted(n for n in deps[nxt] if n in component and n >= start)))
    return cycles

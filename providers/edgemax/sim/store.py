"""The simulated router's state: its configs, leases, command log and fault switches.

Owns: thin adapters over the shared ``tree``/``parse``/``render``/``leases`` modules (boot and
show rendering, set/delete on a working tree, EdgeOS's `compare` diff), ``Faults``, ``SimLog``
and ``Router`` (active config, saved file, leases, hostname).
Must not: parse or render configuration itself, validate commands (``simrules`` does) or do I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

# the lease table's rendering and records are loaded with the simulator, not by its first `show dhcp
# leases` (a router answers that at once; a benchmark's first read would time the import instead)
from providers.edgemax.leases import Lease, render_show_leases
from providers.edgemax.sim.rules import Rejected
from providers.vyatta import render as _render
from providers.vyatta import tree as _tree

if TYPE_CHECKING:
    from providers.edgemax.sim.shell import Shell


def parse_boot(text: str) -> _tree.Tree:
    from providers.vyatta.parse import parse_boot as _parse_boot

    return _parse_boot(text)


def render_commands(tree: _tree.Tree) -> str:
    return _render.render_commands(tree)


def render_boot(tree: _tree.Tree) -> str:
    return _render.render_boot(tree)


def render_show(tree: _tree.Tree, *, path: Sequence[str] = (), masked: bool = True) -> str:
    """`show configuration` (masked) or config-mode `show [path]` (a space diff column per line)."""
    if path:
        node = tree.node(list(path))
        if node is None:
            return ""
        tree = _tree.Tree(_tree.make_node("", _tree.Kind.NODE, node.children))
    text = _render.render_show(tree) if masked else _render.render_boot(tree, version_trailer=False)
    return text if masked else "".join(f" {ln}\n" for ln in text.splitlines())


def set_path(tree_holder: Shell, words: Sequence[str]) -> bool:
    """``set``: False when the node already exists (EdgeOS: a success that changes nothing)."""
    try:
        tree_holder.working = tree_holder.working.set(list(words))
    except _tree.NodeExists:
        return False
    except _tree.TreeError as exc:
        raise Rejected(str(exc), "Set failed") from None
    return True


def delete_path(tree_holder: Shell, words: Sequence[str]) -> str | None:
    """``delete``: the "Nothing to delete" message when the node/value is absent, else None."""
    try:
        tree_holder.working = tree_holder.working.delete(list(words))
    except _tree.NothingToDelete as exc:
        return str(exc)
    except _tree.TreeError as exc:
        raise Rejected(str(exc), "Delete failed") from None
    return None


def render_leases(leases: Sequence[Any]) -> str:
    return render_show_leases(list(leases))


def leases_from_json(data: Any) -> list[Any]:
    return [item if isinstance(item, Lease) else Lease(**item) for item in data]


def subtree(tree: _tree.Tree, path: str) -> _tree.Node | None:
    return tree.node(path.split())


def _render_lines(node: _tree.Node) -> list[str]:
    return _render.render_boot(
        _tree.Tree(_tree.make_node("", _tree.Kind.NODE, [node])), version_trailer=False
    ).splitlines()


def diff(old: _tree.Tree, new: _tree.Tree) -> str:
    """`compare`: EdgeOS's context diff (edgeos.md §2.7) of two trees, empty when equal."""
    out: list[str] = []
    context: list[str | None] = [None]

    def emit(path: tuple[str, ...], marker: str, lines: list[str]) -> None:
        head = f"[edit {' '.join(path)}]" if path else "[edit]"
        if context[0] != head:
            out.append(head)
            context[0] = head
        out.extend(marker + ln for ln in lines)

    def walk(path: tuple[str, ...], o: _tree.Node, n: _tree.Node) -> None:
        names = sorted({c.name for c in o.children} | {c.name for c in n.children}, key=_tree.deb_version_key)
        for name in names:
            oc, nc = o.child(name), n.child(name)
            if oc == nc:
                continue
            if o.kind is _tree.Kind.TAG:  # oc / nc are tag values: render them under their tag
                if oc is None or nc is None:
                    node = nc if oc is None else oc
                    holder = _tree.make_node(o.name, _tree.Kind.TAG, [node])
                    emit(path[:-1], "+" if oc is None else "-", _render_lines(holder))
                else:
                    walk((*path, name), oc, nc)
            elif oc is None or nc is None:
                emit(path, "+" if oc is None else "-", _render_lines(nc if oc is None else oc))
            elif oc.kind is _tree.Kind.LEAF and nc.kind is _tree.Kind.LEAF and not (oc.multi or nc.multi):
                emit(path, ">", _render_lines(nc))
            elif oc.kind is _tree.Kind.LEAF or nc.kind is _tree.Kind.LEAF:
                gone = [v for v in oc.values if v not in nc.values]
                new = [v for v in nc.values if v not in oc.values]
                if gone:
                    emit(path, "-", _render_lines(_tree.make_node(name, _tree.Kind.LEAF, values=gone)))
                if new:
                    emit(path, "+", _render_lines(_tree.make_node(name, _tree.Kind.LEAF, values=new)))
            else:
                walk((*path, name), oc, nc)

    walk((), old.root, new.root)
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# faults, log, router state
# ---------------------------------------------------------------------------------------------


@dataclass
class Faults:
    """Switches tests flip at runtime (plain attributes; read by the server thread per command)."""

    drop_after_commands: int | None = None  # answer N more commands, then drop the connection
    fail_next_commit: bool = False  # the next commit fails with ``commit_failure`` (one-shot)
    commit_failure: str = "[ service dhcp-server ]\nFailed to start DHCP server daemon (simulated fault)"
    command_delay: float = 0.0  # the link's latency: a command is answered this long after it arrived
    commit_delay: float = 0.0  # seconds spent inside each commit
    # `compare saved` prints this instead of the diff (a router that refuses the check: an older
    # firmware, a restricted user). A test switch: the wording is whatever the test needs to see
    # refused; edgeos.md §2 names the markers the session treats as a refusal ("Invalid command").
    refuse_compare_saved: str = ""


@dataclass
class SimLog:
    """Everything the router saw; thread-safe, read by tests."""

    entries: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail)
    sessions: int = 0
    commits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, detail: str = "") -> None:
        with self._lock:
            self.entries.append((kind, detail))
            if kind == "session":
                self.sessions += 1
            elif kind == "commit":
                self.commits += 1

    def commands(self) -> list[str]:
        with self._lock:
            return [d for k, d in self.entries if k == "command"]

    def kinds(self, kind: str) -> list[str]:
        with self._lock:
            return [d for k, d in self.entries if k == kind]

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.sessions = 0
            self.commits = 0


class Router:
    """The router's shared state: the active config, the saved file, leases, hostname."""

    def __init__(self, config_boot: str, leases: Sequence[Any], hostname: str) -> None:
        self.lock = threading.RLock()
        self.active = parse_boot(config_boot)
        self.saved_text = config_boot
        self.leases = list(leases)
        self.hostname = hostname
        self.on_commit: Callable[[Any], None] | None = None
        # `static-host-mapping … inet`: multi-valued (VyOS, probably EdgeOS 2.x) or single-valued (every
        # Vyatta template): a second `set … inet` then replaces the first, silently (edgeos.md §11.5)
        self.inet_multi = True

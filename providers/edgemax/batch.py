"""The batched push's pure half: one reply per line of a batch, and the check of `compare`.

Owns: splitting what the router printed for a batch of `set`/`delete` lines sent in one go into
one reply per line (each line's reply ends with its own `[edit]` prompt), finding the first line
the router refused, and checking the router's `compare` against exactly the change the lines
were meant to make (the configuration as read, with the lines applied by ``tree``).
Must not: do I/O (``session`` sends and reads) or decide what to change (``commands``).

Why a batch is safe: EdgeOS runs typed-ahead lines one by one and prints the two-line config
prompt after each (edgeos.md §1.3), so the n-th prompt closes the n-th line's reply. A terminal
may echo typed-ahead lines out of place; a line is only batched when its echo can neither look
like a prompt nor hold an error marker (``batchable``), so an echo never moves a reply or fakes
an error. Whatever a reply may hide, `compare` must then match the intended change exactly or
the session is discarded.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from providers.vyatta.parse import split_command_words
from providers.vyatta.tree import Kind, Node, NodeExists, NothingToDelete, Tree, TreeError

# `[edit…]` + newline + `user@host# ` (edgeos.md §1.3); not anchored at a line start, because an
# echo of the next typed-ahead line may follow the prompt on the same line.
CONFIG_PROMPT = re.compile(r"\[edit[^\]\r\n]*\]\r?\n[A-Za-z0-9._\-]{1,64}@[A-Za-z0-9._\-]{1,64}# ?")


def batchable(line: str, markers: Sequence[str]) -> bool:
    """Whether ``line``'s echo can never be taken for a prompt or for an error message."""
    return "[edit" not in line and "\n" not in line and "\r" not in line and not any(
        m in line for m in markers
    )


def count_prompts(text: str) -> int:
    return sum(1 for _ in CONFIG_PROMPT.finditer(text))


def replies(text: str, count: int) -> list[str]:
    """The first ``count`` replies in ``text``: what came before each config prompt."""
    out: list[str] = []
    start = 0
    for match in CONFIG_PROMPT.finditer(text):
        if len(out) == count:
            break
        out.append(text[start : match.start()])
        start = match.end()
    return out


@dataclass(frozen=True)
class Echoes:
    """The lines of a batch, indexed to find their echoes (whole, or cut where a read ended)."""

    known: frozenset[str]
    sizes: tuple[int, ...]  # distinct lengths, longest first
    ordered: tuple[str, ...]  # sorted: a prefix of a line is found by bisection
    reversed_: tuple[str, ...]  # the lines reversed, sorted: the same for a suffix

    @classmethod
    def of(cls, sent: Sequence[str]) -> Echoes:
        known = frozenset(sent)
        return cls(known, tuple(sorted({len(x) for x in known}, reverse=True)), tuple(sorted(known)),
                   tuple(sorted(x[::-1] for x in known)))

    def is_prefix(self, text: str) -> bool:
        i = bisect.bisect_left(self.ordered, text)
        return i < len(self.ordered) and self.ordered[i].startswith(text)

    def is_suffix(self, text: str) -> bool:
        rev = text[::-1]
        i = bisect.bisect_left(self.reversed_, rev)
        return i < len(self.reversed_) and self.reversed_[i].startswith(rev)


def reply_text(reply: str, sent: Sequence[str] | Echoes) -> str:
    """One reply without CRs, blank lines and echoes of lines of the batch: whole echoes, and the
    pieces of one cut where a read ended (a prefix at a line's end, a suffix at its start)."""
    echoes = sent if isinstance(sent, Echoes) else Echoes.of(sent)
    body = reply.replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []
    for raw in body.split("\n"):
        line = _without_echoes(raw, echoes)
        head = _first_verb(line, 0)
        if head > 0 and echoes.is_suffix(line[:head]):
            line = line[head:]
        elif head < 0 and line and echoes.is_suffix(line):
            line = ""
        tail = max(line.rfind("set "), line.rfind("delete "))
        if tail >= 0 and echoes.is_prefix(line[tail:]):
            line = line[:tail]
        if line.strip():
            kept.append(line.strip())
    return "\n".join(kept)


def _first_verb(line: str, start: int) -> int:
    found = [p for p in (line.find("set ", start), line.find("delete ", start)) if p >= 0]
    return min(found) if found else -1


def _without_echoes(line: str, echoes: Echoes) -> str:
    """``line`` without the whole echoes in it. Linear in the line's length: typed-ahead echoes
    arrive glued into one long line (a read's worth), so each verb is searched for once, onwards
    from where it was last found, never again from the start."""
    out, i = [], 0
    at_set, at_delete = line.find("set "), line.find("delete ")
    while True:
        if 0 <= at_set < i:
            at_set = line.find("set ", i)
        if 0 <= at_delete < i:
            at_delete = line.find("delete ", i)
        p = at_set if at_delete < 0 else at_delete if at_set < 0 else min(at_set, at_delete)
        if p < 0:
            break
        size = next((n for n in echoes.sizes if line[p : p + n] in echoes.known), 0)
        out.append(line[i : p + (0 if size else 1)])
        i = p + (size or 1)
    out.append(line[i:])
    return "".join(out)


def first_refused(texts: Sequence[str], markers: Sequence[str]) -> int | None:
    """Index of the first reply holding an error marker."""
    for i, text in enumerate(texts):
        if any(m in text for m in markers):
            return i
    return None


# ---------------------------------------------------------------------------------------------
# `compare` against the intended change


@dataclass(frozen=True)
class Change:
    """A change as word paths (the shape of `show configuration commands` lines)."""

    added: frozenset[tuple[str, ...]]
    removed: frozenset[tuple[str, ...]]
    replaced: frozenset[tuple[str, ...]]  # single-value leaves given a new value (`>` in compare)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.replaced)


def intended(before: Tree, lines: Sequence[str]) -> tuple[Change, Tree] | str:
    """The change ``lines`` make to ``before`` as EdgeOS's `set`/`delete` do (``tree``) and the
    configuration after it, or why it cannot be modelled (then the caller must not commit)."""
    after = before
    for line in lines:
        try:
            verb, *words = split_command_words(line)
        except ValueError as exc:
            return f"cannot read line {line!r}: {exc}"
        try:
            after = after.set(words) if verb == "set" else after.delete(words)
        except (NodeExists, NothingToDelete):
            continue  # "already exists" / "Nothing to delete": no change, as on the router
        except TreeError:
            return f"line {line!r} does not apply to the configuration as read"
    old, new = _Walk(), _Walk()
    _changed_commands((), before.root, after.root, old, new)
    added, removed = new.paths - old.paths, old.paths - new.paths
    # a node that only became (or stopped being) childless did not appear or vanish
    added -= {p for p in new.empty & added if before.exists(p)}
    removed -= {p for p in old.empty & removed if after.exists(p)}
    replaced = set()
    for path in list(added):
        leaf = path[:-1]
        was, now = old.leaves.get(leaf), new.leaves.get(leaf)
        if was is not None and now is not None and not was.multi and not now.multi:
            replaced.add(path)
            added.discard(path)
            removed -= {(*leaf, v) for v in was.values}
    return Change(frozenset(added), frozenset(removed), frozenset(replaced)), after


@dataclass
class _Walk:
    """Command paths of one side of a diff, the childless nodes among them, and the leaves seen."""

    paths: set[tuple[str, ...]] = field(default_factory=set)
    empty: set[tuple[str, ...]] = field(default_factory=set)
    leaves: dict[tuple[str, ...], Node] = field(default_factory=dict)


def _commands(path: tuple[str, ...], node: Node | None, out: _Walk) -> None:
    """``Tree.commands()`` of the subtree ``node`` at ``path`` (``node`` itself included)."""
    if node is None:
        return
    if node.kind is Kind.LEAF:
        out.paths.update((*path, v) for v in node.values)
        out.leaves[path] = node
    elif not node.children:
        out.paths.add(path)
        out.empty.add(path)
    else:
        for child in node.children:
            _commands((*path, child.name), child, out)


def _changed_commands(path: tuple[str, ...], old: Node, new: Node, old_out: _Walk, new_out: _Walk) -> None:
    """The command paths of the parts of two trees that differ. Trees are immutable and `set` /
    `delete` copy only the path they change, so an untouched subtree is the same object in both:
    skipping those keeps this proportional to the change, not to the configuration."""
    if old is new:
        return
    if old.kind is Kind.LEAF or new.kind is Kind.LEAF or not old.children or not new.children:
        _commands(path, old, old_out)
        _commands(path, new, new_out)
        return
    new_kids = {c.name: c for c in new.children}
    for child in old.children:
        other = new_kids.pop(child.name, None)
        if other is None:
            _commands((*path, child.name), child, old_out)
        else:
            _changed_commands((*path, child.name), child, other, old_out, new_out)
    for name, child in new_kids.items():
        _commands((*path, name), child, new_out)


def _unquote(word: str) -> str:
    return word[1:-1] if len(word) >= 2 and word[0] == word[-1] == '"' else word


def _words(body: str) -> list[str]:
    name, _, value = body.partition(" ")
    return [name, _unquote(value)] if value else [name]


def parse_compare(text: str) -> Change | str:
    """The router's `compare` (edgeos.md §2.7) as word paths, or why it cannot be read."""
    added: set[tuple[str, ...]] = set()
    removed: set[tuple[str, ...]] = set()
    replaced: set[tuple[str, ...]] = set()
    sets = {"+": added, "-": removed, ">": replaced}
    context: list[str] = []
    stack: list[tuple[list[str], bool]] = []  # open `{` nodes: (words, whether they had children)
    for raw in text.replace("\r", "").split("\n"):
        if not raw.strip():
            continue
        if raw.startswith("[edit") and raw.rstrip().endswith("]"):
            context = raw.strip()[len("[edit") : -1].split()
            stack = []
            continue
        marker, body = raw[0], raw[1:]
        if marker not in sets:
            return f"unexpected line in compare: {raw!r}"
        depth = (len(body) - len(body.lstrip(" "))) // 4
        body = body.strip()
        if body == "}":
            if not stack:
                return f"unbalanced '}}' in compare: {raw!r}"
            words, had_children = stack.pop()
            if not had_children:
                sets[marker].add((*context, *(w for ws, _ in stack for w in ws), *words))
            continue
        del stack[depth:]
        if stack:
            stack[-1] = (stack[-1][0], True)
        prefix = [w for ws, _ in stack for w in ws]
        if body.endswith(" {"):
            stack.append((body[:-2].split(), False))
            continue
        sets[marker].add((*context, *prefix, *_words(body)))
    return Change(frozenset(added), frozenset(removed), frozenset(replaced))


def compare_problem(compare: str, expected: Change) -> str | None:
    """None when `compare` shows exactly ``expected``; else what differs (for the error message)."""
    got = parse_compare(compare)
    if isinstance(got, str):
        return got
    if got == expected:
        return None
    diffs = []
    for what, have, want in (("added", got.added, expected.added), ("removed", got.removed, expected.removed),
                             ("changed", got.replaced, expected.replaced)):
        extra, missing = sorted(have - want), sorted(want - have)
        if extra:
            diffs.append(f"unexpectedly {what}: {' '.join(extra[0])}" + (f" (+{len(extra) - 1} more)"
                                                                          if len(extra) > 1 else ""))
        if missing:
            diffs.append(f"not {what}: {' '.join(missing[0])}" + (f" (+{len(missing) - 1} more)"
                                                                   if len(missing) > 1 else ""))
    return "; ".join(diffs)

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

import re
from collections.abc import Sequence
from dataclasses import dataclass

from providers.edgemax.parse import split_command_words
from providers.edgemax.tree import Kind, NodeExists, NothingToDelete, Tree, TreeError

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


def reply_text(reply: str, sent: Sequence[str]) -> str:
    """One reply without CRs, blank lines and echoes of lines of the batch."""
    body = reply.replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []
    for raw in body.split("\n"):
        line = raw
        for echo in sent:
            if echo and echo in line:
                line = line.replace(echo, "")
        if line.strip():
            kept.append(line.strip())
    return "\n".join(kept)


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
    old, new = set(before.commands()), set(after.commands())
    # a node that only became (or stopped being) childless did not appear or vanish
    added = {p for p in new - old if not before.exists(p)}
    removed = {p for p in old - new if not after.exists(p)}
    replaced = set()
    for path in list(added):
        leaf = path[:-1]
        was, now = before.node(leaf), after.node(leaf)
        if (was is not None and now is not None and was.kind is Kind.LEAF and now.kind is Kind.LEAF
                and not was.multi and not now.multi):
            replaced.add(path)
            added.discard(path)
            removed -= {(*leaf, v) for v in was.values}
    return Change(frozenset(added), frozenset(removed), frozenset(replaced)), after


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

"""Reading a router *file* (a backup, a template) that holds lines netsot cannot parse.

Owns: ``parse_file`` — ``parse.parse_any`` for files given with ``--from-file``, where a line netsot
cannot parse (a template placeholder such as ``${WAN_IP}``, a stray quote) *outside* the subtrees
netsot models (``MODELLED``) is skipped with a warning naming the line, instead of refusing the
whole file; inside them (or where the line's place cannot be told) it stays the error it was.
A skipped line that opens a block (``ethernet ${IF} {``) skips that block.
Must not: be used for what the router itself prints (that is always EdgeOS's own grammar, read
strictly by ``parse.parse_any``), or guess values: a skipped line is gone, never repaired.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.errors import ProviderDataError
from providers.vyatta import parse
from providers.vyatta.tree import Tree

# the subtrees netsot reads (extract.py): a line netsot cannot parse there is an error
MODELLED: tuple[tuple[str, ...], ...] = (
    ("service", "dhcp-server"),
    ("system", "static-host-mapping"),
    ("system", "domain-name"),
)
MAX_SKIPPED = 2000  # a file that is mostly unreadable is not a router config: the error stands
_AT_LINE = re.compile(r"^(?P<line>\d+): (?P<what>.*)$", re.S)  # after "<source>:"
_UNSURE = re.compile(r"['\"{}$`\\]")  # a word holding one of these may not be what it looks like
_COMMENT = re.compile(r"/\*.*?\*/")
# errors about the file's shape, not one line's content: never skipped
_STRUCTURE = ("never closed", "unexpected '}'", "nesting deeper", "contradicts an earlier one")


def _overlaps(path: Sequence[str]) -> bool:
    """Whether ``path`` is inside a modelled subtree, or a prefix of one (its place is unknown)."""
    return any(tuple(path[: len(m)]) == m[: len(path)] for m in MODELLED)


def _set_path(line: str) -> list[str] | None:
    """The words of a `set` line up to the first one that may not be what it looks like."""
    words = line.split()
    if "set" not in words:
        return None
    out = []
    for word in words[words.index("set") + 1 :]:
        if _UNSURE.search(word):
            break
        out.append(word)
    return out


def _tree_path(lines: Sequence[str], index: int) -> list[str] | None:
    """The node words leading to line ``index`` of a config.boot tree (None: cannot tell)."""
    stack: list[list[str]] = []
    for line in lines[:index]:
        text = _COMMENT.sub("", line).strip()
        if not text:
            continue
        if text == "}":
            if not stack:
                return None
            stack.pop()
        elif text.endswith("{"):
            stack.append(text[:-1].replace("!", " ").split())
    here = _COMMENT.sub("", lines[index]).strip().lstrip("!").split()
    head = []
    for word in here[:2]:
        if _UNSURE.search(word):
            break
        head.append(word)
    return [w for words in stack for w in words] + head


def _block_end(lines: Sequence[str], index: int) -> int | None:
    """The index of the line closing the block line ``index`` opens (None: it is never closed)."""
    depth = 0
    for i in range(index, len(lines)):
        text = _COMMENT.sub("", lines[i]).strip()
        depth += text.count("{") - text.count("}")
        if depth <= 0 and i > index:
            return i
    return None


def parse_file(text: str, source: str) -> tuple[Tree, tuple[str, ...]]:
    """(the tree, one warning per skipped line) of a router file in either format."""
    lines = text.removeprefix("\ufeff").split("\n")
    warnings: list[str] = []
    commands = parse.detect(text, source) is parse.Format.COMMANDS
    for _ in range(MAX_SKIPPED):
        try:
            return parse.parse_any("\n".join(lines), source), tuple(warnings)
        except ProviderDataError as err:
            at = _AT_LINE.match(str(err).removeprefix(f"{err.system}: ").removeprefix(f"{source}:"))
            if at is None or not str(err).startswith(f"{err.system}: {source}:"):
                raise
            index = int(at.group("line")) - 1
            if not 0 <= index < len(lines):
                raise
            what = at.group("what")
            if any(s in what for s in _STRUCTURE):
                raise  # the file's shape is broken: skipping could swallow what netsot reads
            path = _set_path(lines[index]) if commands else _tree_path(lines, index)
            if path is None or _overlaps(path):
                raise  # inside what netsot reads, or nowhere to tell: the file is refused
            opens = not commands and _COMMENT.sub("", lines[index]).rstrip().endswith("{")
            end = _block_end(lines, index) if opens else index
            if end is None:
                raise
            skipped = f"lines {index + 1}-{end + 1}" if end > index else f"line {index + 1}"
            if "${" in lines[index] and "placeholder" not in what:
                what = f"a template placeholder ({what})"
            warnings.append(f"{source}:{index + 1}: {what}; skipped {skipped} "
                            f"({' '.join(path) or 'top level'}: outside what netsot reads)")
            for i in range(index, end + 1):
                lines[i] = ""
    raise ProviderDataError("edgemax", f"{source}: more than {MAX_SKIPPED} lines netsot cannot parse")

"""Parsers for EdgeOS configuration text: `show configuration commands` and config.boot.

Owns: turning router/backup text into a :class:`~providers.edgemax.tree.Tree`, and reporting
anything unparseable as ``ProviderDataError("edgemax", "<source>:<line>: <what>")``.
Must not: raise anything else (no tracebacks on bad input), do I/O, or interpret the config
(``extract.py`` does that).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.errors import ProviderDataError
from providers.edgemax.tree import Kind, Node, Raw, Tree, TreeError, make_node

MAX_DEPTH = 64  # far deeper than any real config; keeps recursion bounded on garbage input
MAX_WORDS = 128

_PROMPT = re.compile(r"^[\w.\-]+@[\w.\-]+(?::\S*)?\s*[$#>](?:\s.*)?$")
_EDIT = re.compile(r"^\[edit(?: [^\]]*)?\]$")
_NAME = re.compile(r"[-A-Za-z0-9_]+")
_BLANK = " \t"  # the only separators: other whitespace inside a bare value is part of it


def _safe(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _fail(source: str, lineno: int, what: str) -> ProviderDataError:
    return ProviderDataError("edgemax", f"{source}:{lineno}: {what}")


# ---------------------------------------------------------------------------------------------
# show configuration commands


def split_command_words(text: str) -> list[str]:
    """Split the words of one `set` line (EdgeOS single-quote rules). Raises ValueError."""
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            i += 1
            continue
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ValueError("unterminated single quote")
            if end + 1 < n and text[end + 1] != " ":
                raise ValueError(f"text after a closing quote: {_safe(text[i:])}")
            words.append(text[i + 1 : end])
            i = end + 1
            continue
        end = text.find(" ", i)
        end = n if end < 0 else end
        word = text[i:end]
        if "'" in word:
            raise ValueError(f"stray single quote in {_safe(word)}")
        words.append(word)
        i = end
    return words


def parse_commands(text: str, source: str = "show configuration commands") -> Tree:
    """Parse `show configuration commands` output (prompt lines and `[edit]` are ignored)."""
    raw: Raw = {}
    # split on LF only: VT/FF inside a quoted value must not end the line
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        stripped = line.strip()
        if not stripped or _EDIT.match(stripped) or _PROMPT.match(stripped):
            continue
        if not line.startswith("set "):
            raise _fail(source, lineno, f"expected a 'set' line, got {_safe(stripped)}")
        try:
            words = split_command_words(line[4:])
        except ValueError as exc:
            raise _fail(source, lineno, str(exc)) from None
        if not words:
            raise _fail(source, lineno, "'set' without a path")
        if len(words) > MAX_WORDS:
            raise _fail(source, lineno, f"path longer than {MAX_WORDS} words")
        level = raw
        for word in words:
            level = level.setdefault(word, {})
    try:
        return Tree.from_raw(raw)
    except (TreeError, RecursionError) as exc:
        raise ProviderDataError("edgemax", f"{source}: inconsistent paths ({exc})") from None


# ---------------------------------------------------------------------------------------------
# config.boot / show configuration


def _strip_comments(text: str, source: str) -> str:
    """Blank out `/* … */` comments (outside double quotes), keeping line numbers."""
    out: list[str] = []
    i, n = 0, len(text)
    in_quote = False
    lineno = 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            in_quote = False  # a quote never spans lines; a stray one is reported by the parser
            lineno += 1
            out.append(ch)
            i += 1
        elif in_quote:
            if ch == "\\" and i + 1 < n and text[i + 1] != "\n":
                out.append(text[i : i + 2])
                i += 2
                continue
            if ch == '"':
                in_quote = False
            out.append(ch)
            i += 1
        elif ch == '"':
            in_quote = True
            out.append(ch)
            i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise _fail(source, lineno, "unterminated /* comment")
            comment = text[i : end + 2]
            lineno += comment.count("\n")
            out.append("".join("\n" if c == "\n" else " " for c in comment))
            i = end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@dataclass
class _Builder:
    name: str
    kind: Kind
    lineno: int
    inactive: bool = False
    children: dict[str, _Builder] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)

    def build(self) -> Node:
        if self.kind is Kind.LEAF:
            return make_node(self.name, Kind.LEAF, values=self.values, inactive=self.inactive)
        kids = [c.build() for c in self.children.values()]
        return make_node(self.name, self.kind, kids, inactive=self.inactive)


def _unquote(text: str, source: str, lineno: int) -> str:
    """A `"…"` value (escapes pass through verbatim) or a bare value."""
    if not text.startswith('"'):
        return text
    i, n = 1, len(text)
    while i < n:
        if text[i] == "\\" and i + 1 < n:
            i += 2
            continue
        if text[i] == '"':
            if text[i + 1 :].strip(_BLANK):
                raise _fail(source, lineno, f"text after a closing quote: {_safe(text)}")
            return text[1:i]
        i += 1
    raise _fail(source, lineno, f"unterminated double quote: {_safe(text)}")


def _child(parent: _Builder, name: str, kind: Kind, source: str, lineno: int) -> _Builder:
    existing = parent.children.get(name)
    if existing is None:
        existing = _Builder(name, kind, lineno)
        parent.children[name] = existing
    elif existing.kind is not kind:
        raise _fail(
            source, lineno, f"{_safe(name)} is used both as a {existing.kind.value} and as a {kind.value}"
        )
    return existing


def parse_boot(text: str, source: str = "config.boot") -> Tree:
    """Parse a config.boot file or `show configuration` output into a tree.

    Accepts `/* */` comments anywhere, the `!` deactivated marker, an optional `:` after a
    node name, a missing version trailer, masked secrets and hand-edited order/spacing.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    body = _strip_comments(text, source)
    root = _Builder("", Kind.NODE, 0)
    stack: list[_Builder] = [root]
    for lineno, line in enumerate(body.split("\n"), 1):
        stripped = line.strip(_BLANK + "\r")
        if not stripped:
            continue
        if set(stripped) <= {"}", " ", "\t"}:
            for _ in range(stripped.count("}")):
                if len(stack) == 1:
                    raise _fail(source, lineno, "unexpected '}'")
                stack.pop()
            continue
        inactive = stripped.startswith("!")
        if inactive:
            stripped = stripped[1:].lstrip(_BLANK)
        match = _NAME.match(stripped)
        if not match:
            raise _fail(source, lineno, f"expected a node name, got {_safe(stripped)}")
        name = match.group(0)
        rest = stripped[match.end() :]
        if rest.startswith(":"):
            rest = rest[1:]
        if rest and rest[0] not in " \t{":
            raise _fail(source, lineno, f"invalid node name {_safe(stripped.split(' ')[0])}")
        rest = rest.strip(_BLANK)
        parent = stack[-1]
        closes = False
        if rest.endswith("}") and rest[:-1].rstrip(_BLANK).endswith("{"):
            rest = rest[:-1].rstrip(_BLANK)  # `name {}` / `name value { }` on one line
            closes = True
        if rest.endswith("{"):
            head = rest[:-1].strip(_BLANK)
            if len(stack) > MAX_DEPTH:
                raise _fail(source, lineno, f"nesting deeper than {MAX_DEPTH} levels")
            if not head:
                node = _child(parent, name, Kind.NODE, source, lineno)
            else:
                if not head.startswith('"') and (" " in head or "\t" in head):
                    raise _fail(source, lineno, f"more than one value before '{{': {_safe(stripped)}")
                tag = _child(parent, name, Kind.TAG, source, lineno)
                value = _unquote(head, source, lineno)
                node = tag.children.get(value) or _Builder(value, Kind.NODE, lineno)
                tag.children[value] = node
            node.inactive = node.inactive or inactive
            if not closes:
                stack.append(node)
            continue
        if not rest.startswith('"') and ("{" in rest or "}" in rest):
            raise _fail(source, lineno, f"unexpected brace in {_safe(stripped)}")
        if not rest:
            flag = _child(parent, name, Kind.FLAG, source, lineno)
            flag.inactive = flag.inactive or inactive
            continue
        leaf = _child(parent, name, Kind.LEAF, source, lineno)
        leaf.inactive = leaf.inactive or inactive
        value = _unquote(rest, source, lineno)
        if value not in leaf.values:
            leaf.values.append(value)
    if len(stack) > 1:
        raise _fail(source, stack[-1].lineno, f"{_safe(stack[-1].name)} is never closed (missing '}}')")
    try:
        return Tree(root.build())
    except RecursionError:  # pragma: no cover - bounded by MAX_DEPTH
        raise ProviderDataError("edgemax", f"{source}: nesting too deep") from None

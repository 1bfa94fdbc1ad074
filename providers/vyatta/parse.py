"""Parsers for EdgeOS configuration text: format detection, `show configuration commands`, config.boot.

Owns: telling the formats apart (:func:`detect`: a config.boot / `show configuration` tree, or
`set` lines — a `show configuration commands` dump with or without prompts, `#` comments or a
vbash script frame), turning either into a :class:`~providers.vyatta.tree.Tree`
(:func:`parse_any`), and reporting anything unparseable as
``ProviderDataError("edgemax", "<source>:<line>: <what>")``.
Must not: raise anything else (no tracebacks on bad input), do I/O, or interpret the config
(``extract.py`` does that). A text that is neither format is an error, never an empty router.

The tree grammar is EdgeOS's own (edgeos.md §3.2, UBNT-lex): a node name ``[-A-Za-z0-9_]+`` with
an optional ``!`` (deactivated) before it and ``:`` after it; at most ONE value on its line — a
``"…"`` string (backslash escapes pass through) or a run of non-blank characters not containing
``{``; then optionally ``{`` on the same line. ``/* … */`` comments stand where a node may start
(before a node, before ``}``, at the end), never after a name or value on its line. Stricter than
EdgeOS in one point: a quoted value may not span lines (``set`` refuses newlines in values, so no
router holds one; a stray quote is reported on its own line instead of swallowing the file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from core.errors import ProviderDataError
from providers.vyatta.tree import Kind, Node, Raw, Tree, TreeError, make_node

MAX_DEPTH = 64  # far deeper than any real config; keeps recursion bounded on garbage input
MAX_WORDS = 128

_PROMPT = re.compile(r"^[\w.\-]+@[\w.\-]+(?::\S*)?\s*[$#>](?:\s.*)?$")
_EDIT = re.compile(r"^\[edit(?: [^\]]*)?\]$")
_NAME = re.compile(r"[-A-Za-z0-9_]+")
_BLANK = " \t\v\f\r"  # EdgeOS's lexer: [[:space:]] without the newline
_BARE = re.compile(r"[^ \t\v\f\r\n{]+")
# the frame of a vbash configuration script around its `set` lines (edgeos.md §3.9)
_SCRIPT_FRAME = re.compile(
    r"^(?:source\s+/opt/vyatta/etc/functions/script-template|configure|commit(?:\s.*)?|save|"
    r"exit(?:\s+discard)?|end)$"
)
_WRAPPER = "/opt/vyatta/sbin/vyatta-cfg-cmd-wrapper"
# `CMD=/opt/vyatta/sbin/vyatta-cfg-cmd-wrapper` then `$CMD set …` (scripts do that, edgeos.md §3.9)
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(?:'([^']*)'|\"([^\"$`\\]*)\"|([^\s'\"$`;&|]*))$")
_VAR = re.compile(r"^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))(?=\s|$)")
# a tree's first statement is a top-level node (`system {`) or a comment before one
_TREE_START = re.compile(r"^(?:/\*|!?[ \t]*[-A-Za-z0-9_]+:?[ \t]*\{)")


def _safe(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _fail(source: str, lineno: int, what: str) -> ProviderDataError:
    return ProviderDataError("edgemax", f"{source}:{lineno}: {what}")


# ---------------------------------------------------------------------------------------------
# format detection


class Format(StrEnum):
    TREE = "config.boot tree"  # config.boot, `show configuration`
    COMMANDS = "set commands"  # `show configuration commands`, a vbash script of `set` lines


def _noise(stripped: str) -> bool:
    """Blank lines, terminal prompts and config-mode `[edit]` lines: in neither format's content."""
    return not stripped or bool(_EDIT.match(stripped) or _PROMPT.match(stripped))


def detect(text: str, source: str = "input") -> Format:
    """Which format ``text`` is in, from its first line of content.

    `#` lines (comments, a ``#!/bin/vbash`` shebang) exist only in the `set` format; prompts and
    `[edit]` lines are skipped. Raises ``ProviderDataError`` naming the line when the text is
    neither format, or has no content at all.
    """
    hashed = False
    for lineno, line in enumerate(text.removeprefix("\ufeff").split("\n"), 1):
        stripped = line.strip(_BLANK)
        if _noise(stripped):
            continue
        if stripped.startswith("#"):
            hashed = True
            continue
        if stripped.startswith(("set ", _WRAPPER)) or _SCRIPT_FRAME.match(stripped) or _ASSIGN.match(
                stripped):
            return Format.COMMANDS
        if hashed:
            return Format.COMMANDS  # the `set` parser names the line it cannot read
        if _TREE_START.match(stripped):
            return Format.TREE
        raise _fail(
            source, lineno,
            f"not an EdgeOS configuration: expected a config.boot tree ('service {{') or 'set' lines "
            f"('show configuration commands'), got {_safe(stripped)}",
        )
    raise ProviderDataError("edgemax", f"{source}: no configuration in it (empty, or only comments)")


def parse_any(text: str, source: str = "input") -> Tree:
    """Detect the format of ``text`` and parse it (the one entry point for files and router output)."""
    if detect(text, source) is Format.COMMANDS:
        return parse_commands(text, source)
    return parse_boot(text, source)


# ---------------------------------------------------------------------------------------------
# show configuration commands


def _quoted(text: str, i: int, quote: str) -> tuple[str, int]:
    end = text.find(quote, i + 1)
    if end < 0:
        kind = "single" if quote == "'" else "double"
        raise ValueError(f"unterminated {kind} quote")
    if end + 1 < len(text) and text[end + 1] not in " \t":
        raise ValueError(f"text after a closing quote: {_safe(text[i:])}")
    word = text[i + 1 : end]
    if quote == '"' and ("$" in word or "`" in word or "\\" in word):
        raise ValueError(f"shell expansion in a double-quoted word is not supported: {_safe(word)}")
    return word, end + 1


def split_command_words(text: str) -> list[str]:
    """Split the words of one `set` line (EdgeOS single-quote rules). Raises ValueError.

    A hand-written script may also use double quotes (taken literally, no expansion) and end a
    line with a `#` comment (a word starting with `#`; EdgeOS quotes every word containing one).
    """
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
            continue
        if ch == "#":
            break
        if ch in "'\"":
            word, i = _quoted(text, i, ch)
            words.append(word)
            continue
        end = i
        while end < n and text[end] not in " \t":
            end += 1
        word = text[i:end]
        if "'" in word or '"' in word:
            raise ValueError(f"stray quote in {_safe(word)}")
        if "{" in word or "}" in word:
            # EdgeOS quotes every word holding a brace (§3.4); unquoted, the shell splits the path
            raise ValueError(f"unquoted brace in {_safe(word)} (a template placeholder?): quote the value")
        words.append(word)
        i = end
    return words


def _expand(body: str, variables: dict[str, str]) -> str | None:
    """A script line with its leading ``$VAR`` replaced; None for an assignment (recorded)."""
    assign = _ASSIGN.match(body)
    if assign:
        name, *values = assign.groups()
        variables[name] = next(v for v in values if v is not None)
        return None
    var = _VAR.match(body)
    if var is None:
        return body
    name = var.group(1) or var.group(2)
    if name not in variables:
        raise ValueError(f"${name} is not set earlier in the script")
    return variables[name] + body[var.end() :]


def _set_words(line: str, variables: dict[str, str]) -> list[str] | None:
    """The path of a `set` line, None for a script-frame line; raises ValueError for anything else."""
    body = _expand(line.strip(" \t"), variables)
    if body is None:
        return None
    if body.startswith(_WRAPPER):
        body = body[len(_WRAPPER) :].strip(" \t")
        if body in ("begin", "commit", "save", "end") or body.startswith("commit "):
            return None
    if _SCRIPT_FRAME.match(body):
        return None
    verb = body.split(None, 1)[0] if body else ""
    if verb == "delete":
        raise ValueError("a 'delete' line changes a configuration; netsot reads dumps of 'set' lines only")
    if verb != "set":
        raise ValueError(f"expected a 'set' line, got {_safe(body)}")
    words = split_command_words(body[3:])
    if not words:
        raise ValueError("'set' without a path")
    if len(words) > MAX_WORDS:
        raise ValueError(f"path longer than {MAX_WORDS} words")
    return words


def parse_commands(text: str, source: str = "show configuration commands") -> Tree:
    """Parse `set` lines: a `show configuration commands` dump or a vbash script of them.

    Prompt lines, `[edit]`, blank lines, `#` comments (a shebang too) and the script frame
    (`source …script-template`, `configure`, `commit`, `save`, `exit`, the cfg-cmd-wrapper's
    begin/commit/save/end, also through a variable: ``CMD=…wrapper`` then ``$CMD set …``) are
    skipped; every other line must be a `set` line.
    """
    paths: list[tuple[int, list[str]]] = []
    variables: dict[str, str] = {}
    # split on LF only: VT/FF inside a quoted value must not end the line
    for lineno, line in enumerate(text.removeprefix("\ufeff").split("\n"), 1):
        line = line.rstrip("\r")
        stripped = line.strip()
        if _noise(stripped) or stripped.startswith("#"):
            continue
        try:
            words = _set_words(line, variables)
        except ValueError as exc:
            raise _fail(source, lineno, str(exc)) from None
        if words is not None:
            paths.append((lineno, words))
    tree = _tree_of(paths)
    if tree is None:
        lineno, why = _first_inconsistent(paths)
        raise _fail(source, lineno, f"this path contradicts an earlier one ({why})")
    return tree


def _tree_of(paths: list[tuple[int, list[str]]]) -> Tree | None:
    raw: Raw = {}
    for _, words in paths:
        level = raw
        for word in words:
            level = level.setdefault(word, {})
    try:
        return Tree.from_raw(raw)
    except (TreeError, RecursionError):
        return None


def _first_inconsistent(paths: list[tuple[int, list[str]]]) -> tuple[int, str]:
    """The line whose path first makes the set lines contradict each other (a leaf used as a node)."""
    low, high = 1, len(paths)  # the first `high` lines contradict; find the shortest such prefix
    while low < high:
        mid = (low + high) // 2
        if _tree_of(paths[:mid]) is None:
            high = mid
        else:
            low = mid + 1
    lineno, words = paths[high - 1]
    return lineno, f"a value of one is a node of the other: {_safe(' '.join(words))}"


# ---------------------------------------------------------------------------------------------
# config.boot / show configuration: EdgeOS's lexer, then its grammar


@dataclass(frozen=True)
class _Token:
    kind: str  # "node", "value", "{", "}"
    text: str
    line: int
    inactive: bool = False


class _Lexer:
    """UBNT-lex's states: between nodes (comments, `!`, `}`, names), after a name, in a value."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source
        self.i, self.line = 0, 1
        self.tokens: list[_Token] = []

    def fail(self, what: str, line: int | None = None) -> ProviderDataError:
        return _fail(self.source, line or self.line, what)

    def run(self) -> list[_Token]:
        text, n = self.text, len(self.text)
        inactive = False
        while self.i < n:
            ch = text[self.i]
            if ch == "\n":
                self.line += 1
                self.i += 1
            elif ch in _BLANK:
                self.i += 1
            elif text.startswith("/*", self.i):
                self._comment()
            elif ch == "!":
                inactive = True
                self.i += 1
            elif ch == "}":
                self.tokens.append(_Token("}", "}", self.line))
                inactive = False
                self.i += 1
            else:
                self._node(inactive)
                inactive = False
        return self.tokens

    def _comment(self) -> None:
        end = self.text.find("*/", self.i + 2)
        if end < 0:
            raise self.fail("unterminated /* comment")
        self.line += self.text.count("\n", self.i, end)
        self.i = end + 2

    def _node(self, inactive: bool) -> None:
        match = _NAME.match(self.text, self.i)
        if match is None:
            ch = self.text[self.i]
            if ch == "{":
                raise self.fail("'{' must follow its node name on the same line")
            raise self.fail(f"unexpected {ch!r}: expected a node name, '}}' or a /* comment */")
        name = match.group(0)
        self.tokens.append(_Token("node", name, self.line, inactive))
        self.i = match.end()
        if self.i < len(self.text) and self.text[self.i] == ":":
            self.i += 1  # `name:` is tolerated (edgeos.md §3.2)
        nxt = self.text[self.i] if self.i < len(self.text) else "\n"
        if nxt not in _BLANK + "{\n":
            raise self.fail(f"invalid node name {_safe(name + nxt)}: use letters, digits, '-' and '_'")
        self._rest_of_line(name)

    def _rest_of_line(self, name: str) -> None:
        """After a name: at most one value, then optionally `{`, then the end of the line."""
        text, n = self.text, len(self.text)
        values = 0
        while self.i < n:
            ch = text[self.i]
            if ch == "\n":
                return
            if ch in _BLANK:
                self.i += 1
                continue
            if ch == "{":
                self.tokens.append(_Token("{", "{", self.line))
                self.i += 1
                return
            value = self._quoted() if ch == '"' else self._bare()
            values += 1
            if ch != '"' and value.startswith("/*"):
                raise self.fail(f"a /* comment */ cannot follow {name!r} on its line")
            if values > 1:
                raise self.fail(
                    f"more than one value on one line ({_safe(self.tokens[-1].text)} then {_safe(value)}): "
                    "EdgeOS allows one value per leaf line"
                )
            self.tokens.append(_Token("value", value, self.line))

    def _quoted(self) -> str:
        """A `"…"` value; escapes pass through verbatim (edgeos.md §3.2)."""
        text, start = self.text, self.i
        i = start + 1
        while i < len(text) and text[i] != "\n":
            if text[i] == "\\" and i + 1 < len(text) and text[i + 1] != "\n":
                i += 2
                continue
            if text[i] == '"':
                self.i = i + 1
                return text[start + 1 : i]
            i += 1
        raise self.fail(f"unterminated double quote: {_safe(text[start:i])}")

    def _bare(self) -> str:
        """A run of non-blank characters without `{` (it may hold `"` or `}` after its first one)."""
        match = _BARE.match(self.text, self.i)
        assert match is not None  # called on a character that starts one
        self.i = match.end()
        return match.group(0)


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


def _statement(parent: _Builder, head: _Token, value: _Token | None, opens: bool, source: str) -> _Builder:
    """Add one `name [value] [{]` statement below ``parent``; returns the node a `{` opens."""
    line = head.line
    if opens and value is None:
        node = _child(parent, head.text, Kind.NODE, source, line)
    elif opens:
        assert value is not None
        tag = _child(parent, head.text, Kind.TAG, source, line)
        node = tag.children.get(value.text) or _Builder(value.text, Kind.NODE, line)
        tag.children[value.text] = node
    elif value is None:
        node = _child(parent, head.text, Kind.FLAG, source, line)
    else:
        node = _child(parent, head.text, Kind.LEAF, source, line)
        if value.text not in node.values:
            node.values.append(value.text)
    node.inactive = node.inactive or head.inactive
    return node


def parse_boot(text: str, source: str = "config.boot") -> Tree:
    """Parse a config.boot file or `show configuration` output into a tree (EdgeOS's grammar).

    Accepts `/* */` comments where EdgeOS does, the `!` deactivated marker, an optional `:` after a
    node name, a missing version trailer, masked secrets, hand-edited order/spacing, and prompt or
    `[edit]` lines around a pasted terminal capture.
    """
    # pasted terminal captures: prompt and `[edit]` lines are not content (line numbers stay)
    body = "\n".join("" if _noise(ln.strip(_BLANK)) else ln for ln in text.removeprefix("\ufeff").split("\n"))
    tokens = _Lexer(body, source).run()
    root = _Builder("", Kind.NODE, 0)
    stack: list[_Builder] = [root]
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok.kind == "}":
            if len(stack) == 1:
                raise _fail(source, tok.line, "unexpected '}'")
            stack.pop()
            i += 1
            continue
        value = tokens[i + 1] if i + 1 < n and tokens[i + 1].kind == "value" else None
        j = i + (2 if value is not None else 1)
        opens = j < n and tokens[j].kind == "{"
        node = _statement(stack[-1], tok, value, opens, source)
        if opens:
            if len(stack) > MAX_DEPTH:
                raise _fail(source, tok.line, f"nesting deeper than {MAX_DEPTH} levels")
            stack.append(node)
            j += 1
        i = j
    if len(stack) > 1:
        raise _fail(source, stack[-1].lineno, f"{_safe(stack[-1].name)} is never closed (missing '}}')")
    try:
        return Tree(root.build())
    except RecursionError:  # pragma: no cover - bounded by MAX_DEPTH
        raise ProviderDataError("edgemax", f"{source}: nesting too deep") from None

"""Rewrite engine module names from before the rooms (issue 23) to where the modules live now.

Usage: ``python tools/rehome.py FILES...`` (``--map FILE``: another move map; ``--check``: list the
files it would change and exit 1 if any, change nothing).

Owns: reading the move map (``tools/engine_moves.txt``: lines ``old.module new.module``, and
``old.module:name new.module`` for a name that went elsewhere than the rest of its module) and
rewriting, in Python files, ``import`` / ``from`` statements (``from engine import plan`` becomes
``from engine.plan import planner as plan``; ``from engine.render import plan_document, render_text``
is split by where each name lives now) and every other dotted mention — ``"engine.cli:main"``,
``monkeypatch.setattr("engine.cli._stdin_is_interactive", …)``, ``python -m engine.entry`` — and
file paths (``engine/configload.py`` → ``engine/config/load.py``).
Other files (``.toml``, ``.md``, ``Makefile``…) get the text passes: dotted mentions, import lines
quoted in text, paths. The lead runs it after merging a branch that still uses the old names:
``python tools/rehome.py $(git ls-files '*.py' '*.md' '*.toml' Makefile)``, then ``ruff check --fix``
(import order; a rewritten line may outgrow 110 characters). A rewritten import statement is written
anew: a comment inside a parenthesised one is dropped (a trailing one is kept).

It is idempotent: a name that already starts with a new module (``engine.plan.policy``) is left as
it is, and so is a bare package name in text (``engine.cli``, now a package of the rooms). A name of
an old module that is also a module of its new package (``from engine.cli import main``) is read as
the old one: new code writes ``from engine.cli.main import main``.
Must not: touch anything that is not a netsot engine module name.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MAP_FILE = Path(__file__).with_name("engine_moves.txt")
LINE_LENGTH = 110
ROOTS = ("engine", "tests")  # the packages whose modules the map may move
DOTTED = re.compile(r"(?<![\w.])(?:engine|tests)(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_]\w*)?")


@dataclass(frozen=True)
class Moves:
    modules: Mapping[str, str]  # old module -> new module
    symbols: Mapping[tuple[str, str], str]  # (old module, name) -> new module

    @property
    def targets(self) -> frozenset[str]:
        return frozenset(self.modules.values()) | frozenset(self.symbols.values())

    @property
    def packages(self) -> frozenset[str]:
        parts = (t.split(".") for t in self.targets)
        return frozenset(".".join(p[:i]) for p in parts for i in range(1, len(p)))

    def where(self, old: str, name: str) -> str:
        return self.symbols.get((old, name), self.modules[old])


def read_moves(path: Path = MAP_FILE) -> Moves:
    modules: dict[str, str] = {}
    symbols: dict[tuple[str, str], str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if len(words) != 2:
            raise SystemExit(f"{path}:{number}: expected 'old.module new.module', got {raw!r}")
        old, new = words
        if ":" in old:
            module, name = old.split(":", 1)
            symbols[(module, name)] = new
        else:
            modules[old] = new
    return Moves(modules, symbols)


def _longest(name: str, candidates: Iterable[str]) -> str:
    best = ""
    for c in candidates:
        if (name == c or name.startswith(c + ".")) and len(c) > len(best):
            best = c
    return best


def rename(dotted: str, moves: Moves, *, imported: bool = False) -> str:
    """One dotted mention (``engine.cli._x``, ``engine.cli:main``), rewritten if it names an old module.

    A bare package name of the rooms (``engine.cli``) stays, except as an imported module (``imported``).
    """
    name, colon, attr = dotted.partition(":")
    if name in moves.packages and not colon and not imported:
        return dotted  # a package of the rooms, mentioned as such
    old = _longest(name, moves.modules)
    if not old or len(_longest(name, moves.targets)) >= len(old):
        return dotted
    rest = name[len(old):]
    first = (attr if colon else rest[1:].split(".", 1)[0]) if (colon or rest) else ""
    new = moves.where(old, first) if first else moves.modules[old]
    return f"{new}{rest}{colon}{attr}"


# ------------------------------------------------------------------------------------ import statements


def _alias(name: str, asname: str | None) -> str:
    return f"{name} as {asname}" if asname else name  # ``x as x`` is a re-export: kept


def _from(module: str, names: Sequence[str], indent: str) -> str:
    one = f"{indent}from {module} import {', '.join(names)}"
    if len(one) <= LINE_LENGTH:
        return one
    inner = "".join(f"{indent}    {n},\n" for n in names)
    return f"{indent}from {module} import (\n{inner}{indent})"


def _rewrite_from(node: ast.ImportFrom, moves: Moves, indent: str) -> list[str] | None:
    module = node.module or ""
    if node.level or module.split(".")[0] not in ROOTS:
        return None
    groups: dict[str, list[str]] = {}
    changed = False
    for a in node.names:
        full = f"{module}.{a.name}"
        if (module, a.name) in moves.symbols:  # an old name that is also a new submodule: the old one
            groups.setdefault(moves.symbols[(module, a.name)], []).append(_alias(a.name, a.asname))
            changed = True
        elif full in moves.modules and _longest(full, moves.targets) != full:
            # ``from engine import plan`` -> ``from engine.plan import planner as plan``
            new_parent, _, new_name = moves.modules[full].rpartition(".")
            asname = a.asname or a.name
            alias = new_name if new_name == asname else f"{new_name} as {asname}"
            groups.setdefault(new_parent, []).append(alias)
            changed = True
        elif module in moves.modules and full not in moves.targets and len(_longest(module, moves.targets)) \
                < len(module):
            groups.setdefault(moves.where(module, a.name), []).append(_alias(a.name, a.asname))
            changed = True
        else:
            groups.setdefault(module, []).append(_alias(a.name, a.asname))
    if not changed:
        return None
    return [_from(m, names, indent) for m, names in groups.items()]


def _rewrite_import(node: ast.Import, moves: Moves, indent: str) -> list[str] | None:
    names = []
    for a in node.names:
        new = rename(a.name, moves, imported=True)
        if new != a.name and a.asname is None:
            # ``import engine.reconcile`` used as ``engine.reconcile.x``: the text pass renames the uses
            names.append(new)
        else:
            names.append(_alias(new, a.asname))
    if [_alias(a.name, a.asname) for a in node.names] == names:
        return None
    return [f"{indent}import {', '.join(names)}"]


def _statements(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]


def _dotted_expr(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted_expr(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _module_objects(tree: ast.AST, lines: list[str], moves: Moves) -> list[str]:
    """``engine.cli`` used as an object in code (``monkeypatch.setattr(engine.cli, …)``) is the old module,
    though the text pass leaves the bare name of a package alone."""
    parents = {id(c) for n in ast.walk(tree) if isinstance(n, ast.Attribute) for c in [n.value]}
    found: dict[int, list[tuple[int, int, str]]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in parents or node.lineno != node.end_lineno:
            continue
        name = _dotted_expr(node)
        if name in moves.modules and name in moves.packages:
            found.setdefault(node.lineno - 1, []).append(
                (node.col_offset, node.end_col_offset or 0, moves.modules[name]))
    lines = list(lines)
    for index, spots in found.items():
        raw = lines[index].encode("utf-8")  # AST columns count bytes
        for start, end, new in sorted(spots, reverse=True):
            raw = raw[:start] + new.encode("utf-8") + raw[end:]
        lines[index] = raw.decode("utf-8")
    return lines


def rewrite_python(text: str, moves: Moves) -> str:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return rewrite_text(text, moves)
    lines = text.splitlines(keepends=True)
    spans: list[tuple[int, int, list[str] | None]] = []
    for node in _statements(tree):
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        head, tail = lines[first][: node.col_offset], lines[last][node.end_col_offset or 0:]
        alone = not head.strip() and (not tail.strip() or tail.strip().startswith("#"))
        if not alone:
            continue  # ``import x; import y`` on one line: left to the text pass
        indent = head
        new = (_rewrite_from(node, moves, indent) if isinstance(node, ast.ImportFrom)
               else _rewrite_import(node, moves, indent))
        spans.append((first, last, None if new is None else [*new[:-1], new[-1] + tail.rstrip("\n")]))
    lines = _module_objects(tree, lines, moves)
    out: list[str] = []
    taken = {i for first, last, _ in spans for i in range(first, last + 1)}
    starts = {first: (last, new) for first, last, new in spans}
    i = 0
    while i < len(lines):
        if i in starts:
            last, new = starts[i]
            if new is None:
                out.extend(lines[i: last + 1])
            else:
                newline = "\n" if lines[last].endswith("\n") else ""
                out.append("\n".join(new) + newline)
            i = last + 1
        else:
            out.append(rewrite_text(lines[i], moves) if i not in taken else lines[i])
            i += 1
    return "".join(out)


def _text_import(match: re.Match[str], moves: Moves) -> str:
    """An import statement inside a string or a document (a script a test runs, a README example)."""
    lead, module, mid, names = match.groups()
    if mid.strip() != "import":  # ``import engine.cli``
        return f"{lead}{rename(module, moves, imported=True)}{mid}{names}"
    first = names.split(",")[0].split()[0] if names.strip() else ""
    full = f"{module}.{first}"
    if (module, first) in moves.symbols:
        return f"{lead}{moves.symbols[(module, first)]}{mid}{names}"
    if full in moves.targets or module not in moves.modules \
            or len(_longest(module, moves.targets)) >= len(module):
        return match.group(0)
    return f"{lead}{moves.where(module, first)}{mid}{names}"


TEXT_IMPORT = re.compile(
    r"(\b(?:from|import)\s+)((?:engine|tests)(?:\.[A-Za-z_]\w*)+)(\s+import\s+|\s+as\s+|\s*$)([\w ,]*)",
    re.MULTILINE)


PATH = re.compile(r"(?<![\w/.])(?:engine|tests)(?:/[A-Za-z_]\w*)+\.py\b")


def _path(match: re.Match[str], moves: Moves) -> str:
    """``engine/configload.py`` → ``engine/config/load.py`` (a file is a module, never a package)."""
    dotted = match.group(0).removesuffix(".py").replace("/", ".")
    return rename(dotted, moves, imported=True).replace(".", "/") + ".py"


def rewrite_text(text: str, moves: Moves) -> str:
    text = TEXT_IMPORT.sub(lambda m: _text_import(m, moves), text)
    text = PATH.sub(lambda m: _path(m, moves), text)
    return DOTTED.sub(lambda m: rename(m.group(0), moves), text)


def rewrite_file(path: Path, moves: Moves) -> str:
    text = path.read_text(encoding="utf-8")
    return rewrite_python(text, moves) if path.suffix == ".py" else rewrite_text(text, moves)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--map", type=Path, default=MAP_FILE, help="the move map (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="list what would change; change nothing")
    args = parser.parse_args(argv)
    moves = read_moves(args.map)
    changed = []
    for path in args.files:
        if path.is_dir() or not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        new = rewrite_file(path, moves)
        if new != text:
            changed.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in changed:
        print(f"{'would rewrite' if args.check else 'rewrote'} {path}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())

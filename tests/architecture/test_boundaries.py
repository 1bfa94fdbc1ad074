"""The package boundaries, checked on the source (AST), so a new violation fails ``make test``.

* Imports point one way (DESIGN.md): ``core`` and ``schemas`` are leaves; ``state`` imports only
  them; the provider boundary (``providers/base.py``, ``registry.py``, ``importing.py``, ``diffing.py``) only
  ``core`` and itself (only the registry names the built-in descriptors); a system package only the
  leaves, the boundary, the libraries and its own package (the embedded lab drives them all); a
  library (``providers/vyatta/``: what a family of systems shares, not a kind) only the leaves and
  other libraries — never a kind or the boundary; the engine the leaves, ``state`` and the
  boundary — never a system. One engine module assembles the command line (``ASSEMBLY``): it may
  import the lab's commands (``providers/lab/cli.py``), plainly, so the graph shows that dependency.
* The engine names no system in code: no identifier or string constant (docstrings aside) of
  ``engine/`` contains a registered kind's name. Everything system-specific comes through the
  registry and the descriptors.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers import registry

ROOT = Path(__file__).resolve().parents[2]
BOUNDARY = ("providers.base", "providers.registry", "providers.importing", "providers.diffing")
OURS = ("core", "engine", "state", "schemas", "providers", "bench", "tests")
# Library packages under ``providers/``: shared by the kinds of one family, not kinds themselves.
LIBRARIES = ("vyatta",)
LIBRARY_MODULES = tuple(f"providers.{name}" for name in LIBRARIES)
# The command line's assembly: the one engine module that imports beyond the boundary, and what.
ASSEMBLY = {"engine.cli.main": ("providers.lab.cli",)}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _dotted(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every netsot module ``path`` imports (top level or inside functions), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _dotted(path).split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = here[: len(here) - node.level + (1 if path.name == "__init__.py" else 0)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            # ``from providers import registry`` imports ``providers.registry``
            names = [f"{module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in OURS:
                yield node.lineno, name


def _allowed(module: str) -> tuple[str, ...]:
    """The netsot modules ``module`` may import (prefixes)."""
    parts = module.split(".")
    # ``schemas`` (the JSON Schema files and their loader) is a leaf like ``core``
    if parts[0] == "core":
        return ("core",)
    if parts[0] == "state":
        return ("core", "schemas", "state")
    if parts[0] == "schemas":
        return ("schemas",)
    if module == "providers.registry":  # the one place that names the built-in descriptors
        return ("core", *BOUNDARY, *(f"providers.{k}.descriptor" for k in registry.names()))
    if module in BOUNDARY:
        return ("core", *BOUNDARY)
    if parts[0] == "providers" and len(parts) > 1:
        own = f"providers.{parts[1]}"
        if parts[1] == "lab":  # the embedded lab drives every simulator
            return ("core", "schemas", *BOUNDARY, "providers")
        if parts[1] in LIBRARIES:  # a library: the leaves and other libraries, never a kind
            return ("core", "schemas", *LIBRARY_MODULES)
        if len(parts) > 2 and parts[2] == "sim":  # a simulator plays its part in the lab: the lab's types
            return ("core", "schemas", *BOUNDARY, *LIBRARY_MODULES, own, "providers.lab")
        return ("core", "schemas", *BOUNDARY, *LIBRARY_MODULES, own)
    if parts[0] == "engine":
        return ("core", "state", "schemas", "engine", *BOUNDARY, *ASSEMBLY.get(module, ()))
    return OURS


def _ok(imported: str, allowed: tuple[str, ...]) -> bool:
    return any(imported == a or imported.startswith(a + ".") for a in allowed)


@pytest.mark.parametrize("package", ["core", "state", "schemas", "providers", "engine"])
def test_imports_point_one_way(package: str) -> None:
    bad = []
    for path in _modules(package):
        module = _dotted(path)
        allowed = _allowed(module)
        for line, imported in _imports(path):
            if imported == "providers" and module.startswith("providers.lab"):
                continue
            if not _ok(imported, allowed):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {module} imports {imported}")
    assert not bad, "imports that point the wrong way:\n  " + "\n  ".join(bad)


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _words(tree: ast.AST) -> Iterator[tuple[int, str]]:
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value
        elif isinstance(node, ast.Name):
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute):
            yield node.lineno, node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.lineno, node.name
        elif isinstance(node, ast.arg) or (isinstance(node, ast.keyword) and node.arg):
            yield node.lineno, node.arg
        elif isinstance(node, ast.alias):
            yield node.lineno, node.asname or node.name


def test_the_engine_names_no_system() -> None:
    pattern = re.compile("|".join(re.escape(k) for k in registry.names()))
    bad = []
    for path in _modules("engine"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, word in _words(tree):
            if pattern.search(word):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {word!r}")
    assert not bad, "system names in engine/ code (use the registry / descriptors):\n  " + "\n  ".join(bad)


def test_the_checks_see_a_violation() -> None:
    """The checks are not vacuous: a planted violation is found."""
    kind = registry.names()[0]
    tree = ast.parse(f'from providers.x import y\nX = {{"k": "a_{kind}_b"}}\n')
    assert any(kind in w for _, w in _words(tree))
    assert not _ok("providers.x", _allowed("engine.plan.planner"))
    assert not _ok("engine.plan.planner", _allowed("state.backend"))
    kind = f"providers.{registry.names()[1]}.planner"
    assert not _ok(kind, _allowed("providers.vyatta.tree")), "a library imports a kind"
    assert not _ok("providers.registry", _allowed("providers.vyatta.tree"))
    assert not _ok("providers.vyatta.tree", _allowed("engine.plan.planner")), "the engine imports a library"
    assert not _ok("providers.lab.cli", _allowed("engine.cli.commands")), "only the assembly imports the lab"
    assert _ok("providers.lab.cli", _allowed("engine.cli.main"))
    assert not _ok("providers.lab", _allowed("engine.cli.main")), "the assembly imports only the lab commands"
    assert _ok("providers.vyatta.tree", _allowed(kind))
    first, second = registry.names()[:2]
    assert not _ok(f"providers.{second}.provider", _allowed(f"providers.{first}.provider")), "a kind, a kind"
    assert not _ok("engine.workflow", _allowed(f"providers.{first}.provider")), "a kind imports the engine"
    assert not _ok("providers.lab.homelab", _allowed(f"providers.{first}.provider")), "a kind imports the lab"
    assert _ok("providers.lab.homelab", _allowed(f"providers.{first}.sim.lab")), "its sim/ plays in the lab"
    assert not _ok(f"providers.{first}.descriptor", _allowed("providers.diffing")), "the diff names a kind"
    assert _ok(f"providers.{first}.descriptor", _allowed("providers.registry"))
    assert not _ok("providers.base", _allowed("core.model")) and not _ok("schemas", _allowed("core.model"))


def test_a_library_is_no_kind() -> None:
    """A library package registers nothing and has no descriptor: it is not a system."""
    for name in LIBRARIES:
        assert (ROOT / "providers" / name / "__init__.py").is_file()
        assert name not in registry.names()
        assert not (ROOT / "providers" / name / "descriptor.py").exists()

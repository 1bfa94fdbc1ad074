"""The engine's rooms (docs/architecture.md, "The engine's rooms"), checked on the source (AST).

* The top of ``engine/`` stays small (at most ``TOP_LIMIT`` modules); every folder is a known room,
  and a room's ``__init__.py`` holds only its docstring.
* The command line (``engine/cli/``) is a leaf: nothing imports it but ``python -m engine``.
  The status page and the service (``engine/web/``) never import it; the pipeline rooms and the top
  modules import neither of them. The stages point one way: reconcile → plan → apply.
* No import circle inside ``engine/`` (imports inside functions count: they hide a circle, they do
  not break it).
* Nothing is loaded by name: no ``importlib.import_module`` / ``__import__`` / ``importlib.util`` /
  ``pkgutil`` / ``runpy`` in netsot's packages but the registry's documented lazy loading of the
  descriptors' ``"module:attr"`` names, so the import graph and the boundary test see every
  dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

from tests.architecture.test_boundaries import ROOT, _dotted, _imports, _modules

ENGINE = ROOT / "engine"
TOP_LIMIT = 10
ROOMS = ("cli", "web", "config", "reconcile", "plan", "apply", "report")
FRONT = ("cli", "web")  # the front ends
PIPELINE = ("config", "reconcile", "plan", "apply", "report")
STAGES = ("reconcile", "plan", "apply")  # each stage may import the ones before it, never after
ENTRY = "engine.__main__"  # ``python -m engine``: runs the command line
# the one place netsot loads a module by a name it was given: the descriptors' "module:attr"
LOAD_BY_NAME_ALLOWED = ("providers/registry.py",)
LOADERS = {"import_module", "__import__", "spec_from_file_location", "module_from_spec",
           "find_spec", "run_module", "run_path", "iter_modules", "walk_packages", "find_loader"}
LOADER_MODULES = ("importlib.util", "importlib.machinery", "pkgutil", "runpy")


def _module_names() -> set[str]:
    return {_dotted(p) for p in _modules("engine")}


def _resolve(name: str, known: set[str]) -> str | None:
    """The engine module ``name`` (``engine.plan.planner.make_plan``) names: its longest known prefix."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def engine_graph() -> dict[str, set[str]]:
    """Every engine module → the engine modules it imports (anywhere in the file)."""
    known = _module_names()
    graph: dict[str, set[str]] = {}
    for path in _modules("engine"):
        module = _dotted(path)
        targets = {_resolve(name, known) for _line, name in _imports(path) if name.split(".")[0] == "engine"}
        graph[module] = {t for t in targets if t and t != module and t != "engine"}
    return graph


def circles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import circles of ``graph``: each strongly connected group of more than one module, as a
    path that closes (``[a, b, a]``), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:  # iterative Tarjan: deep graphs need no recursion limit
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_closing_path(group, graph) for group in sorted(groups)]


def _closing_path(group: list[str], graph: Mapping[str, Iterable[str]]) -> list[str]:
    """One circle through the group's first module, for the message."""
    members, start = set(group), group[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*paths[node], start]
            if nxt in members and nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return group


def room_of(module: str) -> str:
    """``cli``, ``web``, a pipeline room, or ``top`` (a module at the top of ``engine/``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in ROOMS else "top"


def room_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        here = room_of(module)
        for target in sorted(targets):
            there = room_of(target)
            if here == there or (module == ENTRY and target == "engine.cli.main"):
                continue
            if there == "cli":
                bad.append(f"{module} imports {target}: the command line is a leaf")
            elif there == "web" and here != "cli":
                bad.append(f"{module} imports {target}: only the command line starts the page, the service")
            elif here in STAGES and there in STAGES and STAGES.index(there) > STAGES.index(here):
                bad.append(f"{module} imports {target}: the stages point one way ({' → '.join(STAGES)})")
    return bad


def loads_by_name(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a module is loaded by a name (a call of a loader, or an import of a loader's module)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in LOADERS:
                found.append((node.lineno, name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.module == "importlib":
                modules += [f"importlib.{a.name}" for a in node.names]
            found += [(node.lineno, m) for m in modules if m in LOADER_MODULES]
    return found


# ----------------------------------------------------------------------------------------------- tests


def test_the_top_of_the_engine_is_small_and_every_folder_is_a_room() -> None:
    top = sorted(p.name for p in ENGINE.glob("*.py"))
    assert len(top) <= TOP_LIMIT, f"engine/ has {len(top)} modules at the top (at most {TOP_LIMIT}): {top}"
    folders = sorted(p.name for p in ENGINE.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(ROOMS), "a folder of engine/ is no room (add it to ROOMS, docs/architecture.md)"


def test_a_rooms_init_holds_only_its_docstring() -> None:
    for room in ROOMS:
        tree = ast.parse((ENGINE / room / "__init__.py").read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"engine/{room}/__init__.py says what the room holds"
        assert len(tree.body) == 1, f"engine/{room}/__init__.py holds code: entering a room costs nothing"


def test_the_rooms_point_one_way() -> None:
    bad = room_violations(engine_graph())
    assert not bad, "imports between the engine's rooms that point the wrong way:\n  " + "\n  ".join(bad)


def test_no_import_circle_in_the_engine() -> None:
    found = circles(engine_graph())
    assert not found, "import circles in engine/:\n  " + "\n  ".join(" → ".join(c) for c in found)


def test_nothing_is_loaded_by_name() -> None:
    bad = []
    for package in ("core", "engine", "state", "schemas", "providers", "bench"):
        for path in _modules(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel in LOAD_BY_NAME_ALLOWED:
                continue
            tree = ast.parse(path.read_text("utf-8"))
            bad += [f"{rel}:{line}: {what}" for line, what in loads_by_name(tree)]
    assert not bad, "modules loaded by name (import them plainly: the graph sees it):\n  " + "\n  ".join(bad)


def test_the_checks_see_a_violation() -> None:
    """The checks are not vacuous: a planted circle, wrong import and load by name are found."""
    assert circles({"engine.a": {"engine.b"}, "engine.b": {"engine.c"}, "engine.c": {"engine.a"}}) == [
        ["engine.a", "engine.b", "engine.c", "engine.a"]]
    assert circles({"engine.a": {"engine.b"}, "engine.b": set()}) == []
    assert room_violations({"engine.web.app": {"engine.cli.output"}})
    assert room_violations({"engine.plan.planner": {"engine.web.app"}})
    assert room_violations({"engine.workflow": {"engine.cli.app"}})
    assert room_violations({"engine.reconcile.bindings": {"engine.plan.units"}})
    assert not room_violations({"engine.cli.main": {"engine.web.app", "engine.plan.planner"}})
    assert not room_violations({"engine.apply.applier": {"engine.plan.graph"}})
    planted = ast.parse("import importlib\nfrom importlib import util\nm = importlib.import_module('x')\n"
                        "n = __import__('y')\nfrom importlib import metadata\n")
    found = [what for _line, what in loads_by_name(planted)]
    assert found == ["importlib.util", "import_module", "__import__"]
    # the real graph is seen: the command line's assembly imports the core commands
    assert "engine.cli.commands" in engine_graph()["engine.cli.main"]


def test_the_move_map_names_real_modules() -> None:
    """``tools/engine_moves.txt`` (what ``tools/rehome.py`` rewrites) leads to modules that exist, from names
    that are no module any more (a room's package may carry an old module's name: ``engine.cli``)."""
    known = {_dotted(p) for p in [*_modules("engine"), *_modules("tests")]}
    lines = (ROOT / "tools" / "engine_moves.txt").read_text(encoding="utf-8").splitlines()
    pairs = [words for raw in lines if len(words := raw.split("#", 1)[0].split()) == 2]
    assert len(pairs) > 50
    for old, new in pairs:
        old_module = old.split(":")[0]
        assert new in known, f"tools/engine_moves.txt: {new} is no module"
        gone = old_module not in known or (ROOT / old_module.replace(".", "/")).is_dir()
        assert gone, f"{old} still exists"

"""Simulators live in ``providers/<kind>/sim/``; product code never reaches them; the lab names no kind.

* *sim/ placement*: no simulator module (``sim*.py``, ``simulator.py``) in a system package outside
  its ``sim/`` package.
* *Product code never imports a simulator*: ``core``, ``state``, ``schemas``, ``engine``, the provider
  boundary, the libraries and every kind's non-sim modules neither import a ``sim`` package nor name
  one in a string (the one exception: the ``lab`` hook of a descriptor, which only the lab loads). The
  lab, the tests and the bench may.
* *One lab interface*: every kind that joins the lab does so by ``Hooks.lab``, an object in its own
  ``sim/`` package with the ``LabSystem`` protocol of ``providers/base.py``; each part of the lab has
  exactly one default kind.
* *The lab names no kind*: the lab's runner, its entry (``providers/lab/__init__.py``), its lookups, its
  DNS, its homelab, its shared seeds and its controls (``lab guest``, ``lab lease``, ``lab ssh``) have no
  identifier, string constant (docstrings aside) or import naming a registered kind. What is left —
  the demo's script (``demo.py``: the steps it runs and explains, ``import edgemax`` …) — is counted
  and may only shrink.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from providers import registry
from providers.base import LAB_ROLES
from tests.architecture.test_boundaries import LIBRARIES, ROOT, _dotted, _imports, _modules, _words

SIM_NAME = re.compile(r"^sim[a-z_]*\.py$|^simulator\.py$")
SIM_MODULE = re.compile(r"\bproviders\.[a-z_0-9]+\.sim\b")
PRODUCT = ("core", "state", "schemas", "engine", "providers")
# the lab's modules that name no kind
KIND_FREE = ("__init__.py", "runner.py", "systems.py", "dns.py", "seeds.py", "homelab.py", "control.py")
# what is left, per lab module: the number of identifiers / string constants naming a kind (may only shrink)
LEFT = {"demo.py": 8}


def _kind_packages() -> list[Path]:
    return sorted(p for p in (ROOT / "providers").iterdir()
                  if p.is_dir() and (p / "__init__.py").exists() and p.name not in ("lab", *LIBRARIES))


def _is_product(path: Path) -> bool:
    parts = path.relative_to(ROOT).parts
    if parts[0] not in PRODUCT:
        return False
    return not (parts[0] == "providers" and len(parts) > 1 and (parts[1] == "lab" or
                                                               (len(parts) > 2 and parts[2] == "sim")))


def test_no_simulator_module_outside_a_sim_package() -> None:
    bad = [str(path.relative_to(ROOT)) for package in _kind_packages()
           for path in sorted(package.rglob("*.py"))
           if SIM_NAME.match(path.name) and "sim" not in path.relative_to(package).parts[:-1]]
    assert not bad, "simulator modules outside providers/<kind>/sim/:\n  " + "\n  ".join(bad)


def _lab_hook_values(tree: ast.AST) -> set[int]:
    """The string constants passed as ``lab=`` (a descriptor's lab hook)."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.keyword) and node.arg == "lab" and isinstance(node.value, ast.Constant)}


def _sim_references(path: Path) -> list[str]:
    found = [f"{path.relative_to(ROOT)}:{line}: imports {name}" for line, name in _imports(path)
             if SIM_MODULE.search(name)]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed = _lab_hook_values(tree)
    found += [f"{path.relative_to(ROOT)}:{node.lineno}: names {node.value!r}" for node in ast.walk(tree)
              if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in allowed
              and SIM_MODULE.search(node.value) and not _is_docstring(tree, node)]
    return found


def _is_docstring(tree: ast.AST, constant: ast.Constant) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and body[0].value is constant:
                return True
    return False


@pytest.mark.parametrize("package", PRODUCT)
def test_product_code_never_reaches_a_simulator(package: str) -> None:
    bad = [ref for path in _modules(package) if _is_product(path) for ref in _sim_references(path)]
    assert not bad, "product code that reaches a simulator (only the lab, tests and bench may):\n  " + \
        "\n  ".join(bad)


def test_every_lab_system_is_a_hook_into_its_own_sim_package() -> None:
    from providers.lab import systems

    joined = {kind.name: kind.hooks.lab for kind in registry.kinds() if kind.hooks.lab}
    assert joined, "no kind joins the lab"
    for name, target in joined.items():
        assert target.startswith(f"providers.{name}.sim."), f"{name}'s lab hook {target} is not in its sim/"
        system = systems.lab_system(name)
        assert system.role in LAB_ROLES and system.process and system.title and system.saves
        for method in ("seed", "start", "provider", "network", "describe"):
            assert callable(getattr(system, method)), f"{name}'s LabSystem has no {method}()"
    for role in LAB_ROLES:
        assert systems.default_kind(role) in joined  # exactly one default per part (else it raises)


def _kind_words(path: Path) -> list[str]:
    """Identifiers and string constants (docstrings aside) naming a kind, and imports of a kind's modules."""
    pattern = re.compile("|".join(re.escape(k) for k in registry.names()))
    kinds = tuple(f"providers.{k}" for k in registry.names())
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT)
    return ([f"{where}:{line}: {word!r}" for line, word in _words(tree) if pattern.search(word)]
            + [f"{where}:{line}: imports {name}" for line, name in _imports(path)
               if name in kinds or name.startswith(tuple(f"{k}." for k in kinds))])


def test_the_lab_names_no_kind() -> None:
    lab = ROOT / "providers" / "lab"
    bad = [hit for name in KIND_FREE for hit in _kind_words(lab / name)]
    assert not bad, "kind names in the lab (a kind joins through its LabSystem):\n  " + "\n  ".join(bad)
    grown = {}
    for path in sorted(lab.glob("*.py")):
        if path.name in KIND_FREE:
            continue
        count = len(_kind_words(path))
        if count > LEFT.get(path.name, 0):
            grown[path.name] = (count, _kind_words(path))
    assert not grown, f"lab modules naming more kinds than before (move it to the kind's sim/lab.py): {grown}"


def test_a_planted_reach_into_a_simulator_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The product check on a file: an import and a string naming a ``sim`` package are found; the
    descriptor's ``lab=`` hook and a docstring are not."""
    from tests.architecture import test_boundaries

    kind = registry.names()[0]
    engine = tmp_path / "engine"
    engine.mkdir()
    planted = engine / "planted.py"
    planted.write_text(f'"""Mentions providers.{kind}.sim.server in its docstring."""\n'
                       f"from providers.{kind}.sim import server\n"
                       f'TARGET = "providers.{kind}.sim.server:start"\n'
                       f'HOOKS = dict(lab="providers.{kind}.sim.lab:LAB")\n', encoding="utf-8")
    monkeypatch.setattr(test_boundaries, "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = _sim_references(planted)
    assert len(found) == 2, found
    assert "imports" in found[0] and "names" in found[1] and ":3:" in found[1]


def test_the_checks_see_a_violation(tmp_path: Path) -> None:
    planted = ROOT / "engine" / "_planted_sim_import.py"
    assert not planted.exists()
    kind = registry.names()[0]
    tree = ast.parse(f'import providers.{kind}.sim.server\nX = "providers.{kind}.sim.server"\n')
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert any(SIM_MODULE.search(name) for name in imported)
    assert SIM_MODULE.search(f"providers.{kind}.sim.server")
    assert not SIM_MODULE.search(f"providers.{kind}.simple")
    assert SIM_NAME.match("simulator.py") and SIM_NAME.match("simshell.py")
    assert not SIM_NAME.match("settings.py")
    assert _is_product(ROOT / "providers" / kind / "provider.py")
    assert not _is_product(ROOT / "providers" / kind / "sim" / "server.py")
    assert not _is_product(ROOT / "providers" / "lab" / "runner.py")
    assert _dotted(ROOT / "providers" / kind / "sim" / "__init__.py") == f"providers.{kind}.sim"

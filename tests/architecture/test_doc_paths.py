"""Every repository path and module that ``docs/architecture.md`` and README name exists.

A path is a word that starts with one of the repository's top folders (``engine/plan/planner.py``,
``engine/web/``, ``tests/architecture/test_boundaries.py``), anywhere in the text; a path with a
placeholder (``providers/<kind>/sim/``) is checked up to the placeholder. ``python -m MODULE`` names a
module that exists. So a move that forgets the docs fails here, not in a reader's hands.
"""

from __future__ import annotations

import re

import pytest

from tests.architecture.test_boundaries import ROOT

DOCS = ("docs/architecture.md", "README.md")
TOP = ("core", "engine", "state", "schemas", "providers", "tests", "tools", "bench", "docs", "examples")
# a path begins a word: not inside ``../shared/tools/…`` or ``~/.cache/…``
PATH = re.compile(r"(?<![\w./~$-])((?:" + "|".join(TOP) + r")/[\w./-]*)")
MODULE = re.compile(r"python -m ([\w.]+)")
# written by a run, never committed (``.gitignore``)
GENERATED = ("bench/results.json",)


def named_paths(text: str) -> list[tuple[int, str]]:
    """The repository paths ``text`` names, with their line (a trailing full stop is punctuation)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in PATH.finditer(line):
            path = match.group(1).rstrip(".")
            found.append((number, path))
    return found


def named_modules(text: str) -> list[tuple[int, str]]:
    return [(number, m.group(1).rstrip(".")) for number, line in enumerate(text.splitlines(), 1)
            for m in MODULE.finditer(line)]


def _module_exists(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    package = (base / "__init__.py").is_file() or (base / "__main__.py").is_file()
    return base.with_suffix(".py").is_file() or package


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_the_docs_name_exists(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    missing = [f"{doc}:{line}: {path}" for line, path in named_paths(text)
               if path not in GENERATED and not (ROOT / path).exists()]
    missing += [f"{doc}:{line}: python -m {name}" for line, name in named_modules(text)
                if name.split(".")[0] in TOP and not _module_exists(name)]
    assert not missing, "paths the docs name that do not exist (moved? say where):\n  " + "\n  ".join(missing)


def test_the_docs_name_the_house() -> None:
    """The check is not vacuous: the docs name the rooms and the tests that enforce the rules."""
    named = {path for doc in DOCS for _, path in named_paths((ROOT / doc).read_text(encoding="utf-8"))}
    for path in ("engine/cli/", "providers/diffing.py", "core/fields.py", "providers/vyatta/",
                 "tests/architecture/test_boundaries.py", "tests/architecture/test_engine_rooms.py",
                 "tests/architecture/test_sim_placement.py", "tests/architecture/test_one_diff.py"):
        assert path in named, f"{path} is named in neither docs/architecture.md nor README"


def test_the_check_sees_a_stale_path() -> None:
    text = ("`engine/configschema.py` moved; see ../shared/tools/nipapd and `providers/<kind>/sim/`.\n"
            "Run `python -m engine.configschema`.\n")
    assert named_paths(text) == [(1, "engine/configschema.py"), (1, "providers/")]
    assert not (ROOT / "engine/configschema.py").exists()
    assert named_modules(text) == [(2, "engine.configschema")]
    assert not _module_exists("engine.configschema") and _module_exists("engine.config.schema")

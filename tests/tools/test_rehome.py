"""tools/rehome.py, what the lead runs on code written against the engine's old flat module names: import
statements, dotted mentions and ``module:function`` strings rewritten by tools/engine_moves.txt, idempotent,
and the tree itself already uses the new names."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tools import rehome

ROOT = Path(__file__).resolve().parents[2]
MOVES = rehome.read_moves()

OLD = textwrap.dedent('''\
    """Uses ``engine.cliout`` and ``engine.cli``."""
    import engine.reconcile
    import engine.cli as cli_module
    from engine import plan
    from engine import systems as systems_module, web
    from engine.render import plan_document, render_text, sealed  # the codec and a view
    from engine.cli import cli, main
    from engine.cli_ext import _emit as _emit
    from engine.cliapp import (
        EXIT_OK,
        App,
    )
    from engine.plan import make_plan


    def test_x(monkeypatch):
        from engine import plansign

        monkeypatch.setattr("engine.cli._stdin_is_interactive", lambda: True)
        monkeypatch.setattr(engine.reconcile, "reconcile", None)
        x = engine.reconcile.allocate
        script = "from engine.apply import apply_plan\\nprint(1)"
        return ["engine.entry:main", "python -m engine.configschema", plansign, script, x]
    ''')

NEW = textwrap.dedent('''\
    """Uses ``engine.cli.output`` and ``engine.cli``."""
    import engine.reconcile.bindings
    import engine.cli.commands as cli_module
    from engine.plan import planner as plan
    from engine import systems as systems_module
    from engine.web import app as web
    from engine.plan.document import plan_document, sealed
    from engine.report.render import render_text  # the codec and a view
    from engine.cli.main import cli, main
    from engine.cli.extra import _emit as _emit
    from engine.cli.app import EXIT_OK, App
    from engine.plan.planner import make_plan


    def test_x(monkeypatch):
        from engine.plan import sign as plansign

        monkeypatch.setattr("engine.cli.app._stdin_is_interactive", lambda: True)
        monkeypatch.setattr(engine.reconcile.bindings, "reconcile", None)
        x = engine.reconcile.allocate
        script = "from engine.apply.applier import apply_plan\\nprint(1)"
        return ["engine.cli.entry:main", "python -m engine.config.schema", plansign, script, x]
    ''')


def test_old_names_become_the_rooms() -> None:
    assert rehome.rewrite_python(OLD, MOVES) == NEW


def test_it_is_idempotent() -> None:
    assert rehome.rewrite_python(NEW, MOVES) == NEW


def test_new_style_imports_of_a_room_are_left_alone() -> None:
    text = ("from engine.plan import policy, units\nfrom engine.cli import extra, setup\n"
            "from engine.web import app as web\nimport engine.cli.main\n")
    assert rehome.rewrite_python(text, MOVES) == text


def test_other_files_get_the_dotted_names() -> None:
    text = 'netsot = "engine.entry:main"\nrun `python -m engine.entry --write-help`; see engine/cli.py\n'
    want = ('netsot = "engine.cli.entry:main"\n'
            "run `python -m engine.cli.entry --write-help`; see engine/cli/commands.py\n")
    assert rehome.rewrite_text(text, MOVES) == want


def test_every_old_module_has_a_new_home() -> None:
    for old, new in MOVES.modules.items():
        assert rehome.rename(old + ".x", MOVES) == new + ".x"


def test_the_command_rewrites_files_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "old.py"
    path.write_text(OLD, encoding="utf-8")
    tool = [sys.executable, str(ROOT / "tools" / "rehome.py")]
    check = subprocess.run([*tool, "--check", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 1 and "would rewrite" in check.stdout and path.read_text("utf-8") == OLD
    subprocess.run([*tool, str(path)], check=True, capture_output=True)
    assert path.read_text("utf-8") == NEW
    again = subprocess.run([*tool, "--check", str(path)], capture_output=True, text=True, check=False)
    assert again.returncode == 0 and again.stdout == ""


def test_the_tree_uses_the_new_names() -> None:
    files = subprocess.run(["git", "ls-files", "*.py", "*.toml", "*.md", "Makefile"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    # they quote old names on purpose (test_doc_paths: a stale path its check must catch)
    samples = {"tools/rehome.py", "tests/tools/test_rehome.py", "tests/architecture/test_doc_paths.py"}
    files = [ROOT / f for f in files if f not in samples and (ROOT / f).exists()]
    stale = [str(f.relative_to(ROOT)) for f in files if rehome.rewrite_file(f, MOVES) != f.read_text("utf-8")]
    assert not stale, f"files that still name old engine modules: {stale}"

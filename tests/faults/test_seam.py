"""The one fault seam (core.faults): product code passes named points, which do nothing unless a test
asks; the crash suites' ``NETSOT_FAULT_AT`` ends the process at the n-th pass of one point."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core import faults
from core.model import Plan
from engine.apply.applier import apply_plan
from state.backend import FileBackend, MemoryBackend
from tests.engine.conftest import MemProvider, change

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("core", "engine", "state", "providers", "schemas")


class Exited(Exception):
    pass


def _exit(code: int) -> None:
    raise Exited(code)


@pytest.mark.parametrize(("spec", "passes", "code"), [
    ("after-sent", ["after-intended", "after-sent"], 137),
    ("after-batch:2", ["after-batch", "after-sent", "after-batch"], 137),
    ("state-before-rename", ["after-intended", "state-before-rename"], 86),
])  # fmt: skip
def test_the_crash_hook_ends_the_process_at_the_nth_pass_with_the_points_code(
    spec: str, passes: list[str], code: int
) -> None:
    hook = faults.crash_at(spec, exit=_exit)
    assert hook is not None
    for name in passes[:-1]:
        hook(name)
    with pytest.raises(Exited) as info:
        hook(passes[-1])
    assert info.value.args == (code,)


@pytest.mark.parametrize("spec", ["", "nowhere", "after-sent:x", "after-sent:0:1"])
def test_an_empty_or_unknown_spec_injects_nothing(spec: str) -> None:
    assert faults.crash_at(spec, exit=_exit) is None


def test_without_a_hook_a_point_does_nothing() -> None:
    with faults.installed(None):
        for name in faults.POINTS:
            faults.point(name)


def test_apply_and_the_file_backend_pass_the_points_the_crash_suites_use(tmp_path: Path) -> None:
    """The same points, in the same order, that tests/faults and tests/engine/apply/test_apply.py crash at."""
    passed: list[str] = []
    plan = Plan(changes=(change("create", "nipap_address.lan.a"), change("create", "nipap_address.lan.b")))
    with faults.installed(passed.append):
        apply_plan(plan, {"nipap": MemProvider("nipap")}, FileBackend(tmp_path / "state.json"))
    assert [p for p in passed if p != faults.BEFORE_RENAME] == ["after-intended", "after-sent", "after-batch"]
    rename = faults.BEFORE_RENAME
    assert passed[:6] == [rename, "after-intended", rename, "after-sent", rename, "after-batch"]
    assert set(passed) <= set(faults.POINTS)
    passed.clear()
    with faults.installed(passed.append):
        apply_plan(Plan(changes=(change("create", "nipap_address.lan.c"),)), {"nipap": MemProvider("nipap")},
                   MemoryBackend())
    assert rename not in passed  # only a state file has a rename to crash before


def test_product_code_reaches_the_seam_only_through_faults_point() -> None:
    """No product module reads NETSOT_FAULT_AT or ends the process itself: core/faults.py alone does."""
    offenders = []
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel == "core/faults.py" or "/sim" in rel:
                continue
            text = path.read_text(encoding="utf-8")
            if faults.ENV in text or "_exit(" in text:
                offenders.append(rel)
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in ("crash_at", "installed"):
                    offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []

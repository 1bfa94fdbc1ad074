"""Golden plan documents: the plans of the lab and bench scenarios, byte for byte.

Every scenario (``tests.golden.scenarios``) is planned by the real engine from in-memory observations
built from the lab's and the bench's seeds (no socket, no clock), and its plan document — what
``netsot plan --json`` / ``plan -out`` writes — is compared to ``tests/golden/<scenario>.json``. A
refactor of planning code must leave them identical. When a change of behaviour is meant, write them
again and review the diff like any other change::

    .venv/bin/python -m tests.golden --write      # or: NETSOT_GOLDEN_WRITE=1 pytest tests/golden
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.plan.document import render_json
from tests.golden.scenarios import SCENARIOS

HERE = Path(__file__).resolve().parent


def golden_path(name: str) -> Path:
    return HERE / f"{name}.json"


def write_all() -> list[Path]:
    out = []
    for name, build in SCENARIOS.items():
        path = golden_path(name)
        path.write_text(render_json(build()), encoding="utf-8")
        out.append(path)
    return out


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_plan_document_is_the_golden_one(name: str) -> None:
    text = render_json(SCENARIOS[name]())
    path = golden_path(name)
    if os.environ.get("NETSOT_GOLDEN_WRITE") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run `python -m tests.golden --write`"
    golden = path.read_text(encoding="utf-8")
    if text != golden:
        import difflib

        diff = "".join(list(difflib.unified_diff(golden.splitlines(True), text.splitlines(True),
                                                 f"{path.name} (golden)", f"{path.name} (now)"))[:200])
        pytest.fail(f"the plan of scenario {name!r} differs from {path.name}:\n{diff}")


def test_every_kind_plans_something_in_the_golden_files() -> None:
    """The scenarios reach every system kind, with creates, updates and deletes among them."""
    import json

    systems: set[str] = set()
    actions: set[str] = set()
    for name in SCENARIOS:
        doc = json.loads(golden_path(name).read_text(encoding="utf-8"))
        systems |= {c["system"].split(".")[0] for c in doc["changes"]}
        actions |= {c["action"] for c in doc["changes"]}
    assert {"nipap", "edgemax", "vyos", "proxmox"} <= systems
    assert actions == {"create", "update", "delete"}


def test_every_golden_plan_reads_back_with_its_fields_checked() -> None:
    """A saved plan is read through ``Change.from_dict``, which checks every change of a typed resource
    type (all the built-in ones): the golden documents — what ``plan -out`` wrote before the EdgeOS and
    VyOS types declared their fields — still read, and each change writes back exactly as it was."""
    import json

    from core import fields
    from core.model import Change
    from providers import registry

    registry.kinds()
    checked: set[str] = set()
    for name in SCENARIOS:
        doc = json.loads(golden_path(name).read_text(encoding="utf-8"))
        for saved in doc["changes"]:
            change = Change.from_dict(saved)
            assert change.to_dict() == saved
            if fields.declared(change.address.type) is not None:
                checked.add(change.address.type)
    assert {"edgemax_dhcp_mapping", "edgemax_host", "vyos_dhcp_mapping", "vyos_host"} <= checked

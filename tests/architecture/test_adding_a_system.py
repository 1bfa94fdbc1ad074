"""README's "Adding a system", followed step by step for a fourth system, with no engine change.

``tests/architecture/dnsbox/`` holds the schema fragment (step 1), the descriptor with its settings
(step 2) and the provider (step 3) of a tiny DNS server, a plug-in: its in-memory zone store stands for
a server, so it has no simulator (step 4) and no contract harness (step 6), and it registers itself
(step 5's plug-in form). Registering the descriptor is all it takes for the configuration, its
schema, reconcile, plan, apply, state, targeting and the CLI to know it.

The files a new system needs outside its own package are README's steps 5 and 6, counted
(``FILES_OUTSIDE``) so the number cannot grow silently, and checked against every built-in kind.
Before the house's step two (issue 23) the README's steps named the same kinds of file outside the
package (registry, shipped schema, the contract harness), but joining the lab meant editing
``providers/lab/``; now none of them is in ``engine/`` or ``providers/lab/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli.main import cli
from engine.config import schema as configschema
from providers import registry
from tests.architecture.dnsbox import provider as dnsbox
from tests.architecture.dnsbox.descriptor import KIND
from tests.architecture.test_boundaries import ROOT, _imports, _modules

PACKAGE = "providers/<kind>/"
# the files a new (built-in) system needs outside its package: README "Adding a system", steps 5 and 6
FILES_OUTSIDE = 4
STEPS = 6
DNSBOX = Path(__file__).parent / "dnsbox"
PLUG_IN_STEPS = (1, 2, 3)  # the steps whose files the test system has in its own package

CONFIG = """\
version: 1
state: {path: state.json}
providers:
  dnsbox: {zone_store: home, token: "${env:DNSBOX_TOKEN}"}
  dnsbox.cabin: {zone_store: cabin, token: "${env:DNSBOX_TOKEN}"}
networks:
  - {name: lan, prefix: 192.168.1.0/24, domain: lab.example, dnsbox: {ttl: 60}}
  - {name: cabin, prefix: 192.168.30.0/24, domain: cabin.example, dnsbox: {instance: cabin}}
hosts:
  - {name: nas, network: lan, ip: 192.168.1.10}
  - {name: ap, network: cabin, ip: 192.168.30.5}
"""


@pytest.fixture
def dnsbox_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    registry.register_kind(KIND)  # step 5, for a system that lives outside providers/
    monkeypatch.setenv("DNSBOX_TOKEN", "t0ken")
    dnsbox.ZONES.clear()
    path = tmp_path / "netsot.yaml"
    path.write_text(CONFIG)
    try:
        yield path
    finally:
        registry.unregister_kind("dnsbox")


def _cli(path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--no-color", "--config", str(path), *args])
    return result.exit_code, result.output


def test_a_fourth_system_plugs_in_through_the_registry_alone(dnsbox_kind: Path) -> None:
    assert "dnsbox" in configschema.assemble()["properties"]["providers"]["properties"]
    code, out = _cli(dnsbox_kind, "validate")
    assert code == 0 and "systems: dnsbox, dnsbox.cabin" in out, out
    code, out = _cli(dnsbox_kind, "plan", "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert {(c["address"], c["system"]) for c in doc["changes"]} == {
        ("dnsbox_record.nas.lab.example", "dnsbox"),
        ("dnsbox_record[cabin].ap.cabin.example", "dnsbox.cabin"),
    }
    code, out = _cli(dnsbox_kind, "apply", "--auto-approve")
    assert code == 0 and "2 added" in out, out
    assert dnsbox.ZONES == {"home": {"nas.lab.example": {"name": "nas.lab.example", "ip": "192.168.1.10",
                                                         "ttl": 60}},
                            "cabin": {"ap.cabin.example": {"name": "ap.cabin.example", "ip": "192.168.30.5",
                                                           "ttl": 300}}}
    assert _cli(dnsbox_kind, "plan", "--detailed-exitcode")[0] == 0
    code, out = _cli(dnsbox_kind, "state", "list")
    assert out.split() == ["dnsbox_record.nas.lab.example", "dnsbox_record[cabin].ap.cabin.example"]
    # a hand edit is drift, reverted; a target selects by prefix, per instance
    dnsbox.ZONES["cabin"]["ap.cabin.example"]["ip"] = "192.168.30.99"
    result = CliRunner().invoke(cli, ["--no-color", "--config", str(dnsbox_kind), "plan", "--json",
                                      "--target", "dnsbox_record[cabin]"])
    assert result.stderr.startswith("Warning: Resource targeting is in effect")  # stdout stays pure JSON
    doc = json.loads(result.stdout)
    assert [c["address"] for c in doc["changes"]] == ["dnsbox_record[cabin].ap.cabin.example"]
    assert doc["drift"][0]["address"] == "dnsbox_record[cabin].ap.cabin.example"


def test_its_secret_is_checked_like_every_other(dnsbox_kind: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DNSBOX_TOKEN")
    code, out = _cli(dnsbox_kind, "validate")
    assert code == 1 and "providers.dnsbox.token" in out and "DNSBOX_TOKEN" in out, out


# ----------------------------------------------------------------------- README's steps, counted


def readme_steps(text: str) -> dict[int, list[str]]:
    """Each numbered step of README's "Adding a system" → its files: the backticked paths before its dash."""
    start = text.index("## Adding a system\n")
    section = text[start:text.index("\n## ", start + 1)]
    return {int(m.group(1)): re.findall(r"`([^`]+)`", m.group(2))
            for m in re.finditer(r"^(\d+)\. (.*?) — ", section, re.M)}


def outside(steps: dict[int, list[str]]) -> list[str]:
    return [path for files in steps.values() for path in files if not path.startswith(PACKAGE)]


def test_a_new_system_needs_few_files_outside_its_package() -> None:
    steps = readme_steps((ROOT / "README.md").read_text(encoding="utf-8"))
    assert sorted(steps) == list(range(1, STEPS + 1)), f"README's steps: {sorted(steps)}"
    assert all(files for files in steps.values()), "every step starts with the files it writes"
    files = outside(steps)
    assert len(files) == FILES_OUTSIDE, f"a new system needs {len(files)} files outside its package: {files}"
    assert not [f for f in files if f.startswith(("engine/", "providers/lab/"))]
    assert f"{FILES_OUTSIDE} files" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", registry.names())
def test_every_built_in_kind_has_the_files_of_each_step(kind: str) -> None:
    steps = readme_steps((ROOT / "README.md").read_text(encoding="utf-8"))
    for files in steps.values():
        for path in files:
            assert (ROOT / path.replace("<kind>", kind)).exists(), f"step file {path} missing for {kind}"
    registry_text = (ROOT / "providers/registry.py").read_text(encoding="utf-8")
    assert f'"providers.{kind}.descriptor:KIND"' in registry_text
    shipped = json.loads((ROOT / "schemas/config.schema.json").read_text(encoding="utf-8"))
    assert kind in shipped["properties"]["providers"]["properties"]


def test_the_test_system_follows_the_steps_in_its_own_package() -> None:
    steps = readme_steps((ROOT / "README.md").read_text(encoding="utf-8"))
    for number in PLUG_IN_STEPS:
        for path in steps[number]:
            assert path.startswith(PACKAGE) and (DNSBOX / path.removeprefix(PACKAGE)).exists(), path
    assert KIND.provider.startswith("tests.architecture.dnsbox.provider:")
    assert KIND.schema == "tests.architecture.dnsbox:config.schema.json"
    assert "dnsbox" not in registry.names()  # a plug-in: step 5's register_kind, no registry line


def test_the_test_system_changes_no_file_outside_its_package() -> None:
    """No product module names it or imports it: the engine, the lab and the boundary are as they were."""
    bad = []
    for package in ("core", "engine", "state", "schemas", "providers", "bench"):
        for path in _modules(package):
            if "dnsbox" in path.read_text(encoding="utf-8"):
                bad.append(str(path.relative_to(ROOT)))
    assert not bad, f"product files that name the test system: {bad}"
    own = [name for path in DNSBOX.glob("*.py") for _line, name in _imports(path)
           if name.startswith(("engine", "state", "providers.lab", "tests")) and "dnsbox" not in name]
    assert not own, f"the test system reaches beyond core and the boundary: {own}"


def test_the_count_sees_a_new_file_outside() -> None:
    text = ("## Adding a system\n\n1. `providers/<kind>/descriptor.py` — x\n"
            "2. `providers/registry.py`, `engine/systems.py` — y\n\n## Layout\n")
    steps = readme_steps(text)
    assert steps == {1: ["providers/<kind>/descriptor.py"], 2: ["providers/registry.py", "engine/systems.py"]}
    assert outside(steps) == ["providers/registry.py", "engine/systems.py"]

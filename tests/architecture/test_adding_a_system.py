"""README's "Adding a system", followed step by step for a fourth system, with no engine change.

``tests/architecture/dnsbox/`` holds the settings, the schema fragment, the descriptor and the
provider of a tiny DNS server; registering the descriptor (step 5) is all it takes for the
configuration, its schema, reconcile, plan, apply, state, targeting and the CLI to know it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli.main import cli
from engine.config import schema as configschema
from providers import registry
from tests.architecture.dnsbox import provider as dnsbox
from tests.architecture.dnsbox.descriptor import KIND

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

"""Resent calls (issue 19 §3) reach the apply summary, the service's log summary and /metrics."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

import pytest

from core.model import Address, ApplyResult, Change, ChangeOutcome, Plan
from engine.apply.applier import ApplyReport
from engine.cli import output as cliout
from engine.config.load import load_config
from engine.web.service import Service, ServiceOptions
from providers.registry import register, unregister
from state.model import State
from tests.engine.web.test_service import samples

from .._fake import CONFIG, PASSWORD, FakeSystem, fake_provider


def _retrying(system: FakeSystem, per_change: int) -> type:
    base = fake_provider(system)

    class Retrying(base):  # type: ignore[misc, valid-type]
        """The in-test system, reporting ``per_change`` resent calls for every change."""

        def apply(self, changes: Sequence[Change]) -> ApplyResult:
            result = super().apply(changes)
            return ApplyResult(tuple(replace(o, retries=per_change) for o in result.outcomes), result.log)

    return Retrying


@pytest.fixture()
def service(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSOT_TEST_NIPAP_PASSWORD", PASSWORD)
    path = tmp_path / "netsot.yaml"
    path.write_text(CONFIG)
    register("nipap", _retrying(FakeSystem(), 2))
    try:
        yield Service(load_config(path), ServiceOptions(once=True))
    finally:
        unregister("nipap")


def test_retries_are_counted_in_metrics_and_the_run_summary(service, caplog) -> None:
    svc = service
    with caplog.at_level(logging.INFO):
        assert svc.run_once() is True
    found = samples(svc.metrics.render())
    assert found[("netsot_apply_retries_total", (("system", "nipap"),))] == 4  # 2 creates × 2
    fields = [getattr(r, "fields", {}) for r in caplog.records]
    assert any(f.get("retries") == 4 for f in fields), fields


def test_the_apply_summary_shows_the_retries(capsys) -> None:
    web, name = Address.of("nipap_address", "lan.web"), Address.of("edgemax_host", "web.lab.example")
    outcomes = (ChangeOutcome(web, "applied", retries=3), ChangeOutcome(name, "applied"))
    report = ApplyReport(outcomes, (), (), State(), {}, outcomes)
    assert report.retries == {"nipap": 3}
    assert cliout.apply_report(Plan(), report) == 0
    out = capsys.readouterr().out
    assert "Retries: nipap 3 (calls resent after a transient fault or a lost race)." in out
    quiet = ApplyReport(outcomes[1:], (), (), State(), {}, outcomes[1:])
    assert quiet.retries == {}
    cliout.apply_report(Plan(), quiet)
    assert "Retries" not in capsys.readouterr().out

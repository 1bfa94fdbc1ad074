"""Saved plans: atomic 0600 files, strict loading, and the per-object staleness check."""

from __future__ import annotations

import json
import stat
from dataclasses import replace

import pytest

from core.errors import PlanError, StalePlan
from core.model import Fact, Observation, ObservedResource, Plan, frozen_map
from engine.config.load import config_digest, load_config
from engine.plan.document import plan_document, sealed
from engine.plan.saved import check_fresh, fresh_fingerprints, load_plan, save_plan
from state.model import ResourceState, State
from tests import addresses as A
from tests.engine._fake import CONFIG
from tests.engine._plans import CREATED_AT, mixed_plan

WEB = A.nipap_address("lan", "web01")
DB = A.nipap_address("lan", "db01")


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSOT_TEST_NIPAP_PASSWORD", "x")
    path = tmp_path / "netsot.yaml"
    path.write_text(CONFIG)
    return load_config(path)


def observations(web_ip: str = "192.168.1.23", extra: bool = False, fact_ip: str = "192.168.1.30"):
    resources = {WEB: ObservedResource(WEB, frozen_map({"ip": web_ip, "hostname": "web01"}), "1")}
    if extra:
        resources[DB] = ObservedResource(DB, frozen_map({"ip": "192.168.1.30", "hostname": "db01"}), "2")
    facts = (Fact("proxmox", "pve1/102 net0", "lan", "db01", "bc:24:11:aa:bb:02", fact_ip, origin=True),)
    return {
        "nipap": Observation("nipap", resources=frozen_map(resources)),
        "proxmox": Observation("proxmox", facts=facts),
    }


def document(config, state: State, obs) -> dict:
    plan = Plan(fingerprints=frozen_map(fresh_fingerprints(obs)), config_digest=config_digest(config),
                lineage=state.lineage, serial=state.serial)
    return plan_document(plan, netsot_version="0.1.0", created_at=CREATED_AT)


def test_save_is_0600_and_atomic_and_loads_back(tmp_path):
    doc = plan_document(mixed_plan(), netsot_version="0.1.0", created_at=CREATED_AT)
    path = save_plan(tmp_path / "tfplan", doc)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_plan(path) == doc
    assert [p.name for p in tmp_path.iterdir()] == ["tfplan"]  # no temp file left behind
    save_plan(path, doc)  # overwriting keeps the mode
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_into_a_missing_directory_is_a_plan_error(tmp_path):
    with pytest.raises(PlanError, match="cannot write plan file"):
        save_plan(tmp_path / "nope" / "tfplan", {"format_version": "1"})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("garbage", "is not a netsot plan file (not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"format_version": "9"}', "is plan format '9'; this netsot reads format '1'"),
        ('{"format_version": "1"}', "has no checksum"),
        ('{"format_version": "1", "checksum": "sha256:00"}', "was modified after it was saved"),
    ],
)
def test_load_rejects_garbage_clearly(tmp_path, content, message):
    path = tmp_path / "tfplan"
    path.write_text(content)
    with pytest.raises(PlanError) as err:
        load_plan(path)
    assert message in str(err.value)


def test_load_rejects_a_truncated_or_tampered_plan(tmp_path):
    doc = plan_document(mixed_plan(), netsot_version="0.1.0", created_at=CREATED_AT)
    path = save_plan(tmp_path / "tfplan", doc)
    path.write_text(path.read_text()[:200])
    with pytest.raises(PlanError, match="not JSON"):
        load_plan(path)
    doc["changes"][0]["action"] = "explode"
    path.write_text(json.dumps(sealed(doc)))  # even with a matching checksum, the schema still holds
    with pytest.raises(PlanError, match="at changes/0/action"):
        load_plan(path)


def test_load_refuses_a_plan_edited_after_it_was_saved(tmp_path):
    doc = plan_document(mixed_plan(), netsot_version="0.1.0", created_at=CREATED_AT)
    path = save_plan(tmp_path / "tfplan", doc)
    assert doc["checksum"].startswith("sha256:") and load_plan(path) == doc
    for edit in ('"ip": "192.168.1.23"', '"config_digest": "sha256:'):
        text = path.read_text()
        assert edit in text
        path.write_text(text.replace(edit, edit.replace("23", "99").replace("sha256:", "sha256:f"), 1))
        with pytest.raises(PlanError, match="tfplan was modified after it was saved"):
            load_plan(path)
        save_plan(path, doc)
    del doc["checksum"]
    path.write_text(json.dumps(doc))
    with pytest.raises(PlanError, match="has no checksum"):
        load_plan(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(PlanError, match="does not exist"):
        load_plan(tmp_path / "nothing")


def test_fresh_plan_passes(config):
    state = State()
    check_fresh(document(config, state, observations()), config, observations(), state)


def test_changed_object_is_named(config):
    state = State()
    doc = document(config, state, observations())
    with pytest.raises(StalePlan) as err:
        check_fresh(doc, config, observations(web_ip="192.168.1.24"), state)
    assert err.value.changed == (str(WEB),)
    assert f"{WEB} changed" in str(err.value)


def test_changed_fact_vanished_and_appeared_objects(config):
    state = State()
    doc = document(config, state, observations(extra=True))
    with pytest.raises(StalePlan) as err:
        check_fresh(doc, config, observations(fact_ip="192.168.1.31"), state)
    assert set(err.value.changed) == {"fact:pve1/102 net0", str(DB)}
    assert f"{DB} vanished" in str(err.value)
    doc = document(config, state, observations())
    with pytest.raises(StalePlan, match=f"{DB} appeared"):
        check_fresh(doc, config, observations(extra=True), state)


def test_config_change_is_stale(config, tmp_path):
    state = State()
    doc = document(config, state, observations())
    other = tmp_path / "other.yaml"
    other.write_text(CONFIG.replace("192.168.1.11", "192.168.1.12"))
    with pytest.raises(StalePlan, match="the configuration changed since the plan was made"):
        check_fresh(doc, load_config(other), observations(), state)


def test_unrelated_serial_bump_is_not_stale(config):
    state = State(serial=3).with_resource(ResourceState("edgemax_host.a.lab", "edgemax", "a", {}))
    doc = document(config, state, observations())
    later = replace(state.without("edgemax_host.a.lab"), serial=9)
    check_fresh(doc, config, observations(), later)


def test_other_lineage_is_stale(config):
    state = State(serial=3)
    doc = document(config, state, observations())
    with pytest.raises(StalePlan, match="lineage"):
        check_fresh(doc, config, observations(), State(serial=3))


def test_blank_state_lineage_is_not_stale(config):
    # A plan made before any state existed saw a blank state whose random lineage was never stored.
    doc = document(config, State(), observations())
    check_fresh(doc, config, observations(), State())

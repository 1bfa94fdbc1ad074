"""The state file format: round trip, the v0 → v1 upgrade, and every way a file can be broken."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType

import pytest

import schemas
from core.errors import StateCorrupt, StateError, UnsupportedStateVersion
from state import codec
from state.migrate import MIGRATIONS, MigrationError, upgrade, v0_to_v1
from state.model import STATE_VERSION, JournalEntry, ResourceState, State

DATA = Path(__file__).parent / "data"


def sample_state() -> State:
    state = State(lineage="11111111-2222-3333-4444-555555555555", serial=3)
    state = state.with_resource(
        ResourceState(
            "nipap_address.lan.web01", "nipap", "57",
            {"prefix": "192.168.10.21/32", "tags": ("a", "b"), "avps": {"netsot": "1"}},
            ("nipap_prefix.lan",), origin="proxmox",
        )
    )
    state = state.with_resource(
        ResourceState("edgemax_host.old.lab", "edgemax", None, {"ip": "192.168.10.9"},
                      status="orphaned", orphaned_since="2026-11-01T00:00:00Z")
    )
    return state.with_journal(
        (JournalEntry("op-1", "nipap_address.lan.web01", "create", "sent", "nipap",
                      MappingProxyType({"prefix": "192.168.10.21/32"}), "2026-11-28T12:00:00Z"),)
    )


def test_round_trip_keeps_everything() -> None:
    state = sample_state()
    again = codec.loads(codec.dumps(state), "t.json")
    assert again.to_dict() == state.to_dict()
    assert again.serial == 3 and again.lineage == state.lineage
    assert again.journal[0].phase == "sent"


def test_dumps_is_canonical_text() -> None:
    text = codec.dumps(sample_state())
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    addresses = [r["address"] for r in json.loads(text)["resources"]]
    assert addresses == sorted(addresses)
    assert not list(schemas.validator(f"state.v{STATE_VERSION}").iter_errors(json.loads(text)))


def test_dumps_always_writes_the_latest_version() -> None:
    old = State(lineage="x", version=0)
    assert json.loads(codec.dumps(old))["version"] == STATE_VERSION


def test_golden_v0_upgrades_to_the_latest_version() -> None:
    state = codec.loads((DATA / "v0-simple.json").read_text(), "v0-simple.json")
    assert codec.dumps(state) == (DATA / "v0-simple.v3.json").read_text()
    assert state.serial == 7  # an upgrade is not a change of content
    assert state.resources["nipap_prefix.lan"].provider_id == "12"  # numeric v0 ids become strings
    assert state.resources["edgemax_dhcp_mapping.LAN.web01"].dependencies == ("nipap_address.lan.web01",)


def test_golden_v1_upgrades_to_v2_with_an_empty_forgotten_list() -> None:
    """v1 is what every netsot before the Unmanaged section wrote (v0-simple after one upgrade)."""
    text = (DATA / "v1-simple.json").read_text()
    assert not list(schemas.validator("state.v1").iter_errors(json.loads(text)))
    state = codec.loads(text, "v1-simple.json")
    assert state.forgotten == () and state.serial == 7
    assert codec.dumps(state) == (DATA / "v0-simple.v3.json").read_text()


def test_forgotten_objects_round_trip_and_leave_when_managed_again() -> None:
    state = sample_state()
    address = next(iter(state.resources))
    forgot = state.forget(address, "2026-12-02T10:00:00Z")
    assert address not in forgot.resources and [f.address for f in forgot.forgotten] == [address]
    again = codec.loads(codec.dumps(forgot), "t.json")
    assert again.forgotten == forgot.forgotten
    back = again.with_resource(state.resources[address])
    assert back.forgotten == ()


def test_migrations_chain_to_the_current_version() -> None:
    assert sorted(MIGRATIONS) == list(range(STATE_VERSION))
    doc = json.loads((DATA / "v0-simple.json").read_text())
    snapshot = json.dumps(doc)
    out = upgrade(doc, 0)
    assert out["version"] == STATE_VERSION
    assert json.dumps(doc) == snapshot  # steps are pure: the input is untouched


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"format": 0, "serial": 1, "lineage": "l", "objects": []}, "'objects' is not a JSON object"),
        ({"format": 0, "serial": 1, "lineage": "l", "objects": {"a": 1}}, "object 'a' is not a JSON object"),
        ({"format": 0, "serial": 1, "lineage": "l", "objects": {"a": {}}}, "object 'a' has no 'system'"),
    ],
)
def test_broken_v0_is_corrupt(doc: dict, message: str) -> None:
    with pytest.raises(MigrationError, match=message):
        v0_to_v1(doc)
    with pytest.raises(StateCorrupt, match=message):
        codec.loads(json.dumps(doc), "old.json")


def test_v0_without_serial_fails_v1_validation() -> None:
    with pytest.raises(StateCorrupt, match=r"old\.json.*serial"):
        codec.loads(json.dumps({"format": 0, "lineage": "l", "objects": {}}), "old.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("  \n\t\n", "the file is empty"),
        ('{"version": 1, "serial": 2, "lineage": "l", "resour', r"ends early at line 1 \(truncated\?\)"),
        ("{'version': 1}", "invalid JSON at line 1 column 2"),
        ("[1, 2]", "expected a JSON object, found an array"),
        ('"state"', "expected a JSON object, found a string"),
        ("null", "expected a JSON object, found null"),
        ('{"serial": 1, "lineage": "l"}', "it has no 'version' field"),
        ('{"version": "1"}', "'version' must be a whole number"),
        ('{"version": true}', "'version' must be a whole number"),
        ('{"version": -1}', "'version' must be a whole number"),
        ('{"version": 1, "serial": 1, "lineage": "l", "resources": []}', "'journal' is a required property"),
        ('{"version": 1, "serial": "1", "lineage": "l", "resources": [], "journal": []}',
         "serial: '1' is not of type 'integer'"),
        ('{"version": 1, "serial": 1, "lineage": "l", "resources": [], "journal": [], "x": 1}',
         "Additional properties are not allowed"),
        ('{"version": 1, "serial": 1, "lineage": "l", "resources": [{"address": "a"}], "journal": []}',
         r"resources\[0\]: 'provider' is a required property"),
    ],
)
def test_broken_text_is_corrupt_and_names_the_file(text: str, message: str) -> None:
    with pytest.raises(StateCorrupt, match=message) as info:
        codec.loads(text, "/srv/netsot/state.json")
    assert "/srv/netsot/state.json" in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_enum_and_duplicate_address_are_corrupt() -> None:
    doc = sample_state().to_dict()
    doc["resources"][0]["status"] = "lost"
    with pytest.raises(StateCorrupt, match=r"resources\[0\]\.status: 'lost' is not one of"):
        codec.loads(json.dumps(doc), "s.json")
    doc = sample_state().to_dict()
    doc["resources"].append(doc["resources"][0])
    with pytest.raises(StateCorrupt, match="appears twice"):
        codec.loads(json.dumps(doc), "s.json")


def test_newer_version_is_unsupported() -> None:
    doc = {**sample_state().to_dict(), "version": STATE_VERSION + 1}
    with pytest.raises(UnsupportedStateVersion, match=f"version {STATE_VERSION + 1}.*newer netsot"):
        codec.loads(json.dumps(doc), "s.json")


def test_unwritable_values_are_refused_before_writing() -> None:
    bad = State(lineage="l").with_resource(ResourceState("a.b", "nipap", None, {"when": object()}))
    with pytest.raises(StateError, match="not plain JSON"):
        codec.dumps(bad)
    invalid = State(lineage="l").with_resource(ResourceState("a.b", "nipap", None, {}, status="gone"))
    with pytest.raises(StateError, match="status"):
        codec.dumps(invalid)


def test_previous_state_skips_only_unchanged_resources() -> None:
    good = sample_state()
    bad = good.with_resource(ResourceState("x.y", "nipap", None, {}, status="gone"))
    with pytest.raises(StateError, match="status"):
        codec.dumps(bad, previous=good)  # the new resource is still checked


def _reference(state: State) -> str:
    """What ``dumps`` writes, spelled the plain way: one ``json.dumps`` of the whole document."""
    doc = {**state.to_dict(), "version": STATE_VERSION}
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def test_saves_after_changes_write_what_one_json_dumps_writes() -> None:
    """#24: ``dumps`` reuses each unchanged resource's text between saves; the text stays byte for byte
    the plain encoding, and a changed, added or removed resource is never written as it was before."""
    first = sample_state()
    assert codec.dumps(first) == _reference(first)
    changed = first.with_resource(ResourceState(
        "nipap_address.lan.web01", "nipap", "57",
        {"prefix": "192.168.10.22/32", "note": 'é "q"\n\t', "nested": {"b": [1, 2.5, None, {}], "a": []}},
        ("nipap_prefix.lan",), origin="proxmox"))
    changed = changed.with_resource(ResourceState("a_first.lan.x", "nipap", None, {}))
    for previous in (first, None):
        text = codec.dumps(changed, previous=previous)
        assert text == _reference(changed)
        assert "192.168.10.22/32" in text and "192.168.10.21/32" not in text.split('"resources"')[1]
    gone = changed.without("nipap_address.lan.web01").with_journal(())
    assert codec.dumps(gone, previous=changed) == _reference(gone)
    assert codec.dumps(State(lineage="l")) == _reference(State(lineage="l"))
    assert codec.loads(codec.dumps(changed, previous=first), "t").to_dict() == {**changed.to_dict(),
                                                                                  "version": STATE_VERSION}


def test_v2_upgrades_to_v3_with_who_made_each_object_or_unknown() -> None:
    """#20.1: v2 did not record ownership; only an object the journal shows netsot creating is made."""
    doc = json.loads((DATA / "v0-simple.v3.json").read_text())
    doc["version"] = 2
    for resource in doc["resources"]:
        del resource["ownership"]
    made = doc["resources"][0]["address"]
    doc["journal"] = [{"op_id": "1", "address": made, "action": "create", "phase": "sent", "system": "nipap",
                       "data": {}, "time": ""}]
    assert not list(schemas.validator("state.v2").iter_errors(doc))
    state = codec.loads(json.dumps(doc), "v2.json")
    assert {a: r.ownership for a, r in state.resources.items()} == {
        a: "made" if a == made else "unknown" for a in state.resources}
    assert json.loads(codec.dumps(state))["version"] == 3

"""The simulator and the real nipapd 0.32.7 agree where older nipapd behaved otherwise (nipap.md
§9.3): each test runs against both (``target``), with the real server's exact answers."""

from __future__ import annotations

import xmlrpc.client

import pytest

from tests.providers.nipap.conftest import Target

pytestmark = pytest.mark.integration


def _printer(target: Target) -> dict:
    (row,) = [h for h in target.hosts() if h["node"] == "printer"]
    return row


def test_an_edit_without_a_vrf_key_keeps_the_prefix_in_its_vrf(target: Target) -> None:
    """Since 0.31.2: no vrf_id/vrf_rt/vrf_name in attr means "keep", not VRF 0 (which was refused)."""
    printer = _printer(target)
    (row,) = target.rpc("edit_prefix", prefix={"id": printer["id"]}, attr={"description": "edited"})
    assert (row["vrf_id"], row["description"]) == (target.vrf_id, "edited")
    with pytest.raises(xmlrpc.client.Fault) as info:  # naming another VRF is still a change of VRF
        target.rpc("edit_prefix", prefix={"id": printer["id"]}, attr={"vrf_id": 0, "description": "x"})
    assert (info.value.faultCode, info.value.faultString) == (1200, "Changing VRF is not allowed")


@pytest.mark.parametrize(("operator", "value", "text"), [
    ("equals", "k", "Unexpected end of string\nLINE 97:                         WHERE  inp.avps = 'k' \n"
                    + " " * 51 + "^\n"),
    ("like", "%k%", "Unable to execute query: operator does not exist: hstore ~~ unknown\n"
                    "LINE 97: ...                    WHERE  COALESCE(inp.avps, '') LIKE '%k%'...\n" + " " * 62
                    + "^\nHINT:  No operator matches the given name and argument types. "
                    "You might need to add explicit type casts.\n"),
])
def test_a_search_on_avps_is_fault_1000_with_postgresqls_text(
    target: Target, operator: str, value: str, text: str
) -> None:
    with pytest.raises(xmlrpc.client.Fault) as info:
        target.rpc("search_prefix", query={"operator": operator, "val1": "avps", "val2": value},
                   search_options={})
    assert (info.value.faultCode, info.value.faultString) == (1000, text)
    with pytest.raises(xmlrpc.client.Fault) as info:  # a field nipapd does not know stays 1100
        target.rpc("search_prefix", query={"operator": "equals", "val1": "mac", "val2": "x"},
                   search_options={})
    assert (info.value.faultCode, info.value.faultString) == (1100, "Search variable 'mac' unknown")


def test_duplicate_tags_are_kept_as_sent(target: Target) -> None:
    row = target.rpc("add_prefix", attr={"prefix": target.network.replace("0/24", "77/32"), "type": "host",
                                         "description": "tags", "vrf_id": target.vrf_id,
                                         "tags": ["a", "a", "netsot"]})
    assert row["tags"] == ["a", "a", "netsot"]
    (listed,) = target.rpc("list_prefix", prefix={"id": row["id"]})
    assert listed["tags"] == ["a", "a", "netsot"]


def test_include_all_parents_shows_the_parents_as_context(target: Target) -> None:
    printer = _printer(target)
    found = target.rpc("search_prefix", query={"operator": "equals", "val1": "id", "val2": printer["id"]},
                       search_options={"include_all_parents": True})
    rows = {r["prefix"]: (r["match"], r["display"]) for r in found["result"]}
    assert rows == {target.network: (False, True), printer["prefix"]: (True, True)}
    assert found["search_options"]["include_all_parents"] is True

"""The simulator matches nipapd 0.32.7's exact faults and rules (nipap.md §2.5, §2.6, §3.2, §3.4,
§3.7, §4.1) — through raw XML-RPC and through pynipap."""

from __future__ import annotations

import base64
import http.client
import xmlrpc.client
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pynipap
import pytest

from providers.nipap.sim.server import SimHandle
from tests.providers.nipap.conftest import Call, fault_of, rpc_for

pytestmark = pytest.mark.integration

LAB = {"vrf_rt": "65000:1"}  # the seeded VRF (id 1) holding 192.168.1.0/24 and host .5
H = "host"


def add(**attr: Any) -> dict[str, Any]:
    attr.setdefault("description", "t")
    return {"attr": attr}


# (id, method, struct without auth, fault code, exact fault text)
FAULTS: list[tuple[str, str, dict[str, Any], int, str]] = [
    # §2.5 hierarchy
    (
        "host-not-full-length",
        "add_prefix",
        add(prefix="10.1.0.0/25", type=H),
        1200,
        "Prefix of type host must have all bits set in netmask",
    ),
    (
        "host-without-parent",
        "add_prefix",
        add(prefix="172.16.0.1/32", type=H),
        1200,
        "Prefix of type host must have a parent (covering) prefix of type assignment",
    ),
    (
        "host-under-reservation",
        "add_prefix",
        add(prefix="10.2.0.1/32", type=H),
        1200,
        "Parent prefix (10.0.0.0/8) is of type reservation but must be of type 'assignment'",
    ),
    (
        "assignment-under-assignment",
        "add_prefix",
        add(prefix="10.1.0.128/25", type="assignment"),
        1200,
        "Parent prefix (10.1.0.0/24) is of type assignment but must be of type 'reservation'",
    ),
    (
        "reservation-under-assignment",
        "add_prefix",
        add(prefix="10.1.0.64/26", type="reservation"),
        1200,
        "Parent prefix (10.1.0.0/24) is of type assignment but must be of type 'reservation'",
    ),
    (
        "assignment-over-assignment",
        "add_prefix",
        add(prefix="10.1.0.0/16", type="assignment"),
        1200,
        "Prefix of type 'assignment' must not have any subnets other than of type 'host'",
    ),
    (
        "duplicate-host-no-suffix",
        "add_prefix",
        add(prefix="10.1.0.1/32", type=H, node="x"),
        1400,
        "Duplicate value for 'prefix', the value '0, 10.1.0.1' is already in use.",
    ),
    (
        "duplicate-assignment",
        "add_prefix",
        add(prefix="192.168.1.0/24", type="assignment", **LAB),
        1400,
        "Duplicate value for 'prefix', the value '1, 192.168.1.0/24' is already in use.",
    ),
    (
        "node-on-reservation",
        "add_prefix",
        add(prefix="172.16.0.0/12", type="reservation", node="n"),
        1200,
        "Not allowed to set 'node' value for prefixes of type 'reservation'.",
    ),
    (
        "node-on-short-assignment",
        "add_prefix",
        add(prefix="172.16.0.0/24", type="assignment", node="n"),
        1200,
        "Not allowed to set 'node' value for prefixes of type 'assignment' which do not have all bits set "
        "in netmask.",
    ),
    (
        "bits-right-of-mask",
        "add_prefix",
        add(prefix="172.16.0.1/24", type="assignment"),
        1200,
        "Invalid prefix (172.16.0.1/24); bits set to right of mask. "
        "Network address for current mask: 172.16.0.0",
    ),
    (
        "bad-cidr",
        "add_prefix",
        add(prefix="nonsense", type="assignment"),
        1200,
        "Invalid syntax for prefix (nonsense)",
    ),
    (
        "type-change-host",
        "edit_prefix",
        {"prefix": {"id": 5}, "attr": {"type": "assignment"}},
        1200,
        "Parent prefix (10.1.0.0/24) is of type assignment but must be of type 'reservation'",
    ),
    (
        "type-change-with-children",
        "edit_prefix",
        {"prefix": {"id": 3}, "attr": {"type": "reservation"}},
        1200,
        "Changing type is not allowed",
    ),
    (
        "vrf-change",
        "edit_prefix",
        {"prefix": {"id": 5}, "attr": {"vrf_id": 1}},
        1200,
        "Changing VRF is not allowed",
    ),
    # §2.6 removal
    (
        "remove-assignment-with-hosts",
        "remove_prefix",
        {"prefix": {"id": 3}},
        1200,
        "Prohibited delete, prefix (10.1.0.0/24) contains hosts.",
    ),
    (
        "remove-missing-id",
        "remove_prefix",
        {"prefix": {"id": 999}},
        1,
        "<class 'IndexError'>:list index out of range",
    ),
    (
        "remove-without-key",
        "remove_prefix",
        {"prefix": {"description": "x"}},
        1110,
        "missing prefix or id of prefix",
    ),
    (
        "remove-default-vrf",
        "remove_vrf",
        {"vrf": {"id": 0}},
        1200,
        "Prohibited delete of default VRF (id=0).",
    ),
    # §3.4 specs
    (
        "vrf-spec-two-keys",
        "list_vrf",
        {"vrf": {"id": 1, "name": "lab"}},
        1120,
        "VRF specification contains too many keys, specify VRF id, vrf or name.",
    ),
    (
        "prefix-spec-id-and-more",
        "list_prefix",
        {"prefix": {"id": 1, "type": H}},
        1120,
        "If 'id' specified, no other keys are allowed.",
    ),
    (
        "prefix-spec-unknown",
        "list_prefix",
        {"prefix": {"colour": "red"}},
        1120,
        "Key 'colour' not allowed in prefix spec.",
    ),
    (
        "prefix-spec-pool-name",
        "list_prefix",
        {"prefix": {"pool_name": "p"}},
        1120,
        "Key 'pool_name' not allowed in prefix spec.",
    ),
    # §3.7 allocation arguments
    (
        "mixed-modes",
        "add_prefix",
        {
            "attr": {"prefix": "10.1.0.9/32", "type": H, "node": "n"},
            "args": {"from-prefix": ["10.1.0.0/24"], "prefix_length": 32},
        },
        1120,
        "specify 'prefix' or 'from-prefix' or 'from-pool'",
    ),
    (
        "no-mode",
        "add_prefix",
        {"attr": {"type": H, "node": "n"}},
        1120,
        "specify 'prefix' or 'from-prefix' or 'from-pool'",
    ),
    (
        "from-prefix-not-list",
        "add_prefix",
        {"attr": {"type": H, "node": "n"}, "args": {"from-prefix": "10.1.0.0/24", "prefix_length": 32}},
        1100,
        "from-prefix should be a list",
    ),
    (
        "from-prefix-no-length",
        "add_prefix",
        {"attr": {"type": H, "node": "n"}, "args": {"from-prefix": ["10.1.0.0/24"]}},
        1110,
        "'prefix_length' must be specified with 'from-prefix'",
    ),
    (
        "from-prefix-family",
        "add_prefix",
        {
            "attr": {"type": H, "node": "n"},
            "args": {"from-prefix": ["10.1.0.0/24"], "prefix_length": 32, "family": 4},
        },
        1120,
        "'family' is superfluous when in 'from-prefix' mode",
    ),
    (
        "from-pool-missing-pool",
        "add_prefix",
        {"attr": {"type": H, "node": "n"}, "args": {"from-pool": {"id": 9}}},
        1300,
        "Non-existent pool specified",
    ),
    (
        "no-description-or-node",
        "add_prefix",
        {"attr": {"prefix": "10.1.0.9/32", "type": H}},
        1110,
        "Either description or node must be specified.",
    ),
    (
        "missing-pool",
        "add_prefix",
        add(prefix="172.16.0.0/24", type="assignment", pool_id=77),
        1100,
        "non-existing pool specified",
    ),
    (
        "missing-vrf",
        "add_prefix",
        add(prefix="172.16.0.0/24", type="assignment", vrf_id=77),
        1300,
        "No matching VRF found.",
    ),
    (
        "no-free-prefix",
        "add_prefix",
        {
            "attr": {"type": "assignment", "description": "d"},
            "args": {"from-prefix": ["10.1.0.0/24"], "prefix_length": 24},
        },
        1300,
        "no free prefix found",
    ),
    (
        "count-too-big",
        "find_free_prefix",
        {"vrf": None, "args": {"from-prefix": ["10.1.0.0/24"], "prefix_length": 32, "count": 1001}},
        1200,
        "count over the maximum result size",
    ),
    (
        "bad-wanted-length",
        "find_free_prefix",
        {"vrf": None, "args": {"from-prefix": ["10.1.0.0/24"], "prefix_length": 33}},
        1200,
        "the specified wanted prefix length argument must be between 0 and 32 for ipv4",
    ),
    # §4.1 input faults
    (
        "extraneous-attribute",
        "add_prefix",
        add(prefix="172.16.0.0/24", type="assignment", colour="red"),
        1120,
        "extraneous attribute colour",
    ),
    (
        "read-only-attribute",
        "edit_prefix",
        {"prefix": {"id": 5}, "attr": {"vrf_id": 0, "indent": 3}},
        1120,
        "extraneous attribute indent",
    ),
    (
        "avp-not-string",
        "add_prefix",
        add(prefix="172.16.0.0/24", type="assignment", avps={"n": 1}),
        1000,
        "Unable to execute query: function hstore(text[], int[]) does not exist",
    ),
    ("bad-enum", "add_prefix", add(prefix="172.16.0.0/24", type="subnet"), 1000, "Unhandled data error."),
    ("search-empty", "search_prefix", {"query": {}}, 1110, "'val1' must be specified"),
    (
        "search-unknown-var",
        "search_prefix",
        {"query": {"operator": "equals", "val1": "colour", "val2": 1}},
        1100,
        "Search variable 'colour' unknown",
    ),
    (
        "search-missing-val2",
        "search_prefix",
        {"query": {"operator": "equals", "val1": "node"}},
        1110,
        "Value (val2 in API) for 'node' must be specified",
    ),
    (
        "search-unknown-operator",
        "search_prefix",
        {"query": {"operator": "near", "val1": "node", "val2": "x"}},
        1130,
        "No such operator near",
    ),
    ("search-pool-empty", "search_pool", {"query": {}}, 1, "<class 'KeyError'>:'val1'"),
    (
        "no-search-tag",
        "search_tag",
        {"query": {}},
        1,
        "<class 'Exception'>:method \"search_tag\" is not supported",
    ),
    (
        "vrf-duplicate-name-ci",
        "add_vrf",
        {"attr": {"rt": "65000:2", "name": "LAB"}},
        1400,
        "Duplicate value for 'VRF name', the value 'LAB' is already in use.",
    ),
    (
        "vrf-duplicate-rt-normalised",
        "add_vrf",
        {"attr": {"rt": "065000:001", "name": "lab2"}},
        1400,
        "Duplicate value for 'VRF RT', the value '65000:1' is already in use.",
    ),
    ("vrf-missing-rt", "add_vrf", {"attr": {"name": "x"}}, 1110, "missing attribute rt"),
]


@pytest.mark.parametrize(
    ("method", "struct", "code", "text"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS]
)
def test_exact_fault_raw(rpc: Call, method: str, struct: dict[str, Any], code: int, text: str) -> None:
    assert fault_of(lambda: rpc(method, **struct)) == (code, text)


# §3.2 envelope and auth, raw
def test_envelope_and_auth_faults(sim: SimHandle) -> None:
    proxy = xmlrpc.client.ServerProxy(sim.url("netsot", "pw"), allow_none=True)
    auth = {"authoritative_source": "t"}
    assert fault_of(lambda: proxy.version({"auth": auth}, 2)) == (
        1000,
        "NIPAP API functions take exactly 1 argument (2 given)",
    )
    assert fault_of(lambda: proxy.version("x")) == (
        1000,
        "Function argument must be XML-RPC struct/Python dict (Python str given).",
    )
    assert fault_of(lambda: proxy.version({})) == (1000, "Missing/invalid authentication options in request.")
    assert fault_of(lambda: proxy.version({"auth": "x"})) == (
        1000,
        "Missing/invalid authentication options in request.",
    )
    assert fault_of(lambda: proxy.version({"auth": {}})) == (
        1000,
        "Missing authoritative source in auth options.",
    )
    anon = xmlrpc.client.ServerProxy(sim.url(), allow_none=True)
    assert fault_of(lambda: anon.version({"auth": auth})) == (1500, "Missing authentication method")
    for user, pw in (("netsot", "bad"), ("nobody", "pw")):
        bad = xmlrpc.client.ServerProxy(sim.url(user, pw), allow_none=True)
        assert fault_of(lambda b=bad: b.version({"auth": auth})) == (1510, "Incorrect username or password.")
    ro = rpc_for(sim.url("reader", "pw2"))
    assert fault_of(lambda: ro("add_vrf", attr={"rt": "1:1", "name": "n"})) == (
        1520,
        "read-only user 'reader' is not authorized to run function 'add_vrf'",
    )
    assert ro("find_free_prefix", vrf=None, args={"from-prefix": ["10.1.0.0/24"], "prefix_length": 32}) == [
        "10.1.0.2"
    ]
    trusted_ro = xmlrpc.client.ServerProxy(sim.url("boss", "pw3"), allow_none=True)
    assert (
        fault_of(lambda: trusted_ro.remove_vrf({"auth": {**auth, "readonly": True}, "vrf": {"id": 1}}))[0]
        == 1520
    )
    # introspection works without auth; HTTP errors as nipapd
    assert "add_prefix" in anon.system.listMethods()
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    conn.request("GET", "/XMLRPC")
    assert conn.getresponse().status == 405
    conn.close()
    wrong = xmlrpc.client.ServerProxy(sim.url("netsot", "pw", path="/nope"), allow_none=True)
    with pytest.raises(xmlrpc.client.ProtocolError) as info:
        wrong.version({"auth": auth})
    assert info.value.errcode == 404
    assert rpc_for(sim.url("netsot", "pw", path="/RPC2"))("version") == "0.32.7"


def test_removal_semantics(rpc: Call) -> None:
    rpc("add_prefix", **add(prefix="10.2.0.0/16", type="reservation"))
    rpc("add_prefix", **add(prefix="10.2.1.0/24", type="assignment"))
    res = rpc("list_prefix", prefix={"prefix": "10.2.0.0/16"})[0]
    assert rpc("list_prefix", prefix={"prefix": "10.2.1.0/24"})[0]["indent"] == 2
    assert rpc("remove_prefix", prefix={"id": res["id"]}) is None  # reservation: children stay
    assert rpc("list_prefix", prefix={"prefix": "10.2.1.0/24"})[0]["indent"] == 1
    assert rpc("remove_prefix", prefix={"prefix": "172.31.0.0/16"}) is None  # no match: silent no-op
    assert rpc("remove_prefix", prefix={"id": 3}, recursive=True) is None  # assignment + its host
    assert rpc("list_prefix", prefix={"prefix": "10.1.0.1/32"}) == []
    assert rpc("remove_vrf", vrf={"id": 55}) is None
    assert rpc("remove_vrf", vrf={"id": 1}) is None  # removes its prefixes too
    assert rpc("list_prefix", prefix={"vrf_id": 1}) == []


def test_wire_conventions(rpc: Call) -> None:
    row = rpc(
        "add_prefix",
        attr={
            "prefix": "10.1.0.7/32",
            "type": H,
            "node": "n7",
            "description": "d",
            "authoritative_source": "ignored",
            "tags": ["a"],
        },
    )
    assert isinstance(row, dict) and row["prefix"] == "10.1.0.7/32" and row["display_prefix"] == "10.1.0.7/24"
    assert row["authoritative_source"] == "test"  # stamped from auth on add
    assert row["total_addresses"] == "1" and isinstance(row["used_addresses"], str)
    assert isinstance(row["added"], datetime) and row["added"].tzinfo is None and row["expires"] is None
    assert row["indent"] == 2 and row["vrf_id"] == 0 and row["comment"] is None
    edited = rpc("edit_prefix", prefix={"id": row["id"]}, attr={"vrf_id": None, "description": "e"})
    assert isinstance(edited, list) and edited[0]["description"] == "e"
    assert edited[0]["authoritative_source"] == "test"  # unchanged on edit unless sent
    assert "children" in edited[0] and "children" not in row
    assert rpc("edit_prefix", prefix={"id": 999}, attr={"vrf_id": 0, "description": "x"}) == []
    rpc("edit_prefix", prefix={"id": 3}, attr={"vrf_id": 0, "tags": ["srv"]})
    assert rpc("list_prefix", prefix={"id": row["id"]})[0]["inherited_tags"] == ["srv"]
    vrf = rpc("add_vrf", attr={"rt": "065001:007", "name": "x"})
    assert vrf["rt"] == "65001:7" and vrf["num_prefixes_v4"] == "0"
    assert rpc("db_version") == 7 and rpc("version") == "0.32.7"
    assert rpc("echo", message="hi", sleep=0.01) == "hi"


def test_search_envelopes_and_limits(rpc: Call) -> None:
    for i in range(10, 70):
        rpc("add_prefix", attr={"prefix": f"10.1.0.{i}/32", "type": H, "node": f"h{i}"})
    inside = {"operator": "contained_within", "val1": "prefix", "val2": "10.1.0.0/24"}
    res = rpc("search_prefix", query=inside)
    assert res["search_options"] == {
        "max_result": 50,
        "include_all_parents": False,
        "include_all_children": False,
        "parents_depth": 0,
        "children_depth": 0,
        "include_neighbors": False,
        "offset": 0,
        "parent_prefix": None,
    }
    assert len(res["result"]) == 50
    assert len(rpc("search_prefix", query=inside, search_options={"max_result": None})["result"]) == 61
    assert len(rpc("list_prefix", prefix={"type": H, "vrf_id": 0})) == 61  # list has no limit
    q = {
        "operator": "and",
        "val1": {"operator": "equals", "val1": "vrf_id", "val2": None},
        "val2": {"operator": "regex_match", "val1": "node", "val2": "^H1[0-2]$"},
    }
    assert [r["node"] for r in rpc("search_prefix", query=q)["result"]] == ["h10", "h11", "h12"]
    parents = rpc(
        "search_prefix",
        query={"operator": "equals", "val1": "node", "val2": "gw"},
        search_options={"parents_depth": -1},
    )["result"]
    assert [(r["prefix"], r["match"]) for r in parents] == [
        ("10.0.0.0/8", False),
        ("10.1.0.0/24", False),
        ("10.1.0.1/32", True),
    ]
    top = rpc("search_prefix", query={"operator": "equals", "val1": "prefix", "val2": "10.1.0.0/24"})[
        "result"
    ][0]
    assert top["children"] == 61 and top["prefix_length"] == 24
    smart = rpc("smart_search_prefix", query_string="10.1.0.1", search_options={}, extra_query=None)
    assert {"interpretation", "search_options", "error", "result"} <= set(smart) and smart["error"] is False
    assert [r["prefix"] for r in smart["result"]] == ["10.0.0.0/8", "10.1.0.0/24", "10.1.0.1/32"]
    assert [r["node"] for r in rpc("smart_search_prefix", query_string="h69")["result"]] == ["h69"]
    assert (
        len(rpc("smart_search_prefix", query_string="10.1/16", search_options={"max_result": None})["result"])
        == 62
    )
    broken = rpc("smart_search_prefix", query_string='"unclosed')
    assert broken["error"] is True and broken["error_message"] == "query interpretation failed"
    assert rpc("search_vrf", query={})["result"][0]["name"] == "default"


def test_find_free_rules(rpc: Call) -> None:
    ffp = lambda **a: rpc("find_free_prefix", vrf=None, args=a)  # noqa: E731
    assert ffp(**{"from-prefix": ["10.1.0.0/24"], "prefix_length": 32}) == ["10.1.0.2"]  # count defaults to 1
    assert ffp(**{"from-prefix": ["10.1.0.0/24"], "prefix_length": 32, "count": 3}) == [
        "10.1.0.2",
        "10.1.0.3",
        "10.1.0.4",
    ]
    assert ffp(**{"from-prefix": ["198.51.100.0/30"], "prefix_length": 32, "count": 9}) == [
        "198.51.100.1",
        "198.51.100.2",
    ]
    assert ffp(**{"from-prefix": ["198.51.100.0/31"], "prefix_length": 32, "count": 9}) == [
        "198.51.100.0",
        "198.51.100.1",
    ]
    assert ffp(**{"from-prefix": ["198.51.100.0/24"], "prefix_length": 30, "count": 2}) == [
        "198.51.100.0/30",
        "198.51.100.4/30",
    ]
    row = rpc(
        "add_prefix",
        attr={"type": H, "node": "alloc"},
        args={"from-prefix": ["10.1.0.0/24"], "prefix_length": 32},
    )
    assert row["prefix"] == "10.1.0.2/32"


def test_pools_and_from_pool(rpc: Call) -> None:
    pool = rpc(
        "add_pool",
        attr={"name": "Hosts", "description": "d", "default_type": "host", "ipv4_default_prefix_length": 32},
    )
    assert fault_of(
        lambda: rpc("add_pool", attr={"name": "hosts", "description": "d", "default_type": H})
    ) == (1400, "Duplicate value for 'pool name', the value 'hosts' is already in use.")
    assert fault_of(lambda: rpc("add_pool", attr={"name": "p2", "description": "d"})) == (
        1110,
        "missing attribute default_type",
    )
    from_pool = {"attr": {"node": "p"}, "args": {"from-pool": {"id": pool["id"]}, "family": 4}}
    assert fault_of(lambda: rpc("add_prefix", **from_pool)) == (1100, "No prefixes in pool")
    no_family = {"attr": {"node": "p"}, "args": {"from-pool": {"id": pool["id"]}}}
    assert fault_of(lambda: rpc("add_prefix", **no_family)) == (
        1110,
        "'family' must be specified with 'from-pool' mode",
    )
    rpc("edit_prefix", prefix={"id": 3}, attr={"vrf_id": 0, "pool_id": pool["id"]})
    listed = rpc("list_pool", pool={"id": pool["id"]})[0]
    assert listed["prefixes"] == ["10.1.0.0/24"] and listed["vrf_id"] == 0
    six = {"attr": {"node": "p"}, "args": {"from-pool": {"id": pool["id"]}, "family": 6}}
    assert fault_of(lambda: rpc("add_prefix", **six)) == (1100, "No prefixes of family 6 in pool")
    row = rpc("add_prefix", **from_pool)
    assert (row["prefix"], row["type"], row["pool_id"]) == ("10.1.0.2/32", "host", None)
    assert rpc("edit_pool", pool={"id": pool["id"]}, attr={"description": "e"})[0]["description"] == "e"
    assert rpc("remove_pool", pool={"id": pool["id"]}) is None
    assert rpc("list_prefix", prefix={"id": 3})[0]["pool_id"] is None


# ---------------------------------------------------------------------- the same rules through pynipap
PYNIPAP: list[tuple[str, Callable[[], Any], type, str]] = []


def _save(prefix: str, type_: str, vrf_id: int = 0, **kw: Any) -> None:
    vrf = pynipap.VRF()
    vrf.id = vrf_id
    p = pynipap.Prefix()
    p.vrf, p.prefix, p.type, p.description = vrf, prefix, type_, "t"
    for k, v in kw.items():
        setattr(p, k, v)
    p.save()


def _remove(pid: int) -> None:
    p = pynipap.Prefix()
    p.id = pid
    p.remove()


PYNIPAP_CASES: list[tuple[str, Callable[[], Any], str, str]] = [
    (
        "duplicate",
        lambda: _save("10.1.0.1/32", H),
        "NipapDuplicateError",
        "Duplicate value for 'prefix', the value '0, 10.1.0.1' is already in use.",
    ),
    (
        "host-parent",
        lambda: _save("10.2.0.1/32", H),
        "NipapValueError",
        "Parent prefix (10.0.0.0/8) is of type reservation but must be of type 'assignment'",
    ),
    (
        "remove-with-hosts",
        lambda: _remove(3),
        "NipapValueError",
        "Prohibited delete, prefix (10.1.0.0/24) contains hosts.",
    ),
    ("remove-missing", lambda: _remove(999), "NipapError", "<class 'IndexError'>:list index out of range"),
    (
        "missing-vrf",
        lambda: _save("172.16.0.0/24", "assignment", vrf_id=42),
        "NipapNonExistentError",
        "No matching VRF found.",
    ),
    (
        "unknown-operator",
        lambda: pynipap.Prefix.search({"operator": "near", "val1": "node", "val2": "x"}),
        "NipapError",
        "No such operator near",
    ),
    (
        "unknown-variable",
        lambda: pynipap.Prefix.search({"operator": "equals", "val1": "colour", "val2": "x"}),
        "NipapInputError",
        "Search variable 'colour' unknown",
    ),
    ("empty-query", lambda: pynipap.Prefix.search({}), "NipapMissingInputError", "'val1' must be specified"),
    (
        "search-tag",
        lambda: pynipap.Tag.search({"operator": "equals", "val1": "name", "val2": "x"}),
        "NipapError",
        "<class 'Exception'>:method \"search_tag\" is not supported",
    ),
    (
        "avps",
        lambda: _save("172.16.0.0/24", "assignment", avps={"n": 1}),
        "NipapError",
        "Unable to execute query: function hstore(text[], int[]) does not exist",
    ),
]


@pytest.mark.parametrize(
    ("call", "exc_name", "text"), [c[1:] for c in PYNIPAP_CASES], ids=[c[0] for c in PYNIPAP_CASES]
)
def test_exact_fault_pynipap(
    pn: Callable[..., None], call: Callable[[], Any], exc_name: str, text: str
) -> None:
    with pytest.raises(pynipap.NipapError) as info:
        call()
    assert type(info.value).__name__ == exc_name
    assert str(info.value) == text


def test_pynipap_auth_and_objects(pn: Callable[..., None], sim: SimHandle) -> None:
    vrfs = pynipap.VRF.list()
    assert [(v.id, v.rt, v.name) for v in vrfs] == [(0, None, "default"), (1, "65000:1", "lab")]
    assert pynipap.Prefix.find_free(None, {"from-prefix": ["10.1.0.0/24"], "prefix_length": 32}) == [
        "10.1.0.2"
    ]
    p = pynipap.Prefix.list({"id": 5})[0]
    assert (p.prefix, p.node, p.vrf.id, p.display_prefix) == ("10.1.0.1/32", "gw", 0, "10.1.0.1/24")
    p.description = "edited via pynipap (full object save)"
    p.save()
    assert sim.prefixes(0)[-1]["description"] == "edited via pynipap (full object save)"
    pn("netsot", "wrong")
    with pytest.raises(pynipap.NipapAuthenticationError, match=r"Incorrect username or password\."):
        pynipap.VRF.list()
    pn("reader", "pw2")
    with pytest.raises(
        pynipap.NipapAuthorizationError,
        match="read-only user 'reader' is not authorized to run function 'add_prefix'",
    ):
        _save("172.16.0.0/24", "assignment")
    assert pynipap.nipapd_version() == "0.32.7" and pynipap.nipap_db_version() == 7


def test_knobs_log_and_faults(sim: SimHandle, rpc: Call) -> None:
    sim.knobs.fail_call(2)
    rpc("version")
    assert fault_of(lambda: rpc("version")) == (1000, "Backend unable to connect to database")
    sim.knobs.inject_duplicates(1)
    alloc = {"attr": {"type": H, "node": "n"}, "args": {"from-prefix": ["10.1.0.0/24"], "prefix_length": 32}}
    assert fault_of(lambda: rpc("add_prefix", **alloc)) == (
        1400,
        "Duplicate value for 'prefix', the value '0, 10.1.0.2' is already in use.",
    )
    assert rpc("add_prefix", **alloc)["prefix"] == "10.1.0.2/32"
    record = sim.log[-1]
    assert (record.method, record.user) == ("add_prefix", "netsot") and "from-prefix" in record.summary
    assert sim.counts["add_prefix"] == 2
    header = base64.b64encode(b"netsot:pw").decode()
    assert header  # Basic auth from the URL is what authenticates (see test_envelope_and_auth_faults)


def test_vrf_names_match_exactly_as_in_nipapd(rpc: Call) -> None:
    """list_vrf / a prefix's vrf_name select by an exact SQL equality; only add_vrf's uniqueness
    check ignores case (nipapd's index on lower(name))."""
    assert [v["name"] for v in rpc("list_vrf", vrf={"name": "lab"})] == ["lab"]
    assert rpc("list_vrf", vrf={"name": "LAB"}) == []
    assert fault_of(lambda: rpc("add_prefix", attr={"prefix": "192.168.1.9/32", "type": H, "node": "x",
                                                    "vrf_name": "Lab"})) == (1300, "No matching VRF found.")
    added = rpc("add_prefix", attr={"prefix": "192.168.1.9/32", "type": H, "node": "x", "vrf_name": "lab"})
    assert added["vrf_rt"] == "65000:1"

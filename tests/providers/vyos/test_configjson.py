"""VyOS's JSON view of the config tree, and VyOS's node kinds on the library's tree."""

from __future__ import annotations

from providers.vyatta.parse import parse_commands
from providers.vyatta.tree import Kind
from providers.vyos.configjson import graft, json_tree, normalize, tree_json

RANGE = ["service", "dhcp-server", "shared-network-name", "LAN", "subnet", "10.0.0.0/24", "range"]


def test_a_range_is_a_tag_with_start_and_stop_leaves_whatever_its_name() -> None:
    text = (f"set {' '.join(RANGE)} pool1 start '10.0.0.100'\n"
            f"set {' '.join(RANGE)} pool1 stop '10.0.0.120'\n"
            f"set {' '.join(RANGE)} 0 start '10.0.0.150'\n")
    raw = parse_commands(text)
    tree = normalize(raw)
    assert tree.node(RANGE).kind is Kind.TAG  # type: ignore[union-attr]
    assert tree.values([*RANGE, "pool1", "start"]) == ("10.0.0.100",)
    assert tree_json(tree, RANGE) == {"0": {"start": "10.0.0.150"},
                                      "pool1": {"start": "10.0.0.100", "stop": "10.0.0.120"}}
    assert tree_json(raw, RANGE) != tree_json(tree, RANGE), "the library alone reads EdgeOS's shape"


def test_json_round_trip_and_multi_leaves() -> None:
    data = {"host-name": {"nas": {"inet": ["10.0.0.2"], "alias": ["files", "nas.lan"]}}}
    tree = json_tree(data, ["system", "static-host-mapping"])
    assert tree_json(tree, ["system", "static-host-mapping"]) == data
    assert tree_json(tree, ["system", "nothing"]) is None


def test_graft_takes_one_subtree() -> None:
    base = parse_commands("set system static-host-mapping host-name a inet '10.0.0.1'\n"
                          "set system host-name 'r'\n")
    donor = parse_commands("set system static-host-mapping host-name b inet '10.0.0.2'\n")
    out = graft(base, donor, ["system", "static-host-mapping"])
    assert tree_json(out, ["system"]) == {
        "host-name": "r", "static-host-mapping": {"host-name": {"b": {"inet": ["10.0.0.2"]}}}}
    gone = graft(base, parse_commands("set system host-name 'x'\n"), ["system", "static-host-mapping"])
    assert tree_json(gone, ["system"]) == {"host-name": "r"}

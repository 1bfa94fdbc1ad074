from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.vyatta.tree import (
    InvalidPath,
    Kind,
    NodeExists,
    NothingToDelete,
    Tree,
    deb_version_key,
)

SN = ["service", "dhcp-server", "shared-network-name", "LAN", "subnet", "192.168.1.0/24"]


def test_deb_version_order_matches_edgeos_examples() -> None:
    names = ["eth10", "eth2", "192.168.1.10", "192.168.1.9", "a", "B", "A"]
    assert sorted(names, key=deb_version_key) == [
        "192.168.1.9",
        "192.168.1.10",
        "A",
        "B",
        "a",
        "eth2",
        "eth10",
    ]
    real = ["adblocker", "XboxOne", "WiiU", "camera_backdoor", "TCLRoku", "NVR-P", "LivingRmAppleTV",
            "Galaxy-Tab-S2"]  # fmt: skip
    assert sorted(real, key=deb_version_key) == [
        "Galaxy-Tab-S2", "LivingRmAppleTV", "NVR-P", "TCLRoku", "WiiU", "XboxOne", "adblocker",
        "camera_backdoor",
    ]  # fmt: skip
    assert deb_version_key("1~") < deb_version_key("1") < deb_version_key("1.0")


@given(st.lists(st.text(max_size=8), max_size=12))
def test_deb_version_sort_is_independent_of_input_order(words: list[str]) -> None:
    a = sorted(words, key=deb_version_key)
    b = sorted(reversed(words), key=deb_version_key)
    assert a == b


def test_set_builds_tag_nodes_and_leaves_sorted() -> None:
    t = Tree()
    t = t.set([*SN, "static-mapping", "web02", "ip-address", "192.168.1.12"])
    t = t.set([*SN, "static-mapping", "web01", "ip-address", "192.168.1.11"])
    t = t.set([*SN, "static-mapping", "web01", "mac-address", "00:11:22:33:44:55"])
    t = t.set([*SN, "default-router", "192.168.1.1"])
    sm = t.node([*SN, "static-mapping"])
    assert sm is not None and sm.kind is Kind.TAG
    assert [v.name for v in sm.children] == ["web01", "web02"]
    assert t.value([*SN, "static-mapping", "web01", "mac-address"]) == "00:11:22:33:44:55"
    subnet = t.node(SN)
    assert subnet is not None
    assert [c.name for c in subnet.children] == ["default-router", "static-mapping"]
    assert t.node(["service", "dhcp-server", "shared-network-name"]).kind is Kind.TAG  # type: ignore[union-attr]


def test_set_single_value_replaces_multi_value_appends_in_order() -> None:
    t = Tree().set([*SN, "default-router", "192.168.1.1"]).set([*SN, "default-router", "192.168.1.254"])
    assert t.values([*SN, "default-router"]) == ("192.168.1.254",)
    t = t.set([*SN, "dns-server", "9.9.9.9"]).set([*SN, "dns-server", "1.1.1.1"])
    assert t.values([*SN, "dns-server"]) == ("9.9.9.9", "1.1.1.1")
    with pytest.raises(NodeExists):
        t.set([*SN, "dns-server", "1.1.1.1"])
    with pytest.raises(NodeExists):
        t.set([*SN, "default-router", "192.168.1.254"])


def test_set_valueless_leaf_and_invalid_paths() -> None:
    t = Tree().set([*SN, "static-mapping", "x", "disable"])
    assert t.node([*SN, "static-mapping", "x", "disable"]).kind is Kind.FLAG  # type: ignore[union-attr]
    with pytest.raises(NodeExists):
        t.set([*SN, "static-mapping", "x", "disable"])
    with pytest.raises(InvalidPath):
        t.set([*SN, "static-mapping", "x", "disable", "more"])
    t = t.set([*SN, "default-router", "192.168.1.1"])
    with pytest.raises(InvalidPath):
        t.set([*SN, "default-router"])
    with pytest.raises(InvalidPath):
        t.set([])


def test_delete_semantics() -> None:
    t = Tree()
    for words in (
        [*SN, "static-mapping", "web01", "ip-address", "192.168.1.11"],
        [*SN, "static-mapping", "web01", "mac-address", "00:11:22:33:44:55"],
        [*SN, "start", "192.168.1.100", "stop", "192.168.1.199"],
        [*SN, "dns-server", "1.1.1.1"],
        [*SN, "dns-server", "9.9.9.9"],
    ):
        t = t.set(words)
    before = t
    # deleting the tag value removes the subtree, and the empty tag node with it
    t2 = t.delete([*SN, "static-mapping", "web01"])
    assert not t2.exists([*SN, "static-mapping"])
    assert before.exists([*SN, "static-mapping", "web01", "ip-address"])  # immutable
    with pytest.raises(NothingToDelete) as exc:
        t2.delete([*SN, "static-mapping", "web01"])
    assert "node" in str(exc.value)
    with pytest.raises(NothingToDelete) as exc:
        t.delete([*SN, "static-mapping", "web01", "ip-address", "10.0.0.1"])
    assert str(exc.value) == "Nothing to delete (the specified value does not exist)"
    # the classic trap: deleting `start X stop Y` leaves an empty `start X`
    t3 = t.delete([*SN, "start", "192.168.1.100", "stop", "192.168.1.199"])
    node = t3.node([*SN, "start", "192.168.1.100"])
    assert node is not None and node.children == ()
    # one value of a multi-value leaf
    t4 = t.delete([*SN, "dns-server", "1.1.1.1"])
    assert t4.values([*SN, "dns-server"]) == ("9.9.9.9",)
    assert t4.delete([*SN, "dns-server", "9.9.9.9"]).node([*SN, "dns-server"]) is None


def test_tree_equality_copy_and_walk() -> None:
    a = Tree().set(["system", "host-name", "ubnt"]).set(["system", "domain-name", "lab"])
    b = Tree().set(["system", "domain-name", "lab"]).set(["system", "host-name", "ubnt"])
    assert a == b and a.copy() == a
    assert [p for p, _ in a.walk()] == [("system",), ("system", "domain-name"), ("system", "host-name")]
    assert list(a.commands()) == [("system", "domain-name", "lab"), ("system", "host-name", "ubnt")]
    assert not Tree() and a

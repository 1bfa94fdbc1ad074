import pytest

from core.errors import CycleError
from engine.plan.graph import Graph


def test_order_puts_dependencies_first_and_is_sorted_within_a_level():
    g = Graph(["d", "c", "b", "a"], [("b", "a"), ("c", "a"), ("d", "b"), ("d", "c")])
    assert g.levels() == [["a"], ["b", "c"], ["d"]]
    assert g.order() == ["a", "b", "c", "d"]
    assert g.reverse_order() == ["d", "b", "c", "a"]


def test_order_does_not_depend_on_insertion_order():
    edges = [("x2", "x1"), ("y2", "y1"), ("z", "x2"), ("z", "y2")]
    a = Graph(["z", "y2", "y1", "x2", "x1"], edges)
    b = Graph(["x1", "x2", "y1", "y2", "z"], list(reversed(edges)))
    assert a.order() == b.order() == ["x1", "y1", "x2", "y2", "z"]


def test_edges_add_unknown_nodes_and_isolated_nodes_are_kept():
    g = Graph(["solo"], [("b", "a")])
    assert g.nodes == ["a", "b", "solo"]
    assert g.order() == ["a", "solo", "b"]


def test_descendants_and_ancestors():
    g = Graph([], [("b", "a"), ("c", "b"), ("d", "a"), ("e", "x")])
    assert g.descendants("a") == {"b", "c", "d"}
    assert g.ancestors("c") == {"a", "b"}
    assert g.descendants("c") == set()
    assert g.dependencies("c") == ["b"]
    assert g.dependents("a") == ["b", "d"]


def test_cycle_reports_every_cycle_in_a_stable_rotation():
    edges = [("c", "a"), ("a", "b"), ("b", "c"), ("y", "x"), ("x", "y"), ("ok", "a")]
    with pytest.raises(CycleError) as info:
        Graph([], edges)
    assert info.value.cycles == (("a", "b", "c"), ("x", "y"))
    assert str(info.value) == "dependency cycle: a -> b -> c -> a; x -> y -> x"


def test_cycle_report_is_the_same_whatever_the_edge_order():
    edges = [("c", "a"), ("a", "b"), ("b", "c"), ("b", "a")]
    with pytest.raises(CycleError) as one:
        Graph([], edges)
    with pytest.raises(CycleError) as two:
        Graph([], list(reversed(edges)))
    first, second = one.value.cycles, two.value.cycles
    # two elementary cycles share a and b
    assert first == second == (("a", "b"), ("a", "b", "c"))


def test_self_loop_is_a_cycle():
    with pytest.raises(CycleError) as info:
        Graph(["a"], [("a", "a")])
    assert info.value.cycles == (("a",),)


def test_nodes_may_be_any_sortable_hashable():
    g = Graph([(2, "b"), (1, "a")], [((2, "b"), (1, "a"))])
    assert g.order() == [(1, "a"), (2, "b")]


def test_large_chain_is_fast_and_ordered():
    n = 5000
    g = Graph(range(n), [(i, i - 1) for i in range(1, n)])
    assert g.order() == list(range(n))
    assert len(g.levels()) == n


def test_a_key_sorts_each_level_and_a_cycle_is_found_behind_the_nodes_it_blocks():
    # #24: a plan sorts its addresses by their fields in C (``key``); the order is the key's
    g = Graph(["b2", "a1", "c3"], [("c3", "a1")], key=lambda n: n[1])
    assert g.levels() == [["a1", "b2"], ["c3"]]
    g = Graph(["b2", "a1", "c3"], [("c3", "a1")], key=lambda n: -int(n[1]))
    assert g.levels() == [["b2", "a1"], ["c3"]]
    with pytest.raises(CycleError) as info:
        Graph(["z"], [("z", "y"), ("y", "x"), ("x", "y")], key=str)
    assert info.value.cycles == (("x", "y"),)


def test_nodes_without_edges_keep_no_neighbours_when_others_get_some():
    """#24: nodes without an edge share one empty set until an edge gives a node its own."""
    g = Graph({"solo": 1, "a": 2, "b": 3, "c": 4}, [("b", "a"), ("c", "b"), ("c", "a")])
    assert [g.dependencies(n) for n in ("solo", "a", "b", "c")] == [[], [], ["a"], ["a", "b"]]
    assert [g.dependents(n) for n in ("solo", "a", "b", "c")] == [[], ["b", "c"], ["c"], []]
    assert g.levels() == [["a", "solo"], ["b"], ["c"]]
    assert g.descendants("solo") == g.ancestors("solo") == set()

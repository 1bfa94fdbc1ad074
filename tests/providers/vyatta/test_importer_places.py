"""The import's index of where each name is (``_Places``): a name is ambiguous exactly when it is on more
than one address, whatever the order the mappings and host names are met in — the same answer as a set of
addresses per name (what the index replaced: a set for each of thousands of names)."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given
from hypothesis import strategies as st

from core.ipv4 import ip_int
from providers.vyatta.importer import _Places

_PLACES = st.lists(st.tuples(st.sampled_from(["lan", "servers"]), st.sampled_from(["a", "b", "nas", "web"]),
                             st.sampled_from(["10.0.0.2", "10.0.0.10", "10.0.0.9", "10.0.1.1"])), max_size=30)


@given(_PLACES)
def test_a_name_is_ambiguous_exactly_when_it_is_on_more_than_one_address(places: list[tuple[str, str, str]]
                                                                        ) -> None:
    index = _Places()
    where: dict[tuple[str, str], set[str]] = defaultdict(set)
    for network, name, ip in places:
        index.add(network, name, ip)
        where[(network, name)].add(ip)
    expected = {k: sorted(v, key=lambda ip: ip_int(ip) or 0) for k, v in where.items() if len(v) > 1}
    assert index.ambiguous() == expected


def test_the_addresses_of_an_ambiguous_name_are_in_numeric_order() -> None:
    index = _Places()
    for ip in ("10.0.0.10", "10.0.0.9", "10.0.0.10", "10.0.0.2"):
        index.add("lan", "nas", ip)
    index.add("lan", "web", "10.0.0.9")
    assert index.ambiguous() == {("lan", "nas"): ["10.0.0.2", "10.0.0.9", "10.0.0.10"]}

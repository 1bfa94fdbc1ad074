"""#24: an address's hash is made once (plans hash addresses about a million times at 10,000 bindings)."""

import copy
import dataclasses
import pickle

from core.model import Address


def test_an_address_hashes_as_its_fields_and_keeps_the_hash() -> None:
    a = Address("edgemax_host", "lan.web01", "cabin")
    assert hash(a) == hash(("edgemax_host", "lan.web01", "cabin")) and vars(a)["_hash"] == hash(a)
    assert {a: 1}[Address.parse("edgemax_host[cabin].lan.web01")] == 1
    moved = dataclasses.replace(a, name="lan.web02")
    assert hash(moved) == hash(("edgemax_host", "lan.web02", "cabin")) and moved != a


def test_a_copied_or_unpickled_address_hashes_as_its_fields() -> None:
    a = Address("nipap_address", "lan.web01")
    state = a.__getstate__()
    assert state == {"type": "nipap_address", "name": "lan.web01", "instance": ""}  # no process's hash
    for other in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert other == a and hash(other) == hash(a) and {a} == {other}

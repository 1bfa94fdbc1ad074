"""The state model: ``State.same_content`` says what comparing ``content()`` says (#24: cheaply)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from state.model import Forgotten, JournalEntry, ResourceState, State


def _base() -> State:
    state = State(lineage="l", serial=4)
    for n in range(3):
        address = f"nipap_address.lan.h{n}"
        state = state.with_resource(ResourceState(address, "nipap", str(n), {"ip": f"10.0.0.{n}"}))
    return state


def test_same_content_agrees_with_content() -> None:
    base = _base()
    key = "nipap_address.lan.h1"
    variants = [
        replace(base, serial=9),  # the serial is not content
        base.with_resource(ResourceState(key, "nipap", "1", {"ip": "10.0.0.1"})),  # equal, another object
        base.with_resource(ResourceState(key, "nipap", "1", {"ip": "10.0.0.99"})),
        base.with_resource(ResourceState(key, "nipap", "1", {"ip": "10.0.0.1"}, status="orphaned")),
        base.without(key),
        base.with_resource(ResourceState("nipap_address.lan.h9", "nipap", "9", {})),
        base.with_journal((JournalEntry("op", key, "create", "sent", "nipap", MappingProxyType({})),)),
        replace(base, forgotten=(Forgotten(key, "nipap"),)),
        replace(base, lineage="other"),
        replace(base, version=2),
    ]
    for other in variants:
        assert base.same_content(other) == (base.content() == other.content())
        assert other.same_content(base) == (base.content() == other.content())
    assert base.same_content(variants[1]) and not base.same_content(variants[2])

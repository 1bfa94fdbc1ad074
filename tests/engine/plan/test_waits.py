"""``policy.Waits``: what waits for a held change, from indexes, agrees with the rule read as a scan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from core.model import Action, Address, Change, frozen_map
from engine.plan.policy import Waits

ADDRESSES = [Address("nipap_address", f"lan.h{n}") for n in range(6)]


def scanned(change: Change, changes: Sequence[Change], held: Mapping[Address, object]) -> Address | None:
    """The rule as the policy stated it before the indexes: a scan of the whole plan per delete."""
    by_address = {c.address: c for c in changes}
    if change.replaces is not None and change.replaces in held:
        return change.replaces
    if change.action is Action.DELETE:
        for other in by_address.values():
            if other.replaces == change.address and other.address in held:
                return other.address
        for other in by_address.values():
            if other.action is Action.DELETE and change.address in other.depends_on and other.address in held:
                return other.address
        return None
    for dep in change.depends_on:
        if dep in held and by_address[dep].action is not Action.DELETE:
            return dep
    return None


@st.composite
def plans(draw: st.DrawFn) -> tuple[list[Change], set[Address]]:
    changes = []
    for address in draw(st.lists(st.sampled_from(ADDRESSES), min_size=1, unique=True)):
        action = draw(st.sampled_from(list(Action)))
        before = None if action is Action.CREATE else frozen_map({})
        after = None if action is Action.DELETE else frozen_map({})
        depends_on = tuple(draw(st.lists(st.sampled_from(ADDRESSES), max_size=3)))
        replaces = draw(st.none() | st.sampled_from(ADDRESSES))
        changes.append(Change(action, address, before, after, depends_on=depends_on, replaces=replaces))
    planned = [c.address for c in changes]
    held = set(draw(st.lists(st.sampled_from(planned), unique=True)))
    return changes, held


@settings(max_examples=300, deadline=None)
@given(plans())
def test_the_indexed_rule_finds_what_the_scan_finds(plan: tuple[list[Change], set[Address]]) -> None:
    changes, held = plan
    waits = Waits(changes)
    for change in changes:
        assert waits.blocker(change, held) == scanned(change, changes, held)


def test_a_delete_waits_for_the_held_delete_of_what_depends_on_it_and_for_its_held_replacement() -> None:
    host, mapping, new = ADDRESSES[0], ADDRESSES[1], ADDRESSES[2]
    gone = Change(Action.DELETE, host, frozen_map({}), None)
    user = Change(Action.DELETE, mapping, frozen_map({}), None, depends_on=(host,))
    rename = Change(Action.CREATE, new, None, frozen_map({}), replaces=host)
    waits = Waits([gone, user, rename])
    assert waits.blocker(gone, {}) is None
    assert waits.blocker(gone, {mapping: 1}) == mapping
    assert waits.blocker(gone, {new: 1}) == new  # the other half of a rename
    assert waits.blocker(rename, {host: 1}) == host

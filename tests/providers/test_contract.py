"""The provider contract, one suite for every registered system, each against its simulator.

What the engine relies on (``providers/base.py``): reading changes nothing and is repeatable; a
plan of nothing wanted over nothing owned is empty; applying a plan and reading again converges;
objects netsot does not own are never planned; a failing apply reports one outcome per change
instead of raising; ``close`` may be called twice. A system gets this suite by adding a
``contract.py`` with ``harness(tmp_path)`` to its test package (``tests/providers/contract.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.model import ApplyResult, Change, Desired, ManagedResource, frozen_map
from engine.plan.planner import context_for
from providers import registry
from tests.providers.contract import Harness

pytestmark = pytest.mark.integration


@pytest.fixture(params=registry.names())
def h(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    module = importlib.import_module(f"tests.providers.{request.param}.contract")
    with module.harness(tmp_path) as harness:
        yield harness


def _owned(changes: list[Change], result: ApplyResult) -> dict:
    out = {}
    by = {o.address: o for o in result.outcomes}
    for c in changes:
        o = by[c.address]
        if o.status == "applied" and c.after is not None:
            out[c.address] = ManagedResource(c.address, o.provider_id or c.provider_id,
                                             frozen_map(dict(o.attributes or c.after)))
    return out


def test_reading_changes_nothing_and_repeats(h: Harness) -> None:
    p = h.provider()
    try:
        before = h.writes()
        first, second = p.read(), p.read()
        assert h.writes() == before
        assert first.system == h.key and first.fingerprints() == second.fingerprints()
    finally:
        p.close()


def test_nothing_wanted_and_nothing_owned_plans_nothing(h: Harness) -> None:
    p = h.provider()
    try:
        assert p.plan(Desired(), p.read(), context_for(h.config)) == []
    finally:
        p.close()


def test_apply_then_reread_converges(h: Harness) -> None:
    p = h.provider()
    try:
        changes = p.plan(h.desired, p.read(), context_for(h.config))
        assert changes and all(c.system == h.key for c in changes)
        result = p.apply(changes)
        assert sorted(str(o.address) for o in result.outcomes) == sorted(str(c.address) for c in changes)
        assert {o.status for o in result.outcomes} == {"applied"}, result.outcomes
        owned = _owned(changes, result)
    finally:
        p.close()
    again = h.provider()  # a new run: nothing cached
    try:
        assert again.plan(h.desired, again.read(), context_for(h.config, owned)) == []
    finally:
        again.close()


def test_objects_netsot_does_not_own_are_never_planned(h: Harness) -> None:
    foreign = h.add_foreign()
    p = h.provider()
    try:
        observed = p.read()
        for desired in (Desired(), h.desired):
            planned = p.plan(desired, observed, context_for(h.config))
            assert foreign not in {c.address for c in planned}
            assert not [c for c in planned if c.action.value == "delete"]  # nothing is owned
    finally:
        p.close()


def test_a_failing_apply_reports_each_change(h: Harness) -> None:
    p = h.provider()
    try:
        changes = p.plan(h.desired, p.read(), context_for(h.config))
        h.fail_writes()
        result = p.apply(changes)
        assert sorted(str(o.address) for o in result.outcomes) == sorted(str(c.address) for c in changes)
        failed = [o for o in result.outcomes if o.status == "failed"]
        assert failed and all(o.error for o in failed)
        assert {o.status for o in result.outcomes} <= {"applied", "failed"}
    finally:
        p.close()


def test_close_is_idempotent(h: Harness) -> None:
    p = h.provider()
    p.read()
    p.close()
    p.close()
    unused = h.provider()
    unused.close()
    unused.close()


def test_every_registered_system_has_a_harness() -> None:
    for name in registry.names():
        module = importlib.import_module(f"tests.providers.{name}.contract")
        assert callable(module.harness), f"tests/providers/{name}/contract.py needs harness(tmp_path)"

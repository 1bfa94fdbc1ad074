"""One diff at the boundary: a provider that says what it wants plans through ``providers.diffing`` only.

A provider with ``wants`` does not write its own ``plan`` (it inherits ``diffing.Wanting.plan``), so the
ownership rule — only owned objects, no binding's source, nothing blocked — lives in one place
(``diffing.may_change``). Every registered kind has moved (the EdgeOS and VyOS routers through the
Vyatta library's planner, their renames and kept data as its ``create`` and ``finish`` hooks), so a new
kind must too.
"""

from __future__ import annotations

from typing import Any

import pytest

from providers import diffing, registry
from tests.architecture.dnsbox.descriptor import KIND
from tests.architecture.dnsbox.provider import DnsboxProvider


def plans_through_the_diff(cls: type) -> bool:
    """``cls`` says what it wants and inherits the shared diff's ``plan`` (writes no diff of its own)."""
    return issubclass(cls, diffing.Wanting) and "wants" in vars(cls) and cls.plan is diffing.Wanting.plan


@pytest.mark.parametrize("kind", registry.names())
def test_every_kind_plans_only_through_the_shared_diff(kind: str) -> None:
    assert plans_through_the_diff(registry.provider_class(kind)), f"{kind} writes its own diff"


def test_the_check_sees_a_provider_with_its_own_diff() -> None:
    class OwnDiff(diffing.Wanting):
        def wants(self, desired: Any, observed: Any, ctx: Any) -> Any:
            raise AssertionError

        def plan(self, desired: Any, observed: Any, ctx: Any) -> list[Any]:
            return []

    class NoWants(diffing.Wanting):
        pass

    assert not plans_through_the_diff(OwnDiff) and not plans_through_the_diff(NoWants)
    assert not plans_through_the_diff(object)


def test_the_test_system_of_adding_a_system_does_too() -> None:
    assert plans_through_the_diff(DnsboxProvider)


def test_the_test_system_now_leaves_a_blocked_record_alone() -> None:
    """It planned its own diff without looking at ``desired.blocked``; the shared diff does."""
    from core.model import Address, Binding, Conflict, ConflictKind, Desired, Observation
    from providers.base import PlanContext
    from tests.architecture.test_adding_a_system import CONFIG

    registry.register_kind(KIND)
    try:
        config = _config(CONFIG)
        provider = DnsboxProvider(config, config.providers["dnsbox"])
        nas = Binding("lan", "nas", None, "192.168.1.10")
        record = Address("dnsbox_record", "nas.lab.example")
        free = provider.plan(Desired((nas,)), Observation("dnsbox"), PlanContext())
        assert [c.address for c in free] == [record]
        clash = Conflict(ConflictKind.IP_CLAIMED_TWICE, "claimed twice", (), blocked=(record,))
        assert provider.plan(Desired((nas,), (clash,)), Observation("dnsbox"), PlanContext()) == []
    finally:
        registry.unregister_kind("dnsbox")


def _config(text: str) -> Any:
    import yaml

    from engine.config.load import config_from_data

    return config_from_data(yaml.safe_load(text))

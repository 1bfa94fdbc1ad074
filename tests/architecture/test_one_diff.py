"""One diff at the boundary: a provider that says what it wants plans through ``providers.diffing`` only.

A provider with ``wants`` does not write its own ``plan`` (it inherits ``diffing.Wanting.plan``), so the
ownership rule — only owned objects, no binding's source, nothing blocked — lives in one place
(``diffing.may_change``). The systems moved so far are listed (the EdgeOS and VyOS routers through the
Vyatta library's planner, their renames and kept data as its ``finish`` hook).
"""

from __future__ import annotations

from typing import Any

import pytest

from providers import diffing, registry
from tests.architecture.dnsbox.descriptor import KIND
from tests.architecture.dnsbox.provider import DnsboxProvider

MOVED = ("nipap", "proxmox", "edgemax", "vyos")


@pytest.mark.parametrize("kind", MOVED)
def test_a_moved_provider_plans_only_through_the_shared_diff(kind: str) -> None:
    cls = registry.provider_class(kind)
    assert issubclass(cls, diffing.Wanting)
    assert "wants" in vars(cls) and cls.plan is diffing.Wanting.plan


def test_the_test_system_of_adding_a_system_does_too() -> None:
    assert issubclass(DnsboxProvider, diffing.Wanting) and "plan" not in vars(DnsboxProvider)


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

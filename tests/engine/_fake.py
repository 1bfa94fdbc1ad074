"""An in-test provider for CLI tests: a tiny in-memory "IPAM" registered under ``nipap``.

It implements the real Provider protocol (read / plan / apply / close) over a ``FakeSystem``
the test can inspect and edit, and plans one ``nipap_address.<network>.<host>`` per config
host with an ip — independent of reconcile, so the CLI is tested on its own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.model import (
    Action,
    Address,
    ApplyResult,
    Change,
    ChangeOutcome,
    Desired,
    Observation,
    ObservedResource,
    Provenance,
    frozen_map,
)
from providers.base import PlanContext
from tests import addresses as A

IP_RULE = "precedence ip: config > nipap > proxmox > edgemax"


@dataclass
class FakeSystem:
    """The fake system's data: address → attributes, and what happened to it."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    marked: set[str] = field(default_factory=set)  # objects carrying the ownership marker
    writes: list[str] = field(default_factory=list)  # "create addr", "update addr", "delete addr"
    reads: int = 0
    closed: int = 0
    fail_read: BaseException | None = None
    fail_init: BaseException | None = None
    settings: list[Any] = field(default_factory=list)  # the settings each provider was built with
    delay: float = 0.0  # seconds each read and each applied change takes (live progress has time to draw)


def fake_provider(system: FakeSystem) -> type:
    """A provider class bound to ``system`` (register it with ``providers.base.register``)."""

    class FakeProvider:
        name = "nipap"

        def __init__(self, config: Any, settings: Any) -> None:
            if system.fail_init is not None:
                raise system.fail_init
            self.config = config
            system.settings.append(settings)

        def read(self) -> Observation:
            system.reads += 1
            time.sleep(system.delay)
            if system.fail_read is not None:
                raise system.fail_read
            resources = {
                Address.parse(a): ObservedResource(Address.parse(a), frozen_map(attrs), provider_id=a,
                                                   owned_marker=a in system.marked)
                for a, attrs in sorted(system.objects.items())
            }
            return Observation("nipap", resources=frozen_map(resources))

        def plan(self, desired: Desired, observed: Observation, ctx: PlanContext) -> list[Change]:
            want = {
                A.nipap_address(h.network, h.name): {"ip": str(h.ip), "hostname": h.name, "mac": h.mac}
                for h in self.config.hosts if h.ip is not None
            }
            changes = []
            for address, attrs in sorted(want.items()):
                prov = {"ip": Provenance("config", IP_RULE, f"config host {attrs['hostname']}")}
                seen = observed.resources.get(address)
                if seen is None:
                    changes.append(Change(Action.CREATE, address, None, frozen_map(attrs), provenance=prov,
                                          origin="config"))
                elif self._owned(seen, ctx) and dict(seen.attributes) != attrs:
                    changes.append(Change(Action.UPDATE, address, seen.attributes, frozen_map(attrs),
                                          provenance=prov, provider_id=seen.provider_id, origin="config"))
            for address, seen in sorted(observed.resources.items()):
                if address not in want and self._owned(seen, ctx):
                    changes.append(Change(Action.DELETE, address, seen.attributes, None,
                                          provider_id=seen.provider_id))
            return changes

        @staticmethod
        def _owned(seen: ObservedResource, ctx: PlanContext) -> bool:
            return ctx.is_owned(seen.address) or seen.owned_marker

        def apply(self, changes: Sequence[Change]) -> ApplyResult:
            outcomes = []
            for change in changes:
                key = str(change.address)
                time.sleep(system.delay)
                system.writes.append(f"{change.action.value} {key}")
                if change.action is Action.DELETE:
                    system.objects.pop(key, None)
                    system.marked.discard(key)
                    outcomes.append(ChangeOutcome(change.address, "applied"))
                else:
                    system.objects[key] = dict(change.after or {})
                    system.marked.add(key)
                    outcomes.append(ChangeOutcome(change.address, "applied", provider_id=key,
                                                  attributes=change.after))
            return ApplyResult(tuple(outcomes))

        def close(self) -> None:
            system.closed += 1

    return FakeProvider


CONFIG = """\
version: 1
providers:
  nipap:
    url: http://127.0.0.1:9/XMLRPC
    username: netsot
    password: ${env:NETSOT_TEST_NIPAP_PASSWORD}
networks:
  - name: lan
    prefix: 192.168.1.0/24
    gateway: 192.168.1.1
    domain: lab.example
    dhcp_range: {start: 192.168.1.100, stop: 192.168.1.199}
hosts:
  - {name: nas, network: lan, mac: "00:11:32:aa:bb:cc", ip: 192.168.1.10}
  - {name: printer, network: lan, mac: "3c:2a:f4:01:02:03", ip: 192.168.1.11}
"""
PASSWORD = "s3cret-fake-password"

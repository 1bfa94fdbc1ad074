"""Step 4 of "Adding a system": the provider (read / wants / apply / close) over an in-memory zone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.config import Config, system_key
from core.model import (
    Action,
    ApplyResult,
    Change,
    ChangeOutcome,
    Desired,
    Fact,
    Observation,
    ObservedResource,
    frozen_map,
)
from providers.base import ROLE_ADDRESS, PlanContext
from providers.diffing import Want, Wanted, Wanting
from tests.architecture.dnsbox.descriptor import RECORD, binding_addresses

ZONES: dict[str, dict[str, dict[str, Any]]] = {}  # zone store -> record name -> attributes


class DnsboxProvider(Wanting):
    name = "dnsbox"

    def __init__(self, config: Config, settings: Any, instance: str = "") -> None:
        self.config, self.settings, self.key = config, settings, system_key("dnsbox", instance)
        self.closed = 0

    def _zone(self) -> dict[str, dict[str, Any]]:
        self.settings.token.resolve()  # a secret like any other: resolved when used
        return ZONES.setdefault(self.settings.zone_store, {})

    def read(self) -> Observation:
        from core.model import Address

        resources, facts = {}, []
        for name, attrs in sorted(self._zone().items()):
            address = Address.of(RECORD, name, self.key)
            resources[address] = ObservedResource(address, frozen_map(attrs), provider_id=name)
            label, _, domain = name.partition(".")
            facts.append(Fact("dnsbox", f"dnsbox {name}", None, label, None, attrs["ip"], address=address,
                              domain=domain))
        return Observation(self.key, frozen_map(resources), tuple(facts))

    def wants(self, desired: Desired, observed: Observation, ctx: PlanContext) -> Wanted:
        """A record per binding of a network it serves; the shared diff (``providers.diffing``) plans."""
        wanted = {}
        for b in desired.bindings:
            net = self.config.network(b.network)
            if net not in self.config.networks_of(self.key):
                continue
            for address in binding_addresses(net, b.hostname, self.key).values():
                ttl = net.settings_for("dnsbox").ttl if net.settings_for("dnsbox") else 300
                dep = ctx.role_address(ROLE_ADDRESS, b.network, b.hostname)
                record = frozen_map({"name": address.name, "ip": b.ip, "ttl": ttl})
                wanted[address] = Want(address, record, depends_on=(dep,) if dep else (),
                                       reason="new record", update_reason="differs")
        return Wanted(tuple(w for _, w in sorted(wanted.items())), prune=frozenset({RECORD}))

    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        zone, outcomes = self._zone(), []
        for c in changes:
            if c.action is Action.DELETE:
                zone.pop(c.address.name, None)
                outcomes.append(ChangeOutcome(c.address, "applied"))
            else:
                zone[c.address.name] = dict(c.after or {})
                outcomes.append(ChangeOutcome(c.address, "applied", provider_id=c.address.name,
                                              attributes=c.after))
        return ApplyResult(tuple(outcomes))

    def close(self) -> None:
        self.closed += 1

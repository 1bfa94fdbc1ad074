"""Step 4 of "Adding a system": the provider (read / plan / apply / close) over an in-memory zone."""

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
from tests.architecture.dnsbox.descriptor import RECORD, binding_addresses

ZONES: dict[str, dict[str, dict[str, Any]]] = {}  # zone store -> record name -> attributes


class DnsboxProvider:
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

    def plan(self, desired: Desired, observed: Observation, ctx: PlanContext) -> list[Change]:
        wanted = {}
        for b in desired.bindings:
            net = self.config.network(b.network)
            if net not in self.config.networks_of(self.key):
                continue
            for address in binding_addresses(net, b.hostname, self.key).values():
                ttl = net.settings_for("dnsbox").ttl if net.settings_for("dnsbox") else 300
                dep = ctx.role_address(ROLE_ADDRESS, b.network, b.hostname)
                wanted[address] = ({"name": address.name, "ip": b.ip, "ttl": ttl}, (dep,) if dep else ())
        out = []
        for address, (attrs, deps) in sorted(wanted.items()):
            seen = observed.resources.get(address)
            if seen is None:
                out.append(Change(Action.CREATE, address, None, frozen_map(attrs), "new record",
                                  depends_on=deps))
            elif ctx.is_owned(address) and dict(seen.attributes) != attrs:
                out.append(Change(Action.UPDATE, address, seen.attributes, frozen_map(attrs), "differs",
                                  depends_on=deps, provider_id=seen.provider_id))
        for address, seen in sorted(observed.resources.items()):
            if address not in wanted and ctx.is_owned(address):
                out.append(Change(Action.DELETE, address, seen.attributes, None, "no longer wanted",
                                  provider_id=seen.provider_id))
        return out

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

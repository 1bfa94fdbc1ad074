"""The engine's view of the configured systems: who serves which network, and what that means.

Owns: per network, the system instances serving it (through the registry's descriptors), the
addresses a binding produces in them, the address playing a role for a binding (what a DHCP
reservation depends on), the name rules a binding's host name must pass, and the orders the
engine uses (sources, origins). Built once per plan; cheap lookups after that.
Must not: name a system — everything here comes from the registry and the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from core.config import Config, Network
from core.model import Address
from providers import registry
from providers.base import NameRule, SystemKind


@dataclass(frozen=True)
class Serving:
    """One system instance serving a network."""

    key: str  # "edgemax", "edgemax.cabin"
    kind: SystemKind


@dataclass
class Systems:
    """Lookups over the configured system instances of one ``Config`` (build with :func:`of`)."""

    config: Config
    _serving: dict[str, tuple[Serving, ...]] = field(default_factory=dict)
    _addresses: dict[tuple[str, str], tuple[Address, ...]] = field(default_factory=dict)
    # (role, network) -> (network, serving instance, resource type) of the role's player, None: nobody
    _players: dict[tuple[str, str], tuple[Network, Serving, str] | None] = field(default_factory=dict)
    _role_types: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    _name_rules: dict[str, tuple[NameRule, ...]] = field(default_factory=dict)

    def serving(self, network: str) -> tuple[Serving, ...]:
        """The configured instances serving ``network``, in registry order (a kind that is not
        configured serves nothing: no addresses, no name rules, no dependencies)."""
        found = self._serving.get(network)
        if found is None:
            try:
                net = self.config.network(network)
            except KeyError:
                return ()
            out = []
            for kind in registry.kinds():
                key = self.config.instance_for(net, kind.name)
                if key is not None and key in self.config.providers:
                    out.append(Serving(key, kind))
            found = self._serving[network] = tuple(out)
        return found

    def binding_addresses(self, network: Network, name: str) -> tuple[Address, ...]:
        """Every address a binding named ``name`` in ``network`` produces in the systems serving it."""
        cache_key = (network.name, name)
        found = self._addresses.get(cache_key)
        if found is None:
            out: list[Address] = []
            for s in self.serving(network.name):
                out.extend(s.kind.binding_addresses(network, name, s.key).values())
            found = self._addresses[cache_key] = tuple(out)
        return found

    def role_address(self, role: str, network: str, hostname: str) -> Address | None:
        """The address of the resource playing ``role`` for this binding (None if no system has one)."""
        player = self._player(role, network)
        if player is None:
            return None
        net, serving, rtype = player
        return serving.kind.binding_addresses(net, hostname, serving.key).get(rtype)

    def _player(self, role: str, network: str) -> tuple[Network, Serving, str] | None:
        """(the network, the instance serving it whose type plays ``role``, that type): found once per
        network, not per binding (a plan asks for every binding's role address)."""
        cache_key = (role, network)
        if cache_key in self._players:
            return self._players[cache_key]
        found = None
        try:
            net = self.config.network(network)
        except KeyError:  # no such network: no system serves it
            net = None
        if net is not None:
            for s in self.serving(network):
                rtype = s.kind.role_type(role)
                if rtype is not None:
                    found = (net, s, rtype.name)
                    break
        self._players[cache_key] = found
        return found

    def role_types(self, role: str, network: str) -> frozenset[str]:
        """The resource types playing ``role`` in the systems serving ``network`` (found once per network)."""
        found = self._role_types.get((role, network))
        if found is None:
            found = self._role_types[(role, network)] = frozenset(
                t.name for s in self.serving(network) if (t := s.kind.role_type(role)) is not None)
        return found

    def name_rules(self, network: str) -> tuple[NameRule, ...]:
        """The host-name rules of the systems serving ``network``, in their order (found once per network)."""
        found = self._name_rules.get(network)
        if found is None:
            found = self._name_rules[network] = tuple(
                s.kind.name_rule for s in self.serving(network) if s.kind.name_rule is not None)
        return found

    def name_problems(self, network: str, name: str) -> list[str]:
        """What the systems serving ``network`` say is wrong with the host name ``name``."""
        out = []
        for rule in self.name_rules(network):
            problem = rule(name)
            if problem and problem not in out:
                out.append(problem)
        return out

    @cached_property
    def source_order(self) -> tuple[str, ...]:
        """``config`` then every kind, in registry order (listing and tie-breaking)."""
        return registry.sources()

    @cached_property
    def origin_order(self) -> tuple[str, ...]:
        """Which origin names a merged binding: config, then the kinds whose facts originate
        bindings (registry order), then adopted objects."""
        return ("config", *(k.name for k in registry.kinds() if k.origins), "import")

    def precedence(self, attribute: str) -> tuple[str, ...]:
        """The configured list, else the default built from the kinds this config names (a registered
        kind nobody configured never shows in a rule)."""
        configured = getattr(self.config.precedence, attribute)
        if configured:
            return tuple(configured)
        return registry.default_precedence(attribute, self.config.providers)


def of(config: Config) -> Systems:
    return Systems(config)


"""What a Vyatta kind tells the library about itself: the plain values its dialect differs by.

Owns: ``VyattaKind`` — a kind's name and product word, its resource types, the networks one of its
routers serves, the static-mapping names the router accepts, how its MAC leaf is named in messages,
and whether a mapping follows its address into another subnet — and what both kinds derive the same
way from those values: the addresses a binding produces, the rule for the names netsot creates (DNS
labels, which every Vyatta router accepts in both places), config paths and labels — and the one field
rule of both kinds' records (``MAPPING_FIELDS``, ``HOST_FIELDS``, ``SAVED_FIELDS``: what every change of
a static mapping, a host name and the ``saved`` pseudo resource holds, checked when the change is made;
``records`` reads them typed).
Must not: import a kind or the provider boundary (a kind builds its ``VyattaKind`` and passes it in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from core.config import Config, Network
from core.fields import Field
from core.model import Address
from core.names import hostname_problem

DHCP_BASE = ("service", "dhcp-server", "shared-network-name")
HOST_BASE = ("system", "static-host-mapping", "host-name")
# What netsot may name a static mapping / host name it creates: DNS labels (core.names), which EdgeOS
# and both VyOS dialects accept in both (edgeos.md §4.2, vyos.md §2). Names already on the router may
# be anything the router accepts: they are kept as they are.
NAME_RULE = "DNS labels of a-z, 0-9 and inner '-', at most 63 each, joined by '.'"

# The field rule of a Vyatta kind's records, the same in EdgeOS and both VyOS dialects (each kind
# declares its resource types with these; core.fields checks every change of them when it is made).
# A DHCP static mapping: where it is (its subnet is where it lives, not what names it) and the two
# leaves netsot owns (either may be missing on the router: None).
MAPPING_IDENTITY = ("shared_network", "name")
MAPPING_ATTRIBUTES = ("ip_address", "mac_address")
MAPPING_FIELDS = (
    Field("shared_network", "str"),
    Field("subnet", "str"),
    Field("name", "str"),
    Field("ip_address", "str", optional=True),
    Field("mac_address", "str", optional=True),
)
# A static host mapping: its name, the one IPv4 ``inet`` value netsot owns (None: it holds none) and
# the aliases it owns (the binding's names).
HOST_IDENTITY = ("host_name",)
HOST_ATTRIBUTES = ("inet",)
HOST_FIELDS = (Field("host_name", "str"), Field("inet", "str", optional=True), Field("aliases", "strs"))
# The pseudo resource "the committed config is saved".
SAVED_ATTRIBUTES = ("saved",)
SAVED_FIELDS = (Field("saved", "bool"),)


def mapping_path(shared_network: str, subnet: str, name: str) -> tuple[str, ...]:
    """The config path of a DHCP static mapping (the same in EdgeOS and both VyOS dialects)."""
    return (*DHCP_BASE, shared_network, "subnet", subnet, "static-mapping", name)


def host_path(host_name: str) -> tuple[str, ...]:
    """The config path of a static host mapping."""
    return (*HOST_BASE, host_name)


def label(key: str) -> str:
    """How refs and messages name an instance: ``edgemax`` or ``vyos[cabin]``."""
    kind, _, instance = key.partition(".")
    return f"{kind}[{instance}]" if instance else kind


def host_name_for(name: str, domain: str | None) -> str | None:
    """The static host mapping of a binding: ``web01`` → ``web01.<domain>``; a binding whose name
    is already an FQDN (``cloud.other.org``, or the domain itself: the apex) is that name."""
    if "." in name:
        return name
    return f"{name}.{domain}" if domain else None


@dataclass(frozen=True)
class VyattaKind:
    """One Vyatta kind's differences, as plain values (the library never imports the kind)."""

    name: str  # the kind: fact source, ``Network.settings_for`` key
    product: str  # how messages name the router's software: ``EdgeOS``, ``VyOS``
    mapping_type: str
    host_type: str
    config_type: str  # the pseudo resource "the committed config is saved"
    served: Callable[[Config, str], Sequence[Network]]  # the networks instance ``key`` serves
    mapping_name_re: re.Pattern[str]  # the static-mapping names the router accepts
    mac_words: str  # the MAC leaf in messages: ``mac-address``, ``MAC (mac-address in 1.4, mac in 1.5)``
    moves_subnet: bool = True  # a mapping whose address moves follows it into the subnet holding it
    # a network of the instance that does not name the kind still gets its DNS names (EdgeOS); VyOS
    # serves only the networks that name it (``networks[].vyos``)
    names_unnamed: bool = True

    def name_rule(self, name: str) -> str | None:
        """Why netsot may not give a new static mapping or host name this name (None: it may)."""
        problem = hostname_problem(name)
        if problem is None:
            return None
        return (f"cannot name a new {self.product} static mapping or host name: it {problem} "
                f"(rule: {NAME_RULE})")

    def binding_addresses(self, network: Network, name: str, key: str) -> Mapping[str, Address]:
        """The router objects a binding produces: its reservation (when the network names this kind)
        and its host name (when it has one)."""
        out: dict[str, Address] = {}
        own = network.settings_for(self.name)
        if own is None and not self.names_unnamed:
            return out
        if own is not None:
            out[self.mapping_type] = self.mapping_address(own.shared_network, name, key)
        fqdn = host_name_for(name, network.domain)
        if fqdn is not None:
            out[self.host_type] = self.host_address(fqdn, key)
        return out

    def mapping_address(self, shared_network: str, name: str, key: str = "") -> Address:
        return Address.of(self.mapping_type, self.mapping_name(shared_network, name), key)

    @staticmethod
    def mapping_name(shared_network: str, name: str) -> str:
        """The name of a static mapping's address (``LAN.web01``)."""
        return f"{shared_network}.{name}"

    def host_address(self, fqdn: str, key: str = "") -> Address:
        return Address.of(self.host_type, fqdn, key)

    def saved_address(self, key: str) -> Address:
        return Address.of(self.config_type, "saved", key)

    def shared_networks(self, config: Config, key: str) -> dict[str, list[Network]]:
        """The served networks by the shared network that holds their reservations."""
        out: dict[str, list[Network]] = {}
        for n in self.served(config, key):
            own = n.settings_for(self.name)
            if own is not None:
                out.setdefault(own.shared_network, []).append(n)
        return out

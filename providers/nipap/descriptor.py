"""NIPAP as netsot sees it: the IPAM that holds every binding's address (light: no pynipap here).

Owns: the kind's declaration — settings, schema fragment, resource types (``nipap_prefix`` for a
network, ``nipap_address`` for a binding: the ``address`` role other systems depend on), the
addresses a binding produces, default precedence and hooks.
Must not: import the client or the provider (the registry loads those on first use).
"""

from __future__ import annotations

from collections.abc import Mapping

from core.config import Network
from core.model import Address
from providers.base import ROLE_ADDRESS, ROLE_NETWORK, Field, Hooks, ResourceType, SystemKind
from providers.nipap.settings import NipapNetwork, NipapSettings
from providers.nipap.weblinks import web_link

PREFIX_TYPE = "nipap_prefix"
ADDRESS_TYPE = "nipap_address"


def prefix_address(network: str, key: str = "") -> Address:
    return Address.of(PREFIX_TYPE, network, key)


def host_address(network: str, hostname: str, key: str = "") -> Address:
    return Address.of(ADDRESS_TYPE, f"{network}.{hostname}", key)


def binding_addresses(network: Network, name: str, key: str) -> Mapping[str, Address]:
    return {ADDRESS_TYPE: host_address(network.name, name, key)}


KIND = SystemKind(
    name="nipap",
    title="NIPAP (IPAM)",
    provider="providers.nipap.provider:NipapProvider",
    settings=NipapSettings,
    network_settings=NipapNetwork,
    schema="providers.nipap:config.schema.json",
    secrets=("password",),
    resource_types=(
        ResourceType(PREFIX_TYPE, ("prefix",), ("type", "description"), role=ROLE_NETWORK,
                     label="network prefix",
                     fields=(Field("prefix", "str"), Field("type", "str", optional=True),
                             Field("description", "str", optional=True))),
        # named by its host name (``nipap_address.<network>.<node>``: a rename is a move)
        ResourceType(ADDRESS_TYPE, ("hostname",), ("ip", "mac"), role=ROLE_ADDRESS,
                     label="host address", column="host",
                     fields=(Field("ip", "str"), Field("hostname", "str", optional=True),
                             Field("mac", "str", optional=True), Field("description", "str", optional=True),
                             Field("avps", "map"))),
    ),
    precedence={"ip": 10, "hostname": 20},
    origins=True,  # hosts made in NIPAP (tagged, with a name and a MAC) are bindings
    binding_addresses=binding_addresses,
    check_label="nipap",
    location="in NIPAP",
    web_link=web_link,
    hooks=Hooks(inventory="providers.nipap.inventory:run", adopt="providers.nipap.adopt:adopt",
                import_one="providers.nipap.importone:import_one", watch="providers.nipap.watch:watch",
                doctor="providers.nipap.doctor:run", init="providers.nipap.setup:HOOK",
                lab="providers.nipap.sim.lab:LAB"),
)

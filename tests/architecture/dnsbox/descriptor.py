"""Step 3 of "Adding a system": the descriptor (settings, schema, resource types, addresses)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from core.config import Network, NetworkSettings, SystemSettings
from core.model import Address
from core.secrets import SecretField
from providers.base import ROLE_ADDRESS, Field, ResourceType, SystemKind

RECORD = "dnsbox_record"


class DnsboxSettings(SystemSettings):
    KIND: ClassVar[str] = "dnsbox"

    zone_store: str  # the name of the in-memory zone store (stands for a server URL)
    token: SecretField


class DnsboxNetwork(NetworkSettings):
    KIND: ClassVar[str] = "dnsbox"

    ttl: int = 300


def binding_addresses(network: Network, name: str, key: str) -> Mapping[str, Address]:
    return {RECORD: Address.of(RECORD, f"{name}.{network.domain}", key)} if network.domain else {}


KIND = SystemKind(
    name="dnsbox",
    title="DNS box",
    provider="tests.architecture.dnsbox.provider:DnsboxProvider",
    settings=DnsboxSettings,
    network_settings=DnsboxNetwork,
    schema="tests.architecture.dnsbox:config.schema.json",
    secrets=("token",),
    resource_types=(ResourceType(RECORD, ("name",), ("ip", "ttl"), requires=(ROLE_ADDRESS,), label="A record",
                                 fields=(Field("name", "str"), Field("ip", "str"), Field("ttl", "int"))),),
    precedence={"ip": 40, "hostname": 40},
    binding_addresses=binding_addresses,
)

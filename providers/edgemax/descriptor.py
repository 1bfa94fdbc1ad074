"""The EdgeRouter as netsot sees it: DHCP reservations and DNS host names (light: no scrapli here).

Owns: the kind's declaration — settings, schema fragment, resource types (static mappings and
static host mappings, both depending on the binding's IPAM ``address``; the pseudo resource
"the running config is saved"), the addresses a binding produces, the EdgeOS name rule for the
names netsot creates, default precedence and hooks.
Must not: import the session or the provider (the registry loads those on first use).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from core.config import Network
from core.model import Address
from providers.base import ROLE_ADDRESS, Hooks, ResourceType, SystemKind
from providers.edgemax.settings import EdgemaxNetwork, EdgemaxSettings

MAPPING_TYPE = "edgemax_dhcp_mapping"
HOST_TYPE = "edgemax_host"
CONFIG_TYPE = "edgemax_config"  # pseudo-resource: whether the committed config is saved

# What netsot may name a static mapping / host label it creates (checked after lower-casing).
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def mapping_address(shared_network: str, name: str, key: str = "") -> Address:
    return Address.of(MAPPING_TYPE, f"{shared_network}.{name}", key)


def host_address(fqdn: str, key: str = "") -> Address:
    return Address.of(HOST_TYPE, fqdn, key)


def binding_addresses(network: Network, name: str, key: str) -> Mapping[str, Address]:
    out: dict[str, Address] = {}
    own = network.settings_for("edgemax")
    if own is not None:
        out[MAPPING_TYPE] = mapping_address(own.shared_network, name, key)
    if network.domain:
        out[HOST_TYPE] = host_address(f"{name}.{network.domain}", key)
    return out


def name_rule(name: str) -> str | None:
    if NAME_RE.match(name):
        return None
    return "is not a valid host name for EdgeOS (one DNS label: a-z, 0-9 and inner '-', at most 63)"


KIND = SystemKind(
    name="edgemax",
    title="EdgeRouter (EdgeOS)",
    provider="providers.edgemax.provider:EdgemaxProvider",
    settings=EdgemaxSettings,
    network_settings=EdgemaxNetwork,
    schema="providers.edgemax:config.schema.json",
    secrets=("password",),
    resource_types=(
        ResourceType(MAPPING_TYPE, ("shared_network", "name"), ("ip_address", "mac_address"),
                     requires=(ROLE_ADDRESS,), label="DHCP reservation"),
        ResourceType(HOST_TYPE, ("host_name",), ("inet",), requires=(ROLE_ADDRESS,), label="DNS host name"),
        ResourceType(CONFIG_TYPE, (), ("saved",), pseudo=True, label="saved configuration"),
    ),
    precedence={"ip": 30, "hostname": 30, "mac": 20},
    binding_addresses=binding_addresses,
    name_rule=name_rule,
    check_label="router",
    location="on the router",
    hooks=Hooks(
        inventory="providers.edgemax.inventory:run",
        importer="providers.edgemax.importer:adopt",
        import_read="providers.edgemax.importer:read_observation",
        import_one="providers.edgemax.importer:import_one",
        verify="providers.edgemax.verify:checks",
    ),
)

"""The EdgeRouter as netsot sees it: DHCP reservations and DNS host names (light: no scrapli here).

Owns: the kind's declaration — settings, schema fragment, resource types (static mappings and
static host mappings, both depending on the binding's IPAM ``address``; the pseudo resource
"the running config is saved"), the addresses a binding produces, the EdgeOS name rule for the
names netsot creates, default precedence and hooks.
Must not: import the session or the provider (the registry loads those on first use).
"""

from __future__ import annotations

from collections.abc import Mapping

from core.config import Network
from core.model import Address
from core.names import hostname_problem
from providers.base import ROLE_ADDRESS, Hooks, ResourceType, SystemKind
from providers.edgemax.settings import EdgemaxNetwork, EdgemaxSettings

MAPPING_TYPE = "edgemax_dhcp_mapping"
HOST_TYPE = "edgemax_host"
CONFIG_TYPE = "edgemax_config"  # pseudo-resource: whether the committed config is saved

# What netsot may name a static mapping / host name it creates: DNS labels (core.names), which
# EdgeOS accepts in both (mapping names ^[-_a-zA-Z0-9.]+$, host names allow '.'; edgeos.md §4.2).
# Names already on the router may be anything EdgeOS accepts: they are kept as they are.
NAME_RULE = "DNS labels of a-z, 0-9 and inner '-', at most 63 each, joined by '.'"


def mapping_address(shared_network: str, name: str, key: str = "") -> Address:
    return Address.of(MAPPING_TYPE, f"{shared_network}.{name}", key)


def host_address(fqdn: str, key: str = "") -> Address:
    return Address.of(HOST_TYPE, fqdn, key)


def host_name_for(name: str, domain: str | None) -> str | None:
    """The static host mapping of a binding: ``web01`` → ``web01.<domain>``; a binding whose name
    is already an FQDN (``cloud.other.org``, or the domain itself: the apex) is that name."""
    if "." in name:
        return name
    return f"{name}.{domain}" if domain else None


def binding_addresses(network: Network, name: str, key: str) -> Mapping[str, Address]:
    out: dict[str, Address] = {}
    own = network.settings_for("edgemax")
    if own is not None:
        out[MAPPING_TYPE] = mapping_address(own.shared_network, name, key)
    fqdn = host_name_for(name, network.domain)
    if fqdn is not None:
        out[HOST_TYPE] = host_address(fqdn, key)
    return out


def name_rule(name: str) -> str | None:
    problem = hostname_problem(name)
    if problem is None:
        return None
    return f"cannot name a new EdgeOS static mapping or host name: it {problem} (rule: {NAME_RULE})"


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
                     requires=(ROLE_ADDRESS,), label="DHCP reservation", column="reservation"),
        ResourceType(HOST_TYPE, ("host_name",), ("inet",), requires=(ROLE_ADDRESS,), label="DNS host name",
                     column="DNS name"),
        ResourceType(CONFIG_TYPE, (), ("saved",), pseudo=True, label="saved configuration"),
    ),
    precedence={"ip": 30, "hostname": 30, "mac": 20},
    binding_addresses=binding_addresses,
    name_rule=name_rule,
    check_label="router",
    location="on the router",
    hooks=Hooks(
        inventory="providers.edgemax.inventory:run",
        doctor="providers.edgemax.doctor:run",
        init="providers.edgemax.setup:HOOK",
        importer="providers.edgemax.importer:adopt",
        import_read="providers.edgemax.importer:read_observation",
        import_one="providers.edgemax.importer:import_one",
        verify="providers.edgemax.verify:checks",
        lab="providers.edgemax.sim.lab:LAB",
    ),
)

"""VyOS 1.4/1.5 as netsot sees it: DHCP reservations and DNS host names over the HTTPS API (light).

Owns: the kind's declaration — settings, schema fragment, resource types (static mappings and static
host mappings, both depending on the binding's IPAM ``address``; the pseudo resource "the running
config is saved"), the addresses a binding produces, the name rule for names netsot creates,
default precedence and hooks.
Must not: import the client or the provider (the registry loads those on first use).
"""

from __future__ import annotations

from collections.abc import Mapping

from core.config import Config, Network
from core.model import Address
from core.names import hostname_problem
from providers.base import ROLE_ADDRESS, Hooks, ResourceType, SystemKind
from providers.vyos.settings import VyosNetwork, VyosSettings

MAPPING_TYPE = "vyos_dhcp_mapping"
HOST_TYPE = "vyos_host"
CONFIG_TYPE = "vyos_config"  # pseudo-resource: whether the committed config is saved

# What netsot may name a mapping / host name it creates: DNS labels, which both dialects accept
# (1.4 mapping names [-_a-zA-Z0-9.]+, 1.5 a hostname; host names alphanumeric with '-' and '.').
NAME_RULE = "DNS labels of a-z, 0-9 and inner '-', at most 63 each, joined by '.'"


def mapping_address(shared_network: str, name: str, key: str = "") -> Address:
    return Address.of(MAPPING_TYPE, f"{shared_network}.{name}", key)


def host_address(fqdn: str, key: str = "") -> Address:
    return Address.of(HOST_TYPE, fqdn, key)


def host_name_for(name: str, domain: str | None) -> str | None:
    """``web01`` → ``web01.<domain>``; a name that is already an FQDN is that name."""
    if "." in name:
        return name
    return f"{name}.{domain}" if domain else None


def served(config: Config, key: str) -> tuple[Network, ...]:
    """The networks router ``key`` serves: those that name it (``networks[].vyos``). A network without
    ``vyos:`` is not served by a VyOS router, not even its DNS names — so an EdgeRouter site and a
    VyOS site in one config each publish only their own networks."""
    return tuple(n for n in config.networks_of(key) if n.settings_for("vyos") is not None)


def binding_addresses(network: Network, name: str, key: str) -> Mapping[str, Address]:
    out: dict[str, Address] = {}
    own = network.settings_for("vyos")
    if own is None:
        return out
    out[MAPPING_TYPE] = mapping_address(own.shared_network, name, key)
    fqdn = host_name_for(name, network.domain)
    if fqdn is not None:
        out[HOST_TYPE] = host_address(fqdn, key)
    return out


def name_rule(name: str) -> str | None:
    problem = hostname_problem(name)
    if problem is None:
        return None
    return f"cannot name a new VyOS static mapping or host name: it {problem} (rule: {NAME_RULE})"


KIND = SystemKind(
    name="vyos",
    title="VyOS router (1.4/1.5, HTTPS API)",
    provider="providers.vyos.provider:VyosProvider",
    settings=VyosSettings,
    network_settings=VyosNetwork,
    schema="providers.vyos:config.schema.json",
    secrets=("api_key",),
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
        inventory="providers.vyos.inventory:run",
        doctor="providers.vyos.doctor:run",
        importer="providers.vyos.importer:adopt",
        import_read="providers.vyos.importer:read_observation",
        import_one="providers.vyos.importer:import_one",
        verify="providers.vyos.verify:checks",
        lab="providers.vyos.sim.lab:LAB",
    ),
)

"""VyOS 1.4/1.5 as netsot sees it: DHCP reservations and DNS host names over the HTTPS API (light).

Owns: the kind's declaration — settings, schema fragment, resource types (static mappings and static
host mappings, both depending on the binding's IPAM ``address``; the pseudo resource "the running
config is saved"), the addresses a binding produces, the name rule for names netsot creates,
default precedence and hooks.
Must not: import the client or the provider (the registry loads those on first use).
"""

from __future__ import annotations

import re

from core.config import Config, Network
from providers.base import ROLE_ADDRESS, Hooks, ResourceType, SystemKind
from providers.vyatta.family import (
    HOST_ATTRIBUTES,
    HOST_FIELDS,
    HOST_IDENTITY,
    MAPPING_ATTRIBUTES,
    MAPPING_FIELDS,
    MAPPING_IDENTITY,
    SAVED_ATTRIBUTES,
    SAVED_FIELDS,
    VyattaKind,
)
from providers.vyatta.family import NAME_RULE as NAME_RULE
from providers.vyatta.family import host_name_for as host_name_for
from providers.vyos.settings import VyosNetwork, VyosSettings

MAPPING_TYPE = "vyos_dhcp_mapping"
HOST_TYPE = "vyos_host"
CONFIG_TYPE = "vyos_config"  # pseudo-resource: whether the committed config is saved

def served(config: Config, key: str) -> tuple[Network, ...]:
    """The networks router ``key`` serves: those that name it (``networks[].vyos``). A network without
    ``vyos:`` is not served by a VyOS router, not even its DNS names — so an EdgeRouter site and a
    VyOS site in one config each publish only their own networks."""
    return tuple(n for n in config.networks_of(key) if n.settings_for("vyos") is not None)


# What the Vyatta library needs to know of this kind (its planner, observation, import and value
# checks are the library's, run with these values). A mapping stays in its subnet: an update writes
# its leaves in place. Names netsot creates are DNS labels, which both dialects accept (1.4 mapping
# names [-_a-zA-Z0-9.]+, 1.5 a hostname; host names alphanumeric with '-' and '.').
VYATTA = VyattaKind(
    name="vyos",
    product="VyOS",
    mapping_type=MAPPING_TYPE,
    host_type=HOST_TYPE,
    config_type=CONFIG_TYPE,
    served=served,
    # a name either dialect holds (1.4: [-_a-zA-Z0-9.]+; 1.5's hostnames are a subset of it)
    mapping_name_re=re.compile(r"[-_a-zA-Z0-9.]+"),
    mac_words="MAC (mac-address in 1.4, mac in 1.5)",
    moves_subnet=False,
    names_unnamed=False,
)
mapping_address = VYATTA.mapping_address
host_address = VYATTA.host_address
binding_addresses = VYATTA.binding_addresses
name_rule = VYATTA.name_rule


KIND = SystemKind(
    name="vyos",
    title="VyOS router (1.4/1.5, HTTPS API)",
    provider="providers.vyos.provider:VyosProvider",
    settings=VyosSettings,
    network_settings=VyosNetwork,
    schema="providers.vyos:config.schema.json",
    secrets=("api_key",),
    resource_types=(
        # the Vyatta family's field rule (family.py), the same for both kinds: every change checked
        ResourceType(MAPPING_TYPE, MAPPING_IDENTITY, MAPPING_ATTRIBUTES, requires=(ROLE_ADDRESS,),
                     label="DHCP reservation", column="reservation", fields=MAPPING_FIELDS),
        ResourceType(HOST_TYPE, HOST_IDENTITY, HOST_ATTRIBUTES, requires=(ROLE_ADDRESS,),
                     label="DNS host name", column="DNS name", fields=HOST_FIELDS),
        ResourceType(CONFIG_TYPE, (), SAVED_ATTRIBUTES, pseudo=True, label="saved configuration",
                     fields=SAVED_FIELDS),
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

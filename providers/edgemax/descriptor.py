"""The EdgeRouter as netsot sees it: DHCP reservations and DNS host names (light: no scrapli here).

Owns: the kind's declaration — settings, schema fragment, resource types (static mappings and
static host mappings, both depending on the binding's IPAM ``address``; the pseudo resource
"the running config is saved"), the addresses a binding produces, the EdgeOS name rule for the
names netsot creates, default precedence and hooks.
Must not: import the session or the provider (the registry loads those on first use).
"""

from __future__ import annotations

import re

from core.config import Config, Network
from providers.base import ROLE_ADDRESS, Hooks, ResourceType, SystemKind
from providers.edgemax.settings import EdgemaxNetwork, EdgemaxSettings
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

MAPPING_TYPE = "edgemax_dhcp_mapping"
HOST_TYPE = "edgemax_host"
CONFIG_TYPE = "edgemax_config"  # pseudo-resource: whether the committed config is saved

# edgeos.md §4.2: static-mapping names ^[-_a-zA-Z0-9.]+$ (a name already on the router may be any of
# these: it is kept exactly); a mapping netsot creates is named by the library's rule (DNS labels).
MAPPING_NAME_RE = re.compile(r"[-_a-zA-Z0-9.]{1,255}")


def served(config: Config, key: str) -> tuple[Network, ...]:
    """The networks router ``key`` serves (its DNS names too, with or without ``edgemax:``)."""
    return config.networks_of(key)


# What the Vyatta library needs to know of this kind (its planner, observation, import and command
# lines are the library's, run with these values).
VYATTA = VyattaKind(
    name="edgemax",
    product="EdgeOS",
    mapping_type=MAPPING_TYPE,
    host_type=HOST_TYPE,
    config_type=CONFIG_TYPE,
    served=served,
    mapping_name_re=MAPPING_NAME_RE,
    mac_words="mac-address",
)
mapping_address = VYATTA.mapping_address
host_address = VYATTA.host_address
binding_addresses = VYATTA.binding_addresses
name_rule = VYATTA.name_rule


KIND = SystemKind(
    name="edgemax",
    title="EdgeRouter (EdgeOS)",
    provider="providers.edgemax.provider:EdgemaxProvider",
    settings=EdgemaxSettings,
    network_settings=EdgemaxNetwork,
    schema="providers.edgemax:config.schema.json",
    secrets=("password",),
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

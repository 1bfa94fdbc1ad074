"""Proxmox VE as netsot sees it: where guests appear, and optional address write-back (light).

Owns: the kind's declaration — settings, schema fragment, the ``proxmox_ipconfig`` resource type
(cloud-init ``ipconfigN`` / LXC ``netN ip=`` of guests that opt in, depending on the binding's
IPAM ``address``), that its guest NICs originate bindings, default precedence and hooks.
Must not: import proxmoxer or the provider (the registry loads those on first use).
"""

from __future__ import annotations

from core.model import Address
from providers.base import ROLE_ADDRESS, Field, Hooks, ResourceType, SystemKind
from providers.proxmox.settings import ProxmoxNetwork, ProxmoxSettings
from providers.proxmox.weblinks import web_link

IPCONFIG_TYPE = "proxmox_ipconfig"


def insecure(key: str, settings: ProxmoxSettings) -> list[str]:
    if settings.verify_tls is False:
        return [f"providers.{key}.verify_tls is false: the Proxmox API's certificate is not checked, so "
                "anyone on the path can impersonate it and read the API token"]
    return []


def ipconfig_address(node: str, vmid: int, nic: str, key: str = "") -> Address:
    return Address.of(IPCONFIG_TYPE, f"{node}.{vmid}.{nic}", key)


KIND = SystemKind(
    name="proxmox",
    title="Proxmox VE",
    provider="providers.proxmox.provider:ProxmoxProvider",
    settings=ProxmoxSettings,
    network_settings=ProxmoxNetwork,
    schema="providers.proxmox:config.schema.json",
    secrets=("token_value",),
    files={"verify_tls": "CA bundle"},  # when it is a path (true/false are not files)
    resource_types=(
        ResourceType(IPCONFIG_TYPE, ("node", "vmid", "nic"), ("ip",), requires=(ROLE_ADDRESS,),
                     label="guest address (cloud-init / LXC)", column="write-back",
                     fields=(Field("node", "str"), Field("vmid", "int"), Field("type", "str"),
                             Field("nic", "str"), Field("ip", "str", optional=True),
                             Field("gateway", "str", optional=True))),
    ),
    precedence={"ip": 20, "hostname": 10, "mac": 10},
    origins=True,
    origin_label="guest NIC",
    insecure=insecure,
    check_label="proxmox",
    location="on Proxmox",
    web_link=web_link,
    hooks=Hooks(inventory="providers.proxmox.inventory:run",
                import_one="providers.proxmox.importone:import_one", watch="providers.proxmox.watch:watch",
                doctor="providers.proxmox.doctor:run", init="providers.proxmox.setup:HOOK",
                lab="providers.proxmox.sim.lab:LAB"),
)

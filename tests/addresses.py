"""The built-in systems' address helpers, under the names the tests use (``A.nipap_address(...)``)."""

from providers.edgemax.descriptor import host_address as edgemax_host
from providers.edgemax.descriptor import mapping_address as edgemax_dhcp_mapping
from providers.nipap.descriptor import host_address as nipap_address
from providers.nipap.descriptor import prefix_address as nipap_prefix
from providers.proxmox.descriptor import ipconfig_address as proxmox_ipconfig
from providers.proxmox.mapping import guest_origin as proxmox_ref

__all__ = ["edgemax_dhcp_mapping", "edgemax_host", "nipap_address", "nipap_prefix", "proxmox_ipconfig",
           "proxmox_ref"]

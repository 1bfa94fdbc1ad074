"""#20.3: an Unmanaged entry says where the object is — IP, MAC and its id in its system — also for an
object without a fact (one only netsot's marker claims, e.g. a Proxmox NIC: its id is node/vmid/netN)."""

from __future__ import annotations

from core.model import Address, ObservedResource, Unmanaged, frozen_map
from engine.plan.unmanaged import _located


def test_an_entry_without_a_fact_is_located_from_its_attributes_and_import_id() -> None:
    address = Address.parse("proxmox_ipconfig.pve1.206.net0")
    resource = ObservedResource(address, frozen_map({"ip": "192.168.10.5/24", "mac": "BC:24:11:00:00:01"}),
                                provider_id="digest-abc", owned_marker=True, import_id="pve1/206/net0")
    item = _located(address, "carries netsot's marker", "", resource, None)
    assert (item.ip, item.mac, item.ident) == ("192.168.10.5", "bc:24:11:00:00:01", "pve1/206/net0")
    assert item.to_dict()["id"] == "pve1/206/net0"
    assert Unmanaged.from_dict(item.to_dict()) == item


def test_the_provider_id_is_the_id_when_the_system_has_no_other() -> None:
    address = Address.parse("edgemax_dhcp_mapping.LAN.printer")
    path = "service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping printer"
    attrs = {"subnet": "192.168.10.0/24", "ip_address": "192.168.10.21", "mac_address": "30:05:5c:12:34:56"}
    resource = ObservedResource(address, frozen_map(attrs), provider_id=path)
    item = _located(address, "not imported", "", resource, None)
    assert (item.ip, item.mac, item.ident) == ("192.168.10.21", "30:05:5c:12:34:56", path)

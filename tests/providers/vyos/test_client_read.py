"""netsot's VyOS client against the simulator over HTTPS; reading both dialects; the inventory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import (
    ProviderAuthError,
    ProviderDataError,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.vyos import inventory
from providers.vyos.client import Op, VyosClient
from providers.vyos.leases import parse_leases
from providers.vyos.read import dialect, read
from providers.vyos.sim.api import Lease
from providers.vyos.sim.server import SimHandle, start
from tests.providers.vyos.seeds import V14, V15

# ruff: noqa: E501  (the set script and the lease table are real-width lines)

HOST = ("system", "static-host-mapping", "host-name")


@pytest.fixture(params=["1.4", "1.5"])
def sim(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimHandle]:
    handle = start(V14 if request.param == "1.4" else V15, dialect=request.param, state_dir=tmp_path,
                   leases=[Lease("192.168.10.101", "52:54:00:AA:00:09", hostname=""),
                           Lease("192.168.10.102", "52:54:00:aa:00:0a", hostname="laptop")])
    yield handle
    handle.stop()


def client(sim: SimHandle, **tls: str) -> VyosClient:
    return VyosClient(sim.url, sim.key, **(tls or {"ca_bundle": str(sim.ca_path)}))


def test_tls_by_ca_bundle_or_pinned_fingerprint_never_unverified(sim: SimHandle, tmp_path: Path) -> None:
    assert client(sim).show_config(["system", "host-name"]) == "cabin"
    pinned = client(sim, fingerprint=sim.fingerprint.upper())
    assert pinned.show_config(list(HOST)) is not None
    wrong = client(sim, fingerprint="AB:" * 31 + "AB")
    with pytest.raises(ProviderUnavailable, match=r"TLS verification .* pinned fingerprint"):
        wrong.show_config(list(HOST))
    other_ca = tmp_path / "other.pem"
    import trustme

    trustme.CA().cert_pem.write_to_path(str(other_ca))
    with pytest.raises(ProviderUnavailable, match="TLS verification"):
        client(sim, ca_bundle=str(other_ca)).show_config(list(HOST))
    with pytest.raises(ProviderError, match=r"CA bundle .* or a pinned"):
        VyosClient(sim.url, sim.key)


def test_a_wrong_key_is_an_auth_error(sim: SimHandle) -> None:
    with pytest.raises(ProviderAuthError, match="Valid API key is required"):
        VyosClient(sim.url, "wrong", ca_bundle=str(sim.ca_path)).show_config([])


def test_one_configure_call_then_one_save(sim: SimHandle) -> None:
    c = client(sim)
    assert c.configure([Op("set", (*HOST, "tv", "inet", "192.168.10.21")),
                        Op("set", (*HOST, "tv", "alias", "telly"))]) is None
    assert "Done" in c.save()
    assert len(sim.calls("/configure")) == 1 and len(sim.calls("/config-file")) == 1
    assert c.show_config([*HOST, "tv"]) == {"alias": ["telly"], "inet": ["192.168.10.21"]}
    assert c.show_config([*HOST, "nothing"]) is None
    with pytest.raises(ProviderRejected, match="Host-name must be alphanumeric"):
        c.configure([Op("set", (*HOST, "bad_", "inet", "10.0.0.1"))])


def test_reading_both_dialects(sim: SimHandle) -> None:
    tree = inventory.read_router(client(sim))
    cfg = read(tree)
    (nas,) = cfg.mappings
    assert (nas.name, nas.ip, nas.mac) == ("nas", "192.168.10.20", "52:54:00:aa:00:01")
    assert cfg.shape == sim.router.dialect
    assert dialect(None, cfg) == sim.router.dialect
    if sim.router.dialect == "1.4":
        assert nas.kept == {"description": "the NAS"} and nas.subnet_id is None
        assert cfg.hosts[0].aliases == ("files",)
    else:
        assert nas.subnet_id == "1"
    assert dialect("1.4.1", cfg) == "1.4" and dialect("VyOS 1.5-stream-2025-Q2", cfg) == "1.5"
    assert dialect("1.4.1", cfg, override="1.5") == "1.5"


def test_the_inventory_from_the_router_has_the_edgemax_shape(sim: SimHandle) -> None:
    doc = inventory.from_router(client(sim))
    assert set(doc) == {"dhcp_static_mappings", "static_host_mappings", "leases", "dnsmasq"}
    first = doc["leases"][0]
    assert first == {"ip": "192.168.10.101", "mac": "52:54:00:aa:00:09", "expires": "2026/12/08 06:00:00",
                     "pool": "LAN", "hostname": None, "vendor": first["vendor"]}
    assert doc["leases"][1]["hostname"] == "laptop"
    assert "dnsmasq" not in inventory.as_output(doc, as_json=False)
    assert json.loads(inventory.as_output(doc, as_json=True)) == doc


TEMPLATED = """\
#!/bin/vbash
source /opt/vyatta/etc/functions/script-template
configure
set interfaces ethernet ${WAN_IF} address dhcp
set service dhcp-server shared-network-name LAN subnet 10.1.0.0/24 option default-router '10.1.0.1'
set service dhcp-server shared-network-name LAN subnet 10.1.0.0/24 range pool1 start '10.1.0.100'
set service dhcp-server shared-network-name LAN subnet 10.1.0.0/24 range pool1 stop '10.1.0.150'
set service dhcp-server shared-network-name LAN subnet 10.1.0.0/24 static-mapping printer ip-address '10.1.0.9'
set service dhcp-server shared-network-name LAN subnet 10.1.0.0/24 static-mapping printer mac '00:11:22:33:44:55'
set service dhcp-server shared-network-name LAN subnet 10.1.0.0/24 static-mapping printer option host-name 'prn'
set service dhcp-server shared-network-name LAN subnet 10.1.0.0/24 subnet-id '1'
set system static-host-mapping host-name printer.lan inet '10.1.0.9'
set system static-host-mapping host-name printer.lan inet '2001:db8::9'
commit
save
exit
"""


def test_inventory_from_a_templated_set_script(tmp_path: Path) -> None:
    path = tmp_path / "router.sh"
    path.write_text(TEMPLATED)
    doc = inventory.from_file(str(path))
    assert doc["dhcp_static_mappings"] == [
        {"shared_network": "LAN", "subnet": "10.1.0.0/24", "name": "printer", "ip_address": "10.1.0.9",
         "mac_address": "00:11:22:33:44:55"}]
    assert doc["static_host_mappings"] == [
        {"host_name": "printer.lan", "inet": ["10.1.0.9", "2001:db8::9"], "aliases": []}]
    assert len(doc["warnings"]) == 1 and "router.sh:4" in doc["warnings"][0]
    tree, _ = inventory.read_file(path)
    (printer,) = read(tree).mappings
    assert printer.kept == {"option": {"host-name": "prn"}} and read(tree).shape == "1.5"


def test_a_file_netsot_cannot_read_is_a_vyos_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("set service dhcp-server shared-network-name LAN subnet 'x\n")
    with pytest.raises(ProviderDataError, match=r"^vyos: bad.txt:1"):
        inventory.from_file(str(path))


def test_the_lease_table_keeps_blank_cells_in_their_column() -> None:
    text = ("IP Address      MAC address        State   Lease start          Lease expiration     Remaining  Pool"
            "  Hostname  Origin\n"
            "--------------  -----------------  ------  -------------------  -------------------  ---------  ----"
            "  --------  ------\n"
            "192.168.10.101  52:54:00:aa:00:09  active  2026/12/07 06:00:00  2026/12/08 06:00:00  23:59:59   LAN "
            "            local\n")
    (lease,) = parse_leases(text)
    assert (lease.ip, lease.pool, lease.hostname) == ("192.168.10.101", "LAN", None)
    with pytest.raises(ProviderDataError, match="not a lease table"):
        parse_leases("something else\nentirely\n")

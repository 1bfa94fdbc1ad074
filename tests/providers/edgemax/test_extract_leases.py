from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ProviderDataError
from providers.edgemax.extract import extract
from providers.edgemax.leases import (
    Lease,
    parse_dhcpd_leases,
    parse_show_leases,
    read_show_leases,
    render_show_leases,
)
from providers.vyatta.parse import parse_boot, parse_commands
from providers.vyatta.render import render_boot, render_commands
from tests.providers.edgemax.conftest import CONFIG_FILES, read_fixture

# Counted by hand with grep on the files (not derived from the parser):
# file: (shared networks, subnets, static mappings, static host mappings, dnsmasq)
EXPECTED = {
    "Cloudxtreme__config.boot": (0, 0, 0, 0, False),
    "DenBeke__config.boot": (1, 1, 0, 0, False),
    "LukeHandle__config.boot": (1, 1, 0, 0, False),
    "OdinsHat__config.boot": (2, 2, 0, 0, False),
    "Remillardj__config.boot": (1, 1, 0, 0, True),
    "cormon1976__config.boot": (5, 5, 1, 0, False),
    "davidjenni__config.boot": (2, 2, 2, 0, True),
    "drewwalters96__config.boot": (1, 1, 0, 0, False),
    "hotogoma__config.boot": (1, 1, 4, 3, False),
    "mar-maradnus__config.boot": (1, 1, 0, 0, False),
    "stevejenkins__Comcast_config.boot.erl": (3, 3, 0, 0, False),
}


def test_expected_table_covers_every_fixture() -> None:
    assert {p.name for p in CONFIG_FILES} == set(EXPECTED)


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_fixture_counts(path) -> None:  # type: ignore[no-untyped-def]
    cfg = extract(parse_boot(path.read_text(), path.name))
    sn, subnets, mappings, hosts, dnsmasq = EXPECTED[path.name]
    assert len(cfg.shared_networks) == sn
    assert sum(len(s.subnets) for s in cfg.shared_networks) == subnets
    assert len(list(cfg.mappings())) == mappings
    assert len(cfg.host_mappings) == hosts
    assert cfg.dnsmasq is dnsmasq
    # the same config as set-commands and as config.boot extracts identically
    tree = parse_boot(path.read_text())
    assert extract(parse_commands(render_commands(tree))) == cfg
    assert extract(parse_boot(render_boot(tree))) == cfg


def test_hotogoma_details() -> None:
    cfg = extract(parse_boot(read_fixture("hotogoma__config.boot")))
    (sn,) = cfg.shared_networks
    (subnet,) = sn.subnets
    assert [(m.name, m.ip, m.mac) for m in subnet.static_mappings] == [
        ("GPU", "192.168.1.3", "00:01:2e:71:c4:cf"),
        ("NAS", "192.168.1.2", "00:11:32:71:e5:07"),
        ("PI", "192.168.1.4", "b8:27:eb:87:3d:ad"),
        ("PRINTER", "192.168.1.5", "38:9d:92:bc:e0:cf"),
    ]
    assert subnet.ranges and subnet.ranges[0][1] is not None
    assert [(h.host_name, h.inet) for h in cfg.host_mappings] == [
        ("gpu.mrkch.jp", ("192.168.1.3",)),
        ("nas.mrkch.jp", ("192.168.1.2",)),
        ("pi.mrkch.jp", ("192.168.1.4",)),
    ]
    assert not cfg.dhcp_disabled and not cfg.hostfile_update


def test_davidjenni_same_name_in_two_subnets_and_domains() -> None:
    cfg = extract(parse_boot(read_fixture("davidjenni__config.boot")))
    found = [(sn.name, sub.cidr, m.name, m.ip, m.mac) for sn, sub, m in cfg.mappings()]
    assert [f[2] for f in found] == ["sentinel", "sentinel"]
    assert {f[3] for f in found} == {"192.168.1.1", "10.61.4.1"}
    assert cfg.domain_name == "jenni.local"
    assert any(sub.domain_name == "jenni.local" for sn in cfg.shared_networks for sub in sn.subnets)


def test_extract_mac_normalisation_disable_and_inactive() -> None:
    text = (
        "service {\n    dhcp-server {\n        disabled false\n        hostfile-update enable\n"
        "        shared-network-name LAN {\n            subnet 10.0.0.0/24 {\n"
        "                dns-server 10.0.0.1\n                dns-server 1.1.1.1\n"
        "                start 10.0.0.100 {\n                    stop 10.0.0.199\n                }\n"
        "                static-mapping a {\n                    disable\n"
        "                    ip-address 10.0.0.5\n"
        "                    mac-address 0:A:b:C:d:E\n                }\n"
        "                !static-mapping b {\n                    ip-address 10.0.0.6\n                }\n"
        "            }\n        }\n    }\n}\n"
    )
    cfg = extract(parse_boot(text))
    (sn,) = cfg.shared_networks
    (subnet,) = sn.subnets
    assert subnet.dns_servers == ("10.0.0.1", "1.1.1.1")
    assert subnet.ranges == (("10.0.0.100", "10.0.0.199"),)
    (m,) = subnet.static_mappings
    assert (m.name, m.mac, m.disabled) == ("a", "00:0a:0b:0c:0d:0e", True)
    assert cfg.hostfile_update and not cfg.dhcp_disabled and not cfg.dnsmasq


def test_networktocode_show_leases_with_warnings() -> None:
    table = read_show_leases(read_fixture("networktocode__ubiquiti_edgerouter_show_dhcp_leases.raw"))
    assert len(table.warnings) == 8
    assert table.warnings[0] == "172.17.35.45"  # 2886804269 = 172*2**24 + 17*2**16 + 35*2**8 + 45
    (lease,) = table.leases
    assert lease == Lease("203.0.113.1", "00:0a:95:9d:68:16", "Sep 18, 2021", "5", "HOSTNAME")


def test_show_leases_rows_and_render_round_trip() -> None:
    leases = [
        Lease("10.0.0.40", "b8:27:eb:c5:00:01", "2021/03/14 16:36:13", "trusted", "picontrol1"),
        Lease("10.0.0.34", "a8:1d:16:74:00:02", "2021/03/14 16:38:27", "trusted", None),
    ]
    text = render_show_leases(leases, ["10.0.0.250"])
    assert text.splitlines()[0] == "Warning: leased IP address [167772410] not in any of the pools"
    assert "10.0.0.40       b8:27:eb:c5:00:01  2021/03/14 16:36:13  trusted    picontrol1\n" in text
    assert text.rstrip("\n").endswith("trusted    ?")
    table = read_show_leases(text)
    assert list(table.leases) == leases and table.warnings == ("10.0.0.250",)
    assert parse_show_leases(render_show_leases([])) == []
    assert render_show_leases([]).startswith("IP address      Hardware Address")


def test_show_leases_errors() -> None:
    with pytest.raises(ProviderDataError, match=r"show dhcp leases:2:"):
        parse_show_leases("IP address      Hardware Address\nnot-an-ip aa:bb 2021/01/01 00:00:00 LAN x\n")
    with pytest.raises(ProviderDataError):
        parse_show_leases("garbage\n")


def test_odinshat_dhcpd_leases() -> None:
    text = read_fixture("OdinsHat__dhcpd.leases")
    leases = parse_dhcpd_leases(text)
    every = parse_dhcpd_leases(text, active_only=False)
    blocks = text.count("\nlease ") + text.startswith("lease ")
    assert 0 < len(leases) <= len(every) <= blocks
    assert len({lease.ip for lease in every}) == len(every)
    first = next(lease for lease in every if lease.ip == "192.168.2.239")
    assert first.pool == "LAN2" and first.mac == "b8:27:eb:62:b8:3c"
    assert first.expires is not None and first.expires.count("/") == 2
    assert all(lease.pool for lease in every)


def test_dhcpd_leases_last_block_wins_and_errors() -> None:
    text = (
        "lease 10.0.0.5 {\n  ends 1 2020/01/01 00:00:00;\n#shared-network: LAN\n  binding state active;\n"
        '  hardware ethernet AA:BB:CC:DD:EE:FF;\n  client-hostname "old";\n}\n'
        "host foo {\n  hardware ethernet 00:11:22:33:44:55;\n}\n"
        "lease 10.0.0.5 {\n  ends never;\n  binding state free;\n  hardware ethernet aa:bb:cc:dd:ee:ff;\n}\n"
    )
    assert parse_dhcpd_leases(text) == []
    (lease,) = parse_dhcpd_leases(text, active_only=False)
    assert lease.expires is None and lease.hostname is None
    with pytest.raises(ProviderDataError, match=r"dhcpd\.leases:1:"):
        parse_dhcpd_leases("lease 10.0.0.5 {\n  binding state active;\n")
    with pytest.raises(ProviderDataError):
        parse_dhcpd_leases("lease nope {\n}\n")


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_lease_parsers_never_crash(text: str) -> None:
    for parser in (parse_show_leases, parse_dhcpd_leases):
        with contextlib.suppress(ProviderDataError):
            parser(text)

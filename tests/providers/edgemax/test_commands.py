from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ProviderRejected
from core.model import Action, Address, Change, frozen_map
from providers.edgemax.commands import apply_script, host_lines, mapping_lines, router_mac
from providers.vyatta.parse import parse_commands
from tests import addresses as A

LAN = "set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping web01"


def test_mapping_lines_create_update_delete() -> None:
    assert mapping_lines("create", "LAN", "192.168.1.0/24", "web01", "192.168.1.23", "52:54:0:AB:cd:1") == [
        f"{LAN} ip-address 192.168.1.23",
        f"{LAN} mac-address '52:54:00:ab:cd:01'",
    ]
    assert mapping_lines(Action.DELETE, "LAN", "192.168.1.0/24", "web01") == [
        "delete service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping web01"
    ]
    # an update sets the leaves in place (single-value leaves are replaced): the node is never deleted
    upd = mapping_lines("update", "LAN", "192.168.1.0/24", "web01", "192.168.1.24", "52-54-00-ab-cd-01")
    assert upd == [
        f"{LAN} ip-address 192.168.1.24",
        f"{LAN} mac-address '52:54:00:ab:cd:01'",
    ]


def test_host_lines() -> None:
    assert host_lines("create", "web01.lab.example", "192.168.1.23", ["web01"]) == [
        "set system static-host-mapping host-name web01.lab.example alias web01",
        "set system static-host-mapping host-name web01.lab.example inet 192.168.1.23",
    ]
    assert host_lines("delete", "web01.lab.example") == [
        "delete system static-host-mapping host-name web01.lab.example"
    ]


BAD_NAMES = [
    "web'01", 'web"01', "web;01", "web01\n", "web\n01", "$(reboot)", "`id`", "web 01", "a&&b", "a|b",
    "wеb01",  # Cyrillic e
    "web\x0001", "", "web/01", "x" * 256,
]  # fmt: skip
# EdgeOS accepts these mapping names (edgeos.md §4.2): kept on the router, never created by netsot
# (a dotted lower-case name such as pi.iot.je.home is a DNS name: netsot may create it)
ROUTER_ONLY_NAMES = ["x" * 64, "web_01", "-", "ROOM_1_SWITCH", "TiVo", "Pi.iot.je.home"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_mapping_names_are_rejected(name: str) -> None:
    with pytest.raises(ProviderRejected) as exc:
        mapping_lines("create", "LAN", "192.168.1.0/24", name, "192.168.1.2", "00:11:22:33:44:55")
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 200


@pytest.mark.parametrize("name", ROUTER_ONLY_NAMES)
def test_names_edgeos_accepts_are_kept_but_never_created(name: str) -> None:
    assert mapping_lines("delete", "LAN", "192.168.1.0/24", name)[0].endswith(f"static-mapping {name}")
    attrs = {"shared_network": "LAN", "subnet": "192.168.1.0/24", "name": name,
             "ip_address": "192.168.1.2", "mac_address": "00:11:22:33:44:55"}
    moved = {**attrs, "ip_address": "192.168.1.3"}
    update = Change(Action.UPDATE, A.edgemax_dhcp_mapping("LAN", name), frozen_map(attrs), frozen_map(moved))
    assert apply_script([update]) == [
        f"set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping {name} "
        "ip-address 192.168.1.3"]
    create = Change(Action.CREATE, A.edgemax_dhcp_mapping("LAN", name), None, frozen_map(attrs))
    with pytest.raises(ProviderRejected, match="cannot name a new EdgeOS static mapping"):
        apply_script([create])


@pytest.mark.parametrize("name", [*BAD_NAMES, "a", "-web", "web-", "a..b", "x" * 64 + ".lab"])
def test_bad_host_names_are_rejected(name: str) -> None:
    with pytest.raises(ProviderRejected):
        host_lines("create", name, "192.168.1.2", [])
    if name == "a":
        return  # one letter is a fine alias (free text on EdgeOS; a DNS name for netsot), not a host name
    with pytest.raises(ProviderRejected):
        host_lines("create", "ok.lab", "192.168.1.2", [name])


@pytest.mark.parametrize(
    "ip",
    [
        "192.168.1.023",
        " 192.168.1.2",
        "192.168.1.2 ",
        "192.168.1.2\n",
        "1.2.3",
        "::1",
        "192.168.1.2;x",
        "",
        None,
    ],
)
def test_bad_ips_are_rejected(ip: object) -> None:
    with pytest.raises(ProviderRejected):
        mapping_lines("create", "LAN", "192.168.1.0/24", "web01", ip, "00:11:22:33:44:55")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "mac", ["00:11:22:33:44", "00:11:22:33:44:55:66", "0011.2233.4455", "00:11:22:33:44:5g",
            "00:11-22:33:44:55",
            "00:11:22:33:44:55\n", "'00:11:22:33:44:55'", ""],
)  # fmt: skip
def test_bad_macs_are_rejected(mac: str) -> None:
    with pytest.raises(ProviderRejected):
        router_mac(mac)


@pytest.mark.parametrize(
    "subnet", ["192.168.1.1/24", "192.168.1.0/255.255.255.0", "192.168.1.0", "x/24", "10.0.0.0/33"]
)
def test_bad_subnets_and_shared_networks(subnet: str) -> None:
    with pytest.raises(ProviderRejected):
        mapping_lines("create", "LAN", subnet, "web01", "192.168.1.2", "00:11:22:33:44:55")
    for sn in ("LAN 2", "LAN;x", "", "L\u0410N"):
        with pytest.raises(ProviderRejected):
            mapping_lines("delete", sn, "192.168.1.0/24", "web01")


def test_ip_outside_subnet_is_rejected() -> None:
    with pytest.raises(ProviderRejected, match="outside subnet"):
        mapping_lines("create", "LAN", "192.168.1.0/24", "web01", "10.0.0.2", "00:11:22:33:44:55")


def _change(action: Action, address: Address, before: dict | None, after: dict | None) -> Change:
    return Change(
        action, address, frozen_map(before) if before else None, frozen_map(after) if after else None
    )


def test_apply_script_deletes_first_and_is_deterministic() -> None:
    m = {"shared_network": "LAN", "subnet": "192.168.1.0/24", "name": "web01", "ip_address": "192.168.1.23",
         "mac_address": "52:54:00:12:34:56"}  # fmt: skip
    old = {**m, "name": "old", "ip_address": "192.168.1.9"}
    h = {"host_name": "web01.lab", "inet": "192.168.1.23", "aliases": ["web01"]}
    changes = [
        _change(Action.CREATE, A.edgemax_host("web01.lab"), None, h),
        _change(Action.CREATE, A.edgemax_dhcp_mapping("LAN", "web01"), None, m),
        _change(Action.DELETE, A.edgemax_dhcp_mapping("LAN", "old"), old, None),
        _change(Action.UPDATE, A.edgemax_dhcp_mapping("LAN", "web02"), {**m, "name": "web02"},
                {**m, "name": "web02", "ip_address": "192.168.1.24"}),
    ]  # fmt: skip
    lines = apply_script(changes)
    assert lines == apply_script(list(reversed(changes)))
    first_set = next(i for i, line in enumerate(lines) if line.startswith("set "))
    assert all(line.startswith("delete ") for line in lines[:first_set])
    assert all(line.startswith("set ") for line in lines[first_set:])
    # the delete of `old`; the update of web02 sets its ip-address in place
    assert [line for line in lines if line.startswith("delete ")] == [
        "delete service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping old"]
    assert ("set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping web02 "
            "ip-address 192.168.1.24") in lines
    assert "set system static-host-mapping host-name web01.lab inet 192.168.1.23" in lines


def test_apply_script_rejects_whole_batch_on_one_bad_value() -> None:
    good = {"shared_network": "LAN", "subnet": "192.168.1.0/24", "name": "web01",
            "ip_address": "192.168.1.23", "mac_address": "52:54:00:12:34:56"}  # fmt: skip
    bad = {**good, "name": "x; delete system"}
    with pytest.raises(ProviderRejected):
        apply_script([
            _change(Action.CREATE, A.edgemax_dhcp_mapping("LAN", "web01"), None, good),
            _change(Action.CREATE, A.edgemax_dhcp_mapping("LAN", "x"), None, bad),
        ])  # fmt: skip


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.text(max_size=70), st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9-]{0,20}[A-Za-z0-9]\Z")),
    st.one_of(st.text(max_size=20), st.ip_addresses(v=4).map(str)),
    st.one_of(st.text(max_size=20), st.from_regex(r"\A[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}\Z")),
)
def test_any_input_is_rejected_or_round_trips_exactly(name: str, ip: str, mac: str) -> None:
    try:
        lines = mapping_lines("create", "LAN", "0.0.0.0/0", name, ip, mac)
    except ProviderRejected:
        return
    tree = parse_commands("\n".join(lines))
    path = (
        "service",
        "dhcp-server",
        "shared-network-name",
        "LAN",
        "subnet",
        "0.0.0.0/0",
        "static-mapping",
        name,
    )
    assert set(tree.commands()) == {(*path, "ip-address", ip), (*path, "mac-address", router_mac(mac))}


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.text(max_size=70), st.lists(st.text(max_size=30), max_size=3))
def test_any_host_input_is_rejected_or_round_trips(host: str, aliases: list[str]) -> None:
    try:
        lines = host_lines("create", host, "10.0.0.1", aliases)
    except ProviderRejected:
        return
    tree = parse_commands("\n".join(lines))
    path = ("system", "static-host-mapping", "host-name", host)
    assert set(tree.commands()) == {(*path, "inet", "10.0.0.1")} | {(*path, "alias", a) for a in aliases}

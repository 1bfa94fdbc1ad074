"""Issue #13 over SSH: a router configured by hand, as real ones are, through import, plan and apply.

The router gets, by hand (over SSH, as a person would): a mapping with capitals and ``_`` and two
``static-mapping-parameters``, a disabled ``TiVo``, a second alias and an IPv6 ``inet`` on the NAS's
host name. netsot imports it and applies; then a person adds parameters, ``disable`` and IPv6
names to entries netsot created. A guest is renamed, one moves to the servers network and the NAS
is readdressed; after the apply, `show configuration commands` shows everything netsot does not own
unchanged (moved with its node where the node moved), and the second plan is empty.

The tests share one lab and run in file order.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.model import Change
from engine.config.load import load_config
from providers.edgemax.session import EdgeSession
from providers.lab.homelab import mac_for
from providers.vyatta.parse import parse_any
from tests.e2e.conftest import Lab
from tests.providers.edgemax.lossless import Router, assert_nothing_unowned_changed

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

LAN = "service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping"
SRV = "service dhcp-server shared-network-name SERVERS subnet 10.20.0.0/24 static-mapping"
HOST = "system static-host-mapping host-name"
BY_HAND = [
    f"set {LAN} ROOM_1_SWITCH ip-address 192.168.10.60",
    f"set {LAN} ROOM_1_SWITCH mac-address 'F0:9F:C2:0:0:1'",
    f"set {LAN} ROOM_1_SWITCH static-mapping-parameters 'option domain-name-servers 192.168.10.53;'",
    f"set {LAN} ROOM_1_SWITCH static-mapping-parameters 'option ntp-servers 192.168.10.1;'",
    f"set {LAN} TiVo disable",
    f"set {LAN} TiVo ip-address 192.168.10.61",
    f"set {LAN} TiVo mac-address '00:11:d9:3a:bc:01'",
    f"set {HOST} nas.lab.example alias storage",
    f"set {HOST} nas.lab.example inet '2001:db8:10::20'",
]
LATER = [  # a person extends what netsot created
    f"set {LAN} web01 static-mapping-parameters 'option domain-name-servers 192.168.10.53;'",
    f"set {HOST} web01.lab.example alias 'www.lab.example'",
    f"set {HOST} web01.lab.example inet '2001:db8:10::101'",
    f"set {LAN} jellyfin static-mapping-parameters 'if exists user-class {{ filename pxe.0; }}'",
    f"set {HOST} jellyfin.lab.example inet '2001:db8:10::205'",
]
_seen: dict[str, Any] = {}


def show_commands(lab: Lab) -> str:
    config = load_config(lab.config)
    with EdgeSession(config.providers["edgemax"], config) as session:
        return session.show_commands()


def lines_of(text: str) -> set[str]:
    return set(text.splitlines())


def test_import_adopts_real_names_and_keeps_what_it_does_not_model(lab: Lab) -> None:
    lab.router_configure(*BY_HAND)
    imported = lab.cli("import", "edgemax")
    assert imported.code == 0, imported.out
    by_line = {line.split()[0]: line for line in imported.out.splitlines() if line.startswith("edgemax_")}
    assert " adopt " in by_line["edgemax_dhcp_mapping.LAN.ROOM_1_SWITCH"]
    assert "binding room-1-switch (derived from the name ROOM_1_SWITCH)" in by_line[
        "edgemax_dhcp_mapping.LAN.ROOM_1_SWITCH"]
    assert "keeps what netsot does not manage: disable" in by_line["edgemax_dhcp_mapping.LAN.TiVo"]
    assert ("binding nas with its extra names storage; keeps what netsot does not manage: "
            "inet '2001:db8:10::20'") in by_line["edgemax_host.nas.lab.example"]
    lab.apply()
    second = lab.cli("plan", "--detailed-exitcode")
    assert second.code == 0, second.out
    text = show_commands(lab)
    for line in BY_HAND:  # everything typed by hand is still there, exactly
        assert line in lines_of(text), line
    assert f"set {HOST} room-1-switch.lab.example inet 192.168.10.60" in lines_of(text)
    assert lab.resolve_eventually("room-1-switch.lab.example", "192.168.10.60") == "192.168.10.60"


def test_what_a_person_adds_to_netsots_entries_is_not_drift(lab: Lab) -> None:
    lab.router_configure(*LATER)
    doc = lab.plan_json()
    # kept data is the person's: no change on the router; the alias is a new name of web01, which
    # NIPAP records with its host (the aliases avp)
    assert [(c["address"], c["action"]) for c in doc["changes"]] == [("nipap_address.lan.web01", "update")]
    assert doc["changes"][0]["after"]["avps"]["aliases"] == "www"
    lab.apply()
    plan = lab.cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.out


def test_rename_move_readdress_change_only_what_netsot_owns(lab: Lab) -> None:
    before = show_commands(lab)
    lab.rename_guest(101, "web01b")
    lab.pve.handle.set_config(205, "net0", f"virtio={mac_for(205)},bridge=vmbr0,tag=20")
    lab.config.write_text(lab.config.read_text().replace("ip: 192.168.10.20", "ip: 192.168.10.22"))
    doc = lab.plan_json()
    changes = [Change.from_dict(c) for c in doc["changes"] if c["system"] == "edgemax"]
    by = {str(c.address): c for c in changes}
    assert "edgemax_dhcp_mapping.LAN.web01b" in by and "edgemax_dhcp_mapping.SERVERS.jellyfin" in by
    assert by["edgemax_dhcp_mapping.LAN.web01b"].kept  # moves with the rename
    assert all(not c.loses for c in changes), [str(c.address) for c in changes if c.loses]
    assert doc["held"] == []
    text = lab.cli("plan").out
    assert "kept on the router: static-mapping-parameters" in text
    lab.apply()
    after = show_commands(lab)
    config = load_config(lab.config)
    assert_nothing_unowned_changed(Router(config, parse_any(before)), parse_any(after), changes)
    now = lines_of(after)
    for line in (
        f"set {LAN} web01b static-mapping-parameters 'option domain-name-servers 192.168.10.53;'",
        f"set {HOST} web01b.lab.example alias www.lab.example",
        f"set {HOST} web01b.lab.example inet '2001:db8:10::101'",
        f"set {SRV} jellyfin static-mapping-parameters 'if exists user-class {{ filename pxe.0; }}'",
        f"set {HOST} jellyfin.srv.lab.example inet '2001:db8:10::205'",
        f"set {HOST} nas.lab.example inet '2001:db8:10::20'",
        f"set {HOST} nas.lab.example inet 192.168.10.22",
        f"set {LAN} nas ip-address 192.168.10.22",
        *BY_HAND[:7],
    ):
        assert line in now, line
    assert not any(" web01 " in line or "web01.lab.example" in line or f"{LAN} jellyfin" in line
                   for line in now)
    _seen["after"] = after


def test_the_second_plan_is_empty_and_verify_passes(lab: Lab) -> None:
    assert _seen, "runs after the apply"
    second = lab.cli("plan", "--detailed-exitcode")
    assert second.code == 0, second.out
    verify = lab.cli("verify")
    assert verify.code == 0, verify.out
    assert show_commands(lab) == _seen["after"]

"""The simulator refuses every commit rule edgeos.md §11 lists, with the router's exact text.

One case per rule (ISC mode, dnsmasq mode, static-host-mapping) on the simulator's commit check,
then the rules through the real client (scrapli over SSH): a refused commit shows the block and
`Commit failed`, and leaves the active config as it was; the single-valued ``inet`` replaces.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import ProviderRejected
from providers.edgemax.session import EdgeSession
from providers.edgemax.sim.server import SimHandle, commit_errors, parse_boot
from tests.providers.edgemax import sim_fixtures as fx
from tests.providers.edgemax.sim_fixtures import LAB_BOOT, edgemax_settings, lab_config

client_key, host_key_dir, make_sim, sim = fx.client_key, fx.host_key_dir, fx.make_sim, fx.sim

TRAILER = "DHCP server configuration commit aborted due to error(s)."
RANGE = """start 192.168.1.100 {
                    stop 192.168.1.199
                }"""
NAS = """static-mapping nas {
                    ip-address 192.168.1.10
                    mac-address 00:11:32:aa:bb:cc
                }"""


def boot(old: str = "", new: str = "", *more: tuple[str, str]) -> Any:
    text = LAB_BOOT
    for a, b in ((old, new), *more):
        if a:
            assert a in text, a
            text = text.replace(a, b, 1)
    return parse_boot(text)


def dhcp_block(tree: Any) -> list[str]:
    return dict(commit_errors(tree)).get("service dhcp-server", [])


def test_the_lab_config_commits() -> None:
    assert commit_errors(boot()) == []


ISC_CASES = {
    "1 no shared network": (
        boot(), "no-shared",
        ["No DHCP shared networks configured.", "At least one DHCP shared network must be configured.",
         TRAILER]),
    "3 no range and no active mapping (E1)": (
        boot(RANGE, "", (NAS, "")), None,
        ["No DHCP start-stop range or active static-mapping set for subnet 192.168.1.0/24", TRAILER]),
    "4 mapping without ip-address": (
        boot("ip-address 192.168.1.10\n", ""), None,
        ["No static DHCP lease IP address specified for static mapping 'nas'",
         "under shared network name 'LAN'.", TRAILER]),
    "5 mapping outside its subnet": (
        boot("ip-address 192.168.1.10", "ip-address 10.0.0.5"), None,
        ["Static DHCP lease IP '10.0.0.5' under static mapping 'nas'",
         "under shared network name 'LAN' is outside of the DHCP lease network '192.168.1.0/24'.", TRAILER]),
    "6 mapping without mac-address (lower-case mac, E5)": (
        boot("mac-address 00:11:32:aa:bb:cc\n", ""), None,
        ["No static DHCP lease mac address specified for static mapping 'nas'",
         "under shared network name 'LAN'.", TRAILER]),
    "7 start outside the subnet": (
        boot("start 192.168.1.100", "start 192.168.0.100"), None,
        ["Start DHCP lease IP '192.168.0.100' is outside of the DHCP lease network '192.168.1.0/24'",
         "under shared network 'LAN'.", TRAILER]),
    "7 stop outside the subnet": (
        boot("stop 192.168.1.199", "stop 192.168.2.1"), None,
        ["Stop DHCP lease IP '192.168.2.1' is outside of the DHCP lease network '192.168.1.0/24'",
         "under shared network 'LAN'.", TRAILER]),
    "8 stop before start": (
        boot("stop 192.168.1.199", "stop 192.168.1.50"), None,
        ["Stop DHCP lease IP '192.168.1.50' should be an address equal to or later",
         "than the Start DHCP lease IP '192.168.1.100'", TRAILER]),
    "9 start without stop": (
        boot("stop 192.168.1.199\n", ""), None,
        ["Stop DHCP lease IP not defined for Start DHCP lease IP '192.168.1.100'", TRAILER]),
    "10 overlapping ranges": (
        boot(RANGE, RANGE + "\n start 192.168.1.150 {\n stop 192.168.1.220\n }"), None,
        ["Conflicting DHCP lease ranges: Start IP '192.168.1.150'",
         "lies in DHCP lease range '192.168.1.100'-'192.168.1.199'.", TRAILER]),
    "11 exclude without a range": (
        boot(RANGE, "exclude 192.168.1.20"), None,
        ["Atleast one start-stop range must be configured for 192.168.1.0/24 to exclude IP", TRAILER]),
    "11 exclude outside the subnet": (
        boot(RANGE, RANGE + "\n exclude 10.1.1.1"), None,
        ["Exclude IP '10.1.1.1' is outside of the DHCP lease network",
         "'192.168.1.0/24' under shared network 'LAN'.", TRAILER]),
    "12 every range address excluded (no trailer)": (
        boot(RANGE, "start 192.168.1.100 {\n stop 192.168.1.101\n }\n exclude 192.168.1.100\n"
             " exclude 192.168.1.101"), None,
        ["DHCP server error:", "Cannot exclude all IP addresses defined in start-stop ranges for a subnet"]),
    "13 one subnet in two shared networks": (
        boot("        static-arp disable", """        shared-network-name GUEST {
            subnet 192.168.1.0/25 {
                start 192.168.1.10 {
                    stop 192.168.1.20
                }
            }
        }
        static-arp disable"""), None,
        ["Conflicting subnet ranges: 192.168.1.0/25 overlaps 192.168.1.0/24", TRAILER]),
    "14 no subnet on a broadcast interface (no trailer)": (
        boot("address 192.168.1.1/24", "address 192.168.7.1/24"), None,
        ["DHCP server error: None of the DHCP lease subnets are inside any of the subnets",
         "configured on broadcast interfaces."]),
    "15 incomplete static-route": (
        boot(RANGE, RANGE + "\n static-route {\n destination-subnet 10.9.0.0/16\n }"), None,
        ["Please specify the missing DHCP static-route parameter:", "router", TRAILER]),
}


@pytest.mark.parametrize("case", sorted(ISC_CASES))
def test_isc_mode_rule(case: str) -> None:
    tree, special, expected = ISC_CASES[case]
    if special == "no-shared":
        tree = tree.delete(["service", "dhcp-server", "shared-network-name"])
    assert dhcp_block(tree) == expected


def test_shared_network_without_subnet() -> None:  # rule 2
    tree = boot().set(["service", "dhcp-server", "shared-network-name", "EMPTY", "authoritative", "enable"])
    assert dhcp_block(tree) == [
        "No DHCP lease subnets configured for shared network name 'EMPTY'.",
        "At least one DHCP lease subnet must be configured for each shared network.", TRAILER]


def test_isc_skips_disabled_mappings_and_networks() -> None:
    # a disabled mapping does not count for rule 3, and its missing MAC is never reported (E3)
    only_disabled = boot(RANGE, "", ("mac-address 00:11:32:aa:bb:cc\n", "disable\n"))
    assert dhcp_block(only_disabled) == [
        "No DHCP start-stop range or active static-mapping set for subnet 192.168.1.0/24", TRAILER]
    # a disabled shared network is skipped entirely (E4)
    tree = only_disabled.set(["service", "dhcp-server", "shared-network-name", "LAN", "disable"])
    tree = tree.set(["service", "dhcp-server", "shared-network-name", "OTHER", "subnet", "192.168.1.0/24",
                     "start", "192.168.1.100", "stop", "192.168.1.110"])
    assert dhcp_block(tree) == []


def test_isc_allows_what_edgeos_does_not_check() -> None:
    # a mapping inside the range, two mappings with one IP, one MAC twice: all commit (§11.2)
    twice = NAS + "\n" + NAS.replace("nas {", "nas2 {").replace("192.168.1.10", "192.168.1.150")
    twice += "\n" + NAS.replace("nas {", "nas3 {")
    assert dhcp_block(boot(NAS, twice)) == []


DNSMASQ = ("use-dnsmasq disable", "use-dnsmasq enable")
DNSMASQ_CASES = {
    "no shared network": (boot(*DNSMASQ), "no-shared",
                          ["no shared-network-name defined - need at least one to run dhcp"]),
    "no active subnet": (boot(*DNSMASQ, ("authoritative enable", "authoritative enable\n disable")), None,
                         ["found no active subnet in any shared-network - need at least one to run dhcp"]),
    "no range and no mapping": (
        boot(*DNSMASQ, (RANGE, ""), (NAS, "")), None,
        ["at least one dhcp range or a static mapping must be defined for dhcp subnet 192.168.1.0/24"]),
    "stop before start": (boot(*DNSMASQ, ("stop 192.168.1.199", "stop 192.168.1.50")), None,
                          ["Range 192.168.1.100 - 192.168.1.50 has stop before start"]),
    "start without stop": (boot(*DNSMASQ, ("stop 192.168.1.199\n", "")), None,
                           ["Stop DHCP lease IP not defined for Start DHCP lease IP '192.168.1.100'"]),
    "overlapping ranges": (
        boot(*DNSMASQ, (RANGE, RANGE + "\n start 192.168.1.150 {\n stop 192.168.1.220\n }")), None,
        ["Ranges 192.168.1.100 - 192.168.1.199 and 192.168.1.150 - 192.168.1.220 overlap"]),
}


@pytest.mark.parametrize("case", sorted(DNSMASQ_CASES))
def test_dnsmasq_mode_rule(case: str) -> None:
    tree, special, expected = DNSMASQ_CASES[case]
    if special == "no-shared":
        tree = tree.delete(["service", "dhcp-server", "shared-network-name"])
    assert dhcp_block(tree) == expected


def test_dnsmasq_counts_a_disabled_mapping_and_checks_no_mac() -> None:
    # the opposite of ISC mode (§11.3): a disabled mapping counts, a missing MAC is not checked
    tree = boot(*DNSMASQ, (RANGE, ""), ("mac-address 00:11:32:aa:bb:cc\n", "disable\n"))
    assert dhcp_block(tree) == []


def test_host_name_without_inet() -> None:
    tree = boot("inet 192.168.1.10", "alias nas")
    assert commit_errors(tree) == [
        ("system static-host-mapping host-name nas.lab.example",
         ["IP address for the static mapping must be set"])]


# ---------------------------------------------------------------------------------------------
# through the real client


LAN = "service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"


def session_for(sim: SimHandle) -> EdgeSession:
    settings = edgemax_settings(sim)
    return EdgeSession(settings, lab_config(settings))


def test_deleting_the_last_mapping_of_a_rangeless_subnet_is_refused_over_ssh(make_sim: Any) -> None:
    sim = make_sim(LAB_BOOT.replace(RANGE, ""))
    before = sim.active_commands()
    with session_for(sim) as s, pytest.raises(ProviderRejected) as err:
        s.configure([f"delete {LAN} static-mapping nas", "set system domain-name other.example"])
    assert ("No DHCP start-stop range or active static-mapping set for subnet 192.168.1.0/24 / "
            f"{TRAILER} / Commit failed") in str(err.value)
    assert sim.active_commands() == before  # the other change of the session went with it


def test_the_rules_block_over_ssh_in_dnsmasq_mode(make_sim: Any) -> None:
    sim = make_sim(LAB_BOOT.replace(RANGE, "").replace(*DNSMASQ))
    with session_for(sim) as s:
        s.configure([f"set {LAN} static-mapping nas disable"])  # counts in dnsmasq mode: commits
        with pytest.raises(ProviderRejected) as err:
            s.configure([f"delete {LAN} static-mapping nas"])
    assert ("at least one dhcp range or a static mapping must be defined for dhcp subnet 192.168.1.0/24"
            in str(err.value))


def test_single_valued_inet_replaces_silently(make_sim: Any) -> None:
    single = make_sim(inet_multi=False)
    multi = make_sim()
    line = "set system static-host-mapping host-name nas.lab.example inet 2001:db8::10"
    # the single-valued router takes the line without a word and replaces the value; the session's
    # check of `compare` against the intended change (a value added) sees it and commits nothing
    with session_for(single) as s, pytest.raises(ProviderRejected) as err:
        s.configure([line])
    assert "unexpectedly removed: system static-host-mapping host-name nas.lab.example inet 192.168.1.10" \
        in str(err.value)
    with session_for(multi) as s:
        s.configure([line])
    host = "system static-host-mapping host-name nas.lab.example inet"
    assert [ln for ln in single.active_commands().splitlines() if host in ln] == [f"set {host} 192.168.1.10"]
    assert [ln for ln in multi.active_commands().splitlines() if host in ln] == [
        f"set {host} 192.168.1.10", f"set {host} '2001:db8::10'"]


def test_several_subnets_in_one_shared_network_commit_with_a_warning_over_ssh(make_sim: Any) -> None:
    sim = make_sim(LAB_BOOT.replace("address 192.168.1.1/24", "address 192.168.1.1/24\n address 10.9.0.1/24"))
    with session_for(sim) as s:
        result = s.configure(["set service dhcp-server shared-network-name LAN subnet 10.9.0.0/24 start "
                              "10.9.0.10 stop 10.9.0.20"])
    assert result.committed
    assert ("DHCP server warning: Multiple subnets configured under shared-network-name 'LAN'"
            in result.commit_output)

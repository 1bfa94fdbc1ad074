"""Every parser of untrusted text, fed arbitrary input: only our clear errors, never a crash.

Config YAML (``load_config``), EdgeOS ``show configuration commands`` / config.boot, leases
(``show dhcp leases`` and dhcpd.leases), Proxmox property strings and whole guest configs.
"""

from __future__ import annotations

import contextlib
import string
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ConfigError, NetsotError
from providers.edgemax import leases
from providers.proxmox import mapping
from providers.vyatta import parse

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# text biased towards each format's own punctuation, so the parsers' branches are reached
CONFIG_ALPHABET = st.sampled_from([*list(string.printable), "é", "\u202e", "\x00", "😀", "\ufeff"])
YAML_BITS = st.sampled_from(["version: 1\n", "providers:\n", "  nipap:\n", "    url: ", "networks:\n",
                             "  - name: ", "${env:", "${file:", "}", "&a ", "*a",
                             "!!python/object:os.system ",
                             "<<: ", "- ", ": ",
                             "\t", "'", '"', "[", "{", "%YAML 1.2\n", "---\n", "...\n", "? ", "|\n", ">\n"])
config_text = st.text(alphabet=CONFIG_ALPHABET, max_size=300) | st.lists(
    YAML_BITS | st.text(alphabet=CONFIG_ALPHABET, max_size=8), max_size=40).map("".join)
json_leaf = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30)
structures = st.recursive(json_leaf, lambda kids: st.lists(kids, max_size=4)
                          | st.dictionaries(st.text(max_size=12), kids, max_size=5), max_leaves=25)
KEYS = ["version", "state", "providers", "networks", "hosts", "precedence", "policy", "proxmox", "nipap",
        "edgemax", "name", "prefix", "gateway", "dhcp_range", "start", "stop", "ip", "mac", "token_value",
        "password", "url", "path", "backend", "delete", "protected"]
keyed = st.recursive(json_leaf, lambda kids: st.lists(kids, max_size=3)
                     | st.dictionaries(st.sampled_from(KEYS), kids, max_size=5), max_leaves=30)


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "netsot.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        config = mapping_or_config(path)
    except ConfigError as err:
        assert str(err).strip(), "an error must say something"
        return
    assert config is not None


def mapping_or_config(path: Path) -> object:
    from engine.config.load import load_config

    return load_config(path)


@FAST
@given(text=config_text)
def test_config_text_only_config_errors(tmp_path_factory, text: str) -> None:
    _load(tmp_path_factory.mktemp("cfg"), text)


@FAST
@given(data=st.one_of(structures, keyed, st.dictionaries(st.sampled_from(KEYS), keyed, max_size=6)))
def test_config_structures_only_config_errors(tmp_path_factory, data: object) -> None:
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except (yaml.YAMLError, ValueError):
        return
    _load(tmp_path_factory.mktemp("cfg"), text)


@FAST
@given(raw=st.binary(max_size=300))
def test_config_bytes_only_config_errors(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("cfg") / "netsot.yaml"
    path.write_bytes(raw)
    with contextlib.suppress(ConfigError):
        mapping_or_config(path)


# ----------------------------------------------------------------------------- EdgeOS

WORDS = st.sampled_from(["set", "delete", "service", "dhcp-server", "shared-network-name", "LAN", "subnet",
                         "static-mapping", "ip-address", "mac-address", "system", "static-host-mapping",
                         "host-name", "inet", "'", '"', "'a b'", "''", "{", "}", "/*", "*/", "\\", "$(x)",
                         "`id`", ";", "|", "&&", "\n", " ", "é", "\x00", "192.168.1.1", "x" * 70])
edge_text = st.lists(WORDS, max_size=60).map(" ".join) | st.text(max_size=300)


@FAST
@given(text=edge_text)
def test_show_commands_only_data_errors(text: str) -> None:
    try:
        parse.parse_commands(text)
    except NetsotError as err:
        assert str(err).strip()


@FAST
@given(text=edge_text)
def test_config_boot_only_data_errors(text: str) -> None:
    try:
        parse.parse_boot(text)
    except NetsotError as err:
        assert str(err).strip()


@FAST
@given(depth=st.integers(0, 3000))
def test_config_boot_deep_nesting(depth: int) -> None:
    text = "a {\n" * depth + "}\n" * depth
    with contextlib.suppress(NetsotError):
        parse.parse_boot(text)


LEASE_WORDS = st.sampled_from(["IP address", "Hardware Address", "Lease expiration", "Pool", "Client Name",
                               "192.168.1.10", "00:11:22:33:44:55", "2026/11/29 08:00:00", "LAN", "-",
                               "lease",
                               "{", "}", ";", "hardware ethernet", "binding state active", "starts 4", "\n",
                               "ends never", "999.1.1.1", "é", "\x00"])
lease_text = st.lists(LEASE_WORDS, max_size=60).map(" ".join) | st.text(max_size=300)


@FAST
@given(text=lease_text)
def test_show_leases_only_data_errors(text: str) -> None:
    try:
        leases.parse_show_leases(text)
    except NetsotError as err:
        assert str(err).strip()


@FAST
@given(text=lease_text)
def test_dhcpd_leases_only_data_errors(text: str) -> None:
    try:
        leases.parse_dhcpd_leases(text)
    except NetsotError as err:
        assert str(err).strip()


# ----------------------------------------------------------------------------- Proxmox

PROP_WORDS = st.sampled_from(["virtio=", "e1000=", "BC:24:11:00:00:01", "bridge=vmbr0", "tag=", "tag=99999",
                              "ip=", "ip=dhcp", "ip=10.0.0.1/24", "ip=10.0.0.1/99", "gw=", "gw=1.2.3.4",
                              "ip6=auto",
                              "name=eth0", "hwaddr=", "hwaddr=zz", "firewall=1", "link_down=1",
                              "type=veth", ",",
                              ",,", "=", "==", "é", "\x00", ";", " ", "macaddr=00:00:00:00:00:00"])
prop_text = st.lists(PROP_WORDS, max_size=12).map("".join) | st.text(max_size=120)


@FAST
@given(text=prop_text)
def test_property_strings_only_property_errors(text: str) -> None:
    for parser in (mapping.parse_property_string, mapping.parse_qemu_net, mapping.parse_ipconfig,
                   mapping.parse_lxc_net):
        try:
            parser(text)
        except mapping.PropertyError as err:
            assert str(err).strip()
    with contextlib.suppress(mapping.PropertyError):
        mapping.update_property(text, "ip", "10.0.0.5/24")
    with contextlib.suppress(mapping.PropertyError):
        mapping.parse_tags(text)


config_values = st.one_of(prop_text, st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=2))
agent_answers = st.one_of(st.none(), structures, st.lists(st.dictionaries(
    st.sampled_from(["name", "hardware-address", "ip-addresses", "hwaddr", "inet", "inet6"]),
    st.one_of(st.text(max_size=20), st.lists(st.dictionaries(
        st.sampled_from(["ip-address-type", "ip-address", "prefix"]), json_leaf, max_size=3), max_size=2)),
    max_size=4), max_size=3))


@FAST
@given(gtype=st.sampled_from(["qemu", "lxc", "other", None]),
       vmid=st.one_of(st.integers(0, 10**7), st.text(max_size=5)),
       config=st.dictionaries(st.sampled_from(["net0", "net1", "net31", "ipconfig0", "ipconfig1", "name",
                                               "hostname", "tags", "template", "agent", "digest"]),
                              config_values, max_size=8),
       agent=agent_answers, lxc=agent_answers)
def test_guest_config_only_netsot_errors(gtype, vmid, config, agent, lxc) -> None:
    entry = {"node": "pve1", "vmid": vmid, "type": gtype, "status": "running"}
    try:
        mapping.guest_nics(entry, config, agent, lxc)
    except NetsotError as err:
        assert str(err).strip()

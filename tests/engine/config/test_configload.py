import textwrap
from pathlib import Path

import pytest

from core.config import Config
from core.errors import ConfigError
from core.secrets import Secret
from engine.config.load import check_secrets, config_digest, find_config, load_config

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "netsot.yaml"

NIPAP = "providers:\n  nipap:\n    url: http://n\n    username: u\n"
PVE = "providers:\n  proxmox:\n    host: h\n    user: u\n    token_name: t\n    token_value: v\n"
GOOD = """\
version: 1
networks:
  - name: lan
    prefix: 192.168.1.0/24
    dhcp_range: {start: 192.168.1.100, stop: 192.168.1.199}
hosts:
  - name: nas
    network: lan
    ip: 192.168.1.10
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "netsot.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return path, info.value.problems


def test_example_validates():
    config = load_config(EXAMPLE)
    assert config.source_path == str(EXAMPLE)
    assert [n.name for n in config.networks] == ["lan", "iot"]
    assert config.network("iot").settings_for("proxmox").vlan == 30
    assert tuple(config.providers) == ("proxmox", "nipap", "edgemax")  # the order of the file
    assert config.hosts[1].mac == "3c:2a:f4:01:02:03"
    assert config.providers["nipap"].password.reference == "${file:secrets/nipap-password}"
    assert check_secrets(config) == []


def test_good_minimal_file(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert isinstance(config, Config)
    assert str(config.hosts[0].ip) == "192.168.1.10"


# (yaml text, line, column, key, fragment of the message)
BAD = {
    "unknown_key": (
        "version: 1\nnetworks:\n  - name: lan\n    prefix: 10.0.0.0/24\n    gatway: 10.0.0.1\n",
        5, 5, "networks[0].gatway", "unknown key 'gatway' (did you mean 'gateway'?)"),
    "unknown_top_level_key": ("version: 1\nnetwork: []\n", 2, 1, "network", "did you mean 'networks'?"),
    "bad_cidr": ("networks:\n  - name: lan\n    prefix: 10.0.0/24\n", 3, 13, "networks[0].prefix",
                 "is not an IPv4 network in CIDR form"),
    "host_bits_set": ("networks:\n  - name: lan\n    prefix: 10.0.0.7/24\n", 3, 13, "networks[0].prefix",
                      "has host bits set (the network is 10.0.0.0/24)"),
    "ip_outside_prefix": (
        "networks:\n  - {name: lan, prefix: 10.0.0.0/24}\nhosts:\n  - name: nas\n    network: lan\n"
        "    ip: 10.0.1.5\n", 6, 9, "hosts[0].ip", "10.0.1.5 is outside network lan (10.0.0.0/24)"),
    "duplicate_network": (
        "networks:\n  - name: lan\n    prefix: 10.0.0.0/24\n  - name: lan\n    prefix: 10.1.0.0/24\n",
        4, 11, "networks[1].name", "duplicate network name 'lan' (first on line 2)"),
    "bad_mac": (
        "networks:\n  - {name: lan, prefix: 10.0.0.0/24}\nhosts:\n  - name: nas\n    network: lan\n"
        "    mac: 00:11:22:33:44\n", 6, 10, "hosts[0].mac", "is not a MAC address"),
    "domain_with_newline": (
        'networks:\n  - name: lan\n    prefix: 10.0.0.0/24\n    domain: "home.arpa\\n"\n', 4, 13,
        "networks[0].domain", "'home.arpa\\n' is not a valid DNS domain: it has '\\n' in label 'arpa\\n'"),
    "domain_not_a_dns_name": (
        "networks:\n  - name: lan\n    prefix: 10.0.0.0/24\n    domain: home..lan\n", 4, 13,
        "networks[0].domain", "'home..lan' is not a valid DNS domain: it has an empty label"),
    "bad_hostname": (
        "networks:\n  - {name: lan, prefix: 10.0.0.0/24}\nhosts:\n  - name: My_NAS\n    network: lan\n",
        4, 11, "hosts[0].name", "'My_NAS' is not a valid host name"),
    "wrong_type": ("providers:\n  proxmox:\n    host: pve\n    user: u\n    token_name: t\n"
                   "    token_value: x\n    port: eighty\n", 7, 11, "providers.proxmox.port",
                   "must be an integer, not a string"),
    "unknown_network": (
        "networks:\n  - {name: lan, prefix: 10.0.0.0/24}\nhosts:\n  - name: nas\n    network: lab\n",
        5, 14, "hosts[0].network", "unknown network 'lab' (defined: lan)"),
    "dhcp_range_outside": (
        "networks:\n  - name: lan\n    prefix: 10.0.0.0/24\n    dhcp_range:\n      start: 10.0.0.100\n"
        "      stop: 10.0.1.20\n", 6, 13, "networks[0].dhcp_range.stop",
        "10.0.1.20 is outside the network prefix"),
    "duplicate_yaml_key": ("version: 1\nhosts: []\nversion: 1\n", 3, 1, "version", "duplicate key 'version' "
                           "(first given on line 1)"),
    "bad_yaml": ("networks:\n  - name: lan\n   prefix: [10.0.0.0/24\n", 3, 4, "", "invalid YAML"),
    "empty": ("", 1, 1, "", "the file is empty"),
    "top_level_list": ("- a\n- b\n", 1, 1, "", "the top level must be a mapping of keys, not a list"),
    "missing_required": ("providers:\n  nipap:\n    url: http://n\n    username: u\n", 3, 5,
                         "providers.nipap.password", "missing required key 'password'"),
    "malformed_secret": ("providers:\n  nipap:\n    url: http://n\n    username: u\n    password: ${env:}\n",
                         5, 15, "providers.nipap.password", "malformed secret reference"),
    "edgemax_auth": ("providers:\n  edgemax:\n    host: r\n    username: u\n", 3, 5, "providers.edgemax",
                     "give exactly one of password or private_key"),
    "duplicate_mac": (
        "networks:\n  - {name: lan, prefix: 10.0.0.0/24}\nhosts:\n"
        "  - {name: a, network: lan, mac: 00:11:22:33:44:55}\n"
        "  - {name: b, network: lan, mac: 0011.2233.4455}\n", 5, 34, "hosts[1].mac",
        "is used twice on network lan"),
    "bad_enum": ("policy:\n  delete: always\n", 2, 11, "policy.delete", "must be one of plan, auto, never"),
    "non_string_key": ("version: 1\n1: x\n", 2, 1, "", "key '1' is not a string"),
    "same_prefix_twice": (
        "networks:\n  - {name: lan, prefix: 10.0.0.0/24}\n  - {name: iot, prefix: 10.0.0.0/24}\n", 3, 25,
        "networks[1].prefix", "10.0.0.0/24 is the same prefix as network lan (10.0.0.0/24, line 2)"),
    "prefix_inside_another": (
        "networks:\n  - {name: lan, prefix: 10.0.0.0/24}\n  - {name: dmz, prefix: 10.0.0.128/25}\n", 3, 25,
        "networks[1].prefix", "10.0.0.128/25 overlaps network lan (10.0.0.0/24, line 2)"),
    "prefix_around_another": (
        "networks:\n  - {name: dmz, prefix: 10.0.0.128/25}\n  - {name: lan, prefix: 10.0.0.0/16}\n", 3, 25,
        "networks[1].prefix", "10.0.0.0/16 overlaps network dmz (10.0.0.128/25, line 2)"),
    "shared_domain_without_owner": (
        "networks:\n  - {name: lan, prefix: 10.0.0.0/24, domain: lab.example}\n"
        "  - {name: iot, prefix: 10.0.1.0/24, domain: Lab.Example}\n", 3, 46, "networks[1].domain",
        "networks lan and iot share domain lab.example: set dns_owner: true on the one that owns names"),
    "shared_domain_two_owners": (
        "networks:\n  - {name: lan, prefix: 10.0.0.0/24, domain: lab.example, dns_owner: true}\n"
        "  - {name: iot, prefix: 10.0.1.0/24, domain: lab.example, dns_owner: true}\n", 3, 70,
        "networks[1].dns_owner", "networks lan, iot all set dns_owner: true for domain lab.example"),
    "ca_bundle_missing": (PVE + "    verify_tls: no-such-ca.pem\n", 7, 17, "providers.proxmox.verify_tls",
                          "the CA bundle no-such-ca.pem ("),
    "ca_bundle_empty": (PVE + "    verify_tls: ''\n", 7, 17, "providers.proxmox.verify_tls",
                        "not an empty string"),
    "timeout_infinite": (PVE + "    timeout: .inf\n", 7, 14, "providers.proxmox.timeout", "finite number"),
    "agent_timeout_nan": (PVE + "    agent_timeout: .nan\n", 7, 20, "providers.proxmox.agent_timeout", ""),
    "nipap_timeout_infinite": (NIPAP + "    password: p\n    timeout: .inf\n", 6, 14,
                               "providers.nipap.timeout", "finite number"),
    "commit_comment_unsafe": (
        "providers:\n  edgemax:\n    host: r\n    username: u\n    password: p\n"
        "    commit_comment: 'netsot \"; reboot'\n", 6, 21, "providers.edgemax.commit_comment",
        "may only hold letters, digits, spaces and . _ - : /"),
    "dns_owner_not_boolean": (
        "networks:\n  - {name: lan, prefix: 10.0.0.0/24, domain: lab.example, dns_owner: yes please}\n",
        2, 70,
        "networks[0].dns_owner", "must be true or false"),
}


def test_a_ca_bundle_is_found_next_to_the_config_and_made_absolute(tmp_path):
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    config = load_config(write(tmp_path, PVE + "    verify_tls: ca.pem\n"))
    assert config.providers["proxmox"].verify_tls == str(tmp_path / "ca.pem")


def test_a_shared_domain_with_one_owner_is_valid(tmp_path):
    config = load_config(write(tmp_path, """\
        networks:
          - {name: lan, prefix: 10.0.0.0/24, domain: lab.example, dns_owner: true}
          - {name: iot, prefix: 10.0.1.0/24, domain: lab.example}
          - {name: srv, prefix: 10.0.2.0/24, domain: srv.lab.example}
        """))
    assert [n.dns_owner for n in config.networks] == [True, False, False]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_located(tmp_path, case):
    text, line, column, key, fragment = BAD[case]
    path, found = problems(tmp_path, text)
    match = [p for p in found if p.key == key and fragment in p.message]
    assert match, f"{case}: {[str(p) for p in found]}"
    problem = match[0]
    assert (problem.file, problem.line, problem.column) == (str(path), line, column)
    assert str(problem).startswith(f"{path}:{line}:{column}:")


def test_multi_error_file_reports_every_error(tmp_path):
    text = (
        "version: 2\n"
        "networks:\n"
        "  - name: lan\n"
        "    prefix: 10.0.0.0/24\n"
        "    colour: blue\n"
        "  - name: lan\n"
        "    prefix: 10.1.0.0/33\n"
        "hosts:\n"
        "  - name: Web\n"
        "    network: lan\n"
        "    ip: 10.9.9.9\n"
        "  - name: db\n"
        "    network: nope\n"
    )
    path, found = problems(tmp_path, text)
    located = {(p.line, p.key) for p in found}
    assert located >= {
        (1, "version"),
        (5, "networks[0].colour"),
        (6, "networks[1].name"),
        (7, "networks[1].prefix"),
        (9, "hosts[0].name"),
        (11, "hosts[0].ip"),
        (13, "hosts[1].network"),
    }
    lines = [p.line for p in found]
    assert lines == sorted(lines)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).count("\n") == len(found)


def test_secret_values_never_appear_in_messages(tmp_path):
    text = "providers:\n  nipap:\n    url: http://n\n    username: u\n    password: [hunter2]\n"
    _, found = problems(tmp_path, text)
    assert any(p.key == "providers.nipap.password" for p in found)
    assert "hunter2" not in " ".join(str(p) for p in found)


def test_unresolved_env_secret_is_located(tmp_path, monkeypatch):
    monkeypatch.delenv("NETSOT_TEST_NIPAP_PW", raising=False)
    text = NIPAP + "    password: ${env:NETSOT_TEST_NIPAP_PW}\n"
    path = write(tmp_path, text)
    config = load_config(path)
    found = check_secrets(config)
    located = [(p.file, p.line, p.column, p.key) for p in found]
    assert located == [(str(path), 5, 15, "providers.nipap.password")]
    assert "NETSOT_TEST_NIPAP_PW is not set" in found[0].message
    monkeypatch.setenv("NETSOT_TEST_NIPAP_PW", "s3cret-value")
    assert check_secrets(config) == []


def test_file_secret_resolves_relative_to_the_config(tmp_path, monkeypatch):
    (tmp_path / "pw.txt").write_text("from-file\n")
    path = write(tmp_path, NIPAP + "    password: ${file:pw.txt}\n")
    monkeypatch.chdir("/")
    config = load_config(path)
    assert config.providers["nipap"].password.resolve() == "from-file"
    assert check_secrets(config) == []


def test_digest_uses_references_not_values(tmp_path, monkeypatch):
    text = GOOD + "providers:\n  nipap:\n    url: http://n\n    username: u\n    password: ${env:NETSOT_PW}\n"
    path = write(tmp_path, text)
    monkeypatch.setenv("NETSOT_PW", "one")
    first = config_digest(load_config(path))
    monkeypatch.setenv("NETSOT_PW", "two")
    assert config_digest(load_config(path)) == first
    path.write_text(text.replace("192.168.1.10", "192.168.1.11"))
    assert config_digest(load_config(path)) != first
    assert isinstance(load_config(path).providers["nipap"].password, Secret)


def test_find_config_order(tmp_path, monkeypatch):
    explicit = write(tmp_path, GOOD)
    other = tmp_path / "other.yaml"
    other.write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETSOT_CONFIG", str(other))
    assert find_config(str(explicit)) == explicit
    assert find_config(None) == other
    monkeypatch.delenv("NETSOT_CONFIG")
    assert find_config(None) == Path("netsot.yaml")
    with pytest.raises(ConfigError, match="does not exist"):
        find_config(str(tmp_path / "missing.yaml"))
    monkeypatch.chdir(tmp_path / "..")
    (tmp_path.parent / "netsot.yaml").unlink(missing_ok=True)
    with pytest.raises(ConfigError, match="no configuration found"):
        find_config(None)


def test_unreadable_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.yaml")
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(bad)


def test_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    _, found = problems(tmp_path, "\n".join(lines) + "\n")
    assert "too large" in found[0].message


@pytest.mark.parametrize("bad", ["version: 1\x0c\n", "version: \x00 1\n", "?\n", "? \n: 1\n", "1: 2\n"])
def test_control_characters_are_a_config_error(tmp_path, bad):
    path = tmp_path / "netsot.yaml"
    path.write_text(bad)
    with pytest.raises(ConfigError):
        load_config(path)


# ------------------------------------------------------------------ several instances of a kind

ROUTER = "    host: {host}\n    username: ubnt\n    password: pw\n"
SITES = f"""\
version: 1
providers:
  edgemax:
{ROUTER.format(host="10.0.0.1")}  edgemax.cabin:
{ROUTER.format(host="10.0.30.1")}networks:
  - name: lan
    prefix: 192.168.1.0/24
    edgemax: {{shared_network: LAN}}
  - name: cabin
    prefix: 192.168.30.0/24
    edgemax: {{instance: cabin, shared_network: CABIN}}
"""


def test_named_instances_serve_the_networks_that_name_them(tmp_path):
    config = load_config(write(tmp_path, SITES))
    assert tuple(config.providers) == ("edgemax", "edgemax.cabin")
    assert config.settings("edgemax.cabin").host == "10.0.30.1"
    lan, cabin = config.networks
    assert config.instance_for(lan, "edgemax") == "edgemax"
    assert config.instance_for(cabin, "edgemax") == "edgemax.cabin"
    assert [n.name for n in config.networks_of("edgemax.cabin")] == ["cabin"]
    assert [n.name for n in config.networks_of("edgemax")] == ["lan"]


def test_a_network_naming_an_unknown_instance_is_located(tmp_path):
    _path, found = problems(tmp_path, SITES.replace("instance: cabin", "instance: barn"))
    assert [(p.line, p.key) for p in found] == [(17, "networks[1].edgemax.instance")]
    assert "no system edgemax.barn is configured" in found[0].message
    assert "edgemax, edgemax.cabin" in found[0].message


def test_several_named_instances_without_a_default_need_instance_on_every_network(tmp_path):
    text = SITES.replace("  edgemax:\n", "  edgemax.home:\n", 1)
    _path, found = problems(tmp_path, text)
    assert [p.key for p in found] == ["networks[0].edgemax"]
    assert "none is the default" in found[0].message and "instance: NAME" in found[0].message
    ok = text.replace("edgemax: {shared_network: LAN}", "edgemax: {instance: home, shared_network: LAN}")
    config = load_config(write(tmp_path, ok))
    assert config.instance_for(config.networks[0], "edgemax") == "edgemax.home"


@pytest.mark.parametrize(("key", "message"), [
    ("edgemax.Cabin", "unknown key 'edgemax.Cabin'"),
    ("netbox", "unknown key 'netbox'"),
])
def test_unknown_systems_and_bad_instance_names_are_refused(tmp_path, key, message):
    _path, found = problems(tmp_path, SITES.replace("  edgemax.cabin:\n", f"  {key}:\n"))
    assert any(message in p.message for p in found), found


def test_host_aliases_are_names_each_unique_in_the_network(tmp_path):
    config = load_config(write(tmp_path, GOOD + "    aliases: [files, backup.lab.example]\n"))
    assert config.hosts[0].aliases == ("files", "backup.lab.example")
    assert load_config(write(tmp_path, GOOD)).hosts[0].aliases is None  # not given: no opinion
    _, found = problems(tmp_path, GOOD + "    aliases: [Files_1]\n")
    assert [(p.key, p.line) for p in found] == [("hosts[0].aliases[0]", 10)], [str(p) for p in found]
    taken = GOOD + ("  - {name: web, network: lan, aliases: [nas]}\n"
                    "  - {name: db, network: lan, aliases: [web]}\n")
    _, found = problems(tmp_path, taken)
    messages = {p.key: p.message for p in found}
    assert messages["hosts[1].aliases[0]"] == "alias nas is the name of another host on network lan (line 7)"
    assert messages["hosts[2].aliases[0]"] == "alias web is the name of another host on network lan (line 10)"
    _, found = problems(tmp_path, GOOD + "    aliases: [nas]\n")
    assert any("is the host's own name" in p.message for p in found), [str(p) for p in found]


EDGEOS_ONLY = f"""\
version: 1
providers:
  edgemax:
{ROUTER.format(host="10.0.0.1")}networks:
  - name: lan
    prefix: 192.168.1.0/24
    edgemax: {{shared_network: LAN}}
precedence:
  ip: [config, edgemax]
  mac: [config, vyos, edgemax]
"""


def test_a_precedence_source_must_be_a_configured_system(tmp_path):
    """vyos is registered (the schema allows it) but this EdgeOS-only homelab has no vyos instance:
    naming it as a source is refused, located at the list item."""
    _path, found = problems(tmp_path, EDGEOS_ONLY)
    assert [(p.line, p.column, p.key) for p in found] == [(13, 17, "precedence.mac[1]")], found
    assert found[0].message == ("vyos is registered but not configured under providers, so it is no source "
                                "here (sources: config, edgemax)")
    config = load_config(write(tmp_path, EDGEOS_ONLY.replace("vyos, ", "")))
    assert config.precedence.mac == ("config", "edgemax")


def test_a_named_instance_makes_its_kind_a_source(tmp_path):
    text = SITES + "precedence:\n  ip: [config, edgemax]\n"
    assert load_config(write(tmp_path, text.replace("  edgemax:\n", "  edgemax.home:\n", 1)
                             .replace("edgemax: {shared_network: LAN}",
                                      "edgemax: {instance: home, shared_network: LAN}")))


def test_the_accepted_sources_and_the_default_rules_come_from_the_configured_kinds():
    from providers import registry

    assert registry.configured_sources(["edgemax", "edgemax.cabin"]) == ("config", "edgemax")
    assert registry.configured_sources(["proxmox", "nipap"]) == ("config", "nipap", "proxmox")
    assert registry.default_precedence("mac", ["edgemax"]) == ("config", "edgemax")
    assert "vyos" in registry.sources() and "vyos" in registry.default_precedence("mac")

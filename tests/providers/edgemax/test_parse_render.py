from __future__ import annotations

import contextlib
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ProviderDataError
from providers.vyatta.parse import parse_boot, parse_commands
from providers.vyatta.render import (
    MASK,
    quote_boot_value,
    quote_command_word,
    render_boot,
    render_commands,
    render_show,
)
from providers.vyatta.tree import Kind, Node, Tree, make_node
from tests.providers.edgemax.conftest import CONFIG_FILES, read_fixture

SN = ["service", "dhcp-server", "shared-network-name", "LAN", "subnet", "192.168.1.0/24"]


def test_command_quoting_rule() -> None:
    assert quote_command_word("192.168.1.50") == "192.168.1.50"
    assert quote_command_word("192.168.1.0/24") == "192.168.1.0/24"
    assert quote_command_word("00:11:22:33:44:55") == "'00:11:22:33:44:55'"
    assert quote_command_word("") == "''"
    assert quote_command_word("Local 2") == "'Local 2'"
    assert quote_command_word("$6$abc") == "'$6$abc'"
    assert quote_command_word("Internet") == "Internet"


def test_boot_quoting_rule() -> None:
    assert quote_boot_value("00:11:22:33:44:55") == "00:11:22:33:44:55"
    assert quote_boot_value("") == '""'
    assert quote_boot_value("masquerade for WAN") == '"masquerade for WAN"'
    assert quote_boot_value("log-facility local2;") == '"log-facility local2;"'
    assert quote_boot_value("$6$x") == "$6$x"


def _sample() -> Tree:
    t = Tree()
    for words in (
        [*SN, "static-mapping", "web01", "ip-address", "192.168.1.11"],
        [*SN, "static-mapping", "web01", "mac-address", "00:11:22:33:44:55"],
        [*SN, "default-router", "192.168.1.1"],
        [*SN, "dns-server", "192.168.1.1"],
        [*SN, "start", "192.168.1.100", "stop", "192.168.1.199"],
        ["service", "dhcp-server", "shared-network-name", "LAN", "authoritative", "enable"],
        ["service", "dhcp-server", "use-dnsmasq", "disable"],
        ["service", "dns", "forwarding", "cache-size", "150"],
        ["service", "dns", "forwarding", "system"],
        ["interfaces", "loopback", "lo"],
        ["system", "login", "user", "ubnt", "authentication", "encrypted-password", "$6$x$y"],
        ["system", "static-host-mapping", "host-name", "nas.lab", "inet", "192.168.1.5"],
        ["system", "static-host-mapping", "host-name", "nas.lab", "alias", "nas"],
    ):
        t = t.set(words)
    return t


def test_render_commands_exact() -> None:
    text = render_commands(_sample())
    lines = text.splitlines()
    assert "set interfaces loopback lo" in lines
    assert (
        "set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 static-mapping web01 "
        "mac-address '00:11:22:33:44:55'"
    ) in lines
    assert (
        "set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 start 192.168.1.100 "
        "stop 192.168.1.199"
    ) in lines
    assert "set system login user ubnt authentication encrypted-password '$6$x$y'" in lines
    assert lines.index("set system static-host-mapping host-name nas.lab alias nas") < lines.index(
        "set system static-host-mapping host-name nas.lab inet 192.168.1.5"
    )
    assert parse_commands(text) == _sample()


def test_render_boot_shape_and_trailer() -> None:
    text = render_boot(_sample())
    assert text.startswith("interfaces {\n    loopback lo {\n    }\n}\nservice {\n")
    assert "        forwarding {\n            cache-size 150\n            system\n" in text
    assert "}\n\n\n/* Warning: Do not remove the following line. */\n" in text
    assert text.endswith("*/\n")
    assert "vyatta-config-version" not in render_boot(_sample(), version_trailer=False)
    assert parse_boot(text) == _sample()


def test_render_show_masks_secrets() -> None:
    text = render_show(_sample())
    assert f"encrypted-password {MASK}\n" in text
    assert "vyatta-config-version" not in text
    reparsed = parse_boot(text)
    assert reparsed.value(["system", "login", "user", "ubnt", "authentication", "encrypted-password"]) == MASK


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_every_fixture_round_trips(path) -> None:  # type: ignore[no-untyped-def]
    tree = parse_boot(path.read_text(), path.name)
    assert tree
    assert parse_boot(render_boot(tree)) == tree
    assert parse_boot(render_show(tree)) is not None
    commands = render_commands(tree)
    again = parse_commands(commands)
    assert render_commands(again) == commands
    if path.name != "mar-maradnus__config.boot":
        # mar-maradnus mixes `loopback lo` / `loopback lo {}` styles the set format cannot tell apart
        assert again == tree


def test_boot_parser_real_quirks() -> None:
    steve = parse_boot(read_fixture("stevejenkins__Comcast_config.boot.erl"))
    assert steve.exists(["firewall", "ipv6-name", "WANv6_IN"])
    mar = parse_boot(read_fixture("mar-maradnus__config.boot"))
    system = mar.node(["system"])
    assert system is not None
    names = [c.name for c in system.children]
    assert names == sorted(names, key=lambda n: n)  # re-sorted (config-management was after time-zone)
    # EdgeOS refuses the template as it is (a placeholder of two words): quoted, it loads
    brit_text = read_fixture("britannic__AdBlock_config.boot").replace("<create one!>", '"<create one!>"')
    brit = parse_boot(brit_text)
    auth = brit.node(["system", "login", "user", "ubnt", "authentication"])
    assert auth is not None and auth.child("encrypted-password").kind is Kind.FLAG  # type: ignore[union-attr]
    assert brit.value(["system", "login", "user", "ubnt", "authentication", "plaintext-password"]) == ""


def test_boot_parser_syntax_features() -> None:
    text = (
        "/* author\n comment */\n"
        "service {\n"
        "    dhcp-server: {\n"
        "        !shared-network-name LAN {\n"
        "            /* inline */ authoritative enable\n"
        '            shared-network-parameters "a \\" b;"\n'
        "            subnet 10.0.0.0/24 {\n"
        "            }\n"
        "        }\n"
        "    }\n"
        "}\n\n/* Warning */\n"
    )
    t = parse_boot(text)
    lan = t.node(["service", "dhcp-server", "shared-network-name", "LAN"])
    assert lan is not None and lan.inactive
    assert t.value(["service", "dhcp-server", "shared-network-name", "LAN", "shared-network-parameters"]) == (
        'a \\" b;'
    )
    assert t.value(["service", "dhcp-server", "shared-network-name", "LAN", "authoritative"]) == "enable"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("service {\n    gui {\n", 2),
        ("service {\n}\n}\n", 3),
        ('system {\n    host-name "abc\n}\n', 2),
        ("system {\n    /* never closed\n}\n", 2),
        ("system {\n    host=name x\n}\n", 2),
        ("system {\n  {\n}\n", 2),
        ("a b\na {\n}\n", 2),
    ],
)
def test_boot_parser_errors_have_line_numbers(text: str, line: int) -> None:
    with pytest.raises(ProviderDataError) as exc:
        parse_boot(text, "x.boot")
    assert f"x.boot:{line}:" in str(exc.value)
    assert exc.value.system == "edgemax"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("set system host-name ubnt\nshow version\n", 2),
        ("set system host-name 'ubnt\n", 1),
        ("set system host-name 'a'b\n", 1),
        ("set system host-name it's\n", 1),
        ("set \n", 1),
    ],
)
def test_commands_parser_errors(text: str, line: int) -> None:
    with pytest.raises(ProviderDataError) as exc:
        parse_commands(text, "cmds")
    assert f"cmds:{line}:" in str(exc.value)


def test_commands_parser_ignores_prompt_noise() -> None:
    text = (
        "ubnt@ubnt:~$ show configuration commands\n"
        "set system host-name ubnt\r\n"
        "set service dhcp-server shared-network-name LAN subnet 10.0.0.0/24 static-mapping a "
        "mac-address '0:1:2:3:4:5'\n"
        "[edit]\n"
        "ubnt@ubnt# \n\n"
    )
    t = parse_commands(text)
    assert t.value(["system", "host-name"]) == "ubnt"
    assert t.value(
        ["service", "dhcp-server", "shared-network-name", "LAN", "subnet", "10.0.0.0/24", "static-mapping",
         "a", "mac-address"]
    ) == "0:1:2:3:4:5"  # fmt: skip


# --- property tests ---------------------------------------------------------------------------

NAME = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=10)
# values EdgeOS can hold: no quotes, no newline, no backslash (passthrough escapes)
VALUE = st.text(st.characters(blacklist_characters="'\"\\\n\r", blacklist_categories=("Cs",)), max_size=12)


def _nodes(depth: int) -> st.SearchStrategy[list[Node]]:
    leaf = st.builds(
        lambda n, vs: make_node(n, Kind.LEAF, values=list(dict.fromkeys(vs))),
        NAME,
        st.lists(VALUE, min_size=1, max_size=3),
    )
    flag = st.builds(lambda n: make_node(n, Kind.FLAG), NAME)
    if depth == 0:
        kinds = st.one_of(leaf, flag, st.builds(lambda n: make_node(n, Kind.NODE), NAME))
    else:
        sub = st.deferred(lambda: _nodes(depth - 1))
        node = st.builds(lambda n, kids: make_node(n, Kind.NODE, kids), NAME, sub)
        tag = st.builds(
            lambda n, vals: make_node(n, Kind.TAG, [make_node(v, Kind.NODE, k) for v, k in vals.items()]),
            NAME,
            st.dictionaries(VALUE, sub, min_size=1, max_size=3),
        )
        kinds = st.one_of(leaf, flag, node, tag)
    return st.lists(kinds, max_size=4, unique_by=lambda n: n.name)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(_nodes(3))
def test_boot_round_trip_property(children: list[Node]) -> None:
    tree = Tree(make_node("", Kind.NODE, children))
    assert parse_boot(render_boot(tree)) == tree
    assert parse_boot(render_boot(tree, version_trailer=False)) == tree


MAPPING_NAME = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9-]{0,10}\Z")
IPV4 = st.ip_addresses(v=4).map(str)
DESCRIPTION = st.text(
    st.characters(blacklist_characters="'\"\\\n", blacklist_categories=("Cs",)), max_size=20
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(MAPPING_NAME, IPV4, st.booleans()), max_size=5),
    st.lists(IPV4, max_size=3),
    DESCRIPTION,
    st.lists(st.tuples(st.from_regex(r"\A[a-z][a-z0-9.-]{0,10}[a-z0-9]\Z"), IPV4, DESCRIPTION), max_size=3),
)
def test_commands_round_trip_property(
    mappings: list[tuple[str, str, bool]],
    dns: list[str],
    description: str,
    hosts: list[tuple[str, str, str]],
) -> None:
    t = Tree()
    base = ["service", "dhcp-server", "shared-network-name", "LAN"]
    lines = [
        [*base, "description", description],
        [*base, "subnet", "10.0.0.0/8", "default-router", "10.0.0.1"],
    ]
    for name, ip, disabled in mappings:
        sm = [*base, "subnet", "10.0.0.0/8", "static-mapping", name]
        lines += [[*sm, "ip-address", ip], [*sm, "mac-address", "0:1:2:3:4:5"]]
        if disabled:
            lines.append([*sm, "disable"])
    lines += [[*base, "subnet", "10.0.0.0/8", "dns-server", ip] for ip in dns]
    for host, ip, alias in hosts:
        lines += [["system", "static-host-mapping", "host-name", host, "inet", ip],
                  ["system", "static-host-mapping", "host-name", host, "alias", alias]]  # fmt: skip
    for words in lines:
        with contextlib.suppress(ValueError):  # "already exists" for duplicates
            t = t.set(words)
    assert parse_commands(render_commands(t)) == t
    assert parse_boot(render_boot(t)) == t


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_random_text_never_crashes_parsers(text: str) -> None:
    for parser in (parse_boot, parse_commands):
        with contextlib.suppress(ProviderDataError):
            parser(text)


BOOTISH = st.lists(
    st.sampled_from(["a {", "}", "b c", '"x"', "/*", "*/", "!", "d:", "e f {", "g", 'h "i j"', "{", "\\"]),
    max_size=30,
).map("\n".join)
CMDISH = st.lists(
    st.sampled_from(
        ["set a b", "set a 'b c'", "set a b c d", "set x", "'", "set a", "[edit]", "u@h# ", "set"]
    ),
    max_size=30,
).map("\n".join)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(BOOTISH, CMDISH)
def test_structured_garbage_never_crashes(boot: str, cmds: str) -> None:
    for parser, text in ((parse_boot, boot), (parse_commands, cmds)):
        with contextlib.suppress(ProviderDataError):
            parser(text)

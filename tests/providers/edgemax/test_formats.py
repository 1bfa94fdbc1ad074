"""Format detection and EdgeOS's tree grammar: every format a user hands netsot, and what it refuses.

The fixtures under ``fixtures/`` are one router in three forms (config.boot, a `show configuration
commands` capture with prompts, a vbash script of `set` lines with comments); all read as one tree.
"""

from __future__ import annotations

import pytest

from core.errors import ProviderDataError
from providers.vyatta.parse import Format, detect, parse_any, parse_boot, parse_commands
from tests.providers.edgemax.conftest import FIXTURES, OWN, REFUSED_FILES, read_own

FORMS = {"real-names.config.boot": Format.TREE, "real-names.commands.txt": Format.COMMANDS,
         "real-names.vbash.sh": Format.COMMANDS}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_form_of_one_router_reads_as_the_same_tree(name: str) -> None:
    text = read_own(name)
    assert detect(text, name) is FORMS[name]
    tree = parse_any(text, name)
    assert tree == parse_boot(read_own("real-names.config.boot"))
    assert tree.values(["system", "static-host-mapping", "host-name", "nas.lab.example", "inet"]) == (
        "192.168.1.10", "2001:db8:1::10")


def test_show_configuration_capture_with_prompts_reads_as_a_tree() -> None:
    body = read_own("real-names.config.boot").split("\n\n\n")[0]  # `show configuration`: no trailer
    text = f"ubnt@edge:~$ show configuration\n{body}\nubnt@edge:~$ \n"
    assert detect(text) is Format.TREE
    assert parse_any(text) == parse_boot(read_own("real-names.config.boot"))


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("not-a-config.txt", 1, "not an EdgeOS configuration"),
        ("mixed-formats.config.boot", 4, "more than one value on one line"),
    ],
)
def test_a_file_of_neither_format_is_an_error_naming_the_line(name: str, line: int, words: str) -> None:
    with pytest.raises(ProviderDataError) as exc:
        parse_any(read_own(name), name)
    assert f"{name}:{line}: " in str(exc.value) and words in str(exc.value)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "#!/bin/vbash\n\n"])
def test_no_content_is_an_error_not_an_empty_router(text: str) -> None:
    with pytest.raises(ProviderDataError, match="no configuration"):
        parse_any(text, "empty.txt")


def test_a_real_file_edgeos_refuses_is_refused_at_its_line() -> None:
    for name, line in REFUSED_FILES.items():
        with pytest.raises(ProviderDataError, match=rf"{name}:{line}: more than one value"):
            parse_any((FIXTURES / name).read_text(), name)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # a stray quote no longer keeps a comment inside a MAC: EdgeOS sees two values
        ('a {\n    mac-address 00:11:22:33:44:55" /* old NIC */\n}\n', 2, "comment */ cannot follow"),
        ("a {\n    disable /* x */\n}\n", 2, "comment */ cannot follow"),
        ("set system host-name edge\n", 1, None),  # detected as set lines: fine
        ("system {\n    host-name edge router\n}\n", 2, "more than one value"),
        ('system {\n    description "a" b\n}\n', 2, "more than one value"),
        ("system\n{\n}\n", 2, "'{' must follow its node name"),
        ("system {\n    login@x {\n    }\n}\n", 2, "invalid node name"),
        ('system {\n    host-name "edge\n}\n', 2, "unterminated double quote"),
        ("system {\n    # a comment\n}\n", 2, "unexpected '#'"),
    ],
)
def test_tree_grammar_is_edgeos_grammar(text: str, line: int, words: str | None) -> None:
    if words is None:
        assert parse_any(text)
        return
    with pytest.raises(ProviderDataError) as exc:
        parse_boot(text, "t.boot")
    assert f"t.boot:{line}: " in str(exc.value) and words in str(exc.value)


def test_tree_comments_where_edgeos_allows_them() -> None:
    text = ("/* head */\nsystem { /* after a brace */\n    /* before a node */ host-name edge\n"
            "    /* before a brace */\n} /* after one */\n/* at the end */\n")
    assert parse_boot(text).value(["system", "host-name"]) == "edge"
    assert parse_boot('system {\n    description "/* not a comment */"\n}\n').value(
        ["system", "description"]) == "/* not a comment */"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("set system host-name edge\ndelete system host-name\n", 2, "'delete' line"),
        ("#!/bin/vbash\nconfigure\nset system host-name edge\nrun show version\n", 4,
         "expected a 'set' line"),
        ('set system host-name "$(hostname)"\n', 1, "shell expansion"),
        # a template's placeholder (EdgeOS quotes every word with a brace): the line, not a crash
        ("set system domain-name lab.example\nset system host-name {{ hostname }}\n", 2, "unquoted brace"),
        ("#!/bin/vbash\n$CMD set system host-name edge\n", 2, "$CMD is not set earlier"),
    ],
)
def test_set_lines_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ProviderDataError) as exc:
        parse_any(text, "s.sh")
    assert f"s.sh:{line}: " in str(exc.value) and words in str(exc.value)


def test_set_lines_script_frame_comments_and_wrapper() -> None:
    text = (
        "#!/bin/vbash\n"
        "source /opt/vyatta/etc/functions/script-template\n"
        "/opt/vyatta/sbin/vyatta-cfg-cmd-wrapper begin\n"
        "/opt/vyatta/sbin/vyatta-cfg-cmd-wrapper set system host-name edge\n"
        "set system domain-name lab.example  # the lab's\n"
        'set system login user ubnt full-name "Lab Admin"\n'
        "/opt/vyatta/sbin/vyatta-cfg-cmd-wrapper commit\n"
        "/opt/vyatta/sbin/vyatta-cfg-cmd-wrapper end\n"
    )
    tree = parse_commands(text)
    assert tree.value(["system", "host-name"]) == "edge"
    assert tree.value(["system", "domain-name"]) == "lab.example"
    assert tree.value(["system", "login", "user", "ubnt", "full-name"]) == "Lab Admin"


def test_a_wrapper_script_through_a_variable_and_trailing_comments() -> None:
    """The shape of a real script (edgeos.md T-es): `CMD=…wrapper`, `$CMD set …`, `# comments`."""
    text = ("#!/bin/vbash\n\nCMD=/opt/vyatta/sbin/vyatta-cfg-cmd-wrapper\n\n$CMD begin\n\n"
            "$CMD set system offload hwnat disable\n"
            "${CMD} set interfaces ethernet eth0 poe output 24v # powers the UFiber Nano G\n"
            "# the firewall rules are hidden\n$CMD commit\n$CMD end\n$CMD save\n\nexit\n")
    assert detect(text) is Format.COMMANDS
    tree = parse_any(text)
    assert tree.value(["system", "offload", "hwnat"]) == "disable"
    assert tree.value(["interfaces", "ethernet", "eth0", "poe", "output"]) == "24v"


def test_own_fixtures_exist() -> None:
    assert {p.name for p in OWN.iterdir()} >= set(FORMS) | {"not-a-config.txt", "mixed-formats.config.boot"}

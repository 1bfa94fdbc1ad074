"""Render a config tree the way EdgeOS prints it: set-commands, config.boot, `show configuration`.

Owns: the two quoting rules (single quotes for `show configuration commands`, double quotes
for the tree format), indentation, the version trailer and secret masking.
Must not: parse text or decide node kinds (``tree.py``); no I/O.
"""

from __future__ import annotations

from providers.vyatta.tree import Kind, Node, Tree

_WHITESPACE = frozenset(" \t\n\v\f\r")
# cnode-algorithm.cpp `_print_cmds_list`: words with any of these are single-quoted.
COMMAND_SPECIAL: frozenset[str] = frozenset("*}{[];&`!$><|?#\\~():") | _WHITESPACE
# cnode-algorithm.cpp `_print_value_str`: values with any of these are double-quoted.
BOOT_SPECIAL: frozenset[str] = frozenset("*}{;") | _WHITESPACE

SECRET_SUFFIXES = ("password", "passphrase", "pre-shared-secret", "key")
MASK = "*" * 16

DEFAULT_VERSION_TRAILER = (
    "/* Warning: Do not remove the following line. */\n"
    '/* === vyatta-config-version: "config-management@1:conntrack@1:cron@1:dhcp-relay@1:'
    "dhcp-server@4:firewall@5:ipsec@5:nat@3:qos@1:quagga@2:suspend@1:system@4:ubnt-pptp@1:"
    "ubnt-udapi-server@1:ubnt-unms@1:ubnt-util@1:vrrp@1:vyatta-netflow@1:webgui@1:webproxy@1:"
    'zone-policy@1" === */\n'
    "/* Release version: v2.0.8.5247496.191120.1124 */\n"
)


def quote_command_word(word: str) -> str:
    """One word of a `set` line, single-quoted iff EdgeOS would (empty or a special character)."""
    if word == "" or any(ch in COMMAND_SPECIAL for ch in word):
        return f"'{word}'"
    return word


def quote_boot_value(value: str) -> str:
    """A value in config.boot, double-quoted iff empty or containing ``* } { ;`` or whitespace."""
    if value == "" or any(ch in BOOT_SPECIAL for ch in value):
        return f'"{value}"'
    return value


def render_command_line(words: tuple[str, ...] | list[str], verb: str = "set") -> str:
    return " ".join([verb, *(quote_command_word(w) for w in words)])


def render_commands(tree: Tree) -> str:
    """`show configuration commands`: one `set` line per leaf value / childless node."""
    lines = [render_command_line(words) for words in tree.commands()]
    return "".join(line + "\n" for line in lines)


def is_secret(name: str) -> bool:
    return name.endswith(SECRET_SUFFIXES)


def _render_nodes(children: tuple[Node, ...], depth: int, out: list[str], mask: bool) -> None:
    pad = "    " * depth
    for node in children:
        bang = "!" if node.inactive else ""
        if node.kind is Kind.LEAF:
            for value in node.values:
                shown = MASK if mask and is_secret(node.name) else quote_boot_value(value)
                out.append(f"{pad}{bang}{node.name} {shown}")
        elif node.kind is Kind.FLAG:
            out.append(f"{pad}{bang}{node.name}")
        elif node.kind is Kind.TAG:
            for value_node in node.children:
                vbang = "!" if value_node.inactive or node.inactive else ""
                out.append(f"{pad}{vbang}{node.name} {quote_boot_value(value_node.name)} {{")
                _render_nodes(value_node.children, depth + 1, out, mask)
                out.append(f"{pad}}}")
        else:
            out.append(f"{pad}{bang}{node.name} {{")
            _render_nodes(node.children, depth + 1, out, mask)
            out.append(f"{pad}}}")


def render_boot(tree: Tree, *, version_trailer: bool | str = True) -> str:
    """`cat /config/config.boot`: 4-space tree, two empty lines, then the version trailer.

    ``version_trailer`` may be a string to use instead of the default (v2.0.8) trailer.
    """
    out: list[str] = []
    _render_nodes(tree.root.children, 0, out, mask=False)
    text = "".join(line + "\n" for line in out)
    if version_trailer:
        trailer = version_trailer if isinstance(version_trailer, str) else DEFAULT_VERSION_TRAILER
        text += "\n\n" + trailer
    return text


def render_show(tree: Tree) -> str:
    """`show configuration`: the tree with secrets masked as 16 asterisks, no trailer."""
    out: list[str] = []
    _render_nodes(tree.root.children, 0, out, mask=True)
    return "".join(line + "\n" for line in out)

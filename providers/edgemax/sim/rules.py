"""EdgeOS validation rules for the simulator: what `set`/`delete` and `commit` refuse.

Owns: ``Rejected`` (a failed command with the router's exact output lines), the schema of the
subtrees netsot writes, value checks with EdgeOS's messages (``validate_path``); the commit
checks (``commit_errors``) are ``simcommit``'s.
Must not: hold router state, do I/O, or know about SSH or the terminal.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from providers.edgemax.sim import commit as _simcommit


class Rejected(Exception):
    """A command failed; ``lines`` is the router's exact output."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Spec:
    kind: str  # node | tag | leaf | flag | any
    type: str = "txt"  # value type of a leaf / tag value
    children: Mapping[str, Spec] | None = None


def _node(**children: Spec) -> Spec:
    return Spec("node", children={k.replace("_", "-"): v for k, v in children.items()})


def _tag(vtype: str, **children: Spec) -> Spec:
    return Spec("tag", vtype, {k.replace("_", "-"): v for k, v in children.items()})


def _leaf(vtype: str = "txt") -> Spec:
    return Spec("leaf", vtype)


FLAG, ANY = Spec("flag"), Spec("any")
ENABLE = _leaf("enable|disable")
_STATIC_MAPPING = _tag(
    "mapping-name",
    ip_address=_leaf("ipv4"),
    mac_address=_leaf("macaddr"),
    disable=FLAG,
    static_mapping_parameters=_leaf(),
)
_SUBNET = _tag(
    "ipv4net",
    default_router=_leaf("ipv4"),
    dns_server=_leaf("ipv4"),
    domain_name=_leaf(),
    lease=_leaf("u32"),
    start=_tag("ipv4", stop=_leaf("ipv4")),
    exclude=_leaf("ipv4"),
    unifi_controller=_leaf("ipv4"),
    ntp_server=_leaf("ipv4"),
    wins_server=_leaf("ipv4"),
    smtp_server=_leaf("ipv4"),
    pop_server=_leaf("ipv4"),
    time_server=_leaf("ipv4"),
    bootfile_name=_leaf(),
    bootfile_server=_leaf(),
    tftp_server_name=_leaf(),
    wpad_url=_leaf(),
    time_offset=_leaf(),
    client_prefix_length=_leaf("u32"),
    server_identifier=_leaf("ipv4"),
    ip_forwarding=ANY,
    failover=ANY,
    static_route=ANY,
    subnet_parameters=_leaf(),
    static_mapping=_STATIC_MAPPING,
)
_DHCP = _node(
    disabled=_leaf("true|false"),
    hostfile_update=ENABLE,
    static_arp=ENABLE,
    use_dnsmasq=ENABLE,
    global_parameters=_leaf(),
    dynamic_dns_update=ANY,
    shared_network_name=_tag(
        "pool-name",
        authoritative=ENABLE,
        disable=FLAG,
        description=_leaf(),
        shared_network_parameters=_leaf(),
        subnet=_SUBNET,
    ),
)
_DNS_FORWARDING = _node(
    cache_size=_leaf("u32"),
    listen_on=_leaf(),
    except_interface=_leaf(),
    name_server=_leaf("ipv4,ipv6"),
    system=FLAG,
    dhcp=_leaf(),
    domain=_tag("txt", server=_leaf()),
    options=_leaf(),
    force_public_dns_boost=FLAG,
)
# Top-level nodes EdgeOS knows; only the subtrees netsot writes are modelled strictly.
SCHEMA = Spec(
    "node",
    children={
        **{
            name: ANY
            for name in (
                "firewall",
                "interfaces",
                "load-balance",
                "port-forward",
                "protocols",
                "policy",
                "traffic-control",
                "traffic-policy",
                "vpn",
                "zone-policy",
                "custom-attribute",
                "high-availability",
            )
        },
        "service": Spec(
            "node",
            children={
                "dhcp-server": _DHCP,
                "dns": Spec("node", children={"forwarding": _DNS_FORWARDING, "dynamic": ANY}),
            },
        ),
        "system": Spec(
            "node",
            children={
                "host-name": _leaf("host-name"),
                "domain-name": _leaf("domain"),
                "static-host-mapping": _node(
                    host_name=_tag("host-name", inet=_leaf("ipv4,ipv6"), alias=_leaf())
                ),
            },
        ),
    },
)
# Children not listed under `service` / `system` (gui, ssh, nat, login, ntp…) are accepted as-is.
OPEN_NODES = {("service",), ("system",)}

_IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
_MAC = re.compile(r"^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$")
_WORD = re.compile(r"^[-A-Za-z0-9_.:/@+=,]+$")
_NAMES = {
    "mapping-name": (re.compile(r"^[-_a-zA-Z0-9.]+$"), 'invalid static-mapping name "{}"'),
    "pool-name": (re.compile(r"^[-_a-zA-Z0-9.]+$"), 'invalid DHCP pool name "{}"'),
    "host-name": (re.compile(r"^[A-Za-z0-9][-.A-Za-z0-9]*[A-Za-z0-9]$"), "invalid host name {}"),
    "domain": (re.compile(r"^[A-Za-z0-9][-.A-Za-z0-9]*$"), "invalid domain name {}"),
}


def _is_ipv4(v: str) -> bool:
    m = _IPV4.match(v)
    return bool(m) and all(int(g) <= 255 for g in m.groups())


def _check_value(vtype: str, value: str, op: str) -> None:
    for ch, label in (("'", "single quote (')"), ('"', 'double quote (")'), ("\n", "newline")):
        if ch in value:
            raise Rejected(
                f"Cannot use the {label} character in a value string",
                "Value validation failed",
                f"{op} failed",
            )
    ok = True
    if vtype == "ipv4":
        ok = _is_ipv4(value)
    elif vtype == "ipv4net":
        addr, _, plen = value.partition("/")
        ok = _is_ipv4(addr) and plen.isdigit() and int(plen) <= 32
    elif vtype == "macaddr":
        ok = bool(_MAC.match(value))
    elif vtype == "u32":
        ok = value.isdigit() and int(value) < 2**32
    elif vtype == "ipv4,ipv6":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            ok = False
    elif "|" in vtype:
        if value not in vtype.split("|"):
            choices = " or ".join(f"'{c}'" for c in vtype.split("|"))
            raise Rejected(f"Must be either {choices}", "", "Value validation failed", f"{op} failed")
    elif vtype in _NAMES:
        regex, message = _NAMES[vtype]
        if not regex.match(value):
            raise Rejected(message.format(value), "", "Value validation failed", f"{op} failed")
    if not ok:
        raise Rejected(
            f'"{value}" is not a valid value of type "{vtype}"', "Value validation failed", f"{op} failed"
        )


def validate_path(words: Sequence[str], op: str) -> None:
    """Raise :class:`Rejected` with EdgeOS's messages when ``words`` is not a valid set/delete path."""
    invalid = Rejected("The specified configuration node is not valid", f"{op} failed")
    spec, i, trail = SCHEMA, 0, ()
    while i < len(words):
        word = words[i]
        if spec.kind == "any":
            if any(c in w for w in words[i:] for c in "\n\"'") or not _WORD.match(word):
                _check_value("txt", " ".join(words[i:]), op)
                raise invalid
            return
        if spec.kind in ("leaf", "flag"):
            if spec.kind == "flag" or i != len(words) - 1:
                raise invalid
            _check_value(spec.type, word, op)
            return
        if spec.kind == "tag":
            _check_value(spec.type, word, op)
            spec, i = Spec("node", children=spec.children), i + 1
            continue
        child = (spec.children or {}).get(word)
        if child is None:
            if trail in OPEN_NODES and _WORD.match(word):
                spec, i = ANY, i + 1
                continue
            raise invalid
        spec, i, trail = child, i + 1, (*trail, word)
    if op == "Set" and spec.kind in ("leaf", "tag"):
        raise Rejected("The specified configuration node requires a value", "Set failed")


def commit_errors(tree: Any) -> list[tuple[str, list[str]]]:
    """What a commit of ``tree`` refuses, as ``(block path, message lines)`` (edgeos.md §11)."""
    return _simcommit.commit_errors(tree)

"""Turn planned EdgeMax changes into EdgeOS `set`/`delete` lines — safely.

Owns: strict validation of every value that reaches the router (names, IPv4, subnets, MACs, the
values a node keeps) and the exact configuration lines for DHCP static mappings and static host
mappings: creates and deletes of whole nodes, updates of only the leaves netsot owns (one
``ip-address``, ``mac-address``, ``inet`` value or ``alias`` at a time), and exact copies of what
a node holds besides them when it moves.
Nothing is emitted unless every value passed validation, and every word is quoted with the
EdgeOS rule, so no value can inject a command or another path.
Must not: talk to the router (``session.py`` / ``provider.py`` do) or decide what to change.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.errors import ProviderRejected
from core.model import EMPTY, Action, Change
from core.names import hostname_problem
from providers.edgemax.descriptor import MAPPING_NAME_RE, name_rule
from providers.vyatta.kept import kept_paths
from providers.vyatta.render import render_command_line

DHCP_BASE = ("service", "dhcp-server", "shared-network-name")
HOST_BASE = ("system", "static-host-mapping", "host-name")
CONFIG = "edgemax_config"  # pseudo-resource type (descriptor.CONFIG_TYPE): whether the config is saved

SHARED_NETWORK_RE = re.compile(r"[-_a-zA-Z0-9.]{1,63}")
# edgeos.md §4.2: ^[[:alnum:]][-.[:alnum:]]*[[:alnum:]]$ (ASCII only: no homoglyphs)
HOST_NAME_RE = re.compile(r"[A-Za-z0-9][-.A-Za-z0-9]*[A-Za-z0-9]")
MAC_RE = re.compile(r"[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(?:\1[0-9a-f]{1,2}){4}")


def safe(value: object, limit: int = 40) -> str:
    """A value for an error message: repr (escapes control characters), truncated."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _reject(what: str, value: object, rule: str) -> ProviderRejected:
    return ProviderRejected("edgemax", f"invalid {what} {safe(value)}: {rule}")


def valid_mapping_name(value: object) -> str:
    if not isinstance(value, str) or not MAPPING_NAME_RE.fullmatch(value):
        raise _reject("static-mapping name", value, "EdgeOS allows ASCII letters, digits, '-', '_' and '.'")
    return value


def valid_new_name(value: str) -> str:
    """A name netsot gives a new mapping / host name: the descriptor's rule (DNS labels)."""
    problem = name_rule(value)
    if problem:
        raise ProviderRejected("edgemax", f"{safe(value)} {problem}")
    return value


def valid_kept_word(value: object) -> str:
    """A word of what a node holds besides netsot's leaves, copied as the router has it.

    The router never holds a quote or a newline in a value (`set` refuses them, §2.1); a control
    character could drive the terminal. Anything else is sent single-quoted, so it stays one word.
    """
    if not isinstance(value, str) or "'" in value or '"' in value or not value.isprintable():
        raise _reject("value to keep", value, "a quote or a control character, which EdgeOS never stores")
    return value


def valid_shared_network(value: object) -> str:
    if not isinstance(value, str) or not SHARED_NETWORK_RE.fullmatch(value):
        raise _reject("shared-network name", value, "use 1-63 ASCII letters, digits, '-', '_' or '.'")
    return value


def valid_host_name(value: object) -> str:
    ok = isinstance(value, str) and len(value) <= 253 and HOST_NAME_RE.fullmatch(value)
    if not ok or any(len(label) > 63 for label in str(value).split(".")) or ".." in str(value):
        raise _reject(
            "host name", value, "use ASCII letters, digits, '-' and '.', starting and ending alphanumeric"
        )
    return str(value)


def valid_alias(value: object) -> str:
    """An alias netsot writes: the binding's DNS name (EdgeOS's `alias` is free text, §4.2; netsot's
    own are names, and one letter is a name: the host-name rule's two characters do not apply)."""
    if not isinstance(value, str) or hostname_problem(value.lower()) is not None:
        raise _reject("alias", value, "netsot writes DNS names (letters, digits, inner '-', joined by '.')")
    return value


def valid_ipv4(value: object) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        addr = ipaddress.IPv4Address(value)
    except ValueError:
        raise _reject("IPv4 address", value, "expected a dotted quad such as 192.168.1.10") from None
    if str(addr) != value:
        raise _reject("IPv4 address", value, "expected a dotted quad such as 192.168.1.10")
    return value


def valid_subnet(value: object) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise _reject("subnet", value, "expected a network address such as 192.168.1.0/24") from None
    if str(net) != value:
        raise _reject("subnet", value, "expected a network address such as 192.168.1.0/24")
    return value


def normalize_mac(value: object) -> str:
    """``0:11:22:AA:bb:c`` / ``00-11-…`` → ``00:11:22:aa:bb:0c``; anything else is rejected."""
    if isinstance(value, str) and MAC_RE.fullmatch(value.lower()):
        return ":".join(part.zfill(2) for part in re.split(r"[:-]", value.lower()))
    raise _reject("MAC address", value, "expected six hex groups such as 52:54:00:12:34:56")


def mapping_path(shared_network: str, subnet: str, name: str) -> tuple[str, ...]:
    return (*DHCP_BASE, shared_network, "subnet", subnet, "static-mapping", name)


def host_path(host_name: str) -> tuple[str, ...]:
    return (*HOST_BASE, host_name)


def _action(action: Action | str) -> Action:
    try:
        return Action(action)
    except ValueError:
        raise ProviderRejected("edgemax", f"unknown action {safe(action)}") from None


def kept_lines(path: tuple[str, ...], kept: Mapping[str, Any]) -> list[str]:
    """`set` lines that write ``kept`` (what a node holds besides netsot's leaves) below ``path``."""
    return [render_command_line((*path, *(valid_kept_word(w) for w in words))) for words in kept_paths(kept)]


def mapping_lines(
    action: Action | str,
    shared_network: str,
    subnet: str,
    name: str,
    ip: str | None = None,
    mac: str | None = None,
    kept: Mapping[str, Any] = EMPTY,
) -> list[str]:
    """Lines that create / update (set both leaves in place) / delete one DHCP static mapping.

    A create also writes ``kept`` (what the node held at its old place) exactly.
    """
    act = _action(action)
    path = mapping_path(valid_shared_network(shared_network), valid_subnet(subnet), valid_mapping_name(name))
    if act is Action.DELETE:
        return [render_command_line(path, "delete")]
    ip_text = valid_ipv4(ip)
    mac_text = normalize_mac(mac)
    if ipaddress.IPv4Address(ip_text) not in ipaddress.IPv4Network(subnet):
        raise ProviderRejected(
            "edgemax", f"IP address {ip_text} is outside subnet {subnet} of {shared_network}"
        )
    sets = [
        render_command_line((*path, "ip-address", ip_text)),
        render_command_line((*path, "mac-address", mac_text)),
    ]
    return sets + kept_lines(path, kept) if act is Action.CREATE else sets


def host_lines(
    action: Action | str,
    host_name: str,
    inet: str | None = None,
    aliases: Iterable[str] = (),
    kept: Mapping[str, Any] = EMPTY,
) -> list[str]:
    """Lines that create / delete one static host mapping (a create also writes ``kept``)."""
    act = _action(action)
    path = host_path(valid_host_name(host_name))
    if act is Action.DELETE:
        return [render_command_line(path, "delete")]
    if act is Action.UPDATE:
        raise ProviderRejected("edgemax", "a host name is updated value by value (host_update_lines)")
    inet_text = valid_ipv4(inet)
    alias_list = [valid_alias(a) for a in aliases]
    sets = [render_command_line((*path, "alias", a)) for a in dict.fromkeys(alias_list)]
    sets.append(render_command_line((*path, "inet", inet_text)))
    return sets + kept_lines(path, kept)


def _inet(attrs: Mapping[str, Any]) -> str | None:
    inet = attrs.get("inet")
    if isinstance(inet, list | tuple):
        return inet[0] if inet else None
    return inet


def _mapping_fields(attrs: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    return attrs.get("shared_network"), attrs.get("subnet"), attrs.get("name")


def mapping_update_lines(before: Mapping[str, Any], after: Mapping[str, Any],
                         kept: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(deletes, sets) of an update: only the leaves that changed, each set in place (a single-value
    leaf is replaced); a move to another subnet writes the node anew, with ``kept``, then deletes it."""
    if _mapping_fields(before) != _mapping_fields(after):
        deletes = mapping_lines(Action.DELETE, *_mapping_fields(before))
        return deletes, mapping_lines(Action.CREATE, *_mapping_fields(after), after.get("ip_address"),
                                      after.get("mac_address"), kept)
    ip_line, mac_line = mapping_lines(Action.UPDATE, *_mapping_fields(after), after.get("ip_address"),
                                      after.get("mac_address"))
    sets = []
    if before.get("ip_address") != after.get("ip_address"):
        sets.append(ip_line)
    if str(before.get("mac_address") or "").lower() != normalize_mac(after.get("mac_address")):
        sets.append(mac_line)
    return [], sets


def host_update_lines(before: Mapping[str, Any], after: Mapping[str, Any],
                      kept: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(deletes, sets) of an update: the one owned ``inet`` value replaced, owned aliases added or
    removed one by one; every other value of the node stays."""
    old_name, new_name = before.get("host_name"), after.get("host_name")
    if old_name != new_name:
        return (host_lines(Action.DELETE, old_name),
                host_lines(Action.CREATE, new_name, _inet(after), after.get("aliases") or (), kept))
    path = host_path(valid_host_name(new_name))
    deletes: list[str] = []
    sets: list[str] = []
    old_inet, new_inet = _inet(before), valid_ipv4(_inet(after))
    if old_inet != new_inet:
        if old_inet:
            deletes.append(render_command_line((*path, "inet", valid_ipv4(old_inet)), "delete"))
        sets.append(render_command_line((*path, "inet", new_inet)))
    old_aliases = [str(a) for a in before.get("aliases") or ()]
    new_aliases = [valid_alias(a) for a in after.get("aliases") or ()]
    lower_new = {a.lower() for a in new_aliases}
    lower_old = {a.lower() for a in old_aliases}
    deletes += [render_command_line((*path, "alias", valid_kept_word(a)), "delete")
                for a in old_aliases if a.lower() not in lower_new]
    sets += [render_command_line((*path, "alias", a)) for a in new_aliases if a.lower() not in lower_old]
    return deletes, sets


def _mapping_change(change: Change) -> tuple[list[str], list[str]]:
    before, after = change.before or {}, change.after or {}
    if change.action is Action.DELETE:
        return mapping_lines(Action.DELETE, *_mapping_fields(before or after)), []
    if change.action is Action.UPDATE:
        return mapping_update_lines(before, after, change.kept)
    valid_new_name(str(after.get("name")))
    return [], mapping_lines(Action.CREATE, *_mapping_fields(after), after.get("ip_address"),
                             after.get("mac_address"), change.kept)


def _host_change(change: Change) -> tuple[list[str], list[str]]:
    before, after = change.before or {}, change.after or {}
    if change.action is Action.DELETE:
        return host_lines(Action.DELETE, (before or after).get("host_name")), []
    if change.action is Action.UPDATE:
        return host_update_lines(before, after, change.kept)
    valid_new_name(str(after.get("host_name")).lower())
    return [], host_lines(Action.CREATE, after.get("host_name"), _inet(after), after.get("aliases") or (),
                          change.kept)


def change_lines(change: Change) -> tuple[list[str], list[str]]:
    """(delete lines, set lines) for one change: only the leaves netsot owns change; a node that
    moves (a new subnet, a new name) is written anew with everything else it held."""
    if change.address.type == "edgemax_dhcp_mapping":
        return _mapping_change(change)
    if change.address.type == "edgemax_host":
        return _host_change(change)
    raise ProviderRejected("edgemax", f"cannot apply {change.address} (not an EdgeMax resource)")


def apply_script(changes: Sequence[Change]) -> list[str]:
    """All lines for one configure session: every delete first, then every set.

    Deterministic: changes are taken in address order. Validation happens for every change
    before any line is returned, so one bad value rejects the whole batch.
    """
    # dicts as ordered sets: first occurrence wins, membership is O(1) over ~20,000 lines
    deletes: dict[str, None] = {}
    sets: dict[str, None] = {}
    for change in sorted(changes, key=lambda c: (str(c.address), c.action.value)):
        if change.address.type == CONFIG:
            continue  # the pseudo-resource "saved": the session saves, no line is needed
        d, s = change_lines(change)
        deletes.update(dict.fromkeys(d))
        sets.update(dict.fromkeys(s))
    return [*deletes, *sets]

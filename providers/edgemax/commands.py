"""Turn planned EdgeMax changes into EdgeOS `set`/`delete` lines — safely.

Owns: strict validation of every value that reaches the router (names, IPv4, subnets, MACs)
and the exact configuration lines for DHCP static mappings and static host mappings.
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
from core.model import Action, Change
from providers.edgemax.render import render_command_line

DHCP_BASE = ("service", "dhcp-server", "shared-network-name")
HOST_BASE = ("system", "static-host-mapping", "host-name")
CONFIG = "edgemax_config"  # pseudo-resource type (descriptor.CONFIG_TYPE): whether the config is saved

# edgeos.md §4.2 allows [-_a-zA-Z0-9.]; we keep to one DNS label (dnsmasq mode turns the mapping
# name into the host record <name>.<domain>), so no '_', '.', or leading/trailing '-'.
MAPPING_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
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
        raise _reject("static-mapping name", value, "use 1-63 ASCII letters, digits or inner '-'")
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


def mapping_lines(
    action: Action | str,
    shared_network: str,
    subnet: str,
    name: str,
    ip: str | None = None,
    mac: str | None = None,
) -> list[str]:
    """Lines that create / update (delete + set) / delete one DHCP static mapping."""
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
    if act is Action.UPDATE:
        return [render_command_line(path, "delete"), *sets]
    return sets


def host_lines(
    action: Action | str,
    host_name: str,
    inet: str | None = None,
    aliases: Iterable[str] = (),
) -> list[str]:
    """Lines that create / update (delete + set) / delete one static host mapping."""
    act = _action(action)
    path = host_path(valid_host_name(host_name))
    if act is Action.DELETE:
        return [render_command_line(path, "delete")]
    inet_text = valid_ipv4(inet)
    alias_list = [valid_host_name(a) for a in aliases]
    sets = [render_command_line((*path, "alias", a)) for a in dict.fromkeys(alias_list)]
    sets.append(render_command_line((*path, "inet", inet_text)))
    if act is Action.UPDATE:
        return [render_command_line(path, "delete"), *sets]
    return sets


def _inet(attrs: Mapping[str, Any]) -> str | None:
    inet = attrs.get("inet")
    if isinstance(inet, list | tuple):
        return inet[0] if inet else None
    return inet


def change_lines(change: Change) -> tuple[list[str], list[str]]:
    """(delete lines, set lines) for one change. Updates delete the old object first."""
    before, after = change.before or {}, change.after or {}
    deletes: list[str] = []
    sets: list[str] = []
    if change.address.type == "edgemax_dhcp_mapping":
        if change.action in (Action.DELETE, Action.UPDATE):
            src = before or after
            deletes += mapping_lines(
                Action.DELETE, src.get("shared_network"), src.get("subnet"), src.get("name")
            )
        if change.action in (Action.CREATE, Action.UPDATE):
            sets += mapping_lines(
                Action.CREATE,
                after.get("shared_network"),
                after.get("subnet"),
                after.get("name"),
                after.get("ip_address"),
                after.get("mac_address"),
            )
    elif change.address.type == "edgemax_host":
        if change.action in (Action.DELETE, Action.UPDATE):
            deletes += host_lines(Action.DELETE, (before or after).get("host_name"))
        if change.action in (Action.CREATE, Action.UPDATE):
            sets += host_lines(
                Action.CREATE, after.get("host_name"), _inet(after), after.get("aliases") or ()
            )
    else:
        raise ProviderRejected("edgemax", f"cannot apply {change.address} (not an EdgeMax resource)")
    return deletes, sets


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

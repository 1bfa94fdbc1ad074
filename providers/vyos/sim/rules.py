"""What VyOS refuses: at ``set`` (the node definitions) and at commit (the subsystems' ``verify()``).

Owns: the dialect's node names under ``service dhcp-server`` and ``system static-host-mapping``
(1.4: ``mac-address``, options under ``subnet``; 1.5: ``mac``/``duid``, ``option``, ``subnet-id``),
the value checks ``set`` makes and the commit checks of vyos.md §2.1 and §3 in their order, each
with its text. The first commit error stops the subsystem (VyOS raises one ConfigError).
Must not: know HTTP (``api``) or change a tree.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence

from providers.vyatta.tree import Kind, Node, Tree

DIALECTS = ("1.4", "1.5")
DHCP = ("service", "dhcp-server")
HOSTS = ("system", "static-host-mapping")
# the commit order: priority 400 (static-host-mapping) before 911 (dhcp-server), vyos.md §3
PRIORITY: tuple[tuple[str, ...], ...] = (HOSTS, DHCP)

_MAPPING_NAME = {"1.4": re.compile(r"[-_a-zA-Z0-9.]+"), "1.5": re.compile(r"[A-Za-z0-9][-.A-Za-z0-9]*")}
_MAPPING_ERROR = {
    "1.4": "Invalid static mapping name, may only be alphanumeric, dot and hyphen",
    "1.5": "Invalid static mapping hostname",
}
_HOST = re.compile(r"[A-Za-z0-9][-.A-Za-z0-9]*[A-Za-z0-9]")
_NET_NAME = re.compile(r"[-_a-zA-Z0-9][\w\-.+]*")
_MAC = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")
_OPTIONS = frozenset({
    "default-router", "name-server", "domain-name", "domain-search", "ntp-server", "time-server",
    "wins-server", "bootfile-name", "bootfile-server", "tftp-server-name", "static-route",
    "client-prefix-length", "wpad-url", "smtp-server", "pop-server", "time-offset", "ipv6-only-preferred",
    "server-identifier", "captive-portal", "vendor-option",
})  # fmt: skip
_SUBNET_COMMON = frozenset(
    {"range", "exclude", "lease", "static-mapping", "description", "disable", "ping-check"}
)
SUBNET_CHILDREN = {
    "1.4": _SUBNET_COMMON | _OPTIONS | {"enable-failover", "subnet-parameters"},
    "1.5": _SUBNET_COMMON | {"option", "subnet-id"},
}
MAPPING_CHILDREN = {
    "1.4": frozenset({"ip-address", "mac-address", "disable", "description", "static-mapping-parameters"}),
    "1.5": frozenset({"ip-address", "mac", "duid", "disable", "description", "option", "ipv6-address",
                      "ipv6-prefix"}),
}  # fmt: skip
HOST_CHILDREN = frozenset({"inet", "alias"})


class SetRefused(ValueError):
    """A ``set`` VyOS refuses; ``str`` is the CLI output."""


def _invalid_path(words: Sequence[str]) -> SetRefused:
    return SetRefused(f"Configuration path: [{' '.join(words)}] is not valid\n\nSet failed\n")


def _invalid_value(message: str) -> SetRefused:
    return SetRefused(f"\n\n  {message}\n  Value validation failed\n  Set failed\n\n")


def _ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def check_set(words: Sequence[str], dialect: str) -> None:
    """Raise ``SetRefused`` when VyOS ``dialect`` refuses ``set <words>`` (modelled subtrees only)."""
    w = list(words)
    if tuple(w[:2]) == DHCP and len(w) > 2:
        _check_dhcp_set(w, dialect)
    elif tuple(w[:2]) == HOSTS and len(w) > 2:
        _check_host_set(w)


def _check_dhcp_set(w: list[str], dialect: str) -> None:
    if w[2] not in ("shared-network-name", "hostfile-update", "listen-address", "global-parameters",
                    "high-availability", "failover", "dynamic-dns-update"):
        raise _invalid_path(w)
    if w[2] != "shared-network-name" or len(w) < 4:
        return
    if not _NET_NAME.fullmatch(w[3]):
        raise _invalid_value("Invalid shared network name")
    if len(w) < 6 or w[4] != "subnet":
        return
    try:
        ipaddress.IPv4Network(w[5])
    except ValueError as err:
        raise _invalid_value(f'"{w[5]}" is not a valid IPv4 prefix') from err
    if len(w) < 7:
        return
    if w[6] not in SUBNET_CHILDREN[dialect]:
        raise _invalid_path(w)
    if w[6] == "subnet-id" and len(w) > 7 and not (w[7].isdigit() and 1 <= int(w[7]) <= 4294967295):
        raise _invalid_value("Subnet ID must be between 1 and 4294967295")
    if w[6] != "static-mapping" or len(w) < 8:
        return
    if not _MAPPING_NAME[dialect].fullmatch(w[7]):
        raise _invalid_value(_MAPPING_ERROR[dialect])
    if len(w) < 9:
        return
    leaf = w[8]
    if leaf not in MAPPING_CHILDREN[dialect]:
        raise _invalid_path(w)
    value = w[9] if len(w) > 9 else None
    if leaf == "ip-address" and value is not None and not _ipv4(value):
        raise _invalid_value(f'"{value}" is not a valid IPv4 address')
    if leaf in ("mac", "mac-address") and value is not None and not _MAC.fullmatch(value):
        raise _invalid_value(f'"{value}" is not a valid MAC address')


def _check_host_set(w: list[str]) -> None:
    if w[2] != "host-name":
        raise _invalid_path(w)
    if len(w) < 4:
        return
    if not _HOST.fullmatch(w[3]):
        raise _invalid_value("Host-name must be alphanumeric and can contain hyphens")
    if len(w) < 5:
        return
    if w[4] not in HOST_CHILDREN:
        raise _invalid_path(w)
    value = w[5] if len(w) > 5 else None
    if w[4] == "inet" and value is not None and not _ip(value):
        raise _invalid_value(f'"{value}" is not a valid IP address')
    if w[4] == "alias" and value is not None and not 1 <= len(value) <= 63:
        raise _invalid_value("Alias must be between 1 and 63 characters long")


# ------------------------------------------------------------------------------ commit checks


def _tags(node: Node | None, name: str) -> Iterator[Node]:
    child = node.child(name) if node is not None else None
    if child is not None and child.kind in (Kind.TAG, Kind.NODE):
        yield from child.children


def _leaf(node: Node, name: str) -> str | None:
    child = node.child(name)
    return child.value if child is not None and child.kind is Kind.LEAF else None


def _has(node: Node, name: str) -> bool:
    return node.child(name) is not None


def host_error(tree: Tree) -> str | None:
    """The first ConfigError of ``system static-host-mapping`` (``system_host-name.py``)."""
    for host in _tags(tree.node(list(HOSTS)), "host-name"):
        inet = host.child("inet")
        if inet is None or not inet.values:
            return f'IP address required for static-host-mapping "{host.name}"'
        alias = host.child("alias")
        for a in alias.values if alias is not None else ():
            if not _HOST.fullmatch(a):
                return f'Invalid alias "{a}" in static-host-mapping "{host.name}"'
    return None


def dhcp_error(tree: Tree, dialect: str) -> str | None:
    """The first ConfigError of ``service dhcp-server`` (``service_dhcp-server.py`` ``verify()``)."""
    root = tree.node(list(DHCP))
    if root is None:
        return None
    networks = list(_tags(root, "shared-network-name"))
    if not networks:
        return "No DHCP shared networks configured.\nAt least one DHCP shared network must be configured."
    subnets: list[tuple[str, ipaddress.IPv4Network]] = []
    ids: set[str] = set()
    for net in networks:
        subs = list(_tags(net, "subnet"))
        if not subs:
            return f"No subnets defined for {net.name}. At least one\nlease subnet must be configured."
        for sub in subs:
            error = _subnet_error(net.name, sub, dialect, ids)
            if error:
                return error
            prefix = ipaddress.IPv4Network(sub.name, strict=False)
            for _, other in subnets:
                if other == prefix:
                    return f'Configured subnets must be unique! Subnet "{sub.name}"\ndefined multiple times!'
                if other.overlaps(prefix):
                    return f'Conflicting subnet ranges: "{other}" overlaps "{prefix}"!'
            subnets.append((net.name, prefix))
    if all(_has(net, "disable") for net in networks):
        return "At least one shared network must be active!"
    return None


def _subnet_error(sn: str, sub: Node, dialect: str, ids: set[str]) -> str | None:
    cidr = sub.name
    prefix = ipaddress.IPv4Network(cidr, strict=False)
    where = f'within shared-network "{sn}, {cidr}"!'
    if dialect == "1.5":
        sid = _leaf(sub, "subnet-id")
        if sid is None:
            return f'Unique subnet ID not specified for subnet "{cidr}"'
        if sid in ids:
            return f'Subnet ID for subnet "{cidr}" is not unique'
        ids.add(sid)
    error = _range_error(sn, sub, prefix)
    if error:
        return error
    for ex in sub.child("exclude").values if _has(sub, "exclude") else ():
        if ipaddress.IPv4Address(ex) not in prefix:
            return (f'Exclude IP address "{ex}" is outside of the DHCP lease network "{cidr}" '
                    f'under shared network "{sn}"!')
    mappings = list(_tags(sub, "static-mapping"))
    if not list(_tags(sub, "range")) and not mappings:
        return f"No DHCP address range or active static-mapping configured\n{where}"
    mac_leaf = "mac-address" if dialect == "1.4" else "mac"
    seen_ip: set[str] = set()
    seen_mac: set[str] = set()
    for m in mappings:
        ip = _leaf(m, "ip-address")
        disabled = _has(m, "disable")
        if disabled and dialect == "1.4":
            continue
        if ip is not None and ipaddress.IPv4Address(ip) not in prefix:
            return f'Configured static lease address for mapping "{m.name}" is\nnot {where}'
        ident = [v for v in (_leaf(m, mac_leaf), _leaf(m, "duid") if dialect == "1.5" else None) if v]
        if ip is not None and dialect == "1.4" and not ident:
            return f'MAC address required for static mapping "{m.name}"\n{where}'
        if ip is not None and dialect == "1.5" and len(ident) != 1:
            return (f'Either MAC address or Client identifier (DUID) is required for static mapping '
                    f'"{m.name}" {where}')
        if disabled:
            continue
        if ip is not None:
            if ip in seen_ip:
                return (f'Configured IP address for static mapping "{m.name}" already exists on '
                        "another static mapping")
            seen_ip.add(ip)
        for value in ident:
            key = value.lower()
            if key in seen_mac:
                return (f'Configured MAC address for static mapping "{m.name}" already exists on '
                        "another static mapping")
            seen_mac.add(key)
    return None


def _range_error(sn: str, sub: Node, prefix: ipaddress.IPv4Network) -> str | None:
    spans: list[tuple[str, int, int]] = []
    for r in _tags(sub, "range"):
        start, stop = _leaf(r, "start"), _leaf(r, "stop")
        if start is None or stop is None:
            return f'DHCP range "{r.name}" start and stop address must be defined!'
        a, b = ipaddress.IPv4Address(start), ipaddress.IPv4Address(stop)
        if a not in prefix:
            return (f'DHCP range "{r.name}" start address "{start}" is not in subnet "{sub.name}"\n'
                    f'specified for shared network "{sn}"!')
        if b not in prefix:
            return (f'DHCP range "{r.name}" stop address "{stop}" is not in subnet "{sub.name}"\n'
                    f'specified for shared network "{sn}"!')
        if b < a:
            return (f'DHCP range "{r.name}" stop address must be greater or equal\n'
                    f'to the ranges start address "{start}"!')
        for _, lo, hi in spans:
            if lo <= int(a) <= hi:
                return f'Range "{r.name}" start address "{start}" already part of another range!'
        spans.append((r.name, int(a), int(b)))
    return None


def commit_error(path: Sequence[str], tree: Tree, dialect: str) -> str | None:
    """The ConfigError of the subsystem at ``path`` on the candidate ``tree`` (None: it commits)."""
    if tuple(path) == HOSTS:
        return host_error(tree)
    if tuple(path) == DHCP:
        return dhcp_error(tree, dialect)
    return None

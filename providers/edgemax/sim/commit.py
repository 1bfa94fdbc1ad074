"""The simulator's commit checks: what EdgeOS's commit scripts refuse (edgeos.md §11.2–§11.4).

Owns: ``commit_errors(tree)`` — the `[ path ]` blocks a refused commit prints, with the router's
exact text: the ISC generator (``use-dnsmasq disable``, the default: every error gathered, then the
trailer line; the two ``DHCP server error:`` cases stop at once), the dnsmasq generator
(``use-dnsmasq enable``: the first error only, one line, no trailer) and `static-host-mapping`.
Must not: share code with the planner's foresight (``commitrules``): the simulator is an
independent implementation of the reference, so a misreading in one is caught by the other.

Simplifications (each an [I] of the reference): rule 14 (a DHCP subnet on a broadcast interface) is
checked only when the config gives some interface a static IPv4 address (a config fragment without
interfaces is not a whole router); rule 15 names the first missing parameter on its own line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

DHCP = "service dhcp-server"
TRAILER = "DHCP server configuration commit aborted due to error(s)."
IPv4 = ipaddress.IPv4Address
Net = ipaddress.IPv4Network


class _Stop(Exception):
    """A `DHCP server error:` — the script prints it and exits at once (no trailer)."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)


@dataclass(frozen=True)
class _Subnet:
    shared: str
    cidr: str
    node: Any

    @property
    def net(self) -> Net:
        return Net(self.cidr, strict=False)

    def values(self, leaf: str) -> tuple[str, ...]:
        child = self.node.child(leaf)
        return child.values if child is not None else ()

    def ranges(self) -> list[tuple[str, str | None]]:
        starts = self.node.child("start")
        out = []
        for start in starts.children if starts else ():
            stop = start.child("stop")
            out.append((start.name, stop.value if stop is not None else None))
        return out

    def mappings(self) -> Iterator[tuple[str, Any]]:
        tag = self.node.child("static-mapping")
        for mapping in tag.children if tag else ():
            yield mapping.name, mapping


def _leaf(node: Any, name: str) -> str | None:
    child = node.child(name)
    return child.value if child is not None else None


def _disabled(node: Any) -> bool:
    return node.child("disable") is not None


def _shared_networks(tree: Any) -> list[Any]:
    return list(tree.tag_values(["service", "dhcp-server", "shared-network-name"]))


def _subnets(sn: Any) -> list[_Subnet]:
    tag = sn.child("subnet")
    return [_Subnet(sn.name, s.name, s) for s in (tag.children if tag else ())]


# ---------------------------------------------------------------------------------------------
# ISC mode (dhcpd-config.pl)


def _mapping_errors(s: _Subnet) -> list[str]:
    out: list[str] = []
    for name, mapping in s.mappings():
        if _disabled(mapping):
            continue  # removed before any check (E3)
        ip, mac = _leaf(mapping, "ip-address"), _leaf(mapping, "mac-address")
        if ip is None:
            out += [f"No static DHCP lease IP address specified for static mapping '{name}'",
                    f"under shared network name '{s.shared}'."]
        elif IPv4(ip) not in s.net:
            out += [f"Static DHCP lease IP '{ip}' under static mapping '{name}'",
                    f"under shared network name '{s.shared}' is outside of the DHCP lease network "
                    f"'{s.cidr}'."]
        if mac is None:
            out += [f"No static DHCP lease mac address specified for static mapping '{name}'",
                    f"under shared network name '{s.shared}'."]
    return out


def _range_errors(s: _Subnet) -> list[str]:
    out: list[str] = []
    whole: list[tuple[str, str]] = []
    for start, stop in s.ranges():
        if IPv4(start) not in s.net:
            out += [f"Start DHCP lease IP '{start}' is outside of the DHCP lease network '{s.cidr}'",
                    f"under shared network '{s.shared}'."]
        if stop is None:
            out.append(f"Stop DHCP lease IP not defined for Start DHCP lease IP '{start}'")
            continue
        if IPv4(stop) not in s.net:
            out += [f"Stop DHCP lease IP '{stop}' is outside of the DHCP lease network '{s.cidr}'",
                    f"under shared network '{s.shared}'."]
        if IPv4(stop) < IPv4(start):
            out += [f"Stop DHCP lease IP '{stop}' should be an address equal to or later",
                    f"than the Start DHCP lease IP '{start}'"]
            continue
        whole.append((start, stop))
    for i, (a, b) in enumerate(whole):  # a later range against the earlier ones (either way round)
        for c, d in whole[:i]:
            hit = _inside(a, b, c, d) or _inside(c, d, a, b)
            if hit is not None:
                word, ip, lo, hi = hit
                out += [f"Conflicting DHCP lease ranges: {word} IP '{ip}'",
                        f"lies in DHCP lease range '{lo}'-'{hi}'."]
    return out


def _inside(a: str, b: str, c: str, d: str) -> tuple[str, str, str, str] | None:
    """("Start"|"Stop", the address, c, d) when range a-b starts or stops inside c-d."""
    for word, ip in (("Start", a), ("Stop", b)):
        if IPv4(c) <= IPv4(ip) <= IPv4(d):
            return word, ip, c, d
    return None


def _exclude_errors(s: _Subnet) -> list[str]:
    excludes = s.values("exclude")
    if not excludes:
        return []
    ranges = [(IPv4(a), IPv4(b)) for a, b in s.ranges() if b is not None]
    if not s.ranges():
        return [f"Atleast one start-stop range must be configured for {s.cidr} to exclude IP"]
    out: list[str] = []
    for ip in excludes:
        if IPv4(ip) not in s.net:
            out += [f"Exclude IP '{ip}' is outside of the DHCP lease network",
                    f"'{s.cidr}' under shared network '{s.shared}'."]
    gone = {IPv4(ip) for ip in excludes}
    size = sum(int(b) - int(a) + 1 for a, b in ranges if b >= a)
    inside = {ip for ip in gone if any(a <= ip <= b for a, b in ranges)}
    if ranges and size <= len(inside):
        raise _Stop("DHCP server error:",
                    "Cannot exclude all IP addresses defined in start-stop ranges for a subnet")
    return out


def _static_route_errors(s: _Subnet) -> list[str]:
    route = s.node.child("static-route")
    if route is None:
        return []
    missing = [p for p in ("destination-subnet", "router") if route.child(p) is None]
    return ["Please specify the missing DHCP static-route parameter:", missing[0]] if missing else []


def _failover_errors(s: _Subnet) -> list[str]:
    failover = s.node.child("failover")
    if failover is None:
        return []
    missing = [p for p in ("local-address", "peer-address", "status", "name") if failover.child(p) is None]
    return ["Please set one or more of the missing DHCP failover parameters:", *missing] if missing else []


def _broadcast_addresses(tree: Any) -> list[ipaddress.IPv4Interface]:
    out = []
    for path, node in tree.walk():
        if not path or path[0] != "interfaces" or path[-1] != "address":
            continue
        for value in node.values:
            try:
                iface = ipaddress.IPv4Interface(value)
            except ValueError:
                continue  # dhcp, dhcpv6, an IPv6 address
            if iface.network.prefixlen < 32:
                out.append(iface)
    return out


def _isc_errors(tree: Any) -> list[str]:
    networks = _shared_networks(tree)
    if not networks:
        return ["No DHCP shared networks configured.",
                "At least one DHCP shared network must be configured."]
    out: list[str] = []
    active: list[_Subnet] = []
    for sn in networks:
        if _disabled(sn):
            continue  # skipped entirely (E4)
        subnets = _subnets(sn)
        if not subnets:
            out += [f"No DHCP lease subnets configured for shared network name '{sn.name}'.",
                    "At least one DHCP lease subnet must be configured for each shared network."]
        for s in subnets:
            active.append(s)
            out += _mapping_errors(s)
            out += _range_errors(s)
            out += _exclude_errors(s)
            out += _static_route_errors(s) + _failover_errors(s)
            served = any(not _disabled(m) for _, m in s.mappings())
            if not s.ranges() and not served:
                out.append(f"No DHCP start-stop range or active static-mapping set for subnet {s.cidr}")
    for i, a in enumerate(active):
        for b in active[i + 1:]:
            if a.net.overlaps(b.net):
                out.append(f"Conflicting subnet ranges: {a.cidr} overlaps {b.cidr}")
    addresses = _broadcast_addresses(tree)
    if active and addresses and not any(s.net.subnet_of(i.network) or s.net == i.network
                                        for s in active for i in addresses):
        raise _Stop("DHCP server error: None of the DHCP lease subnets are inside any of the subnets",
                    "configured on broadcast interfaces.")
    return out


# ---------------------------------------------------------------------------------------------
# dnsmasq mode (dnsmasq-dhcp-config.pl): the first error, one line


def _dnsmasq_error(tree: Any) -> str | None:
    networks = _shared_networks(tree)
    if not networks:
        return "no shared-network-name defined - need at least one to run dhcp"
    subnets = [s for sn in networks if not _disabled(sn) for s in _subnets(sn)]
    if not subnets:
        return "found no active subnet in any shared-network - need at least one to run dhcp"
    for s in subnets:
        ranges = s.ranges()
        if not ranges and not any(True for _ in s.mappings()):  # a disabled mapping counts here
            return f"at least one dhcp range or a static mapping must be defined for dhcp subnet {s.cidr}"
        whole = []
        for start, stop in ranges:
            if stop is None:
                return f"Stop DHCP lease IP not defined for Start DHCP lease IP '{start}'"
            if IPv4(stop) < IPv4(start):
                return f"Range {start} - {stop} has stop before start"
            whole.append((start, stop))
        for i, (a, b) in enumerate(whole):
            for c, d in whole[i + 1:]:
                if IPv4(a) <= IPv4(d) and IPv4(c) <= IPv4(b):
                    return f"Ranges {a} - {b} and {c} - {d} overlap"
    return None


# ---------------------------------------------------------------------------------------------


def dhcp_errors(tree: Any) -> list[str]:
    """The `[ service dhcp-server ]` block of a refused commit ([] when the DHCP part passes)."""
    dhcp = tree.node(["service", "dhcp-server"])
    if dhcp is None or _leaf(dhcp, "disabled") == "true":
        return []  # no generator runs
    if _leaf(dhcp, "use-dnsmasq") == "enable":
        error = _dnsmasq_error(tree)
        return [error] if error else []
    try:
        lines = _isc_errors(tree)
    except _Stop as stop:
        return stop.lines
    return [*lines, TRAILER] if lines else []


def dhcp_warnings(tree: Any) -> list[str]:
    """What the ISC generator warns about and commits anyway: several subnets in one shared network."""
    dhcp = tree.node(["service", "dhcp-server"])
    if dhcp is None or _leaf(dhcp, "use-dnsmasq") == "enable":
        return []
    return [f"DHCP server warning: Multiple subnets configured under shared-network-name '{sn.name}'"
            for sn in _shared_networks(tree) if not _disabled(sn) and len(_subnets(sn)) > 1]


def host_errors(tree: Any) -> list[tuple[str, list[str]]]:
    """`static-host-mapping`'s commit expression: every host name needs an ``inet``."""
    out = []
    for host in tree.tag_values(["system", "static-host-mapping", "host-name"]):
        if host.child("inet") is None:
            out.append((f"system static-host-mapping host-name {host.name}",
                        ["IP address for the static mapping must be set"]))
    return out


def commit_errors(tree: Any) -> list[tuple[str, list[str]]]:
    """What a commit of ``tree`` refuses: ``(block path, message lines)`` in priority order
    (static-host-mapping 400 before dhcp-server 911)."""
    errors = host_errors(tree)
    dhcp = dhcp_errors(tree)
    if dhcp:
        errors.append((DHCP, dhcp))
    return errors

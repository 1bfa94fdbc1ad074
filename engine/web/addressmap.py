"""A network's address map for the status page: the prefix as a grid of addresses (like phpIPAM's
subnet view), each coloured by what it is, with what holds it and the host page it links to.

Owns: ``address_map(snapshot, matrix, network)``: per address one of ``conflict`` (a host a conflict
blocks), ``binding`` (a managed binding), ``reservation`` (an object a system holds that no binding
has: a reservation or DNS entry only), ``lease`` (a dynamic lease), ``gateway``, ``dynamic`` (the DHCP
range, free), ``free`` and ``reserved`` (the network and broadcast addresses). A prefix larger than a
/24 is shown as its /24 blocks that hold something, at most ``MAX_BLOCKS`` of them, and says so: a /16
never renders 65,536 cells.
Must not: do I/O, produce HTML, or name a system.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from core.config import Network
from core.errors import ConfigError
from core.ipv4 import Span, ip_int, ip_text
from engine.report.status import Matrix, Snapshot
from engine.web.pagedetail import web_link
from providers import registry
from providers.base import ROLE_NETWORK

KINDS = ("conflict", "binding", "gateway", "reservation", "lease", "dynamic", "free", "reserved")
LABELS = MappingProxyType({
    "conflict": "conflict", "binding": "managed binding", "reservation": "reservation only",
    "lease": "dynamic lease", "gateway": "gateway", "dynamic": "DHCP range (free)", "free": "free",
    "reserved": "network / broadcast"})
BLOCK = 256  # a /24
MAX_BLOCKS = 16  # at most this many /24 blocks (4,096 cells) on one page


@dataclass(frozen=True)
class Cell:
    ip: str
    kind: str
    title: str  # the tooltip: the address, what it is, who holds it
    href: str = ""  # the host page, where a row has this address
    last_octet: str = ""


@dataclass(frozen=True)
class Block:
    first: str  # "10.1.4.0"
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Link:
    system: str
    url: str


@dataclass(frozen=True)
class AddressMap:
    network: str
    prefix: str
    blocks: tuple[Block, ...]
    counts: Mapping[str, int]  # per kind, over the whole prefix's held addresses
    total_blocks: int  # /24 blocks in the prefix (1 for a /24 or smaller)
    busy_blocks: int  # blocks holding something
    note: str  # what is left out, if anything
    links: tuple[Link, ...]


@dataclass(frozen=True)
class _Holder:
    kind: str
    text: str
    href: str = ""


def address_map(snapshot: Snapshot, matrix: Matrix, network: Network) -> AddressMap:
    span = Span.of(network)
    holders = _holders(snapshot, matrix, network, span)
    total = max(1, (span.last - span.first + 1 + BLOCK - 1) // BLOCK)
    if total == 1:
        starts = [span.first]
        busy, note = 1, ""
    else:
        held = sorted({(v - span.first) // BLOCK for v in holders})
        busy = len(held)
        starts = [span.first + b * BLOCK for b in held[:MAX_BLOCKS]]
        size = 32 - network.prefix.prefixlen
        note = (f"a /{network.prefix.prefixlen} has {total:,} /24 blocks ({2 ** size:,} addresses): "
                f"shown are the {len(starts)} that hold something")
        if busy > MAX_BLOCKS:
            note += f" (the first {MAX_BLOCKS} of {busy})"
        note += "; the others are free or DHCP range only"
    blocks = tuple(_block(s, min(span.last, s + BLOCK - 1), span, holders) for s in starts)
    counts: dict[str, int] = dict.fromkeys(KINDS, 0)
    for h in holders.values():
        counts[h.kind] += 1
    return AddressMap(network.name, str(network.prefix), blocks, MappingProxyType(counts), total, busy, note,
                      _links(snapshot, network))


def _block(first: int, last: int, span: Span, holders: Mapping[int, _Holder]) -> Block:
    cells = []
    for value in range(first, last + 1):
        ip = ip_text(value)
        holder = holders.get(value)
        if holder is not None:
            kind, text, href = holder.kind, holder.text, holder.href
        elif value < span.usable[0] or value > span.usable[1]:
            kind, text, href = "reserved", "", ""
        elif span.dynamic and span.dynamic[0] <= value <= span.dynamic[1]:
            kind, text, href = "dynamic", "", ""
        else:
            kind, text, href = "free", "", ""
        title = f"{ip} — {LABELS[kind]}" + (f": {text}" if text else "")
        cells.append(Cell(ip, kind, title, href, ip.rsplit(".", 1)[-1]))
    return Block(ip_text(first), tuple(cells))


def _host_href(network: str, name: str) -> str:
    from urllib.parse import quote

    return f"/host/{quote(network, safe='')}/{quote(name, safe='')}"


def _holders(snapshot: Snapshot, matrix: Matrix, network: Network, span: Span) -> dict[int, _Holder]:
    """What holds each address of the prefix (the worst kind wins where two things claim one)."""
    out: dict[int, _Holder] = {}
    rank = {k: i for i, k in enumerate(KINDS)}

    def put(ip: str | None, holder: _Holder) -> None:
        value = ip_int(ip)
        if value is None or not span.first <= value <= span.last:
            return
        if value not in out or rank[holder.kind] < rank[out[value].kind]:
            out[value] = holder

    bound: set[str] = set()
    for row in matrix.rows:
        if row.network != network.name or not row.ip:
            continue
        who = " · ".join(x for x in (row.name, row.mac) if x)
        if row.kind == "discovered":
            put(row.ip, _Holder("lease", f"{who} (lease until {row.expires or '?'})",
                                _host_href(row.network, row.mac or "")))
            continue
        bound.add(row.ip)
        kind = "conflict" if row.kind == "blocked" or row.state == "red" else "binding"
        put(row.ip, _Holder(kind, who, _host_href(row.network, row.name)))
    for obs in snapshot.observations.values():
        for f in obs.facts:
            if f.network != network.name or not f.ip or f.ip in bound:
                continue
            who = " · ".join(x for x in (f.hostname, f.mac) if x)
            text = f"{who} ({f.ref})" if who else f.ref
            put(f.ip, _Holder("lease" if f.discovery else "reservation", text))
    if span.gateway is not None:  # the gateway: over what only names it (the router's own DNS entry)
        there = out.get(span.gateway)
        if there is None or there.kind in ("reservation", "lease"):
            text = "the network's gateway" + (f"; also {there.text}" if there is not None else "")
            out[span.gateway] = _Holder("gateway", text)
    return out


def _links(snapshot: Snapshot, network: Network) -> tuple[Link, ...]:
    """The network's own object in each system that has a page for it (an IPAM's prefix)."""
    out = []
    for key, obs in snapshot.observations.items():
        system = obs.system or key
        try:
            rtype = registry.kind_of(system).role_type(ROLE_NETWORK)
        except (KeyError, ValueError, ConfigError):
            continue
        if rtype is None:
            continue
        for address, resource in obs.resources.items():
            if address.type == rtype.name and address.name == network.name:
                details = _details(address.name, resource.provider_id)
                url = web_link(snapshot.config, system, rtype.name, details)
                if url:
                    out.append(Link(system, url))
    return tuple(out)


def _details(name: str, provider_id: Any) -> Mapping[str, Any]:
    return {"name": name, "provider_id": provider_id}

"""The status model: one run's plan, observations and checks as the binding matrix people look at.

Owns: ``Snapshot`` (what a run saw: the plan, the observations, each system's read health, the run,
the last verify, the history) and ``build`` → a frozen ``Matrix``: one row per binding, per host a
conflict blocks and per discovered device; one column per resource type of each configured system
instance (titles from the descriptors), an origin column where a kind declares one, and the
"resolves" column of the last verify; each cell ok / amber (pending change, held, drift, a failed
check) / red (conflict) / absent / n/a, with its reason. Plus the run's counts and each network's
address use. The status page, ``netsot explain`` and the tests all read this.
Must not: do I/O, name a system, or read a fact's ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from core.config import Config, Network
from core.ipv4 import Span, ip_int
from core.model import EMPTY, Address, Binding, Change, Check, Conflict, Fact, Observation, Plan
from engine import systems as systems_module
from engine.apply.history import Entry, VerifyRecord
from providers import registry

OK, AMBER, RED, ABSENT, NA = "ok", "amber", "red", "absent", "na"
_WORST = {RED: 3, AMBER: 2, OK: 1, ABSENT: 0, NA: 0}
RESOLVES = "resolves"
DNS_CHECK = "dns"  # the verify checks that ask a resolver (the "resolves" column)


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ReadHealth:
    """How the last read of one system instance went (Unix times)."""

    system: str
    ok: bool
    at: float | None = None  # the last attempt
    last_ok: float | None = None  # the last successful read
    seconds: float | None = None
    error: str = ""


@dataclass(frozen=True)
class RunInfo:
    """The run a snapshot comes from."""

    mode: str  # "serve" (the loop), "ui" (read + plan only), "cli"
    at: float  # when it finished (Unix time)
    outcome: str  # "ok", "partial", "error", "planned"
    next_at: float | None = None
    applied: int = 0
    failed: int = 0
    error: str = ""


@dataclass(frozen=True)
class Snapshot:
    """Everything the matrix is built from; ``applied`` maps an address to its outcome in the run's
    apply ("applied", or the error of a failed change)."""

    config: Config
    plan: Plan
    observations: Mapping[str, Observation]
    taken_at: float
    health: tuple[ReadHealth, ...] = ()
    run: RunInfo | None = None
    verify: VerifyRecord | None = None
    history: tuple[Entry, ...] = ()
    applied: Mapping[str, str] = field(default_factory=lambda: EMPTY)


# ----------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Column:
    key: str  # "edgemax.cabin:edgemax_host", "proxmox:origin", "resolves"
    system: str  # instance key ("" for the resolves column)
    title: str  # "DNS name"
    group: str  # "EdgeRouter (EdgeOS) · cabin"
    kind: str  # "origin", "resource", "resolves"
    rtype: str = ""


@dataclass(frozen=True)
class Cell:
    column: str
    state: str
    text: str  # short: "✓", "+ create", "! conflict", "–"
    reason: str  # one sentence, for the hover and the row's detail
    address: str = ""


@dataclass(frozen=True)
class Row:
    kind: str  # "binding", "blocked" (a conflict blocks it), "discovered"
    network: str
    name: str
    mac: str | None
    ip: str | None
    origin: str
    state: str  # the worst cell ("discovered" rows: "new")
    cells: tuple[Cell, ...]
    vendor: str = ""
    expires: str | None = None
    system: str = ""  # discovered: the DHCP server
    aliases: tuple[str, ...] = ()  # the binding's extra names

    @property
    def key(self) -> str:
        """``network/name`` (a discovered device: ``network/MAC``, the name is only what it sent)."""
        return f"{self.network}/{self.mac if self.kind == 'discovered' else self.name}"

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons of the cells that are not ok, once each."""
        return tuple(dict.fromkeys(c.reason for c in self.cells if c.state in (AMBER, RED)))

    @property
    def search_text(self) -> str:
        words = (self.name, *self.aliases, self.mac or "", self.ip or "", self.network, self.vendor)
        return " ".join(x for x in words if x).lower()

    def addresses(self) -> tuple[str, ...]:
        return tuple(c.address for c in self.cells if c.address)


@dataclass(frozen=True)
class NetworkUse:
    name: str
    prefix: str
    usable: int
    used: int  # distinct addresses outside the dynamic range that something holds
    dynamic: int  # size of the DHCP dynamic range
    leased: int  # addresses leased inside it
    free: int  # usable - dynamic - used


@dataclass(frozen=True)
class Matrix:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    counts: Mapping[
        str, int
    ]  # create, update, delete, held, conflicts, drift, discovered, unmanaged, bindings
    networks: tuple[NetworkUse, ...]
    generated_at: float

    def row(self, network: str, name: str) -> Row | None:
        for row in self.rows:
            if row.network == network and (
                row.name == name or (row.kind == "discovered" and row.mac == name)
            ):
                return row
        return None

    def title(self, column_key: str) -> str:
        for column in self.columns:
            if column.key == column_key:
                return f"{column.group} {column.title}".strip()
        return column_key


# ----------------------------------------------------------------------------- building


@dataclass
class _Index:
    """The plan's lookups by address, built once per matrix."""

    plan: Plan
    applied: Mapping[str, str]
    checks: Sequence[Check]
    changes: dict[str, Change] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)
    drift: dict[str, str] = field(default_factory=dict)
    blocked: dict[str, list[Conflict]] = field(default_factory=dict)
    blocked_keys: dict[str, list[Conflict]] = field(default_factory=dict)
    resolves: dict[str, Check] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.changes = {str(c.address): c for c in self.plan.changes}
        for h in self.plan.held:
            self.held[str(h.change.address)] = f"held by policy ({h.gate}): {h.reason}"
            self.changes.setdefault(str(h.change.address), h.change)
        self.drift = {str(d.address): d.reason for d in self.plan.drift}
        for c in self.plan.conflicts:
            for a in c.blocked:
                self.blocked.setdefault(str(a), []).append(c)
            for k in c.blocked_keys:
                self.blocked_keys.setdefault(k, []).append(c)
        for check in self.checks:
            if check.check == DNS_CHECK and check.address:
                self.resolves[check.address] = check


def columns_of(config: Config) -> tuple[Column, ...]:
    """The matrix's columns: per configured instance (registry order) its origin column, if its kind
    declares one, and one per resource type a binding has there; then the resolves column."""
    out: list[Column] = []
    for key in registry.ordered(config.providers):
        kind = registry.kind_of(key)
        instance = key.partition(".")[2]
        group = f"{kind.title} · {instance}" if instance else kind.title
        if kind.origin_label:
            out.append(Column(f"{key}:origin", key, kind.origin_label, group, "origin"))
        for rtype in kind.resource_types:
            if rtype.pseudo or rtype.role == "network":
                continue
            out.append(
                Column(
                    f"{key}:{rtype.name}",
                    key,
                    rtype.column or rtype.label or rtype.name,
                    group,
                    "resource",
                    rtype.name,
                )
            )
    out.append(Column(RESOLVES, "", "resolves", "DNS (last verify)", "resolves"))
    return tuple(out)


def build(snapshot: Snapshot) -> Matrix:
    """The matrix of one snapshot (columns no row uses are left out)."""
    config, plan = snapshot.config, snapshot.plan
    columns = columns_of(config)
    index = _Index(plan, snapshot.applied, snapshot.verify.checks if snapshot.verify else ())
    systems = systems_module.of(config)
    seen = frozenset(plan.fingerprints)
    rows = [_binding_row(b, columns, index, systems, seen) for b in plan.bindings]
    bound = {(r.network, r.name) for r in rows}
    rows += _blocked_rows(config, index, columns, systems, snapshot.observations, seen, bound)
    rows += [_discovered_row(d, columns) for d in plan.discovered]
    rows.sort(key=lambda r: (r.network, r.kind == "discovered", r.name, r.mac or ""))
    used = {c.column for r in rows for c in r.cells if c.state != NA}
    kept = tuple(c for c in columns if c.key in used or c.kind == "resolves")
    keep = {c.key for c in kept}
    rows = [_only(r, keep) for r in rows]
    return Matrix(
        kept, tuple(rows), _counts(plan), _networks(config, plan, snapshot.observations), snapshot.taken_at
    )


def _only(row: Row, keep: set[str]) -> Row:
    cells = tuple(c for c in row.cells if c.column in keep)
    return row if len(cells) == len(row.cells) else _with_cells(row, cells)


def _with_cells(row: Row, cells: tuple[Cell, ...]) -> Row:
    return Row(
        row.kind,
        row.network,
        row.name,
        row.mac,
        row.ip,
        row.origin,
        row.state,
        cells,
        row.vendor,
        row.expires,
        row.system,
        row.aliases,
    )


def _counts(plan: Plan) -> Mapping[str, int]:
    counts = plan.counts()
    counts.update(
        held=len(plan.held),
        conflicts=len(plan.conflicts),
        drift=len(plan.drift),
        discovered=len(plan.discovered),
        unmanaged=len(plan.unmanaged),
        bindings=len(plan.bindings),
    )
    return MappingProxyType(counts)


def _addresses(systems: systems_module.Systems, network: Network, name: str) -> dict[str, Address]:
    """``column key`` → address, for the resource columns of a binding named ``name``."""
    out: dict[str, Address] = {}
    for s in systems.serving(network.name):
        for rtype, address in s.kind.binding_addresses(network, name, s.key).items():
            out[f"{s.key}:{rtype}"] = address
    return out


def _binding_row(
    b: Binding,
    columns: Sequence[Column],
    index: _Index,
    systems: systems_module.Systems,
    seen: frozenset[str],
) -> Row:
    try:
        network = systems.config.network(b.network)
    except KeyError:
        return Row("binding", b.network, b.hostname, b.mac, b.ip, b.origin, ABSENT, ())
    addresses = _addresses(systems, network, b.hostname)
    for ref in b.origin_refs:  # a resource on the origin object itself (a write-back)
        if ref.address is not None:
            addresses[f"{ref.system}:{ref.address.type}"] = ref.address
    serving = {s.key for s in systems.serving(b.network)}
    cells = []
    for column in columns:
        if column.kind == "origin":
            cells.append(_origin_cell(b, column, serving))
        elif column.kind == "resolves":
            cells.append(_resolves_cell(column, addresses.values(), index))
        elif column.key in addresses:
            cells.append(_resource_cell(column, str(addresses[column.key]), index, seen))
        elif column.system in serving:
            cells.append(Cell(column.key, ABSENT, "–", f"no {column.title} for this host"))
        else:
            cells.append(Cell(column.key, NA, "", f"{column.system} does not serve {b.network}"))
    if b.waiting:
        cells = _waiting_cells(b, cells)
    return Row("binding", b.network, b.hostname, b.mac, b.ip, b.origin, _worst(cells), tuple(cells),
               aliases=b.aliases)


def _waiting_cells(b: Binding, cells: list[Cell]) -> list[Cell]:
    """A write-back the host has not taken yet (``pending restart``): its cell says so, in amber."""
    written = {str(ref.address) for ref in b.origin_refs if ref.address is not None}
    where = f"it still answers at {b.answers_at}, where its DNS name points" if b.answers_at else \
        "netsot does not know where it answers now"
    reason = f"{b.waiting}: the system holds {b.ip} for the host's next start; {where}"
    return [replace(c, state=AMBER, text=b.waiting, reason=reason) if c.address in written and c.state == OK
            else c for c in cells]


def _worst(cells: Iterable[Cell]) -> str:
    best = max((c.state for c in cells), key=lambda s: _WORST[s], default=ABSENT)
    return best if _WORST[best] else ABSENT


def _origin_cell(b: Binding, column: Column, serving: set[str]) -> Cell:
    if column.system not in serving:
        return Cell(column.key, NA, "", f"{column.system} does not serve {b.network}")
    ref = b.origin_in(column.system)
    if ref is not None:
        return Cell(column.key, OK, ref.object_label, f"the binding comes from {ref.label}")
    if not b.origin_refs and b.origin == registry.kind_of(column.system).name:
        return Cell(column.key, OK, "✓", f"the binding comes from {column.system}")
    return Cell(
        column.key, ABSENT, "–", f"not a {column.title} on {column.system} (origin: {b.origin or '?'})"
    )


def _resource_cell(column: Column, address: str, index: _Index, seen: frozenset[str]) -> Cell:
    conflicts = index.blocked.get(address)
    if conflicts:
        return Cell(column.key, RED, "! conflict", _conflict_text(conflicts), address)
    change = index.changes.get(address)
    outcome = index.applied.get(address)
    if change is not None and outcome == "applied":
        return Cell(
            column.key, OK, "✓", f"{change.action.value}d by the last run ({_change_text(change)})", address
        )
    if change is not None and outcome:
        return Cell(column.key, AMBER, "× failed", f"{change.action.value} failed: {outcome}", address)
    if address in index.held:
        return Cell(column.key, AMBER, "⏸ held", index.held[address], address)
    if change is not None:
        symbol = {"create": "+", "update": "~", "delete": "-"}[change.action.value]
        return Cell(column.key, AMBER, f"{symbol} {change.action.value}", _change_text(change), address)
    if address in index.drift:
        return Cell(column.key, AMBER, "~ drift", index.drift[address], address)
    if address in seen:
        return Cell(column.key, OK, "✓", f"{address} is in sync", address)
    return Cell(column.key, ABSENT, "–", f"{address} does not exist", address)


def _change_text(change: Change) -> str:
    text = f"pending {change.action.value} of {change.address}"
    if change.reason:
        text += f": {change.reason}"
    if change.action.value == "update":
        before, after = change.before or {}, change.after or {}
        diffs = [f"{k} {before.get(k)} → {after.get(k)}" for k in change.changed_attributes()]
        if diffs:
            text += f" ({', '.join(diffs)})"
    return text


def _conflict_text(conflicts: Sequence[Conflict]) -> str:
    return "; ".join(f"{c.kind.value}: {c.reason}" for c in conflicts)


def _resolves_cell(column: Column, addresses: Iterable[Address], index: _Index) -> Cell:
    for address in addresses:
        check = index.resolves.get(str(address))
        if check is not None:
            state, text = (OK, "✓") if check.ok else (AMBER, "✗ fails")
            return Cell(column.key, state, text, f"{check.object} {check.detail}", str(address))
    return Cell(column.key, ABSENT, "–", "not checked by the last verify (`netsot verify`)")


# ----------------------------------------------------------------------------- conflict-blocked hosts


def _blocked_rows(
    config: Config,
    index: _Index,
    columns: Sequence[Column],
    systems: systems_module.Systems,
    observations: Mapping[str, Observation],
    seen: frozenset[str],
    bound: set[tuple[str, str]],
) -> list[Row]:
    facts = [f for obs in observations.values() for f in obs.facts if not f.discovery]
    out = []
    for key, conflicts in sorted(index.blocked_keys.items()):
        network_name, _, name = key.partition(".")
        if (network_name, name) in bound:
            continue
        try:
            network = config.network(network_name)
        except KeyError:
            continue
        mine = [f for f in facts if f.network == network_name and f.hostname == name]
        out.append(_blocked_row(network, name, mine, conflicts, columns, systems, seen))
    return out


def _blocked_row(
    network: Network,
    name: str,
    facts: Sequence[Fact],
    conflicts: Sequence[Conflict],
    columns: Sequence[Column],
    systems: systems_module.Systems,
    seen: frozenset[str],
) -> Row:
    reason = _conflict_text(conflicts)
    origin = next((f for f in facts if f.origin), facts[0] if facts else None)
    addresses = {k: str(a) for k, a in _addresses(systems, network, name).items()}
    serving = {s.key for s in systems.serving(network.name)}
    blocked = {str(a) for c in conflicts for a in c.blocked}
    cells = []
    for column in columns:
        address = addresses.get(column.key, "")
        claimed = bool(address) and (address in seen or address in blocked)
        if column.system not in serving and column.kind != "resolves":
            cells.append(Cell(column.key, NA, "", f"{column.system} does not serve {network.name}"))
        elif column.kind == "origin":
            mine = [f for f in facts if f.origin and f.source == registry.kind_of(column.system).name]
            cells.append(
                Cell(column.key, RED, mine[0].ref.split(" ", 1)[-1], reason)
                if mine
                else Cell(column.key, ABSENT, "–", f"not a {column.title}")
            )
        elif column.kind == "resource" and claimed:
            cells.append(Cell(column.key, RED, "! conflict", reason, address))
        else:
            cells.append(Cell(column.key, ABSENT, "–", "not touched while the conflict lasts", address))
    return Row(
        "blocked",
        network.name,
        name,
        origin.mac if origin else None,
        origin.ip if origin else None,
        origin.source if origin else "",
        RED,
        tuple(cells),
    )


def _discovered_row(item: Any, columns: Sequence[Column]) -> Row:
    cells = tuple(Cell(c.key, NA, "", "a dynamic lease only") for c in columns)
    name = item.hostname_hint or ""
    return Row(
        "discovered",
        item.network or "",
        name,
        item.mac,
        item.ip,
        "lease",
        "new",
        cells,
        item.vendor,
        item.expires,
        item.system,
    )


# ----------------------------------------------------------------------------- address use


def _networks(config: Config, plan: Plan, observations: Mapping[str, Observation]) -> tuple[NetworkUse, ...]:
    taken: dict[str, set[int]] = {n.name: set() for n in config.networks}
    leased: dict[str, set[int]] = {n.name: set() for n in config.networks}
    for b in plan.bindings:
        _add(taken, b.network, b.ip)
    for obs in observations.values():
        for f in obs.facts:
            _add(leased if f.discovery else taken, f.network or "", f.ip)
    return tuple(_use(n, taken[n.name], leased[n.name]) for n in config.networks)


def _add(into: dict[str, set[int]], network: str, ip: str | None) -> None:
    value = ip_int(ip)
    if network in into and value is not None:
        into[network].add(value)


def _use(net: Network, taken: set[int], leased: set[int]) -> NetworkUse:
    span = Span.of(net)
    low, high = span.usable
    usable = high - low + 1
    dyn = span.dynamic
    in_dyn = (lambda v: dyn[0] <= v <= dyn[1]) if dyn else (lambda v: False)
    used = {
        v for v in taken | ({span.gateway} if span.gateway else set()) if low <= v <= high and not in_dyn(v)
    }
    dynamic = dyn[1] - dyn[0] + 1 if dyn else 0
    in_range = {v for v in leased | taken if in_dyn(v)}
    return NetworkUse(
        net.name,
        str(net.prefix),
        usable,
        len(used),
        dynamic,
        len(in_range),
        max(0, usable - dynamic - len(used)),
    )

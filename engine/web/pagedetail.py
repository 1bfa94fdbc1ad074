"""What the status page says about one row beyond its cells: a badge naming the state, what is wrong
and what to do (each conflict's ``to fix:`` and effects, the other hosts of the conflict, a hand edit
and the command that keeps it), links out to each system's own page for the row's objects, and when
each system last saw them.

Owns: ``Details`` (built once per page from a snapshot and its matrix) and ``Details.of(row)``.
Must not: do I/O, produce HTML, or name a system (links come from each kind's ``web_link``, places
from its ``location``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import ConfigError
from core.model import Address, Binding, Conflict, Drift, ObservedResource
from engine.report.status import Matrix, ReadHealth, Row, Snapshot
from providers import registry

# the badge of a row: what its state is, in words (worst first)
CONFLICT, DRIFT, HELD, FAILED, PENDING, DISCOVERED, IN_SYNC, NONE = (
    "conflict", "drift", "held", "failed", "pending", "discovered", "in sync", "none")
_BADGE_CLASS = {CONFLICT: "red", DRIFT: "amber", HELD: "amber", FAILED: "amber", PENDING: "amber",
                DISCOVERED: "new", IN_SYNC: "ok", NONE: "absent"}


@dataclass(frozen=True)
class Peer:
    network: str
    name: str  # the row's name (a discovered device: its MAC)
    label: str

    @property
    def key(self) -> str:
        return f"{self.network}/{self.name}"


@dataclass(frozen=True)
class ConflictNote:
    kind: str
    reason: str
    fix: str
    effects: tuple[str, ...]
    peers: tuple[Peer, ...]  # the other hosts of this conflict that have a row


@dataclass(frozen=True)
class Note:
    """A sentence about the row, with the command that acts on it (empty: none)."""

    text: str
    command: str = ""


@dataclass(frozen=True)
class Link:
    system: str
    label: str
    url: str


@dataclass(frozen=True)
class Seen:
    system: str
    last_ok: float | None  # the last good read of the system that holds the object


@dataclass(frozen=True)
class RowDetail:
    badge: str
    badge_class: str
    conflicts: tuple[ConflictNote, ...] = ()
    notes: tuple[Note, ...] = ()
    links: tuple[Link, ...] = ()
    seen: tuple[Seen, ...] = ()

    @property
    def has_more(self) -> bool:
        return bool(self.conflicts or self.notes or self.links)

    def other_reasons(self, reasons: Sequence[str]) -> list[str]:
        """The row's reasons that its conflicts do not already say (a conflict's cells give its text)."""
        said = [f"{c.kind}: {c.reason}" for c in self.conflicts]
        return [r for r in reasons if not any(text in r for text in said)]


def where(system: str) -> str:
    """Where a system's objects live, for sentences: "on the router", "in NIPAP (IPAM)"."""
    try:
        kind = registry.kind_of(system)
    except (KeyError, ValueError, ConfigError):
        return f"in {system}"
    return kind.location or f"in {kind.title}"


def drift_note(d: Drift) -> Note:
    """A hand edit in words, and the command that keeps it instead (where there is one)."""
    place = where(d.address.system)
    if d.resolution == "adopt":
        return Note(f"changed {place} by hand: the next apply keeps it (adopted)")
    if d.actual is None:
        return Note(f"deleted {place} by hand: the next apply creates it again")
    return Note(f"changed {place} by hand: the next apply reverts it — keep it with",
                f"netsot apply --adopt {d.address}")


@dataclass
class Details:
    """The per-row details of one page, with the plan's lookups built once."""

    snapshot: Snapshot
    matrix: Matrix
    conflicts_of_address: dict[str, list[Conflict]] = field(default_factory=dict)
    conflicts_of_key: dict[str, list[Conflict]] = field(default_factory=dict)
    drift: dict[str, Drift] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    changes: set[str] = field(default_factory=set)
    bindings: dict[tuple[str, str], Binding] = field(default_factory=dict)
    row_of_address: dict[str, Row] = field(default_factory=dict)
    row_of_key: dict[str, Row] = field(default_factory=dict)
    resources: dict[str, tuple[str, ObservedResource]] = field(default_factory=dict)
    health: dict[str, ReadHealth] = field(default_factory=dict)

    def __post_init__(self) -> None:
        plan = self.snapshot.plan
        for c in plan.conflicts:
            for a in c.blocked:
                self.conflicts_of_address.setdefault(str(a), []).append(c)
            for k in c.blocked_keys:
                self.conflicts_of_key.setdefault(k, []).append(c)
        self.drift = {str(d.address): d for d in plan.drift}
        self.held = {str(h.change.address) for h in plan.held}
        self.changes = {str(c.address) for c in plan.changes}
        self.bindings = {(b.network, b.hostname): b for b in plan.bindings}
        for row in self.matrix.rows:
            if row.kind != "discovered":
                self.row_of_key.setdefault(f"{row.network}.{row.name}", row)
            for address in row.addresses():
                self.row_of_address.setdefault(address, row)
        for key, obs in self.snapshot.observations.items():
            for address, resource in obs.resources.items():
                self.resources[str(address)] = (obs.system or key, resource)
        self.health = {h.system: h for h in self.snapshot.health}

    # ------------------------------------------------------------------------- one row

    def of(self, row: Row) -> RowDetail:
        if row.kind == "discovered":
            return RowDetail(DISCOVERED, _BADGE_CLASS[DISCOVERED], seen=self._seen([row.system]))
        addresses = row.addresses()
        conflicts = self._conflicts(row, addresses)
        drifts = [self.drift[a] for a in addresses if a in self.drift]
        binding = self.bindings.get((row.network, row.name))
        badge = self._badge(row, addresses, conflicts, drifts, binding)
        notes = [drift_note(d) for d in drifts]
        if binding is not None and binding.waiting:
            notes.append(Note(f"{binding.waiting}: the change waits for the host's next start"))
        systems = [self.resources[a][0] for a in addresses if a in self.resources]
        systems += [ref.system for ref in (binding.origin_refs if binding else ())]
        return RowDetail(badge, _BADGE_CLASS[badge], tuple(self._conflict_note(c, row) for c in conflicts),
                         tuple(notes), self._links(binding, addresses), self._seen(systems))

    def _conflicts(self, row: Row, addresses: Sequence[str]) -> list[Conflict]:
        found = list(self.conflicts_of_key.get(f"{row.network}.{row.name}", ()))
        for address in addresses:
            found += self.conflicts_of_address.get(address, ())
        return list({id(c): c for c in found}.values())

    def _badge(self, row: Row, addresses: Sequence[str], conflicts: Sequence[Conflict],
               drifts: Sequence[Drift], binding: Binding | None) -> str:
        if conflicts or row.kind == "blocked":
            return CONFLICT
        if drifts:
            return DRIFT
        if any(a in self.held for a in addresses):
            return HELD
        if any(c.text.startswith("×") for c in row.cells):
            return FAILED
        if (binding is not None and binding.waiting) or any(
                a in self.changes and self.snapshot.applied.get(a) != "applied" for a in addresses):
            return PENDING
        return IN_SYNC if row.state == "ok" else NONE

    def _conflict_note(self, c: Conflict, row: Row) -> ConflictNote:
        peers: dict[str, Peer] = {}
        others = [self.row_of_key.get(k) for k in c.blocked_keys]
        others += [self.row_of_address.get(str(a)) for a in c.blocked]
        for other in others:
            if other is None or (other.network, other.name) == (row.network, row.name):
                continue
            name = other.mac if other.kind == "discovered" else other.name
            peer = Peer(other.network, name or "", other.name or name or "")
            peers.setdefault(peer.key, peer)
        return ConflictNote(c.kind.value, c.reason, c.fix, tuple(c.effects), tuple(peers.values()))

    def _links(self, binding: Binding | None, addresses: Sequence[str]) -> tuple[Link, ...]:
        links: dict[str, Link] = {}
        for ref in binding.origin_refs if binding else ():
            url = self._link(ref.system, ref.noun, ref.data)
            if url:
                links.setdefault(url, Link(ref.system, f"{ref.noun} {ref.object}", url))
        for address in addresses:
            found = self.resources.get(address)
            if found is None:
                continue
            system, resource = found
            parsed = Address.parse(address)
            url = self._link(system, parsed.type, {"name": parsed.name, "provider_id": resource.provider_id})
            if url:
                links.setdefault(url, Link(system, _label(system, parsed.type), url))
        return tuple(links.values())

    def _link(self, system: str, what: str, details: Mapping[str, Any]) -> str | None:
        return web_link(self.snapshot.config, system, what, details)

    def _seen(self, systems: Sequence[str]) -> tuple[Seen, ...]:
        out = []
        for system in dict.fromkeys(s for s in systems if s):
            h = self.health.get(system)
            out.append(Seen(system, h.last_ok if h is not None else None))
        return tuple(out)


def web_link(config: Any, system: str, what: str, details: Mapping[str, Any]) -> str | None:
    """The URL of an object in its system's own web UI (None: the system has none, or no page for it)."""
    try:
        kind = registry.kind_of(system)
        settings = config.providers[system]
    except (KeyError, ValueError, ConfigError):
        return None
    if kind.web_link is None:
        return None
    url = kind.web_link(settings, what, details)
    return url if url and url.startswith(("https://", "http://")) else None


def _label(system: str, rtype: str) -> str:
    try:
        found = registry.kind_of(system).resource_type(rtype)
    except (KeyError, ValueError, ConfigError):
        found = None
    return (found.label or found.name) if found is not None else rtype

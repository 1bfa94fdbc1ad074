"""The state model: what netsot owns, as recorded between runs.

Owns: the frozen ``State`` envelope (version, serial, lineage), one ``ResourceState``
per owned object, and the apply journal (intended → sent → confirmed per operation).
Must not: hold a secret, do I/O, or import the engine (only ``core.errors``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

STATE_VERSION = 3

# who made an owned object (``ResourceState.ownership``)
MADE = "made"  # netsot created it in an apply: it may delete it
ADOPTED = "adopted"  # netsot took over an existing object: deleted only on the user's explicit request
UNKNOWN = "unknown"  # a pre-v3 state cannot tell: read as adopted unless the object says otherwise

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ResourceState:
    """One owned object. ``attributes`` are what netsot last wrote or adopted; ``ownership`` says whether
    netsot made it (created it in an apply) or adopted it (import, or an apply that took it over)."""

    address: str
    provider: str  # "nipap", "edgemax", "proxmox"
    provider_id: str | None
    attributes: Mapping[str, Any]
    dependencies: tuple[str, ...] = ()
    origin: str = ""  # "proxmox", "config", "import"
    status: str = "managed"  # "managed" or "orphaned"
    orphaned_since: str | None = None  # ISO-8601 UTC
    ownership: str = MADE  # MADE, ADOPTED or UNKNOWN (see above)

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "provider": self.provider,
            "provider_id": self.provider_id,
            "attributes": _plain(self.attributes),
            "dependencies": list(self.dependencies),
            "origin": self.origin,
            "ownership": self.ownership,
            "status": self.status,
            "orphaned_since": self.orphaned_since,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceState:
        return cls(
            address=data["address"],
            provider=data["provider"],
            provider_id=data.get("provider_id"),
            attributes=MappingProxyType(dict(data.get("attributes") or {})),
            dependencies=tuple(data.get("dependencies") or ()),
            origin=data.get("origin", ""),
            status=data.get("status", "managed"),
            orphaned_since=data.get("orphaned_since"),
            ownership=data.get("ownership", MADE),
        )


@dataclass(frozen=True)
class JournalEntry:
    """One operation of an apply in flight: intended, then sent, then confirmed."""

    op_id: str
    address: str
    action: str  # "create", "update", "delete"
    phase: str  # "intended", "sent", "confirmed"
    system: str
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)  # what was sent (never a secret)
    time: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "op_id": self.op_id,
            "address": self.address,
            "action": self.action,
            "phase": self.phase,
            "system": self.system,
            "data": _plain(self.data),
            "time": self.time,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JournalEntry:
        return cls(
            data["op_id"],
            data["address"],
            data["action"],
            data["phase"],
            data.get("system", ""),
            MappingProxyType(dict(data.get("data") or {})),
            data.get("time", ""),
        )


@dataclass(frozen=True)
class Forgotten:
    """An object ``state rm`` removed from the state: it still exists, netsot no longer manages it."""

    address: str
    provider: str
    time: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "provider": self.provider, "time": self.time}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Forgotten:
        return cls(data["address"], data["provider"], data.get("time", ""))


@dataclass(frozen=True)
class State:
    """The state envelope. ``serial`` moves only on real change; ``lineage`` never changes."""

    lineage: str = field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    version: int = STATE_VERSION
    resources: Mapping[str, ResourceState] = field(default_factory=lambda: _EMPTY)
    journal: tuple[JournalEntry, ...] = ()
    forgotten: tuple[Forgotten, ...] = ()  # what `state rm` removed (newest last)

    def with_resource(self, resource: ResourceState) -> State:
        res = dict(self.resources)
        res[resource.address] = resource
        forgotten = self.forgotten
        if forgotten and any(f.address == resource.address for f in forgotten):
            forgotten = tuple(f for f in forgotten if f.address != resource.address)  # managed again
        return replace(self, resources=MappingProxyType(res), forgotten=forgotten)

    def without(self, address: str) -> State:
        res = dict(self.resources)
        res.pop(address, None)
        return replace(self, resources=MappingProxyType(res))

    def forget(self, address: str, time: str = "") -> State:
        """``state rm``: the object leaves the state and is remembered as forgotten."""
        record = self.resources.get(address)
        if record is None:
            return self
        kept = tuple(f for f in self.forgotten if f.address != address)
        return replace(self.without(address), forgotten=(*kept, Forgotten(address, record.provider, time)))

    def with_journal(self, journal: tuple[JournalEntry, ...]) -> State:
        return replace(self, journal=journal)

    def content(self) -> dict[str, Any]:
        """Everything but ``serial``: two states with equal content are the same state."""
        return {
            "version": self.version,
            "lineage": self.lineage,
            "resources": {a: r.to_dict() for a, r in sorted(self.resources.items())},
            "journal": [j.to_dict() for j in self.journal],
            "forgotten": [f.to_dict() for f in self.forgotten],
        }

    def same_content(self, other: State) -> bool:
        """``self.content() == other.content()``, without building both documents: a state derived from
        another shares its unchanged ``ResourceState`` objects, so identity settles most resources."""
        if self.version != other.version or self.lineage != other.lineage:
            return False
        mine, theirs = self.resources, other.resources
        if mine is not theirs:
            if mine.keys() != theirs.keys():
                return False
            for key, record in mine.items():
                them = theirs[key]
                if record is not them and record.to_dict() != them.to_dict():
                    return False
        return ([j.to_dict() for j in self.journal] == [j.to_dict() for j in other.journal]
                and [f.to_dict() for f in self.forgotten] == [f.to_dict() for f in other.forgotten])

    def to_dict(self) -> dict[str, Any]:
        data = self.content()
        data["serial"] = self.serial
        data["resources"] = list(data["resources"].values())
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> State:
        resources = {r["address"]: ResourceState.from_dict(r) for r in data.get("resources", [])}
        return cls(
            lineage=data["lineage"],
            serial=int(data["serial"]),
            version=int(data["version"]),
            resources=MappingProxyType(resources),
            journal=tuple(JournalEntry.from_dict(j) for j in data.get("journal", [])),
            forgotten=tuple(Forgotten.from_dict(f) for f in data.get("forgotten", [])),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value

"""The import boundary: what a system's import hook returns and what other systems' hooks get.

Owns: ``ImportItem`` (one object and what import does with it, with the state record when it is
adopted), ``BindingClaim`` (the binding an adopted object stands for: network, host name, IP,
MAC — what other systems use to adopt their objects of the same binding), and ``ImportPlan``.
Must not: do I/O or know a system.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.model import to_jsonable

STATUSES = ("adopt", "conflict", "managed", "ignored")


@dataclass(frozen=True)
class BindingClaim:
    """The binding an adopted object belongs to."""

    address: str  # the adopted object
    network: str
    hostname: str
    ip: str | None
    mac: str | None = None
    origin: str = "import"  # the origin the binding gets ("import", or the source it joins)


@dataclass(frozen=True)
class ImportItem:
    """One object and what import does with it."""

    address: str
    status: str  # "adopt", "conflict", "managed" (already in state), "ignored" (not in a configured network)
    reason: str
    record: Mapping[str, Any] | None = None  # ResourceState-compatible dict when adopted
    claim: BindingClaim | None = None

    def __init__(self, address: str, status: str, reason: str, record: Mapping[str, Any] | None = None,
                 claim: BindingClaim | None = None) -> None:
        # one step, not a frozen dataclass's setattr per field: a plan's Unmanaged section asks the
        # import for a verdict on each of thousands of router entries (see ``core.model.Unmanaged``)
        d = self.__dict__  # field by field, in field order (see ``core.model.Change.__init__``)
        d["address"] = address
        d["status"] = status
        d["reason"] = reason
        d["record"] = record
        d["claim"] = claim

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "status": self.status,
            "reason": self.reason,
            "record": to_jsonable(self.record) if self.record is not None else None,
        }


@dataclass(frozen=True)
class ImportPlan:
    items: tuple[ImportItem, ...] = ()

    @property
    def adoptions(self) -> tuple[ImportItem, ...]:
        return tuple(i for i in self.items if i.status == "adopt")

    @property
    def conflicts(self) -> tuple[ImportItem, ...]:
        return tuple(i for i in self.items if i.status == "conflict")

    @property
    def claims(self) -> tuple[BindingClaim, ...]:
        return tuple(i.claim for i in self.adoptions if i.claim is not None)

    def records(self) -> list[dict[str, Any]]:
        return [dict(to_jsonable(i.record)) for i in self.adoptions if i.record is not None]

    def to_dict(self) -> dict[str, Any]:
        counts = Counter(i.status for i in self.items)
        summary = {s: counts.get(s, 0) for s in STATUSES}
        return {"items": [i.to_dict() for i in self.items], "summary": summary}

    def __add__(self, other: ImportPlan) -> ImportPlan:
        return ImportPlan(self.items + other.items)


"""In-memory doubles for engine tests: a provider implementing the Provider protocol and a
state backend that records every saved state."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from core.errors import ProviderRejected
from core.model import (
    Action,
    Address,
    ApplyResult,
    Change,
    ChangeOutcome,
    Desired,
    Observation,
    ObservedResource,
    frozen_map,
)
from providers.base import PlanContext
from state.backend import MemoryBackend
from state.model import State


class MemProvider:
    """A system held in a dict. ``planned`` is what ``plan()`` returns; ``fail`` lists addresses
    whose change fails; ``batch_error`` makes the whole ``apply`` raise."""

    def __init__(self, name: str, objects: Mapping[Address, Mapping[str, Any]] | None = None,
                 calls: list[tuple[str, tuple[str, ...]]] | None = None) -> None:
        self.name = name
        self.objects: dict[Address, dict[str, Any]] = {a: dict(v) for a, v in (objects or {}).items()}
        self.planned: list[Change] = []
        self.fail: set[Address] = set()
        self.batch_error: Exception | None = None
        self.read_error: Exception | None = None
        self.read_gate: threading.Event | None = None
        self.read_done = False
        self.calls = calls if calls is not None else []
        self.contexts: list[PlanContext] = []
        self.warnings: tuple[str, ...] = ()
        self.closed = False

    def read(self) -> Observation:
        if self.read_gate is not None:
            assert self.read_gate.wait(5)
        if self.read_error is not None:
            raise self.read_error
        self.read_done = True
        resources = {a: ObservedResource(a, frozen_map(v), provider_id=f"id-{a.name}")
                     for a, v in self.objects.items()}
        return Observation(self.name, frozen_map(resources), warnings=self.warnings)

    def plan(self, desired: Desired, observed: Observation, ctx: PlanContext) -> list[Change]:
        self.contexts.append(ctx)
        return list(self.planned)

    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        self.calls.append((self.name, tuple(str(c.address) for c in changes)))
        if self.batch_error is not None:
            raise self.batch_error
        outcomes = []
        for change in changes:
            if change.address in self.fail:
                outcomes.append(ChangeOutcome(change.address, "failed", "rejected by the double"))
                continue
            if change.action is Action.DELETE:
                self.objects.pop(change.address, None)
                outcomes.append(ChangeOutcome(change.address, "applied"))
            else:
                self.objects[change.address] = dict(change.after or {})
                pid = f"id-{change.address.name}"
                outcomes.append(ChangeOutcome(change.address, "applied", None, pid, change.after))
        return ApplyResult(tuple(outcomes), log=(f"{self.name}: {len(changes)} change(s)",))

    def close(self) -> None:
        self.closed = True


class RecordingBackend(MemoryBackend):
    """MemoryBackend that keeps every state it stored, in order."""

    def __init__(self, state: State | None = None) -> None:
        super().__init__()
        self.saved: list[State] = []
        if state is not None:
            super().save(state)

    def save(self, state: State) -> State:
        stored = super().save(state)
        self.saved.append(stored)
        return stored


# the placeholder record's key: a declared field of each typed resource type (core.fields refuses others)
PLACEHOLDER_KEY = {"nipap_prefix": "prefix", "nipap_address": "hostname", "proxmox_ipconfig": "nic",
                   "edgemax_host": "host_name", "vyos_host": "host_name"}


def change(action: str, address: str, *deps: str, after: Mapping[str, Any] | None = None,
           before: Mapping[str, Any] | None = None, **extra: Any) -> Change:
    act = Action(action)
    if after is None and act is not Action.DELETE:
        after = {PLACEHOLDER_KEY.get(Address.parse(address).type, "name"): address}
    return Change(act, Address.parse(address), frozen_map(before) if before else None,
                  frozen_map(after) if after is not None else None,
                  depends_on=tuple(Address.parse(d) for d in deps), **extra)


@pytest.fixture
def calls() -> list[tuple[str, tuple[str, ...]]]:
    return []


@pytest.fixture
def systems(calls: list[tuple[str, tuple[str, ...]]]) -> dict[str, MemProvider]:
    return {name: MemProvider(name, calls=calls) for name in ("nipap", "proxmox", "edgemax")}


__all__ = ["MemProvider", "ProviderRejected", "RecordingBackend", "change"]

"""The Provider protocol every managed system implements, and the registry.

Owns: the four-method contract between the engine and a system, the context the
engine hands to ``plan`` and the name → class registry (lazy imports, so a system
that is not configured never loads its client library).
Must not: import a concrete provider at module import time.

Contract (each provider package implements it in ``provider.py``):

* ``Provider(config, settings)`` — built by the engine for each configured system;
  ``config`` is the whole :class:`engine.config.Config`, ``settings`` its own section.
  Construction must not do I/O.
* ``read() -> Observation`` — what the system holds now. Must raise
  ``ProviderError`` subclasses (never a library exception) and must not change anything.
* ``plan(desired, observed, ctx) -> list[Change]`` — pure: the changes that make
  this system match ``desired``. Must touch only owned objects (``ctx.owned``, or
  observed objects whose ``owned_marker`` is set), never an address in
  ``desired.blocked``; must give every change its ``depends_on``.
* ``apply(changes) -> ApplyResult`` — one batch (one graph level of this system).
  Returns one outcome per change; a failure of the whole batch is a failed outcome
  for each change, not an exception, unless the system cannot be reached at all.
* ``close()`` — release sessions; safe to call twice.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from engine.errors import ConfigError
from engine.model import (
    EMPTY,
    Address,
    ApplyResult,
    Change,
    Desired,
    ManagedResource,
    Observation,
)


@dataclass(frozen=True)
class PlanContext:
    """What the engine knows besides the observation: ownership and recorded state."""

    owned: Mapping[Address, ManagedResource] = field(default_factory=lambda: EMPTY)
    targets: frozenset[Address] = frozenset()  # --target filter (empty: everything)
    options: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # e.g. {"allow_prefix_create": True}

    def is_owned(self, address: Address) -> bool:
        return address in self.owned


@runtime_checkable
class Provider(Protocol):
    name: str

    def read(self) -> Observation: ...

    def plan(self, desired: Desired, observed: Observation, ctx: PlanContext) -> list[Change]: ...

    def apply(self, changes: Sequence[Change]) -> ApplyResult: ...

    def close(self) -> None: ...


BUILTIN: dict[str, str] = {
    "proxmox": "providers.proxmox.provider:ProxmoxProvider",
    "nipap": "providers.nipap.provider:NipapProvider",
    "edgemax": "providers.edgemax.provider:EdgemaxProvider",
}

_registry: dict[str, str | type] = dict(BUILTIN)


def register(name: str, target: str | type) -> None:
    """Register a provider class (or ``"module:Class"`` path) under ``name``."""
    _registry[name] = target


def unregister(name: str) -> None:
    _registry.pop(name, None)
    if name in BUILTIN:
        _registry[name] = BUILTIN[name]


def provider_class(name: str) -> type:
    """The class registered under ``name``, imported on first use."""
    try:
        target = _registry[name]
    except KeyError:
        known = ", ".join(sorted(_registry))
        raise ConfigError(f"unknown provider {name!r} (known: {known})") from None
    if isinstance(target, type):
        return target
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    cls = getattr(module, attr)
    _registry[name] = cls
    return cls


def registered() -> tuple[str, ...]:
    return tuple(sorted(_registry))

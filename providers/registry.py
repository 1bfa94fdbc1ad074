"""The registry of systems: which kinds exist, in which order, and how to reach their parts.

Owns: the built-in kinds (the only place outside ``providers/<kind>/`` that names them), their
one order (the order plans list systems, reads report and apply breaks ties: the source of
truth first), registering more kinds, overriding a kind's provider class (tests), and lookups
the engine loops over: resource types, pseudo types, default precedence, hooks.
Must not: import a provider or its client library at module import time (descriptors are light;
provider classes and hooks are imported on first use).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from core import fields
from core.config import split_key
from core.errors import ConfigError
from providers.base import ResourceType, SystemKind

# The built-in systems, in the registry's order: the IPAM (truth) first, then the network
# services that follow it, then compute.
BUILTIN = (
    "providers.nipap.descriptor:KIND",
    "providers.edgemax.descriptor:KIND",
    "providers.vyos.descriptor:KIND",
    "providers.proxmox.descriptor:KIND",
)

_kinds: dict[str, SystemKind] = {}
_classes: dict[str, type] = {}  # kind -> provider class (imported, or registered by a test)
_overrides: dict[str, type | str] = {}


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _ensure() -> dict[str, SystemKind]:
    if not _kinds:
        for target in BUILTIN:
            kind = _load(target)
            _declare(kind)
            _kinds[kind.name] = kind
    return _kinds


def _declare(kind: SystemKind) -> None:
    """Its resource types' declarations checked, and the typed ones checked in every change from now on."""
    for rtype in kind.resource_types:
        fields.declare(rtype.name, rtype.identity, rtype.attributes, rtype.fields)


def register_kind(kind: SystemKind) -> None:
    """Add a system kind (after the built-in ones). A name may be registered once."""
    kinds = _ensure()
    if kind.name in kinds:
        raise ValueError(f"system kind {kind.name!r} is already registered")
    for rtype in kind.resource_types:
        if not rtype.name.startswith(kind.name + "_"):
            raise ValueError(f"resource type {rtype.name!r} of {kind.name!r} must start with {kind.name}_")
    _declare(kind)
    kinds[kind.name] = kind
    _clear()


def unregister_kind(name: str) -> None:
    kinds = _ensure()
    if name in kinds and not any(t.startswith(f"providers.{name}.") for t in BUILTIN):
        fields.forget(r.name for r in kinds[name].resource_types)
        del kinds[name]
        _clear()


def _clear() -> None:
    _classes.clear()
    rank.cache_clear()
    resource_type.cache_clear()


def kinds() -> tuple[SystemKind, ...]:
    """Every registered kind, in the registry's order."""
    return tuple(_ensure().values())


def names() -> tuple[str, ...]:
    return tuple(_ensure())


def kind(name: str) -> SystemKind:
    try:
        return _ensure()[name]
    except KeyError:
        known = ", ".join(_ensure())
        raise ConfigError(f"unknown system {name!r} (known: {known})") from None


def kind_of(key: str) -> SystemKind:
    """The kind of a system instance key (``edgemax.cabin`` → the ``edgemax`` kind)."""
    return kind(split_key(key)[0])


@cache
def rank(key: str) -> tuple[int, str, str]:
    """Sort key of a system (kind or instance key): the registry order, then the instance name."""
    kinds_ = list(_ensure())
    name, instance = split_key(key)
    return (kinds_.index(name) if name in kinds_ else len(kinds_), name, instance)


def ordered(keys: Any) -> list[str]:
    return sorted(keys, key=rank)


@cache
def resource_type(name: str) -> ResourceType | None:
    for k in _ensure().values():
        found = k.resource_type(name)
        if found is not None:
            return found
    return None


def is_pseudo(type_name: str) -> bool:
    rtype = resource_type(type_name)
    return rtype is not None and rtype.pseudo


def default_precedence(attribute: str) -> tuple[str, ...]:
    """``config`` first, then every kind that ranks ``attribute``, best first."""
    ranked = sorted((k.precedence[attribute], i, k.name) for i, k in enumerate(_ensure().values())
                    if attribute in k.precedence)
    return ("config", *(name for _, _, name in ranked))


def sources() -> tuple[str, ...]:
    """Every name a precedence list may use."""
    return ("config", *_ensure())


# ------------------------------------------------------------------------ provider classes


def register(name: str, target: type | str) -> None:
    """Use ``target`` (a class or ``"module:Class"``) as the provider of kind ``name`` (tests)."""
    _overrides[name] = target
    _classes.pop(name, None)


def unregister(name: str) -> None:
    _overrides.pop(name, None)
    _classes.pop(name, None)


def provider_class(name: str) -> type:
    """The provider class of kind ``name``, imported on first use."""
    if name not in _classes:
        target = _overrides.get(name) or kind(name).provider
        _classes[name] = target if isinstance(target, type) else _load(target)
    return _classes[name]


def hook(name: str, which: str) -> Callable[..., Any] | None:
    """The ``which`` hook (``inventory``, ``importer``, …) of kind ``name``, imported, or None."""
    target = getattr(kind(name).hooks, which)
    return _load(target) if target else None


def schema_fragment(name: str) -> dict[str, Any]:
    """The JSON Schema fragment of kind ``name``: ``{"settings": {...}, "network": {...}}``."""
    import json
    from importlib import resources

    module, _, file = kind(name).schema.partition(":")
    return json.loads(resources.files(module).joinpath(file).read_text(encoding="utf-8"))

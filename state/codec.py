"""The state file format: text ⇄ ``State``.

Owns: sniffing the version, upgrading older documents (``state.migrate``), validating against
``schemas/state.v<N>.schema.json`` and building the model; writing always the latest version.
Must not: touch files or databases (the backends do), or repair a broken document silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import schemas
from core.errors import StateCorrupt, StateError, UnsupportedStateVersion
from state.migrate import MigrationError, upgrade
from state.model import STATE_VERSION, ResourceState, State

OLDEST_VERSION = 0


def loads(text: str, source: str) -> State:
    """Parse the state text read from ``source`` (a file path or a description, used in messages)."""
    return loads_versioned(text, source)[0]


def loads_versioned(text: str, source: str) -> tuple[State, int]:
    """Like ``loads``, plus the version the document was written in (backends rewrite old ones)."""
    if not text.strip():
        raise StateCorrupt(f"the state in {source} is corrupt: the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        if err.pos >= len(text.rstrip()) or err.msg.startswith("Unterminated string"):
            detail = f"the JSON ends early at line {err.lineno} (truncated?)"
        else:
            detail = f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        raise StateCorrupt(f"the state in {source} is corrupt: {detail}") from None
    except RecursionError:
        raise StateCorrupt(_too_deep(source)) from None
    try:
        return decode_versioned(data, source)
    except RecursionError:
        raise StateCorrupt(_too_deep(source)) from None


def _too_deep(source: str) -> str:
    return (f"the state in {source} is corrupt: its JSON is nested too deeply to be read (a netsot state "
            "is a few levels deep)")


def decode(data: Any, source: str) -> State:
    """Build a ``State`` from an already parsed JSON document (e.g. a PostgreSQL jsonb body)."""
    return decode_versioned(data, source)[0]


def decode_versioned(data: Any, source: str) -> tuple[State, int]:
    """Like ``decode``, plus the version the document was written in."""
    if not isinstance(data, dict):
        raise StateCorrupt(
            f"the state in {source} is corrupt: expected a JSON object, found {_json_type(data)}"
        )
    version = sniff_version(data, source)
    if version > STATE_VERSION:
        raise UnsupportedStateVersion(
            f"the state in {source} has version {version}, but this netsot reads versions up to "
            f"{STATE_VERSION}; it was written by a newer netsot — upgrade netsot to use it"
        )
    try:
        data = upgrade(data, version)
    except MigrationError as err:
        raise StateCorrupt(f"the state in {source} (version {version}) is corrupt: {err}") from None
    _check(data, source)
    return State.from_dict(data), version


def sniff_version(data: dict[str, Any], source: str) -> int:
    """The document's version: ``version`` (v1+) or ``format`` (v0), before anything else is read."""
    key = "version" if "version" in data else "format" if "format" in data else None
    if key is None:
        raise StateCorrupt(f"the state in {source} is corrupt: it has no 'version' field")
    version = data[key]
    if isinstance(version, bool) or not isinstance(version, int) or version < OLDEST_VERSION:
        raise StateCorrupt(
            f"the state in {source} is corrupt: '{key}' must be a whole number ≥ {OLDEST_VERSION}, "
            f"found {json.dumps(version)}"
        )
    return version


def encode(state: State, previous: State | None = None) -> dict[str, Any]:
    """The latest-version document for ``state``, checked against its schema before anything is written.

    ``previous`` is a state already known to be valid (the stored one): resources equal to its
    resources are not checked again, because schema validation of thousands of resources costs
    far more than the write itself.
    """
    state = replace(state, version=STATE_VERSION)
    _check_new(state, previous)
    return state.to_dict()


def dumps(state: State, previous: State | None = None) -> str:
    """The latest-version text: sorted keys, 2-space indent, trailing newline (see ``encode``).

    The text is ``json.dumps(encode(state, previous), sort_keys=True, indent=2, ensure_ascii=False)``
    plus a newline, assembled from one cached piece per ``ResourceState`` (frozen: the same object
    always reads the same): a save after each apply batch re-encodes only the resources it changed.
    """
    state = replace(state, version=STATE_VERSION)
    _check_new(state, previous)
    try:
        envelope = _envelope(state)
        parts = [f"{_key(k)}: {_indented(_pretty(v), 2)}" for k, v in sorted(envelope.items())]
        parts.insert(_resources_at(envelope), f'"resources": {_resources_text(state)}')
    except (TypeError, ValueError) as err:
        # A provider put a non-JSON value (datetime, IP object, NaN…) into an attribute.
        raise StateError(f"cannot write the state: a value is not plain JSON ({err})") from None
    return "{\n  " + ",\n  ".join(parts) + "\n}\n"


def _check_new(state: State, previous: State | None) -> None:
    """Schema-check ``state`` (version set): with ``previous``, only its resources that are new or differ."""
    if previous is None:
        _check(state.to_dict(), "the state being written", error=StateError)
        return
    known = previous.resources
    fresh = []
    for _, mine in sorted(state.resources.items()):
        theirs = known.get(mine.address)
        if theirs is mine:
            continue
        data = mine.to_dict()
        if theirs is None or theirs.to_dict() != data:
            fresh.append(data)
    _check({**_envelope(state), "resources": fresh}, "the state being written", error=StateError)


def _envelope(state: State) -> dict[str, Any]:
    """``state.to_dict()`` without its resources (the serial included)."""
    empty = replace(state, resources=MappingProxyType({}))
    data = empty.to_dict()
    del data["resources"]
    return data


def _resources_at(envelope: dict[str, Any]) -> int:
    """Where ``resources`` goes among the envelope's sorted keys."""
    return sum(1 for k in envelope if k < "resources")


def _pretty(value: Any) -> str:
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)


def _key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def _indented(text: str, spaces: int) -> str:
    """``text`` as it reads nested ``spaces`` deeper (JSON strings never hold a raw newline)."""
    return text.replace("\n", "\n" + " " * spaces)


# id(ResourceState) -> (the object, its text as an item of the state's resources list); rebuilt on
# every dumps with the resources of that state only, so it never outgrows one state
_PIECES: dict[int, tuple[ResourceState, str]] = {}


def _resources_text(state: State) -> str:
    global _PIECES
    if not state.resources:
        return "[]"
    old, new = _PIECES, {}
    parts = []
    for _, resource in sorted(state.resources.items()):
        hit = old.get(id(resource))
        text = hit[1] if hit is not None and hit[0] is resource else _indented(_pretty(resource.to_dict()), 4)
        new[id(resource)] = (resource, text)
        parts.append(text)
    _PIECES = new
    return "[\n    " + ",\n    ".join(parts) + "\n  ]"


def _check(data: dict[str, Any], source: str, error: type[StateError] = StateCorrupt) -> None:
    validator = schemas.validator(f"state.v{STATE_VERSION}")
    problem = _first_error(validator.iter_errors(data))
    if problem is not None:
        where, message = problem
        raise error(f"the state in {source} is invalid: {where}: {message}")
    seen: set[str] = set()
    for resource in data["resources"]:
        if resource["address"] in seen:
            raise error(f"the state in {source} is invalid: resource {resource['address']} appears twice")
        seen.add(resource["address"])


def _first_error(errors: Iterable[Any]) -> tuple[str, str] | None:
    # Deterministic: the error with the shortest, then lexically first, path.
    found = sorted(errors, key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]))
    if not found:
        return None
    err = found[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path).lstrip(".")
    return (where or "top level", err.message)


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)

"""The state file format: text ⇄ ``State``.

Owns: sniffing the version, upgrading older documents (``state.migrate``), validating against
``schemas/state.v<N>.schema.json`` and building the model; writing always the latest version.
Must not: touch files or databases (the backends do), or repair a broken document silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import schemas
from core.errors import StateCorrupt, StateError, UnsupportedStateVersion
from state.migrate import MigrationError, upgrade
from state.model import STATE_VERSION, State

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
    data = replace(state, version=STATE_VERSION).to_dict()
    checked = data
    if previous is not None:
        known, mine = previous.resources, state.resources
        fresh = [
            r for r in data["resources"]
            if r["address"] not in known
            or (known[r["address"]] is not mine[r["address"]] and known[r["address"]].to_dict() != r)
        ]
        checked = {**data, "resources": fresh}
    _check(checked, "the state being written", error=StateError)
    return data


def dumps(state: State, previous: State | None = None) -> str:
    """The latest-version text: sorted keys, 2-space indent, trailing newline (see ``encode``)."""
    data = encode(state, previous)
    try:
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as err:
        # A provider put a non-JSON value (datetime, IP object, NaN…) into an attribute.
        raise StateError(f"cannot write the state: a value is not plain JSON ({err})") from None


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

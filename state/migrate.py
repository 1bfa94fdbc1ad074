"""Upgrades of older state documents, one version step at a time.

Owns: ``MIGRATIONS`` (``{from_version: step}``), each step a pure ``dict -> dict`` function, and
``upgrade()``, which chains them up to the current version.
Must not: do I/O, build model objects, or validate against a schema (the codec does that after).

Version 0 is netsot's pre-release format::

    {"format": 0, "serial": 3, "lineage": "…",
     "objects": {"<address>": {"system": "nipap", "id": "42", "attrs": {…}, "deps": ["…"]}}}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from state.model import STATE_VERSION

Document = dict[str, Any]


class MigrationError(ValueError):
    """A document does not have the shape its version promises; the codec reports it as corrupt."""


def v0_to_v1(doc: Document) -> Document:
    """v0 → v1: ``objects`` (a map) becomes the sorted ``resources`` list; an empty journal is added."""
    objects = doc.get("objects", {})
    if not isinstance(objects, dict):
        raise MigrationError("'objects' is not a JSON object")
    resources = []
    for address in sorted(objects):
        obj = objects[address]
        if not isinstance(obj, dict):
            raise MigrationError(f"object {address!r} is not a JSON object")
        if "system" not in obj:
            raise MigrationError(f"object {address!r} has no 'system'")
        provider_id = obj.get("id")
        resources.append(
            {
                "address": address,
                "provider": obj["system"],
                # v0 sometimes stored numeric ids (NIPAP); v1 ids are always strings.
                "provider_id": None if provider_id is None else str(provider_id),
                "attributes": obj.get("attrs") or {},
                "dependencies": sorted(obj.get("deps") or []),
                "origin": "",
                "status": "managed",
                "orphaned_since": None,
            }
        )
    return {
        "version": 1,
        "serial": doc.get("serial"),
        "lineage": doc.get("lineage"),
        "resources": resources,
        "journal": [],
    }


def v1_to_v2(doc: Document) -> Document:
    """v1 → v2: the list of objects ``state rm`` forgot is added (empty: v1 did not keep it)."""
    return {**doc, "version": 2, "forgotten": []}


def v2_to_v3(doc: Document) -> Document:
    """v2 → v3: each resource says who made it (``ownership``). v2 did not record it: an object the
    journal shows netsot creating is ``made``; every other one is ``unknown`` (the plan reads it as
    adopted unless the object carries netsot's marker: never deleted on a guess)."""
    journal = doc.get("journal") or []
    created = {e.get("address") for e in journal if isinstance(e, dict) and e.get("action") == "create"}
    resources = doc.get("resources")
    if not isinstance(resources, list):
        return {**doc, "version": 3}  # the schema check after the upgrade names what is wrong
    upgraded = [
        {**r, "ownership": "made" if r.get("address") in created else "unknown"} if isinstance(r, dict) else r
        for r in resources
    ]
    return {**doc, "version": 3, "resources": upgraded}


MIGRATIONS: dict[int, Callable[[Document], Document]] = {0: v0_to_v1, 1: v1_to_v2, 2: v2_to_v3}


def upgrade(doc: Document, version: int, target: int = STATE_VERSION) -> Document:
    """Run every step from ``version`` up to ``target``; a missing step is a ``MigrationError``."""
    while version < target:
        step = MIGRATIONS.get(version)
        if step is None:
            raise MigrationError(f"no upgrade is known from state version {version}")
        doc = step(doc)
        version += 1
    return doc

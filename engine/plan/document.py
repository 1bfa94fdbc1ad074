"""The plan document: the versioned JSON contract a plan is saved, shown and sent as.

Owns: ``plan_document`` (``schemas/plan.v1.schema.json``: changes in apply order, everything else
sorted), its checksum (``document_checksum``, ``sealed``), its JSON text (``render_json``: the saved
plan file and ``--json``) and its inverse ``plan_from_document``. The views for people (text,
Markdown) are ``engine.report.render``.
Must not: render, print or decide anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from core.model import (
    Binding,
    Change,
    Conflict,
    Discovered,
    Drift,
    Held,
    Plan,
    Provenance,
    Unmanaged,
    frozen_map,
)

FORMAT_VERSION = "1"


def plan_document(plan: Plan, *, netsot_version: str, created_at: str | None = None,
                  fingerprints: bool = True) -> dict[str, Any]:
    """The JSON plan document. Changes keep the plan's (apply) order; everything else is sorted.

    ``fingerprints=False``: without the ``fingerprints`` of what was read, for a document that is only
    rendered as text, Markdown or a graph (none shows them) and never saved: the plan then never makes
    their digests (``core.model.Fingerprints``)."""
    counts = plan.counts()
    doc = {
        "format_version": FORMAT_VERSION,
        "netsot_version": netsot_version,
        "created_at": created_at or _now(),
        "config_digest": plan.config_digest,
        "prior_state": {"lineage": plan.lineage, "serial": plan.serial},
        "applyable": plan.has_changes or (plan.refresh_only and bool(plan.drift)),
        "mode": "refresh-only" if plan.refresh_only else "normal",
        "summary": {
            **counts,
            "conflicts": len(plan.conflicts),
            "drift": len(plan.drift),
            "held": len(plan.held),
            "unmanaged": len(plan.unmanaged),
            "discovered": len(plan.discovered),
        },
        "changes": [c.to_dict() for c in plan.changes],
        "conflicts": sorted((c.to_dict() for c in plan.conflicts), key=_conflict_key),
        "drift": sorted((d.to_dict() for d in plan.drift), key=lambda d: d["address"]),
        "held": sorted((h.to_dict() for h in plan.held), key=lambda h: (h["change"]["address"], h["gate"])),
        "warnings": sorted(set(plan.warnings)),
        "unmanaged": [u.to_dict() for u in plan.unmanaged],
        "discovered": [d.to_dict() for d in plan.discovered],
        "fingerprints": dict(sorted(plan.fingerprints.items())) if fingerprints else None,
        "bindings": sorted((_binding_dict(b) for b in plan.bindings),
                           key=lambda b: (b["network"], b["hostname"], b["ip"])),
    }
    if not fingerprints:
        del doc["fingerprints"]
    return sealed(doc)


def document_checksum(doc: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` over the canonical JSON of ``doc`` without its ``checksum`` field
    (sorted keys, no whitespace, UTF-8): any edit of a saved plan changes it."""
    body = {k: v for k, v in doc.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           allow_nan=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def sealed(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with its ``checksum`` (re)computed."""
    doc["checksum"] = document_checksum(doc)
    return doc


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _conflict_key(data: Mapping[str, Any]) -> tuple[Any, ...]:
    return (data["kind"], data["network"] or "", tuple(data["objects"]), data["reason"])


def _binding_dict(binding: Binding) -> dict[str, Any]:
    return {
        "network": binding.network,
        "hostname": binding.hostname,
        "mac": binding.mac,
        "ip": binding.ip,
        "origin": binding.origin,
        "provenance": {k: p.to_dict() for k, p in sorted(binding.provenance.items())},
        **({"aliases": list(binding.aliases)} if binding.aliases else {}),
    }


def plan_from_document(doc: Mapping[str, Any]) -> Plan:
    """The ``Plan`` a document describes (bindings lose their origin references: display only)."""
    prior = doc.get("prior_state") or {}
    return Plan(
        changes=tuple(Change.from_dict(c) for c in doc.get("changes", ())),
        conflicts=tuple(Conflict.from_dict(c) for c in doc.get("conflicts", ())),
        drift=tuple(Drift.from_dict(d) for d in doc.get("drift", ())),
        held=tuple(Held.from_dict(h) for h in doc.get("held", ())),
        warnings=tuple(doc.get("warnings", ())),
        fingerprints=frozen_map(doc.get("fingerprints") or {}),
        config_digest=doc.get("config_digest", ""),
        unmanaged=tuple(Unmanaged.from_dict(u) for u in doc.get("unmanaged", ())),
        discovered=tuple(Discovered.from_dict(d) for d in doc.get("discovered", ())),
        refresh_only=doc.get("mode") == "refresh-only",
        lineage=prior.get("lineage"),
        serial=prior.get("serial"),
        bindings=tuple(
            Binding(
                network=b["network"],
                hostname=b["hostname"],
                mac=b.get("mac"),
                ip=b["ip"],
                provenance=MappingProxyType(
                    {k: Provenance.from_dict(p) for k, p in (b.get("provenance") or {}).items()}
                ),
                origin=b.get("origin", ""),
                aliases=tuple(b.get("aliases") or ()),
            )
            for b in doc.get("bindings", ())
        ),
    )


def render_json(doc: Mapping[str, Any]) -> str:
    """The document as stable, indented JSON (sorted keys, trailing newline)."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

"""Saved plans: write and read a plan document, and check it is still fresh before apply.

Owns: the plan file on disk (atomic, mode 0600, checksum- and schema-validated on read) and the per-object
staleness check (config digest, state lineage, the fingerprint of every object the plan read).
Must not: print, or compare global serials (an unrelated state change must not stale a plan).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.config import Config
from core.errors import LineageMismatch, PlanError, StalePlan
from core.files import write_atomic
from core.model import Observation, merged_fingerprints
from engine.plan.document import FORMAT_VERSION, document_checksum, render_json
from schemas import validator
from state.model import State

MAX_NAMED = 5  # how many stale objects the message names (the exception carries them all)


def save_plan(path: str | os.PathLike[str], doc: Mapping[str, Any]) -> Path:
    """Write ``doc`` to ``path`` atomically with mode 0600 (temp file, fsync, rename)."""
    target = Path(path)
    try:
        write_atomic(target, render_json(doc), 0o600)
    except OSError as exc:
        raise PlanError(f"cannot write plan file {target}: {exc.strerror}") from None
    return target


def load_plan(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a saved plan. Garbage, another format or a truncated file → ``PlanError``."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"plan file {source} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise PlanError(f"cannot read plan file {source}: {reason}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"not JSON: {exc.msg} at line {exc.lineno}"
        raise PlanError(f"{source} is not a netsot plan file ({reason})") from None
    if not isinstance(doc, dict):
        raise PlanError(f"{source} is not a netsot plan file (expected a JSON object)")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise PlanError(f"{source} is plan format {version!r}; this netsot reads format {FORMAT_VERSION!r}")
    _check_checksum(source, doc)
    error = next(iter(sorted(validator("plan.v1").iter_errors(doc), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise PlanError(f"{source} is not a valid netsot plan: at {where}: {error.message}")
    return doc


def _check_checksum(source: Path, doc: Mapping[str, Any]) -> None:
    """Refuse a plan whose content is not exactly what ``netsot plan --out`` wrote."""
    checksum = doc.get("checksum")
    if checksum is None:
        raise PlanError(f"{source} has no checksum, so it cannot be shown to be the plan that was saved "
                        "(written by an older netsot, or edited); make a new plan with `netsot plan --out`")
    try:
        expected = document_checksum(doc)
    except (TypeError, ValueError):  # NaN, lone surrogates…: not something netsot wrote
        expected = None
    if checksum != expected:
        raise PlanError(f"the plan file {source} was modified after it was saved (its checksum does not "
                        "match its content); refusing to use it — make a new plan with `netsot plan --out`")


def fresh_fingerprints(observations: Mapping[str, Observation]) -> dict[str, str]:
    """The fingerprints of everything just read, merged over all systems."""
    return merged_fingerprints(observations[name] for name in sorted(observations))


def check_fresh(
    doc: Mapping[str, Any],
    config: Config,
    observations: Mapping[str, Observation],
    state: State,
) -> None:
    """Raise ``StalePlan`` unless ``doc`` still describes the config, the state lineage and every object.

    Compares object by object: an object changed, vanished or appeared → stale, naming it. The
    state serial is deliberately not compared, so ``state rm`` of an unrelated object or another
    apply that touched nothing this plan read leaves the plan usable.
    """
    from engine.config.load import config_digest

    if doc.get("config_digest") != config_digest(config):
        raise StalePlan("the configuration changed since the plan was made; make a new plan")
    _check_lineage(doc, state)
    old: Mapping[str, str] = doc.get("fingerprints") or {}
    new = fresh_fingerprints(observations)
    changed = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
    vanished = sorted(old.keys() - new.keys())
    appeared = sorted(new.keys() - old.keys())
    if not (changed or vanished or appeared):
        return
    described = ([f"{k} changed" for k in changed] + [f"{k} vanished" for k in vanished]
                 + [f"{k} appeared" for k in appeared])
    every = changed + vanished + appeared
    shown = ", ".join(described[:MAX_NAMED])
    more = f" and {len(described) - MAX_NAMED} more" if len(described) > MAX_NAMED else ""
    n = len(every)
    raise StalePlan(
        f"the saved plan is stale: {n} {'object' if n == 1 else 'objects'} changed since it was made "
        f"({shown}{more}); make a new plan",
        changed=every,
    )


def _check_lineage(doc: Mapping[str, Any], state: State) -> None:
    prior = doc.get("prior_state") or {}
    lineage, serial = prior.get("lineage"), prior.get("serial")
    if lineage is None or lineage == state.lineage:
        return
    # A plan made before any state was written saw a blank state whose lineage was never stored;
    # it stays valid as long as the state is still blank.
    if serial == 0 and state.serial == 0 and not state.resources:
        return
    raise StalePlan(
        f"the saved plan was made against state lineage {lineage}, but the state now has lineage "
        f"{state.lineage}; make a new plan"
    ) from LineageMismatch("state lineage differs")

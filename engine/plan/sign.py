"""Saved plans are signed: only a plan made by this netsot with this state can be applied.

Owns: the plan key (32 random bytes, hex, in ``<state>.plan-key`` with mode 0600 next to a state file,
or ``.netsot.plan-key`` next to the configuration for a state that has no directory), made on the
first ``plan --out``, and the plan document's ``signature``: HMAC-SHA256 with that key over the
canonical JSON of the document without ``checksum`` and ``signature``. The unkeyed ``checksum`` still
catches accidents (``show FILE`` checks it); the signature is what ``apply FILE`` requires, because
anyone can recompute a checksum after editing a plan.
Must not: print the key or put it anywhere but its own file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.config import Config
from core.errors import PlanError
from state.backend import file_side

KEY_NAME = "plan-key"
PREFIX = "hmac-sha256:"


def key_path(backend: Any, config: Config) -> Path:
    """Where the plan key of this state lives."""
    side = file_side(backend)
    if side is not None:
        return Path(side.sidecar(KEY_NAME))
    base = Path(config.source_path).resolve().parent if config.source_path else Path.cwd()
    return base / f".netsot.{KEY_NAME}"


def load_key(path: Path, *, create: bool) -> bytes:
    """The key in ``path`` (made, mode 0600, when ``create`` and it does not exist yet)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        if not create:
            raise PlanError(f"the plan key {path} does not exist, so no saved plan can be shown to come from "
                            "this netsot and this state; make a new plan with `netsot plan --out`") from None
        return _create(path)
    except OSError as err:
        raise PlanError(f"cannot read the plan key {path}: {err.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PlanError(f"the plan key {path} is readable by group or others (mode "
                            f"{stat.S_IMODE(mode):04o}); make it private: chmod 600 {path}")
        text = handle.read(256).decode("ascii", "replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise PlanError(f"the plan key {path} is not a netsot plan key (64 hex digits); delete it and make a "
                        "new plan with `netsot plan --out`")
    return key


def _create(path: Path) -> bytes:
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(path, create=False)  # another run made it meanwhile
    except OSError as err:
        raise PlanError(f"cannot create the plan key {path}: {err.strerror}") from None
    try:
        os.write(fd, (key.hex() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def signature(doc: Mapping[str, Any], key: bytes) -> str:
    body = {k: v for k, v in doc.items() if k not in ("checksum", "signature")}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return PREFIX + hmac.new(key, canonical.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def signed(doc: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """A copy of ``doc`` with its ``signature`` (the caller reseals the checksum)."""
    out = dict(doc)
    out["signature"] = signature(out, key)
    return out


def verify(doc: Mapping[str, Any], key: bytes, source: str) -> None:
    """Refuse a plan this netsot with this state did not sign."""
    given = doc.get("signature")
    if not isinstance(given, str):
        raise PlanError(f"the plan file {source} is not signed (made by an older netsot?), so it cannot "
                        "be shown to come from this netsot and this state; make a new plan with "
                        "`netsot plan --out`")
    try:
        expected = signature(doc, key)
    except (TypeError, ValueError):
        expected = ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise PlanError(f"the plan file {source} was not made by this netsot with this state, or was "
                        "modified after it was saved (its signature does not match); refusing to apply it — "
                        "make a new plan with `netsot plan --out`")

"""The tiny loader for netsot's JSON Schema files (Draft 2020-12), which live next to it.

Owns: finding a schema by name, parsing it once, and handing out a cached validator.
Must not: hold validation logic or error formatting — callers turn errors into their own messages.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_DIR = Path(__file__).resolve().parent


def _path(name: str) -> Path:
    # Accept "state.v1", "state.v1.schema.json" or "state.v1.json"; never a path outside this directory.
    if "/" in name or "\\" in name or name.startswith("."):
        raise LookupError(f"invalid schema name {name!r}")
    file = name if name.endswith(".json") else f"{name}.schema.json"
    path = SCHEMA_DIR / file
    if not path.is_file():
        raise LookupError(f"no schema named {name!r} in {SCHEMA_DIR}")
    return path


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads(_path(name).read_text(encoding="utf-8"))


def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema ``name`` (a private copy: callers may change it freely)."""
    return copy.deepcopy(_load(name))


@cache
def validator(name: str) -> Draft202012Validator:
    """A cached Draft 2020-12 validator for schema ``name``; the schema itself is checked first."""
    schema = _load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)

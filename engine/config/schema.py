"""The configuration's JSON Schema, assembled from the core part and every system's fragment.

Owns: building ``schemas/config.schema.json`` — ``schemas/config.base.json`` plus, for every
registered kind, its settings under ``providers.<kind>`` and ``providers.<kind>.<instance>`` and
its per-network settings under ``networks[].<kind>`` (each with the generic ``instance`` key),
and the precedence source names (every registered kind: the outer bound; ``engine.config.load``
refuses a kind with no configured instance) — a cached validator of it, and the shipped file's check.
Must not: name a system (the fragments come from the registry).

``python -m engine.config.schema`` rewrites the shipped file; ``--check`` exits 1 when it is stale
(``tests/schemas`` run the same check in CI).
"""

from __future__ import annotations

import copy
import json
import sys
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

import schemas
from providers import registry

SHIPPED = schemas.SCHEMA_DIR / "config.schema.json"
INSTANCE_PATTERN = "^[a-z][a-z0-9_-]{0,31}$"


def assemble() -> dict[str, Any]:
    """The whole configuration schema for the kinds registered now."""
    out = schemas.load_schema("config.base.json")
    providers = out["properties"]["providers"]
    network = out["$defs"]["network"]["properties"]
    out["$defs"]["instance"] = {
        "type": "string",
        "pattern": INSTANCE_PATTERN,
        "description": "An instance name (providers.KIND.NAME): a-z, then a-z, 0-9, '-', '_'.",
    }
    pattern_props: dict[str, Any] = {}
    for kind in registry.kinds():
        fragment = registry.schema_fragment(kind.name)
        settings_ref = {"$ref": f"#/$defs/{kind.name}_settings"}
        out["$defs"][f"{kind.name}_settings"] = fragment["settings"]
        providers["properties"][kind.name] = settings_ref
        pattern_props[f"^{kind.name}\\.[a-z][a-z0-9_-]{{0,31}}$"] = settings_ref
        per_network = copy.deepcopy(fragment["network"])
        per_network.setdefault("properties", {})["instance"] = {"$ref": "#/$defs/instance"}
        network[kind.name] = per_network
    if pattern_props:
        providers["patternProperties"] = pattern_props
    out["$defs"]["sources"]["items"]["enum"] = list(registry.sources())
    return out


def validator() -> Draft202012Validator:
    """A validator of the assembled schema, cached for the set of kinds registered now."""
    return _validator(registry.names())


@cache
def _validator(kinds: tuple[str, ...]) -> Draft202012Validator:
    schema = assemble()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def render() -> str:
    return json.dumps(assemble(), indent=2) + "\n"


def is_current() -> bool:
    try:
        return SHIPPED.read_text(encoding="utf-8") == render()
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        if is_current():
            print(f"{SHIPPED} is current")
            return 0
        print(f"{SHIPPED} is stale: run `python -m engine.config.schema` and commit it", file=sys.stderr)
        return 1
    SHIPPED.write_text(render(), encoding="utf-8")
    print(f"wrote {SHIPPED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

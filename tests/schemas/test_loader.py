"""The schema loader: names resolve to files next to it, validators are cached and strict."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

import schemas


def test_load_schema_by_short_and_file_name() -> None:
    assert schemas.load_schema("state.v1") == schemas.load_schema("state.v1.schema.json")
    assert schemas.load_schema("state.v1")["properties"]["version"] == {"const": 1}


def test_load_schema_returns_a_private_copy() -> None:
    first = schemas.load_schema("state.v1")
    first["properties"].clear()
    assert schemas.load_schema("state.v1")["properties"]


def test_validator_is_cached_and_draft_2020_12() -> None:
    v = schemas.validator("state.v1")
    assert isinstance(v, Draft202012Validator)
    assert schemas.validator("state.v1") is v


@pytest.mark.parametrize("name", ["nope", "../pyproject.toml", "/etc/passwd", ".hidden"])
def test_unknown_or_escaping_names_are_refused(name: str) -> None:
    with pytest.raises(LookupError):
        schemas.load_schema(name)

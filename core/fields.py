"""Declared, checked fields: the typed keys of a resource type's records.

Owns: ``Field`` (one key of a record: its name, its type, whether it may be None), the known field
types, the check of a declaration (identity and attributes apart, every name declared once, every
type known) and the check of one record (``Change.before``/``after``) against it — a misspelt key or a
value of the wrong type is a ``FieldError`` the moment the change is made. The registry declares the
typed resource types here (``declare``); ``Change`` asks ``check_change`` on construction.
Must not: import anything of netsot but ``core.errors`` (``core.model`` imports it).

A resource type without typed fields (``declared`` has nothing for it) is not checked: the cost of
an unchecked change is one dictionary look-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from core.errors import DeclarationError, FieldError

# field type -> the Python types a value of it may have (frozen values: mappings, tuples)
FIELD_TYPES: Mapping[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
    "strs": (tuple, list),  # a sequence of strings (aliases)
    "map": (Mapping,),  # string keys to string values (NIPAP avps)
}


@dataclass(frozen=True)
class Field:
    """One key of a resource type's records: ``Field("ip", "str")``, ``Field("mac", "str", True)``."""

    name: str
    type: str
    optional: bool = False  # the value may be None


# field type -> the class a value of it nearly always is (how a record is checked quickly)
_USUAL: Mapping[str, type] = {"str": str, "int": int, "bool": bool, "strs": tuple, "map": MappingProxyType}


@dataclass(frozen=True)
class Declared:
    """A typed resource type as the checks see it: every key a record may hold, with its field."""

    type_name: str
    fields: Mapping[str, Field]
    # key -> the usual class of its field type's values (``_USUAL``), made from ``fields``
    usual: Mapping[str, type | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # None for an unknown field type (``check_declaration`` refuses those): no value is of class None
        object.__setattr__(self, "usual", {n: _USUAL.get(f.type) for n, f in self.fields.items()})


_declared: dict[str, Declared] = {}
TYPED: Mapping[str, Declared] = _declared  # read-only view for ``Change``: is this type checked?


def check_declaration(type_name: str, identity: Sequence[str], attributes: Sequence[str],
                      fields: Sequence[Field]) -> Declared:
    """The declaration of ``type_name``, checked: identity and attributes do not overlap, each name is
    declared once, every identity and attribute name has a field, every field type is known."""
    problems: list[str] = []
    overlap = sorted(set(identity) & set(attributes))
    if overlap:
        problems.append(f"{', '.join(overlap)} is both identity and attribute")
    for what, names in (("identity", identity), ("attributes", attributes)):
        twice = sorted({n for n in names if list(names).count(n) > 1})
        if twice:
            problems.append(f"{what} names {', '.join(twice)} twice")
    by_name: dict[str, Field] = {}
    for f in fields:
        if f.name in by_name:
            problems.append(f"field {f.name} is declared twice")
        if f.type not in FIELD_TYPES:
            problems.append(f"field {f.name} has the unknown type {f.type!r} "
                            f"(known: {', '.join(FIELD_TYPES)})")
        by_name[f.name] = f
    if fields:
        missing = [n for n in (*identity, *attributes) if n not in by_name]
        if missing:
            problems.append(f"{', '.join(missing)} has no field declaration")
    if problems:
        raise DeclarationError(f"resource type {type_name}: " + "; ".join(problems))
    return Declared(type_name, by_name)


def declare(type_name: str, identity: Sequence[str], attributes: Sequence[str],
            fields: Sequence[Field]) -> None:
    """Check ``type_name``'s declaration and, when it has typed fields, check its changes from now on."""
    declared = check_declaration(type_name, identity, attributes, fields)
    if fields:
        _declared[type_name] = declared
    else:
        _declared.pop(type_name, None)


def forget(type_names: Iterable[str]) -> None:
    for name in type_names:
        _declared.pop(name, None)


def declared(type_name: str) -> Declared | None:
    return _declared.get(type_name)


def check_record(declared: Declared, record: Mapping[str, Any], where: str | Callable[[], str]) -> None:
    """``record`` holds only declared keys, each of its field's type (``where`` names it in the error:
    a text, or what makes it, called only then)."""
    fields, usual = declared.fields, declared.usual
    for key, value in record.items():
        if type(value) is usual.get(key):  # a declared key with a value of its type's usual class: fine
            continue
        f = fields.get(key)
        if f is None:
            raise FieldError(
                f"{_text(where)} holds {key!r}, which {declared.type_name} does not declare "
                f"(its fields: {', '.join(sorted(fields))})")
        if value is None:
            if not f.optional:
                raise FieldError(f"{_text(where)}: {key} of {declared.type_name} may not be empty (None)")
            continue
        if not isinstance(value, FIELD_TYPES[f.type]) or (f.type == "int" and isinstance(value, bool)):
            raise FieldError(f"{_text(where)}: {key} of {declared.type_name} is a {f.type}, not "
                             f"{type(value).__name__} {value!r}")


def _text(where: str | Callable[[], str]) -> str:
    return where if isinstance(where, str) else where()


def check_change(type_name: str, address: object, before: Mapping[str, Any] | None,
                 after: Mapping[str, Any] | None) -> None:
    """A change's ``before`` and ``after`` against its type's declared fields (untyped types: nothing).
    ``address`` names the change in an error (its text is made only then: a plan makes tens of thousands
    of changes, each would format its address)."""
    declared = _declared.get(type_name)
    if declared is None:
        return
    if before is not None:
        check_record(declared, before, lambda: f"the change of {address}: before")
    if after is not None:
        check_record(declared, after, lambda: f"the change of {address}: after")


def get(declared: Declared | None, record: Mapping[str, Any], key: str) -> Any:
    """``record[key]`` (None when absent) for a declared key; an undeclared key is a ``FieldError`` — how a
    reader of ``Change.after`` gets a misspelt key caught instead of a silent None."""
    if declared is not None and key not in declared.fields:
        raise FieldError(f"{declared.type_name} has no field {key!r} "
                         f"(its fields: {', '.join(sorted(declared.fields))})")
    return record.get(key)

"""A Vyatta kind's records, read typed: a planned change's static mapping or host name as a value.

Owns: ``MappingRecord`` and ``HostRecord`` — a change's ``before`` / ``after`` (or an observed
resource's attributes) of a static mapping or a static host mapping, checked against the family's
one field rule (``family.MAPPING_FIELDS``, ``family.HOST_FIELDS``) and read as attributes — and
``mapping`` / ``host``, which read them from a ``Change``. A key the rule does not declare, a value of
another type or a missing key is a ``FieldError`` where the record is read, whether or not the kind
is registered (a registered kind's change was already checked when it was made); a misspelt
attribute of a view is an ``AttributeError`` at once, never a silent None.
Must not: import a kind or the provider boundary; decide or render anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from core import fields as checked
from core.errors import FieldError
from core.fields import Declared, Field
from core.model import Change
from providers.vyatta.family import (
    HOST_ATTRIBUTES,
    HOST_FIELDS,
    HOST_IDENTITY,
    MAPPING_ATTRIBUTES,
    MAPPING_FIELDS,
    MAPPING_IDENTITY,
)


@dataclass(frozen=True)
class MappingRecord:
    """A DHCP static mapping's record (its fields are ``family.MAPPING_FIELDS``, name for name)."""

    shared_network: str
    subnet: str
    name: str
    ip_address: str | None = None
    mac_address: str | None = None

    @property
    def place(self) -> tuple[str, str, str]:
        """(shared network, subnet, name): where the mapping is on the router."""
        return self.shared_network, self.subnet, self.name


@dataclass(frozen=True)
class HostRecord:
    """A static host mapping's record (its fields are ``family.HOST_FIELDS``, name for name)."""

    host_name: str
    inet: str | None = None
    aliases: tuple[str, ...] = ()


@cache
def _declared(type_name: str, rule: str) -> Declared:
    """The family's declaration of ``type_name`` (the one each kind registers for it)."""
    if rule == "mapping":
        return checked.check_declaration(type_name, MAPPING_IDENTITY, MAPPING_ATTRIBUTES, MAPPING_FIELDS)
    return checked.check_declaration(type_name, HOST_IDENTITY, HOST_ATTRIBUTES, HOST_FIELDS)


def _values(record: Mapping[str, Any], rule: tuple[Field, ...], declared: Declared,
            where: str) -> dict[str, Any]:
    checked.check_record(declared, record, where)
    missing = [f.name for f in rule if f.name not in record and not f.optional]
    if missing:
        raise FieldError(f"{where} has no {', '.join(missing)} (a {declared.type_name} record holds "
                         f"{', '.join(f.name for f in rule)})")
    return {f.name: record.get(f.name) for f in rule}


def mapping_of(record: Mapping[str, Any], type_name: str, where: str) -> MappingRecord:
    """``record`` (of resource type ``type_name``; ``where`` names it in an error) as a ``MappingRecord``."""
    return MappingRecord(**_values(record, MAPPING_FIELDS, _declared(type_name, "mapping"), where))


def host_of(record: Mapping[str, Any], type_name: str, where: str) -> HostRecord:
    """``record`` (of resource type ``type_name``) as a ``HostRecord`` (its aliases a tuple)."""
    values = _values(record, HOST_FIELDS, _declared(type_name, "host"), where)
    return HostRecord(**{**values, "aliases": tuple(str(a) for a in values["aliases"])})


def _side(change: Change, before: bool) -> tuple[Mapping[str, Any] | None, str]:
    side = "before" if before else "after"
    return (change.before if before else change.after), f"the change of {change.address}: {side}"


def mapping(change: Change, *, before: bool = False) -> MappingRecord | None:
    """The static mapping ``change`` writes (``before=True``: the one it replaces); None when it has none."""
    record, where = _side(change, before)
    return None if record is None else mapping_of(record, change.address.type, where)


def host(change: Change, *, before: bool = False) -> HostRecord | None:
    """The host name ``change`` writes (``before=True``: the one it replaces); None when it has none."""
    record, where = _side(change, before)
    return None if record is None else host_of(record, change.address.type, where)

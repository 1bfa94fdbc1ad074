"""Declared, checked fields: a resource type's declaration is checked when it is made, and every change of
a typed type when the change is made (a misspelt key fails at once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import fields
from core.errors import DeclarationError, FieldError, NetsotError, PlanError
from core.model import Action, Address, Change, frozen_map
from providers import registry
from providers.base import Field, ResourceType, SystemKind
from tests.architecture.dnsbox.descriptor import KIND as DNSBOX


def test_identity_and_attributes_may_not_overlap() -> None:
    with pytest.raises(DeclarationError, match="x_thing: name is both identity and attribute"):
        ResourceType("x_thing", ("name",), ("name", "ip"))


def test_a_field_of_an_unknown_type_or_a_name_without_a_field_is_refused() -> None:
    with pytest.raises(DeclarationError, match="unknown type 'ipv4'"):
        ResourceType("x_thing", ("name",), ("ip",), fields=(Field("name", "str"), Field("ip", "ipv4")))
    with pytest.raises(DeclarationError, match="ip has no field declaration"):
        ResourceType("x_thing", ("name",), ("ip",), fields=(Field("name", "str"),))
    with pytest.raises(DeclarationError, match="field ip is declared twice"):
        ResourceType("x_thing", (), ("ip",), fields=(Field("ip", "str"), Field("ip", "str")))
    assert issubclass(DeclarationError, NetsotError) and issubclass(FieldError, PlanError)


def test_the_built_in_typed_types_are_checked() -> None:
    registry.kinds()
    assert {"nipap_address", "nipap_prefix", "proxmox_ipconfig", "edgemax_dhcp_mapping", "edgemax_host",
            "edgemax_config", "vyos_dhcp_mapping", "vyos_host", "vyos_config"} <= set(fields.TYPED)
    # every resource type of a built-in kind is typed: none is left unchecked
    assert {t.name for k in registry.kinds() for t in k.resource_types} <= set(fields.TYPED)


@pytest.fixture
def dnsbox() -> Iterator[Address]:
    registry.register_kind(DNSBOX)
    try:
        yield Address("dnsbox_record", "nas.lab.example")
    finally:
        registry.unregister_kind("dnsbox")
    assert "dnsbox_record" not in fields.TYPED


def test_a_misspelt_key_in_a_change_fails_at_once(dnsbox: Address) -> None:
    good = {"name": "nas.lab.example", "ip": "192.168.1.10", "ttl": 60}
    Change(Action.CREATE, dnsbox, None, frozen_map(good))
    with pytest.raises(FieldError, match=r"dnsbox_record.nas.lab.example: after holds 'tll', which "
                                         r"dnsbox_record does not declare \(its fields: ip, name, ttl\)"):
        Change(Action.CREATE, dnsbox, None, frozen_map({**good, "tll": 60}))
    with pytest.raises(FieldError, match="before: ttl of dnsbox_record is a int, not str '60'"):
        Change(Action.UPDATE, dnsbox, frozen_map({**good, "ttl": "60"}), frozen_map(good))
    with pytest.raises(FieldError, match="ip of dnsbox_record may not be empty"):
        Change(Action.CREATE, dnsbox, None, frozen_map({**good, "ip": None}))
    with pytest.raises(FieldError, match="after holds 'tll'"):  # a saved plan read back is checked too
        Change.from_dict({**Change(Action.CREATE, dnsbox, None, frozen_map(good)).to_dict(),
                          "after": {**good, "tll": 1}})


def test_reading_a_change_by_a_misspelt_key_fails(dnsbox: Address) -> None:
    record = {"name": "nas.lab.example", "ip": "192.168.1.9", "ttl": 60}
    change = Change(Action.UPDATE, dnsbox, frozen_map(record), frozen_map({**record, "ip": "192.168.1.10"}))
    assert (change.value("ip"), change.value("ip", before=True)) == ("192.168.1.10", "192.168.1.9")
    with pytest.raises(FieldError, match="dnsbox_record has no field 'ip_address'"):
        change.value("ip_address")
    untyped = Change(Action.DELETE, Address("x_thing", "x.lab"), frozen_map({"inet": "1"}), None)
    assert (untyped.value("inet", before=True), untyped.value("inet")) == ("1", None)


def test_a_reader_gets_a_misspelt_key_caught(dnsbox: Address) -> None:
    declared = fields.declared("dnsbox_record")
    record = frozen_map({"name": "nas.lab.example", "ip": "192.168.1.10", "ttl": 60})
    assert fields.get(declared, record, "ttl") == 60
    with pytest.raises(FieldError, match="dnsbox_record has no field 'tll'"):
        fields.get(declared, record, "tll")


def test_an_untyped_type_is_not_checked() -> None:
    Change(Action.CREATE, Address("x_thing", "x.lab.example"), None, frozen_map({"anything": object()}))


def test_registering_a_kind_checks_its_declaration() -> None:
    class Sloppy:  # a descriptor built without ResourceType's own check (e.g. dataclasses.replace)
        name, identity, attributes, fields = "sloppy_thing", ("name",), ("name",), ()

    kind = SystemKind(name="sloppy", title="t", provider="x:y", settings=DNSBOX.settings,
                      network_settings=DNSBOX.network_settings, schema="x:y",
                      resource_types=(Sloppy(),))  # type: ignore[arg-type]
    with pytest.raises(DeclarationError, match="sloppy_thing: name is both identity and attribute"):
        registry.register_kind(kind)
    assert "sloppy" not in registry.kinds()

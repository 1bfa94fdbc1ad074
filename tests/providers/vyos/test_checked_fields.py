"""Declared, checked fields for VyOS (issue 23): every change of a static mapping, a host name or the
``saved`` pseudo resource is checked when it is made (the Vyatta family's one field rule, the same as
EdgeOS's), and the ``/configure`` operations read a change's records typed: a misspelt key fails at
once instead of being read as None."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import fields
from core.errors import FieldError
from core.model import Action, Address, Change, Observation, ObservedResource, frozen_map
from providers import registry
from providers.edgemax.descriptor import KIND as EDGEOS
from providers.vyos import changeops, foresight
from providers.vyos.descriptor import (
    CONFIG_TYPE,
    HOST_TYPE,
    KIND,
    MAPPING_TYPE,
    host_address,
    mapping_address,
)

MAPPING = {"shared_network": "LAN", "subnet": "192.168.1.0/24", "name": "web01", "ip_address": "192.168.1.20",
           "mac_address": "bc:24:11:00:00:01"}
MOVED = {**MAPPING, "mac_address": "bc:24:11:00:00:02"}
TYPO = {k: v for k, v in MOVED.items() if k != "mac_address"} | {"mac_adress": "bc:24:11:00:00:02"}


@pytest.fixture
def unregistered() -> Iterator[None]:
    """The kind's types as they were before they declared fields: not checked when a change is made."""
    registry.kinds()
    types = list(KIND.resource_types)
    fields.forget(t.name for t in types)
    try:
        yield
    finally:
        for t in types:
            fields.declare(t.name, t.identity, t.attributes, t.fields)


def test_vyos_declares_the_same_fields_as_edgeos() -> None:
    """One field rule for the family (providers/vyatta/family.py): the kinds differ only by type name."""
    registry.kinds()
    for mine, theirs in zip(KIND.resource_types, EDGEOS.resource_types, strict=True):
        assert fields.declared(mine.name) is not None, mine.name
        assert (mine.identity, mine.attributes, mine.fields) == (
            theirs.identity, theirs.attributes, theirs.fields)
    assert {t.name for t in KIND.resource_types} == {MAPPING_TYPE, HOST_TYPE, CONFIG_TYPE}


def test_a_misspelt_key_in_a_planned_change_fails_when_it_is_made() -> None:
    registry.kinds()
    web = mapping_address("LAN", "web01", "vyos.cabin")
    Change(Action.UPDATE, web, frozen_map(MAPPING), frozen_map(MOVED))  # the right keys: fine
    with pytest.raises(FieldError, match=r"vyos_dhcp_mapping\[cabin\].LAN.web01: after holds 'mac_adress', "
                                         r"which vyos_dhcp_mapping does not declare"):
        Change(Action.UPDATE, web, frozen_map(MAPPING), frozen_map(TYPO))
    with pytest.raises(FieldError, match="aliases of vyos_host is a strs, not str 'nas'"):
        Change(Action.CREATE, host_address("nas.lab.example"), None,
               frozen_map({"host_name": "nas.lab.example", "inet": "192.168.1.10", "aliases": "nas"}))
    with pytest.raises(FieldError, match="after holds 'saved_at'"):
        Change(Action.UPDATE, Address(CONFIG_TYPE, "saved"), frozen_map({"saved": False}),
               frozen_map({"saved_at": True}))


def test_the_operations_read_a_misspelt_key_as_an_error_not_as_none(unregistered: None) -> None:
    """Before: ``after.get("mac_address")`` of a change that spelt it ``mac_adress`` read None, and the
    update silently deleted the reservation's MAC on the router. Now the operations read the record
    typed, against the family's rule, even for a change made while the kind was not registered."""
    web = mapping_address("LAN", "web01")
    change = Change(Action.UPDATE, web, frozen_map(MAPPING), frozen_map(TYPO))  # unchecked: not registered
    with pytest.raises(FieldError, match=r"after holds 'mac_adress', which vyos_dhcp_mapping does not "
                                         r"declare \(its fields: ip_address, mac_address, name, "
                                         r"shared_network, subnet\)"):
        changeops.change_ops(change, "1.4", {})
    with pytest.raises(FieldError, match="mac_adress"):  # the commit rules VyOS foresees read it typed too
        foresight.foresee(Observation("vyos"), [change], "1.4", {}, {})


def test_well_spelt_changes_give_the_operations_they_gave_before() -> None:
    registry.kinds()
    web = mapping_address("LAN", "web01")
    ops = changeops.change_ops(Change(Action.UPDATE, web, frozen_map(MAPPING), frozen_map(MOVED)), "1.5",
                               {"192.168.1.0/24": "1"})
    assert [(o.op, o.path[-2:]) for o in ops] == [("set", ("mac", "bc:24:11:00:00:02"))]
    no_mac = Change(Action.UPDATE, web, frozen_map(MAPPING), frozen_map({**MAPPING, "mac_address": None}))
    ops = changeops.change_ops(no_mac, "1.4", {})
    assert [(o.op, o.path[-1]) for o in ops] == [("delete", "mac-address")]
    nas = {"host_name": "nas.lab.example", "inet": "192.168.1.10", "aliases": ("nas",)}
    gone = Change(Action.DELETE, host_address("nas.lab.example"), frozen_map(nas), None)
    ops = changeops.change_ops(gone, "1.4", {})
    assert [(o.op, o.path[-1]) for o in ops] == [("delete", "nas.lab.example")]
    other = mapping_address("LAN", "tv")
    seen = ObservedResource(other, frozen_map({**MOVED, "name": "tv", "ip_address": "192.168.1.21"}))
    conflicts = foresight.foresee(Observation("vyos", resources=frozen_map({other: seen})),
                                  [Change(Action.UPDATE, web, frozen_map(MAPPING), frozen_map(MOVED))], "1.4",
                                  {}, {"LAN": "lan"})
    assert [c.reason for c in conflicts] == [
        'Configured MAC address for static mapping "web01" already exists on another static mapping '
        "(bc:24:11:00:00:02 in 192.168.1.0/24)"]

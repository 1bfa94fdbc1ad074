"""Declared, checked fields for EdgeOS (issue 23): every change of a static mapping, a host name or the
``saved`` pseudo resource is checked when it is made, and the commands read a change's records typed,
so a misspelt key fails at once instead of being read as None."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import fields
from core.errors import FieldError
from core.model import Action, Address, Change, frozen_map
from providers import registry
from providers.edgemax.commands import apply_script
from providers.edgemax.descriptor import CONFIG_TYPE, HOST_TYPE, KIND, MAPPING_TYPE
from tests import addresses as A

MAPPING = {"shared_network": "LAN", "subnet": "192.168.1.0/24", "name": "web01", "ip_address": "192.168.1.23",
           "mac_address": "52:54:00:ab:cd:01"}
HOST = {"host_name": "nas.lab.example", "inet": "192.168.1.10", "aliases": ("nas", "files.lab.example")}
NAS = "set system static-host-mapping host-name nas.lab.example"


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


def test_every_edgeos_type_is_typed_by_the_vyatta_family() -> None:
    registry.kinds()
    for name in (MAPPING_TYPE, HOST_TYPE, CONFIG_TYPE):
        assert fields.declared(name) is not None, name
    assert set(fields.declared(MAPPING_TYPE).fields) == set(MAPPING)
    assert set(fields.declared(HOST_TYPE).fields) == set(HOST)


def test_a_misspelt_key_in_a_planned_change_fails_when_it_is_made() -> None:
    registry.kinds()
    web = A.edgemax_dhcp_mapping("LAN", "web01")
    Change(Action.CREATE, web, None, frozen_map(MAPPING))  # the right keys: fine
    typo = {k: v for k, v in MAPPING.items() if k != "mac_address"} | {"mac_adress": "52:54:00:ab:cd:02"}
    with pytest.raises(FieldError, match=r"edgemax_dhcp_mapping.LAN.web01: after holds 'mac_adress', which "
                                         r"edgemax_dhcp_mapping does not declare"):
        Change(Action.UPDATE, web, frozen_map(MAPPING), frozen_map(typo))
    with pytest.raises(FieldError, match="before holds 'alias'"):
        Change(Action.DELETE, A.edgemax_host("nas.lab.example"), frozen_map({**HOST, "alias": ("x",)}),
               None)
    with pytest.raises(FieldError, match="saved of edgemax_config is a bool, not str 'yes'"):
        Change(Action.UPDATE, Address(CONFIG_TYPE, "saved"), frozen_map({"saved": False}),
               frozen_map({"saved": "yes"}))
    with pytest.raises(FieldError, match="inet of edgemax_host is a str, not list"):
        Change(Action.CREATE, A.edgemax_host("nas.lab.example"), None, {**HOST, "inet": ["192.168.1.10"]})


def test_the_commands_read_a_misspelt_key_as_an_error_not_as_none(unregistered: None) -> None:
    """Before: ``after.get("aliases")`` of a host name whose change spelt it ``alias`` read None, and the
    update silently deleted both owned aliases. Now the commands read the record typed, against the
    family's rule, even for a change made while the kind was not registered."""
    nas = A.edgemax_host("nas.lab.example")
    typo = {"host_name": "nas.lab.example", "inet": "192.168.1.10", "alias": ("nas", "files.lab.example")}
    change = Change(Action.UPDATE, nas, frozen_map(HOST), frozen_map(typo))  # unchecked: not registered
    with pytest.raises(FieldError, match=r"after holds 'alias', which edgemax_host does not declare "
                                         r"\(its fields: aliases, host_name, inet\)"):
        apply_script([change])
    missing = {k: v for k, v in MAPPING.items() if k != "subnet"}
    create = Change(Action.CREATE, A.edgemax_dhcp_mapping("LAN", "web01"), None, frozen_map(missing))
    with pytest.raises(FieldError, match="after has no subnet"):
        apply_script([create])


def test_well_spelt_changes_write_the_lines_they_wrote_before() -> None:
    registry.kinds()
    nas = A.edgemax_host("nas.lab.example")
    moved = Change(Action.UPDATE, nas, frozen_map(HOST),
                   frozen_map({**HOST, "inet": "192.168.1.11", "aliases": ("nas",)}))
    assert apply_script([moved]) == [f"delete {NAS[4:]} inet 192.168.1.10",
                                     f"delete {NAS[4:]} alias files.lab.example", f"{NAS} inet 192.168.1.11"]
    renamed = Change(Action.UPDATE, nas, frozen_map(HOST),
                     frozen_map({**HOST, "host_name": "nas2.lab.example"}),
                     kept=frozen_map({"inet": ("2001:db8::1",)}))
    assert apply_script([renamed]) == [
        f"delete {NAS[4:]}", "set system static-host-mapping host-name nas2.lab.example alias nas",
        "set system static-host-mapping host-name nas2.lab.example alias files.lab.example",
        "set system static-host-mapping host-name nas2.lab.example inet 192.168.1.10",
        "set system static-host-mapping host-name nas2.lab.example inet '2001:db8::1'"]

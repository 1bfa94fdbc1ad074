"""#24: ``Change`` and the other values a plan makes by the ten thousand set their fields in one step (a
frozen dataclass's own ``__init__`` makes a call per field); they stay frozen dataclasses with the same
fields, order and defaults (``ImportItem``: the import's verdict on each router entry a plan lists as
unmanaged). ``Drift`` and ``Unmanaged``, which a plan keeps, keep the dataclass's own."""

import dataclasses
import gc
import inspect
import pickle

import pytest

from core.model import (
    EMPTY,
    Action,
    Address,
    Change,
    Drift,
    ManagedResource,
    Provenance,
    Unmanaged,
    frozen_map,
)
from providers.importing import ImportItem

WEB = Address("nipap_address", "lan.web01")


@pytest.mark.parametrize("cls", [Change, Provenance, ManagedResource, Drift, Unmanaged, ImportItem])
def test_the_init_takes_every_field_in_order_with_its_default(cls: type) -> None:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = dataclasses.fields(cls)
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        if f.default is not dataclasses.MISSING:
            assert p.default == f.default, f.name
        elif f.default_factory is not dataclasses.MISSING:
            assert p.default is f.default_factory(), f.name
        else:
            assert p.default is inspect.Parameter.empty, f.name


def test_a_change_is_still_a_frozen_dataclass_that_replace_copies_and_checks() -> None:
    change = Change(Action.CREATE, WEB, None, frozen_map({"ip": "192.168.1.5"}))
    assert (change.reason, change.provenance, change.kept, change.depends_on) == ("", EMPTY, EMPTY, ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.reason = "x"  # type: ignore[misc]
    again = dataclasses.replace(change, reason="new host binding")
    assert again.reason == "new host binding" and again.after == change.after and again != change
    assert Change.from_dict(again.to_dict()) == again


def test_an_address_is_still_frozen_ordered_and_pickled_without_its_hash() -> None:
    other = Address("nipap_address", "lan.web02", "lab")
    assert other > WEB and sorted([other, WEB]) == [WEB, other] and Address.parse(str(WEB)) == WEB
    with pytest.raises(dataclasses.FrozenInstanceError):
        WEB.name = "x"  # type: ignore[misc]
    back = pickle.loads(pickle.dumps(other))
    assert back == other and hash(back) == hash(other) and str(back) == "nipap_address[lab].lan.web02"


def test_drift_and_unmanaged_that_a_plan_keeps_make_no_dict_of_their_own() -> None:
    """A one-step ``__dict__`` is one more object per instance for the collection after a plan to walk."""
    drift = Drift(WEB, frozen_map({"ip": "192.168.1.5"}), None, "adopt", "found netsot's marker on it")
    unmanaged = Unmanaged(WEB, "not imported", ip="192.168.1.5")
    for value in (drift, unmanaged):
        assert not any(type(r) is dict for r in gc.get_referents(value))
        assert dataclasses.replace(value) == value


@pytest.mark.parametrize("make", [
    lambda: Change(Action.CREATE, WEB, None, frozen_map({"ip": "192.168.1.5"}), "new", provider_id="7"),
    lambda: Provenance("proxmox", "ip: precedence", "proxmox pve1/101 net0"),
    lambda: ManagedResource(WEB, "7", frozen_map({"ip": "192.168.1.5"})),
    lambda: ImportItem("edgemax_host.web01", "adopt", ""),
])
def test_a_one_step_init_stores_every_field_in_field_order(make: object) -> None:
    """The fields are stored one by one in field order, so every instance's dict keeps sharing its class's
    keys (a field left out, or stored out of order, is caught here: equality alone would not see order)."""
    first, second = make(), make()  # type: ignore[operator]
    assert first == second and list(vars(first)) == [f.name for f in dataclasses.fields(first)]
    assert dataclasses.replace(first) == first

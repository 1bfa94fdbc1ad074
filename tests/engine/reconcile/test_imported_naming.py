"""Which origin names a binding, whatever the kinds' names (issue 25).

An imported binding is never named by an object netsot made for it.

After ``netsot import vyos.cabin`` and an apply, the NIPAP host netsot created for the adopted AP is an origin
of the AP's binding too (its state record says ``origin: import``), and its ref ``nipap …`` sorts before
``vyos[cabin] …``. The binding must still be named by the mapping the import adopted, or every later plan
rewrites the host's description. Pure: the golden VyOS world (observations built without a socket), a state,
two plans; and reconcile on hand-made facts.

A binding of origins of several kinds takes its description and ``first_origin`` from the kind the registry
ranks first (the kind ``Binding.origin`` names), not from the kind whose name sorts first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any, ClassVar

import pytest

from core.config import NetworkSettings, SystemSettings
from core.model import Address, Fact, ManagedResource, Observation, OriginRef, frozen_map
from engine.reconcile.bindings import reconcile
from providers import registry
from providers.base import SystemKind
from providers.lab import seeds
from providers.lab.homelab import CABIN, HOME, site_homelab
from providers.nipap.mapping import NETSOT_SOURCE
from providers.nipap.sim.lab import nipap_seed
from state.model import ADOPTED, MADE, UNKNOWN, ResourceState, State
from tests import addresses as A
from tests.engine.reconcile.test_reconcile import (
    M1,
    M3,
    config,
    dns_host,
    mapping,
    nipap,
    observations,
    only,
    pve,
)
from tests.golden import scenarios

AP_HOST = "nipap_address.cabin.ap"
AP_NAME = "vyos[cabin] static-mapping CABIN/ap (imported)"


def _imported(world: scenarios.World) -> State:
    """The state ``netsot import vyos.cabin`` leaves: the cabin router's objects, adopted."""
    resources = {
        str(a): ResourceState(str(a), a.kind, r.provider_id, MappingProxyType(dict(r.attributes)),
                              origin="import", ownership=ADOPTED)
        for a, r in world.observations["vyos.cabin"].resources.items()
    }
    return State(lineage=scenarios.LINEAGE, serial=1, resources=MappingProxyType(resources))


def _applied(world: scenarios.World, state: State,
             create: Mapping[str, Any]) -> tuple[scenarios.World, State]:
    """The world and state after the apply created the AP's NIPAP host as the plan said (nipapd stamps
    ``authoritative_source`` with netsot's session)."""
    after = create["after"]
    seed = nipap_seed(site_homelab(HOME), site_homelab(CABIN))
    seed["prefixes"].append({"prefix": f"{after['ip']}/32", "type": "host", "node": after["hostname"],
                             "description": after["description"], "avps": dict(after["avps"]),
                             "vrf": seeds.VRF_NAME, "authoritative_source": NETSOT_SOURCE})
    nipap_obs = scenarios._nipap(world.config, seed)
    seen = nipap_obs.resources[Address.parse(AP_HOST)]
    assert seen.owned_marker and dict(seen.attributes)["description"] == after["description"]
    made = ResourceState(AP_HOST, "nipap", seen.provider_id, MappingProxyType(dict(seen.attributes)),
                         origin="import", ownership=MADE)
    return (replace(world, observations=MappingProxyType({**world.observations, "nipap": nipap_obs})),
            replace(state, serial=2, resources=MappingProxyType({**state.resources, AP_HOST: made})))


def test_the_ipam_host_made_for_an_imported_binding_does_not_rename_it() -> None:
    world = scenarios.vyos()
    state = _imported(world)
    first = scenarios.plan_json(world, state)
    create = next(c for c in first["changes"] if c["address"] == AP_HOST)
    assert create["action"] == "create" and create["after"]["description"] == AP_NAME

    world, state = _applied(world, state, create)
    second = scenarios.plan_json(world, state)
    assert [c for c in second["changes"] if c["address"] == AP_HOST] == [], "the host is as it should be"
    # and the provenance the plan shows for the binding's MAC still names the adopted mapping
    for change in second["changes"]:
        if change["origin"] == "import" and "mac" in change["provenance"]:
            assert change["provenance"]["mac"]["ref"].startswith("vyos[cabin] "), change


def _ip_owned(*records: tuple[Address | None, str]) -> dict[Address, ManagedResource]:
    out: dict[Address, ManagedResource] = {}
    for address, ownership in records:
        assert address is not None
        out[address] = ManagedResource(address, "id", frozen_map({}), (), "import", ownership=ownership)
    return out


def _router_mapping() -> Fact:
    """A router mapping whose ref sorts after ``nipap …`` (as VyOS's ``vyos[cabin] …`` does)."""
    return replace(mapping("ap", M3, "192.168.1.30"), ref="router mapping LAN ap")


def test_reconcile_names_an_imported_binding_by_the_adopted_object_before_and_after_the_apply() -> None:
    m = _router_mapping()
    before = only(reconcile(config(), observations([m]), _ip_owned((m.address, ADOPTED))))
    assert before.description == "router mapping LAN ap (imported)"
    n = nipap("ap", M3, "192.168.1.30")  # netsot's host: marked, no origin of its own
    after = only(reconcile(config(), observations([m, n]),
                           _ip_owned((m.address, ADOPTED), (n.address, MADE))))
    assert after.description == before.description
    assert after.provenance["mac"].ref == "router mapping LAN ap"


def test_a_state_that_cannot_tell_reads_netsots_marker() -> None:
    m = _router_mapping()
    n = nipap("ap", M3, "192.168.1.30")
    unknown = only(reconcile(config(), observations([m, n]),
                             _ip_owned((m.address, UNKNOWN), (n.address, UNKNOWN))))
    assert unknown.description == "router mapping LAN ap (imported)"  # the host carries netsot's marker


def test_the_ipam_host_an_import_took_along_does_not_name_the_binding() -> None:
    # both adopted: the router's import adopted its mapping, the IPAM's adopt hook the NIPAP host holding
    # its address (a person's, untagged); the router's object names the binding, whatever the refs say
    m = _router_mapping()
    n = nipap("ap", M3, "192.168.1.30", owned=False)
    assert n.address == A.nipap_address("lan", "ap")
    d = only(reconcile(config(), observations([m, n]), _ip_owned((m.address, ADOPTED), (n.address, ADOPTED))))
    assert d.description == "router mapping LAN ap (imported)"


def test_among_the_imported_systems_objects_the_one_with_the_mac_names_the_binding() -> None:
    # the rule before issue 25, kept: the mapping (the MAC) before the DNS host entry of the same name
    m = mapping("nas", M3, "192.168.1.30")
    h = replace(dns_host("nas", "192.168.1.30"), ref="a host nas.lab.example")  # sorts before the mapping
    d = only(reconcile(config(), observations([m, h]), _ip_owned((m.address, ADOPTED), (h.address, ADOPTED))))
    assert d.description == "edgemax mapping LAN nas (imported)"


# ------------------------------------------------------------------ origins of several kinds


class _InventorySettings(SystemSettings):
    KIND: ClassVar[str] = "acme"


class _InventoryNetwork(NetworkSettings):
    KIND: ClassVar[str] = "acme"


# an asset inventory whose objects originate bindings: registered after the built-in kinds (ranked after
# proxmox), while its name sorts before every one of them
INVENTORY = SystemKind(name="acme", title="ACME inventory", provider="tests.none:Provider",
                       settings=_InventorySettings, network_settings=_InventoryNetwork,
                       schema="tests.none:config.schema.json", origins=True)


@pytest.fixture
def inventory() -> Iterator[None]:
    registry.register_kind(INVENTORY)
    try:
        yield
    finally:
        registry.unregister_kind(INVENTORY.name)


def test_a_binding_is_described_by_its_best_ranked_origin_kind_not_the_first_name(inventory: None) -> None:
    guest = pve("web01", M1)
    asset = Fact(source="acme", ref="acme asset 7", network="lan", hostname="web01", mac=M1, ip=None,
                 origin=True, origin_ref=OriginRef("acme", "", "asset 7", "acme asset 7", "asset"),
                 description="acme asset 7 (rack 2)")
    obs = {**observations([guest]), "acme": Observation(system="acme", facts=(asset,))}
    b = only(reconcile(config(), obs, {}))
    assert b.origin == "proxmox"
    assert b.description == guest.description
    assert b.first_origin is not None and b.first_origin.kind == "proxmox"
    assert [r.kind for r in b.origin_refs] == ["proxmox", "acme"]

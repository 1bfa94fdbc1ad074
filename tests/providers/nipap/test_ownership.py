"""#20: who made a NIPAP host (nipapd's authoritative_source) decides what netsot may do with it — pure
mapping and policy, on plain rows: a binding's source is never a target whatever the marker or the state
says, an adopted host's delete is held by the `adopted` gate, and the configured MAC avp wins."""

from __future__ import annotations

from typing import Any

from core.config import Config, Network, Policy
from core.model import Action, Address, Desired, ManagedResource, Plan, frozen_map
from engine.plan.policy import apply_policy
from providers.base import PlanContext
from providers.nipap import mapping
from providers.nipap.settings import NipapSettings

VRF = {"id": 1, "rt": "65000:1", "name": "lab"}
SETTINGS = {"url": "http://127.0.0.1:1/XMLRPC", "username": "u", "password": "p"}
CONFIG = Config(networks=(Network(name="lan", prefix="192.168.10.0/24"),),
                providers={"nipap": NipapSettings(**SETTINGS)})
MARKER = {"managed-by": "netsot", "netsot-binding": "lan.camera"}
CAMERA = Address.parse("nipap_address.lan.camera")


def _rows(source: str | None, avps: dict[str, str],
          tags: tuple[str, ...] = ("netsot",)) -> list[dict[str, Any]]:
    host: dict[str, Any] = {"id": 7, "prefix": "192.168.10.77/32", "type": "host", "node": "camera",
                            "description": "garden camera", "vrf_id": 1, "tags": list(tags), "avps": avps}
    if source is not None:
        host["authoritative_source"] = source
    return [{"id": 1, "prefix": "192.168.10.0/24", "type": "assignment", "description": "LAN", "vrf_id": 1},
            host]


def _observe(rows: list[dict[str, Any]], **settings: Any) -> Any:
    rules = NipapSettings(**SETTINGS, **settings)
    return mapping.observe(CONFIG, VRF, rows, settings=rules)


def test_a_tagged_host_someone_made_is_the_source_even_with_netsots_marker() -> None:
    obs = _observe(_rows("nipap-www", {"mac": "0c:8b:95:00:00:01", **MARKER}))
    (fact,) = obs.facts
    assert fact.origin and not fact.owned and not obs.resources[CAMERA].owned_marker
    assert any("is a binding's source, yet carries netsot's marker" in w for w in obs.warnings)
    # the state says netsot owns it, and nothing wants it: still no change at all
    ctx = PlanContext(owned=frozen_map({CAMERA: ManagedResource(CAMERA, "7", frozen_map({}))}))
    assert mapping.plan_changes(CONFIG, False, Desired(), obs, ctx) == []


def test_netsots_own_host_and_a_host_of_unknown_maker_keep_the_marker_rule() -> None:
    for source in ("netsot", None):
        obs = _observe(_rows(source, {"mac": "0c:8b:95:00:00:01", **MARKER}))
        (fact,) = obs.facts
        assert fact.owned and not fact.origin, source
        (change,) = mapping.plan_changes(CONFIG, False, Desired(), obs, PlanContext())
        assert change.action is Action.DELETE and change.adopted == "", source


def test_an_adopted_hosts_delete_is_held_by_the_adopted_gate_even_with_force() -> None:
    obs = _observe(_rows("admin", {"mac": "0c:8b:95:00:00:01", **MARKER}, tags=()))
    (change,) = mapping.plan_changes(CONFIG, False, Desired(), obs, PlanContext())
    assert change.action is Action.DELETE and change.adopted == "made in NIPAP by admin"
    result = apply_policy(Plan(changes=(change,)), Policy(delete="auto"), {}, force=True)
    (held,) = result.plan.held
    assert held.gate == "adopted" and result.plan.changes == ()
    assert "`netsot state rm nipap_address.lan.camera`" in held.reason


def test_the_configured_mac_avp_wins_over_mac() -> None:
    obs = _observe(_rows("nipap-www", {"mac": "0c:8b:95:00:00:01", "hwaddr": "0c:8b:95:00:00:02"}),
                   mac_avp="hwaddr")
    (fact,) = obs.facts
    assert fact.mac == "0c:8b:95:00:00:02"

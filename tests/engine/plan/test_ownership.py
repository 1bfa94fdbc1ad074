"""#20.1: a delete of an object netsot adopted (any system) is marked adopted and held by the policy."""

from __future__ import annotations

from core.config import Policy
from core.model import Action, Address, Change, ManagedResource, Observation, ObservedResource, Plan
from engine.plan.ownership import CANNOT_TELL, TAKEN_OVER, hold_adopted
from engine.plan.policy import apply_policy

MAPPING = Address.parse("edgemax_dhcp_mapping.LAN.camera")


def _delete(address: Address = MAPPING, **extra) -> Change:
    return Change(Action.DELETE, address, {"ip_address": "192.168.10.77"}, None,
                  "lost its source: host removed", **extra)


def _owned(ownership: str, status: str = "managed") -> dict[Address, ManagedResource]:
    return {MAPPING: ManagedResource(MAPPING, None, {"ip_address": "192.168.10.77"}, ownership=ownership,
                                     status=status)}


def _seen(marker: bool) -> dict[str, Observation]:
    return {"edgemax": Observation("edgemax", {MAPPING: ObservedResource(MAPPING, {}, owned_marker=marker)})}


def test_a_delete_of_an_adopted_object_is_marked_and_one_netsot_made_is_not() -> None:
    assert hold_adopted([_delete()], _owned("adopted"), _seen(False))[0].adopted == TAKEN_OVER
    assert hold_adopted([_delete()], _owned("made"), _seen(False))[0].adopted == ""
    assert hold_adopted([_delete()], _owned("adopted", "recovering"), _seen(False))[0].adopted == ""


def test_an_old_state_that_cannot_tell_is_read_as_adopted_unless_netsots_marker_is_on_it() -> None:
    assert hold_adopted([_delete()], _owned("unknown"), _seen(False))[0].adopted == CANNOT_TELL
    assert hold_adopted([_delete()], _owned("unknown"), _seen(True))[0].adopted == ""


def test_only_deletes_are_marked_and_a_providers_own_words_are_kept() -> None:
    update = Change(Action.UPDATE, MAPPING, {"ip_address": "1"}, {"ip_address": "2"})
    assert hold_adopted([update], _owned("adopted"), _seen(False)) == [update]
    nipap = _delete(adopted="made in NIPAP by nipap-www")
    assert hold_adopted([nipap], _owned("adopted"), _seen(False))[0].adopted == "made in NIPAP by nipap-www"
    moved = _delete(moved_from=Address.parse("edgemax_dhcp_mapping.LAN.old"))
    assert hold_adopted([moved], _owned("adopted"), _seen(False))[0].adopted == ""


def test_the_policy_holds_it_whatever_force_says() -> None:
    owned = _owned("adopted")
    changes = tuple(hold_adopted([_delete()], owned, _seen(False)))
    result = apply_policy(Plan(changes=changes), Policy(), owned, force=True)
    assert result.plan.changes == ()
    (held,) = result.plan.held
    assert held.gate == "adopted"
    assert "never deletes what it did not make" in held.reason
    assert f"`netsot state rm {MAPPING}`" in held.reason

"""The shared diff (``providers.diffing``): wants against what a system holds and what netsot owns."""

from __future__ import annotations

from typing import Any

from core.model import (
    Action,
    Address,
    Change,
    Conflict,
    ConflictKind,
    Desired,
    Fact,
    ManagedResource,
    Observation,
    ObservedResource,
    frozen_map,
)
from providers import diffing
from providers.base import PlanContext
from providers.diffing import Want, Wanted

T = "box_record"


def a(name: str) -> Address:
    return Address(T, name)


def seen(name: str, marker: bool = False, **attrs: Any) -> ObservedResource:
    return ObservedResource(a(name), frozen_map(attrs), provider_id=f"id-{name}", owned_marker=marker)


def obs(*resources: ObservedResource, facts: tuple[Fact, ...] = ()) -> Observation:
    return Observation("box", frozen_map({r.address: r for r in resources}), facts)


def owning(*names: str) -> PlanContext:
    return PlanContext(owned={a(n): ManagedResource(a(n), None, frozen_map({})) for n in names})


def blocking(*names: str) -> Desired:
    return Desired(conflicts=(Conflict(ConflictKind.IP_CLAIMED_TWICE, "two claim it", (),
                                       blocked=tuple(a(n) for n in names)),))


def want(name: str, **attrs: Any) -> Want:
    return Want(a(name), frozen_map(attrs), reason="new")


NOTHING_OWNED, NO_CONFLICT = PlanContext(), Desired()


def run(wanted: Wanted, observed: Observation, ctx: PlanContext = NOTHING_OWNED,
        desired: Desired = NO_CONFLICT) -> list[tuple[str, str]]:
    return [(c.action.value, c.address.name) for c in diffing.diff(wanted, desired, observed, ctx)]


def test_creates_what_is_missing_and_leaves_what_matches() -> None:
    wanted = Wanted((want("x", ip="1"), want("y", ip="2")))
    changes = diffing.diff(wanted, Desired(), obs(seen("y", ip="2")), owning("y"))
    assert [(c.action, c.address, c.after, c.reason) for c in changes] == [
        (Action.CREATE, a("x"), {"ip": "1"}, "new")]


def test_updates_only_what_netsot_owns() -> None:
    observed = obs(seen("mine", ip="9"), seen("theirs", ip="9"), seen("marked", marker=True, ip="9"))
    wanted = Wanted(tuple(want(n, ip="1") for n in ("mine", "theirs", "marked")))
    changes = diffing.diff(wanted, Desired(), observed, owning("mine"))
    assert [(c.action, c.address.name, c.before, c.after, c.provider_id) for c in changes] == [
        (Action.UPDATE, "mine", {"ip": "9"}, {"ip": "1"}, "id-mine"),
        (Action.UPDATE, "marked", {"ip": "9"}, {"ip": "1"}, "id-marked"),
    ]


def test_deletes_owned_objects_of_the_pruned_types_only() -> None:
    other = ObservedResource(Address("box_zone", "z"), frozen_map({}), owned_marker=True)
    observed = obs(seen("gone", ip="1"), seen("foreign", ip="2"), seen("marked", marker=True), other)
    assert run(Wanted(prune=frozenset({T})), observed, owning("gone")) == [
        ("delete", "gone"), ("delete", "marked")]
    assert run(Wanted(), observed, owning("gone")) == []  # a provider that prunes nothing deletes nothing


def test_nothing_at_a_blocked_address_is_created_changed_or_deleted() -> None:
    observed = obs(seen("old", ip="9"), seen("stale", ip="3"))
    wanted = Wanted((want("old", ip="1"), want("new", ip="2")), prune=frozenset({T}))
    assert run(wanted, observed, owning("old", "stale"), blocking("old", "new", "stale")) == []


def test_a_binding_source_is_never_a_target_unless_it_lets_netsot_write_it() -> None:
    source = Fact("box", "box x", "lan", "x", None, "9", origin=True, address=a("x"))
    writable = Fact("box", "box w", "lan", "w", None, "9", origin=True, address=a("w"), ip_writable=True)
    observed = obs(seen("x", marker=True, ip="9"), seen("w", marker=True, ip="9"), facts=(source, writable))
    assert run(Wanted((want("x", ip="1"), want("w", ip="1"))), observed, owning("x")) == [("update", "w")]
    assert run(Wanted(prune=frozenset({T})), observed, owning("x")) == [("delete", "w")]


def test_a_rename_moves_the_first_owned_free_candidate() -> None:
    observed = obs(seen("theirs", ip="1"), seen("old", ip="1"), seen("older", ip="1"))
    moved = Want(a("new"), frozen_map({"ip": "1"}), moves_from=(a("theirs"), a("old"), a("older")))
    pruning = Wanted((moved,), prune=frozenset({T}))
    changes = diffing.diff(pruning, Desired(), observed, owning("old", "older"))
    assert [(c.action, c.address.name, c.moved_from, c.provider_id) for c in changes] == [
        (Action.UPDATE, "new", a("old"), "id-old"), (Action.DELETE, "older", None, "id-older")]
    # a blocked candidate is not moved: the object is made anew, the blocked one left alone
    assert run(Wanted((moved,), prune=frozenset({T})), observed, owning("old"), blocking("old")) == [
        ("create", "new")]
    # a candidate another want already holds is not taken twice
    first = Want(a("old"), frozen_map({"ip": "1"}))
    assert run(Wanted((first, moved)), observed, owning("old")) == [("create", "new")]


def test_finish_may_turn_a_rename_into_a_create_and_a_delete() -> None:
    observed = obs(seen("old", ip="1"))
    moved = Want(a("new"), frozen_map({"ip": "1"}), moves_from=(a("old"),))

    def split(c: Change, w: Want | None, s: ObservedResource | None) -> Change | list[Change]:
        if c.moved_from is None:
            return c
        return [Change(Action.CREATE, c.address, None, c.after, replaces=c.moved_from),
                Change(Action.DELETE, c.moved_from, c.before, None, provider_id=c.provider_id)]

    wanted = Wanted((moved,), prune=frozenset({T}), finish=split)
    changes = diffing.diff(wanted, Desired(), observed, owning("old"))
    assert [(c.action, c.address.name, c.replaces) for c in changes] == [
        (Action.CREATE, "new", a("old")), (Action.DELETE, "old", None)]


def test_creates_false_and_updates_false() -> None:
    observed = obs(seen("there", ip="9"))
    only_update = Want(a("absent"), frozen_map({"ip": "1"}), creates=False)
    only_create = Want(a("there"), frozen_map({"ip": "1"}), updates=False)
    assert run(Wanted((only_update, only_create)), observed, owning("there")) == []


def test_hooks_merge_finish_extra_and_order() -> None:
    observed = obs(seen("b", ip="9", extra="person's"))

    def merge(w: Want, s: ObservedResource) -> dict[str, Any]:
        return {**w.attributes, "extra": s.attributes["extra"]}

    def finish(c: Change, w: Want | None, s: ObservedResource | None) -> Change | None:
        done = Change(c.action, c.address, c.before, c.after, "finished")
        return None if c.address.name == "drop" else done

    pseudo = Change(Action.UPDATE, Address("box_config", "saved"), {"saved": False}, {"saved": True})
    hidden = Change(Action.UPDATE, a("blocked"), {"ip": "1"}, {"ip": "2"})
    wanted = Wanted((want("b", ip="1"), want("drop", ip="1"), want("a", ip="1")), extra=(pseudo, hidden),
                    merge=merge, finish=finish, sort_key=lambda c: str(c.address))
    changes = diffing.diff(wanted, blocking("blocked"), observed, owning("b"))
    assert [(str(c.address), c.reason) for c in changes] == [
        ("box_config.saved", ""), ("box_record.a", "finished"), ("box_record.b", "finished")]
    assert changes[2].after == {"ip": "1", "extra": "person's"}


def test_a_create_hook_makes_the_creates_the_diff_decided_and_finish_sees_only_the_rest() -> None:
    """The diff still decides (nothing blocked, nothing observed is created, ``creates=False`` holds);
    the hook's change is planned as it is, finish is not asked about it."""
    observed = obs(seen("there", ip="9"), seen("gone", ip="2"))
    asked: list[str] = []

    def create(w: Want) -> Change | list[Change] | None:
        asked.append(w.address.name)
        if w.address.name == "drop":
            return None
        made = Change(Action.CREATE, w.address, None, w.attributes, "worded by the provider", drift=True)
        return [made, made] if w.address.name == "twice" else made

    def finish(c: Change, w: Want | None, s: ObservedResource | None) -> Change:
        return Change(c.action, c.address, c.before, c.after, "finished", provider_id=c.provider_id)

    wants = (want("new", ip="1"), want("drop", ip="1"), want("twice", ip="1"), want("there", ip="1"),
             want("blocked", ip="1"), Want(a("absent"), frozen_map({"ip": "1"}), creates=False))
    wanted = Wanted(wants, prune=frozenset({T}), create=create, finish=finish)
    changes = diffing.diff(wanted, blocking("blocked"), observed, owning("there", "gone"))
    assert asked == ["new", "drop", "twice"]
    assert [(c.action, c.address.name, c.reason, c.drift) for c in changes] == [
        (Action.CREATE, "new", "worded by the provider", True),
        (Action.CREATE, "twice", "worded by the provider", True),
        (Action.CREATE, "twice", "worded by the provider", True),
        (Action.UPDATE, "there", "finished", False),
        (Action.DELETE, "gone", "finished", False),
    ]


def test_the_engine_call_diffs_a_wanting_provider_and_lets_others_plan() -> None:
    class Old:
        def plan(self, desired: Desired, observed: Observation, ctx: PlanContext) -> list[Change]:
            return [Change(Action.CREATE, a("old"), None, {"ip": "1"})]

    class New(diffing.Wanting):
        def wants(self, desired: Desired, observed: Observation, ctx: PlanContext) -> Wanted:
            return Wanted((want("new", ip="1"),))

    assert [c.address.name for c in diffing.plan(Old(), Desired(), obs(), PlanContext())] == ["old"]
    assert [c.address.name for c in diffing.plan(New(), Desired(), obs(), PlanContext())] == ["new"]
    assert [c.address.name for c in New().plan(Desired(), obs(), PlanContext())] == ["new"]

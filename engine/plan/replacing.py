"""``--replace ADDR``: an owned object deleted and created again (Terraform's ``-replace``).

Owns: building the pair for each replaced address (a delete, then a create with the same address
whose ``replaces`` names itself, both with the reason ``REASON``), refusing what cannot be
replaced (not owned, not there, protected, or already deleted by the plan), and the pairs' place
in a plan: the deletes first, then the rest of the plan in its own order (the creates among it).
Splitting a plan into the pairs' deletes and everything else is here too: the safety policy and
apply take each part on its own, because every other step knows one change per address.
Must not: decide anything else about a plan, or name a system.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from core.config import Config
from core.errors import PlanError
from core.model import Action, Address, Change, ManagedResource, Observation, Plan
from engine.plan.policy import is_protected

REASON = "replaced on request (--replace)"


def is_replacement(change: Change) -> bool:
    """The create half of a replace (its ``replaces`` is its own address)."""
    return change.action is Action.CREATE and change.replaces == change.address


def replaced(changes: Iterable[Change]) -> frozenset[Address]:
    return frozenset(c.address for c in changes if is_replacement(c))


def split(plan: Plan) -> tuple[tuple[Change, ...], tuple[Change, ...]]:
    """(the replaced objects' deletes, every other change) of ``plan``, each in plan order."""
    gone = replaced(plan.changes)
    first = tuple(c for c in plan.changes if c.action is Action.DELETE and c.address in gone)
    rest = tuple(c for c in plan.changes if not (c.action is Action.DELETE and c.address in gone))
    return first, rest


def ordered(pairs: Sequence[Change], rest: Sequence[Change]) -> list[Change]:
    """The plan's order: the replaced objects' deletes (sorted), then everything else as ordered."""
    deletes = sorted((c for c in pairs if c.action is Action.DELETE), key=lambda c: str(c.address))
    creates = [c for c in pairs if c.action is not Action.DELETE]
    return [*deletes, *_merged(rest, creates)]


def _merged(rest: Sequence[Change], creates: Sequence[Change]) -> list[Change]:
    """``rest`` with each create placed before the first change that depends on it."""
    out = list(rest)
    for create in sorted(creates, key=lambda c: str(c.address)):
        users = [i for i, c in enumerate(out)
                 if create.address in c.depends_on and c.action is not Action.DELETE]
        out.insert(min(users) if users else len(out), create)
    return out


def replacements(
    config: Config,
    wanted: frozenset[Address],
    changes: list[Change],
    owned: Mapping[Address, ManagedResource],
    observations: Mapping[str, Observation],
    blocked: frozenset[Address],
) -> tuple[list[Change], list[Change]]:
    """(the delete + create pair of every wanted address, ``changes`` without what they supersede)."""
    by_address = {c.address: c for c in changes}
    pairs: list[Change] = []
    for address in sorted(wanted):
        record = owned.get(address)
        seen = observations[address.system].resources.get(address) if address.system in observations else None
        planned = by_address.get(address)
        _check(config, address, record, seen is not None, planned, blocked)
        assert record is not None and seen is not None
        after = planned.after if planned is not None and planned.after is not None else seen.attributes
        deps = planned.depends_on if planned is not None else tuple(record.dependencies)
        pairs.append(Change(Action.DELETE, address, seen.attributes, None, reason=REASON,
                            depends_on=tuple(record.dependencies),
                            provider_id=seen.provider_id or record.provider_id, origin=record.origin))
        pairs.append(Change(Action.CREATE, address, None, after, reason=REASON,
                            provenance=planned.provenance if planned is not None else {},
                            depends_on=deps, origin=record.origin, replaces=address))
    return pairs, [c for c in changes if c.address not in wanted]


def _check(config: Config, address: Address, record: ManagedResource | None, present: bool,
           planned: Change | None, blocked: frozenset[Address]) -> None:
    if record is None or record.status not in ("managed", "orphaned"):
        raise PlanError(f"--replace {address}: netsot does not own it, so it cannot be replaced (only "
                        "objects in the state can be; `netsot state list` shows them, `netsot import` adopts "
                        "others)")
    if not present:
        raise PlanError(f"--replace {address}: it does not exist on its system now, so there is nothing to "
                        "replace (the plan creates it again anyway)")
    if planned is not None and planned.action is Action.DELETE:
        raise PlanError(f"--replace {address}: the plan deletes it ({planned.reason or 'no longer wanted'})")
    if address in blocked:
        raise PlanError(f"--replace {address}: a conflict involves it (see the plan's Conflicts); "
                        "fix that first")
    if is_protected(str(address), config.policy.protected):
        raise PlanError(f"--replace {address}: it matches policy.protected, so it is never deleted and "
                        "cannot be replaced")
    if config.policy.delete == "never":
        raise PlanError(f"--replace {address}: policy.delete is 'never', and a replace deletes the object "
                        "first")

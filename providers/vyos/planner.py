"""VyOS planning: what the router should hold, for the shared diff, from the Vyatta library's planner.

Owns: running ``providers/vyatta/planner.py`` with this kind's values — the router's subnets per
shared network (where a new mapping goes; an existing mapping stays in its subnet, as ``changeops``
writes its leaves in place) and the binding's IPAM address from the plan context — and handing its
wishes to the boundary's diff (``providers.diffing``), renames and kept data as its ``create`` and
``finish`` hooks.
The rules are the library's, the same as the EdgeOS kind's: identity by name then MAC with the
router's real names kept, moves and renames in one commit, only owned objects change, someone else's
object is left to reconcile's conflict, nothing in ``desired.blocked`` is planned.
Must not: do I/O, or touch an object netsot does not own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.config import Config
from core.model import Change, Desired, Observation
from providers import diffing
from providers.base import ROLE_ADDRESS, PlanContext
from providers.vyatta import planner as library
from providers.vyos.descriptor import VYATTA

DIFF = library.Diff(want=diffing.Want, wanted=diffing.Wanted)


def wanted_vyos(config: Config, desired: Desired, subnets: Mapping[str, Sequence[str]],
                observation: Observation, ctx: PlanContext, key: str = "vyos") -> diffing.Wanted:
    """What the router's static mappings / host names should be, for the shared diff.

    ``subnets``: the router's subnets per shared network (where a new mapping goes)."""
    return library.wanted(
        VYATTA, DIFF, config, desired, observation, key=key, owned=ctx.owned,
        depends=lambda network, hostname: ctx.role_address(ROLE_ADDRESS, network, hostname),
        subnets=subnets)


def plan_vyos(config: Config, desired: Desired, subnets: Mapping[str, Sequence[str]],
              observation: Observation, ctx: PlanContext, key: str = "vyos") -> list[Change]:
    """Changes that make the router's static mappings / host names match ``desired`` (the shared diff)."""
    wanted = wanted_vyos(config, desired, subnets, observation, ctx, key)
    return diffing.diff(wanted, desired, observation, ctx)

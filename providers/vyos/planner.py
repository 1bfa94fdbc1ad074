"""VyOS planning: desired bindings vs the observed router → changes, by the Vyatta library's planner.

Owns: running ``providers/vyatta/planner.py`` with this kind's values — the router's subnets per
shared network (where a new mapping goes; an existing mapping stays in its subnet, as ``changeops``
writes its leaves in place) and the binding's IPAM address from the plan context. The rules are the
library's, the same as the EdgeOS kind's: identity by name then MAC with the router's real names
kept, moves and renames in one commit, only owned objects change, someone else's object is left to
reconcile's conflict, nothing in ``desired.blocked`` is planned.
Must not: do I/O, or touch an object netsot does not own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.config import Config
from core.model import Change, Desired, Observation
from providers.base import ROLE_ADDRESS, PlanContext
from providers.vyatta import planner as library
from providers.vyos.descriptor import VYATTA


def plan_vyos(config: Config, desired: Desired, subnets: Mapping[str, Sequence[str]],
              observation: Observation, ctx: PlanContext, key: str = "vyos") -> list[Change]:
    """Changes that make the router's static mappings / host names match ``desired``.

    ``subnets``: the router's subnets per shared network (where a new mapping goes)."""
    return library.plan(
        VYATTA, config, desired, observation, key=key, owned=ctx.owned,
        depends=lambda network, hostname: ctx.role_address(ROLE_ADDRESS, network, hostname),
        subnets=subnets)

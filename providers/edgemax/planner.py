"""EdgeMax planning: the router as an Observation, and the changes to make — the Vyatta library's.

Owns: ``observation_from_config`` (an extracted config + leases → the library's entries, EdgeOS's
``dnsmasq`` mode and its warnings about disabled reservations) and ``plan_edgemax`` (the library's
planner run with this kind's values: the router's subnets from the extracted config, the host names
EdgeOS does not publish for a disabled reservation, and the binding's IPAM address from the plan
context). The rules — identity by name then MAC, real names kept, moves and renames, only owned
objects change, the ``edgemax_config.saved`` pseudo resource — are ``providers/vyatta/planner.py``'s.
Must not: do I/O, touch an object netsot does not own, or plan anything in ``desired.blocked``.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.config import Config
from core.model import Address, Change, Desired, Observation
from providers import diffing
from providers.base import ROLE_ADDRESS, PlanContext
from providers.edgemax import commitrules
from providers.edgemax.descriptor import CONFIG_TYPE, HOST_TYPE, MAPPING_TYPE, VYATTA
from providers.edgemax.extract import EdgeConfig
from providers.edgemax.leases import Lease
from providers.vyatta import observe
from providers.vyatta import planner as library
from providers.vyatta.family import label as label
from providers.vyatta.observe import HostEntry, MappingEntry
from providers.vyatta.observe import host_attrs as host_attrs
from providers.vyatta.observe import mapping_attrs as mapping_attrs
from providers.vyatta.planner import UNSAVED_REASON as UNSAVED_REASON

SYSTEM = "edgemax"
MAPPING = MAPPING_TYPE
HOST = HOST_TYPE
# Pseudo-resource: whether the router's committed (active) config is also in /config/config.boot.
SAVED = Address(CONFIG_TYPE, "saved")
DIFF = library.Diff(want=diffing.Want, wanted=diffing.Wanted)


def saved_address(key: str = SYSTEM) -> Address:
    return VYATTA.saved_address(key)


def observation_from_config(
    cfg: EdgeConfig, config: Config, leases: Sequence[Lease] = (), unsaved: str | None = None,
    key: str = SYSTEM, warnings: Sequence[str] = (),
) -> Observation:
    """The router as an Observation: every mapping / host entry, binding facts, leases.

    ``unsaved`` is the router's `compare saved` diff ("" when the active config is saved); when
    given, the observation holds the ``edgemax_config.saved`` pseudo-resource and
    ``data["unsaved"]``. None (a config file read offline, or a router that refused the check)
    leaves both out.
    """
    mappings = [MappingEntry(sn.name, subnet.cidr, m.name, m.ip, m.mac, m.other, m.disabled)
                for sn, subnet, m in cfg.mappings()]
    hosts = [HostEntry(h.host_name, h.inet, h.aliases, h.other) for h in cfg.host_mappings]
    named = [sn for sn, nets in VYATTA.shared_networks(config, key).items() if any(n.domain for n in nets)]
    data = {"dnsmasq": cfg.dnsmasq, "leases": [lease.to_dict() for lease in leases],
            **({"unsaved": unsaved} if unsaved is not None else {})}
    return observe.observation(
        VYATTA, config, key, mappings, hosts, leases, saved=None if unsaved is None else not unsaved,
        warnings=warnings, notes=commitrules.disabled_warnings(cfg, key, named), data=data)


def wanted_edgemax(
    config: Config,
    desired: Desired,
    observed_cfg: EdgeConfig,
    observation: Observation,
    ctx: PlanContext,
    key: str = SYSTEM,
) -> diffing.Wanted:
    """What the router's static mappings / host entries should be, for the shared diff: the library's
    wishes, with EdgeOS's moves and renames, kept data and reasons as its ``create`` and ``finish`` hooks."""
    subnets: dict[str, list[str]] = {}
    for sn in observed_cfg.shared_networks:  # the first of a name, as ``EdgeConfig.shared_network``
        subnets.setdefault(sn.name, [s.cidr for s in sn.subnets])
    return library.wanted(
        VYATTA, DIFF, config, desired, observation, key=key, owned=ctx.owned,
        depends=lambda network, hostname: ctx.role_address(ROLE_ADDRESS, network, hostname),
        subnets=subnets, unpublished=commitrules.unpublished)


def plan_edgemax(
    config: Config,
    desired: Desired,
    observed_cfg: EdgeConfig,
    observation: Observation,
    ctx: PlanContext,
    key: str = SYSTEM,
) -> list[Change]:
    """Changes that make the router's static mappings / host entries match ``desired`` (the shared diff)."""
    return diffing.diff(wanted_edgemax(config, desired, observed_cfg, observation, ctx, key), desired,
                        observation, ctx)

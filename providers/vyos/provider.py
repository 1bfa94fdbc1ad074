"""The VyOS provider: read, plan and apply against one router over its HTTPS API.

Owns: wiring the API client (I/O) to the pure modules — ``inventory.read_router``/``read``/``observe``
for read, ``planner`` for plan, ``changeops`` for the operations — and one apply as ONE
``/configure`` call holding every operation and ONE ``/config-file`` save (``transact``). A failed
commit is not all-or-nothing on VyOS: after any failure the router is read again and each change is
reported applied or failed from what really landed. With ``commit_confirm`` (VyOS 1.5) the commit is
confirmed only after what ``verify`` checks passes — the changes read back on the router and, with
``dns_server``, the changed names resolving there; otherwise it is left for the router to revert.
Must not: build requests or parse replies itself (``client`` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.config import Config, system_key
from core.errors import ConfigError, ProviderError, ProviderRejected
from core.model import ApplyResult, Change, ChangeOutcome, Conflict, Desired, Observation
from providers.base import PlanContext
from providers.diffing import Wanted, Wanting
from providers.vyatta.tree import Tree
from providers.vyos import changeops, foresight, observe, planner, transact
from providers.vyos.client import Op, VyosClient
from providers.vyos.descriptor import HOST_TYPE, served
from providers.vyos.inventory import LEASES, client_for, read_router
from providers.vyos.leases import parse_leases
from providers.vyos.read import DHCP, VyosConfig, dialect, read
from providers.vyos.settings import VyosSettings


def subnets_of(tree: Tree) -> dict[str, list[str]]:
    """The router's subnets per shared network (deactivated ones left out)."""
    out: dict[str, list[str]] = {}
    shared = tree.node([*DHCP, "shared-network-name"])
    for net in shared.children if shared is not None else ():
        if net.inactive:
            continue
        sub = net.child("subnet")
        out[net.name] = [s.name for s in (sub.children if sub is not None else ()) if not s.inactive]
    return out


@dataclass(frozen=True)
class _Written:
    """A host name as this apply writes it, in the shape ``verify.checks`` reads (a state record)."""

    address: str
    attributes: Mapping[str, Any]


class VyosProvider(Wanting):
    """``Provider`` for a VyOS router; construction does no I/O, the client opens on first use."""

    name = "vyos"

    def __init__(self, config: Config, settings: VyosSettings | None = None, instance: str = "") -> None:
        self.key = system_key("vyos", instance)
        settings = settings if settings is not None else config.providers.get(self.key)
        if settings is None:
            raise ConfigError(f"providers.{self.key} is not configured")
        self.config = config
        self.settings = settings
        self._client: VyosClient | None = None
        self._cfg: VyosConfig | None = None
        self._subnets: dict[str, list[str]] = {}
        self._observed: Observation | None = None
        self.api_calls = 0  # /configure and /config-file calls of the last apply (one each)

    @property
    def client(self) -> VyosClient:
        if self._client is None:
            self._client = client_for(self.config, self.settings)
        return self._client

    @property
    def dialect(self) -> str:
        return dialect(None, self._cfg or VyosConfig(), self.settings.dialect_override)

    def read(self) -> Observation:
        """``showConfig`` of the DHCP server and the host names, and ``show dhcp server leases``."""
        tree = read_router(self.client)
        leases = parse_leases(self.client.show(list(LEASES)))
        self._cfg = read(tree)
        self._subnets = subnets_of(tree)
        self._observed = observe.observation(self._cfg, self.config, self.key, leases)
        return self._observed

    def wants(self, desired: Desired, observed: Observation, ctx: PlanContext) -> Wanted:
        """What the router should hold, for the shared diff (``providers.diffing``)."""
        return planner.wanted_vyos(self.config, desired, self._subnets, observed, ctx, self.key)

    def foresee(self, changes: Sequence[Change]) -> list[Conflict]:
        """The changes VyOS would refuse at commit (``foresight``), as ``commit_rule`` conflicts: the
        engine holds them, so a batch never half-lands on a rule netsot could see coming."""
        if self._observed is None or self._cfg is None:
            return []
        networks = {n.settings_for("vyos").shared_network: n.name for n in served(self.config, self.key)}
        return foresight.foresee(self._observed, changes, self.dialect, self._cfg.subnet_ids, networks)

    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        """Every change in ONE ``/configure`` call, then one save; after a failure, what landed."""
        if not changes:
            return ApplyResult()
        if self._cfg is None:  # apply without a read in this run: the subnet ids and dialect come from it
            self._cfg = read(read_router(self.client))
        ops_of: dict[int, list[Op]] = {}
        try:
            for i, c in enumerate(changes):
                ops_of[i] = changeops.change_ops(c, self.dialect, self._cfg.subnet_ids)
        except ProviderRejected as err:  # our own check of a value: nothing is sent
            return self._failed(changes, str(err))
        ops = [o for i in sorted(ops_of) for o in ops_of[i]]
        confirm = self.settings.commit_confirm if self.dialect == "1.5" else None
        try:
            outcome = transact.push(self.client, ops, confirm_minutes=confirm,
                                    verify=(lambda: self._verified(ops, changes)) if confirm else None)
        except ProviderError as err:  # unreachable / refused key / the read-back failed: state unknown
            return self._failed(changes, str(err))
        done = changeops.landed(ops_of, outcome.landed)
        error = outcome.error or outcome.note or "not on the router after the commit"
        log = tuple(x for x in (outcome.note, outcome.error) if x)
        return ApplyResult(outcomes=tuple(
            ChangeOutcome(c.address, "applied", provider_id=c.provider_id, attributes=c.after)
            if i in done and (outcome.confirmed is not False)
            else ChangeOutcome(c.address, "failed", error=error, provider_id=c.provider_id)
            for i, c in enumerate(changes)), log=log)

    def _verified(self, ops: Sequence[Op], changes: Sequence[Change]) -> bool:
        """What ``verify`` checks of this apply, before a commit-confirm is confirmed: every operation
        is on the router, and (with ``dns_server``) every name of the changed host names resolves."""
        tree = read_router(self.client)
        if not all(transact.has_landed(tree, o) for o in ops):
            return False
        if not self.settings.dns_server:
            return True
        from providers.vyos.verify import checks

        hosts = [_Written(str(c.address), c.after) for c in changes
                 if c.address.type == HOST_TYPE and c.after is not None]
        return all(check.ok for check in checks(self.config, self.key, None, hosts))

    @staticmethod
    def _failed(changes: Sequence[Change], error: str) -> ApplyResult:
        return ApplyResult(outcomes=tuple(
            ChangeOutcome(c.address, "failed", error=error, provider_id=c.provider_id) for c in changes),
            log=(error,))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

"""The NIPAP provider: read the configured networks' prefixes and hosts, plan, apply.

Owns: the read (2 calls: the VRF, then ONE search for every configured network and its
hosts), delegating planning to ``mapping.plan_changes``, and apply with bounded concurrency,
retry-on-1400 only while the address is still free, and per-change outcomes.
Must not: import pynipap/xmlrpc (``client.py`` does), or touch unowned objects.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from core.config import Config, system_key
from core.errors import ChangedUnderneath, NetsotError, ProviderError, ProviderTimeout, ProviderUnavailable
from core.model import Action, ApplyResult, Change, ChangeOutcome, Desired, Observation
from providers.base import PlanContext
from providers.nipap import mapping
from providers.nipap.client import DuplicatePrefix, NipapClient, NotFound
from providers.nipap.descriptor import PREFIX_TYPE
from providers.nipap.settings import NipapSettings

SYSTEM = "nipap"


class NipapProvider:
    """``Provider`` for NIPAP (see providers/base.py for the contract)."""

    name = SYSTEM

    def __init__(self, config: Config, settings: NipapSettings, instance: str = "",
                 client: NipapClient | None = None) -> None:
        self.config = config
        self.settings = settings
        self.key = system_key(SYSTEM, instance)
        self.client = client or NipapClient(settings)
        self._vrf: dict[str, Any] | None = None
        self.backoff = 0.05  # seconds; the base of the jittered retry delay

    # ---- read
    def vrf(self) -> dict[str, Any]:
        if self._vrf is None:
            try:
                self._vrf = self.client.find_vrf(self.settings.vrf)
            except NotFound:
                raise ProviderError(
                    SYSTEM,
                    f"VRF {self.settings.vrf!r} (providers.nipap.vrf) does not exist in NIPAP at "
                    f"{self.client.url}{self._vrf_hint()}; give an existing VRF's rt or name, or omit it "
                    "for the default VRF",
                ) from None
        return self._vrf

    def _vrf_hint(self) -> str:
        """`` (names match exactly: did you mean 'Lab'?)`` when a VRF differs only in case."""
        wanted = str(self.settings.vrf or "").casefold()
        try:
            vrfs = self.client.list_vrfs()
        except NetsotError:
            return ""  # the hint is a courtesy: the error that matters is the missing VRF
        near = sorted({str(v.get("name")) for v in vrfs if str(v.get("name") or "").casefold() == wanted}
                      | {str(v.get("rt")) for v in vrfs if str(v.get("rt") or "").casefold() == wanted})
        if not near:
            return ""
        return f" (VRF names match exactly: did you mean {' or '.join(repr(n) for n in near)}?)"

    def read(self) -> Observation:
        self.client.clear_cache()  # pynipap's object cache never expires: start every run fresh
        self._vrf = None
        vrf = self.vrf()
        prefixes = [str(n.prefix) for n in self.config.networks_of(self.key)]
        rows = self.client.prefixes_within(vrf["id"], prefixes) if prefixes else []
        return mapping.observe(self.config, vrf, rows, self.key, self.settings)

    # ---- plan
    def plan(self, desired: Desired, observed: Observation, ctx: PlanContext) -> list[Change]:
        return mapping.plan_changes(self.config, self.settings.manage_prefixes, desired, observed, ctx,
                                    self.key)

    # ---- apply
    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        self.client.clear_cache()
        outcomes: dict[int, ChangeOutcome] = {}
        phases = (Action.DELETE, Action.UPDATE, Action.CREATE)  # free addresses before taking new ones
        with ThreadPoolExecutor(max_workers=self.settings.max_workers, thread_name_prefix="nipap") as pool:
            for phase in phases:
                batch = [(i, c) for i, c in enumerate(changes) if c.action is phase]
                for (i, _), outcome in zip(
                    batch, pool.map(lambda ic: self._apply_one(ic[1]), batch), strict=True
                ):
                    outcomes[i] = outcome
        ordered = tuple(outcomes[i] for i in range(len(changes)))
        if ordered and all(
            o.status == "failed" and o.error and o.error.startswith("nipap: cannot reach") for o in ordered
        ):
            raise ProviderUnavailable(SYSTEM, ordered[0].error.removeprefix("nipap: "))
        return ApplyResult(ordered)

    def _apply_one(self, change: Change) -> ChangeOutcome:
        try:
            if change.address.type == PREFIX_TYPE:
                return self._create_prefix(change)
            if change.action is Action.CREATE:
                return self._create_host(change)
            if change.action is Action.UPDATE:
                return self._update_host(change)
            return self._delete_host(change)
        except NetsotError as exc:
            return ChangeOutcome(change.address, "failed", error=str(exc))
        except Exception as exc:  # a bug must not abort the rest of the batch, nor show a traceback
            return ChangeOutcome(
                change.address, "failed", error=f"nipap: unexpected {type(exc).__name__}: {exc}"
            )

    def _create_prefix(self, change: Change) -> ChangeOutcome:
        if change.action is not Action.CREATE:
            raise ProviderError(SYSTEM, f"{change.address}: netsot only creates network prefixes")
        after = dict(change.after or {})
        row = self.client.add_prefix(
            self.vrf()["id"], after["prefix"], "assignment", description=after.get("description")
        )
        return ChangeOutcome(change.address, "applied", provider_id=str(row["id"]), attributes=after)

    def _create_host(self, change: Change) -> ChangeOutcome:
        after = dict(change.after or {})
        after["avps"] = dict(after.get("avps") or {})
        ip = str(after["ip"])
        prefix = f"{ip}/{128 if ':' in ip else 32}"
        vrf_id = self.vrf()["id"]
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                row = self.client.add_prefix(
                    vrf_id,
                    prefix,
                    "host",
                    node=after.get("hostname"),
                    description=after.get("description"),
                    avps=after["avps"],
                )
                return ChangeOutcome(change.address, "applied", provider_id=str(row["id"]), attributes=after)
            except (DuplicatePrefix, ProviderTimeout) as exc:
                # 1400 on a manual add: either a real taker (conflict) or a lost race / our own
                # earlier attempt (timeout). Look before deciding; never retry onto a taken address.
                holder = self._holder(vrf_id, ip)
                if holder is not None:
                    if (holder.get("avps") or {}).get(mapping.BINDING_KEY) == after["avps"].get(
                        mapping.BINDING_KEY
                    ):
                        return ChangeOutcome(
                            change.address, "applied", provider_id=str(holder["id"]), attributes=after
                        )
                    by = holder.get("node") or holder.get("description") or f"prefix id {holder['id']}"
                    raise ChangedUnderneath(
                        SYSTEM,
                        f"address {ip} was taken in NIPAP since the plan (by node {by}); "
                        "run plan again to pick another address",
                    ) from None
                if isinstance(exc, ProviderTimeout) or attempt == attempts:
                    if isinstance(exc, ProviderTimeout):
                        raise
                    break
                time.sleep(random.uniform(0.5, 1.5) * self.backoff * min(attempt, 8))
        raise ProviderError(
            SYSTEM,
            f"{change.address}: NIPAP kept answering 'duplicate' for free address {ip} "
            f"after {attempts} attempts",
        )

    def _holder(self, vrf_id: int, ip: str) -> dict[str, Any] | None:
        rows = self.client.holders_of(vrf_id, ip)
        return dict(rows[0]) if rows else None

    def _update_host(self, change: Change) -> ChangeOutcome:
        after = dict(change.after or {})
        attr = mapping.edit_attr(change.before, after)
        if not change.provider_id:
            raise ProviderError(SYSTEM, f"{change.address}: no NIPAP prefix id to update")
        try:
            row = self.client.edit_prefix(
                int(change.provider_id), self.vrf()["id"], attr, str(change.address)
            )
        except NotFound:
            raise ChangedUnderneath(
                SYSTEM,
                f"{change.address}: prefix id {change.provider_id} was removed from NIPAP since the plan",
            ) from None
        except DuplicatePrefix:
            raise ChangedUnderneath(
                SYSTEM, f"address {after.get('ip')} was taken in NIPAP since the plan"
            ) from None
        return ChangeOutcome(change.address, "applied", provider_id=str(row["id"]), attributes=after)

    def _delete_host(self, change: Change) -> ChangeOutcome:
        if not change.provider_id:
            raise ProviderError(SYSTEM, f"{change.address}: no NIPAP prefix id to delete")
        with contextlib.suppress(NotFound):  # already gone: the goal of a delete is reached
            self.client.remove_prefix(int(change.provider_id), str(change.address))
        return ChangeOutcome(change.address, "applied", provider_id=change.provider_id, attributes=None)

    def close(self) -> None:
        self.client.close()

"""The NIPAP provider: read the configured networks' prefixes and hosts, plan, apply.

Owns: the read (2 calls: the VRF, then ONE search for every configured network and its
hosts), what it wants (``mapping.wanted``: the shared diff plans), and apply: bounded concurrency with one
write at a time per parent assignment (``lanes``), resends after a transient fault (bounded,
jittered backoff; a landed add or remove is recognised, not repeated), retry-on-1400 only while the
address is still free, abandoning the rest once the client gave up after N timeouts in a row, and
per-change outcomes with their resend counts.
Must not: import pynipap/xmlrpc (``client.py`` does), or touch unowned objects.
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from core.config import Config, system_key
from core.errors import ChangedUnderneath, NetsotError, ProviderError, ProviderTimeout, ProviderUnavailable
from core.model import Action, ApplyResult, Change, ChangeOutcome, Desired, Observation
from providers.base import PlanContext
from providers.diffing import Wanted, Wanting
from providers.nipap import mapping
from providers.nipap.client import DuplicatePrefix, GaveUp, NipapClient, NotFound, TransientFault
from providers.nipap.descriptor import PREFIX_TYPE
from providers.nipap.settings import NipapSettings

SYSTEM = "nipap"
BACKOFF_CAP = 2.0  # seconds: the longest pause between two attempts of one call
T = TypeVar("T")


@dataclass
class _Tries:
    """One change's calls: how many went out, how many were resends."""

    sent: int = 0
    retries: int = 0


def parent_of(ip: str, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """The smallest configured network holding ``ip`` (its /24 or /64 when none does)."""
    addr = ipaddress.ip_address(ip)
    holding = [n for n in networks if n.version == addr.version and addr in n]
    if holding:
        return str(max(holding, key=lambda n: n.prefixlen))
    return str(ipaddress.ip_network(f"{ip}/{24 if addr.version == 4 else 64}", strict=False))


def lanes(batch: Sequence[tuple[int, Change]],
          parents: Callable[[Change], set[str]]) -> list[list[tuple[int, Change]]]:
    """``batch`` split so that no two lanes share a parent (a change writing under two parents,
    e.g. a host moved between networks, joins their lanes); plan order kept inside a lane."""
    lane_of: dict[str, int] = {}
    members: dict[int, list[tuple[int, Change]]] = {}
    for n, (i, change) in enumerate(batch):
        keys = parents(change)
        joined = sorted({lane_of[k] for k in keys if k in lane_of})
        target = joined[0] if joined else n
        merged = members.setdefault(target, [])
        for other in joined[1:]:
            merged.extend(members.pop(other))
            lane_of.update({k: target for k, v in lane_of.items() if v == other})
        merged.append((i, change))
        lane_of.update({k: target for k in keys})
    return [sorted(lane) for lane in members.values()]


class NipapProvider(Wanting):
    """``Provider`` for NIPAP (see providers/base.py for the contract)."""

    name = SYSTEM

    def __init__(self, config: Config, settings: NipapSettings, instance: str = "",
                 client: NipapClient | None = None) -> None:
        self.config = config
        self.settings = settings
        self.key = system_key(SYSTEM, instance)
        self.client = client or NipapClient(settings)
        self._vrf: dict[str, Any] | None = None
        self.backoff = 0.1  # seconds; the base of the jittered, doubling retry delay (capped)

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
        self.client.reset_deadline()  # a new run: count timeouts afresh
        self._vrf = None
        vrf = self.vrf()
        prefixes = [str(n.prefix) for n in self.config.networks_of(self.key)]
        rows = self.client.prefixes_within(vrf["id"], prefixes) if prefixes else []
        return mapping.observe(self.config, vrf, rows, self.key, self.settings)

    # ---- plan
    def wants(self, desired: Desired, observed: Observation, ctx: PlanContext) -> Wanted:
        """What NIPAP should hold (``mapping.wanted``); the shared diff plans the changes (``plan``)."""
        return mapping.wanted(self.config, self.settings.manage_prefixes, desired, observed, ctx, self.key)

    # ---- apply
    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        """Deletes, then updates, then creates. Within a phase, the changes under one parent
        assignment run one after another (nipapd's triggers rewrite the parent and every sibling on
        each host write, so two at once can deadlock: nipap.md §9.1); different parents in parallel."""
        self.client.clear_cache()
        outcomes: dict[int, ChangeOutcome] = {}
        phases = (Action.DELETE, Action.UPDATE, Action.CREATE)  # free addresses before taking new ones
        with ThreadPoolExecutor(max_workers=self.settings.max_workers, thread_name_prefix="nipap") as pool:
            for phase in phases:
                batch = [(i, c) for i, c in enumerate(changes) if c.action is phase]
                for done in pool.map(self._run_lane, lanes(batch, self._parents)):
                    outcomes.update(done)
        ordered = tuple(outcomes[i] for i in range(len(changes)))
        if ordered and all(
            o.status == "failed" and o.error and o.error.startswith("nipap: cannot reach") for o in ordered
        ):
            raise ProviderUnavailable(SYSTEM, ordered[0].error.removeprefix("nipap: "))
        return ApplyResult(ordered)

    def _parents(self, change: Change) -> set[str]:
        """The parent assignments (as the configured network holding the address) a change writes under."""
        if change.address.type == PREFIX_TYPE:
            return {"network prefixes"}  # rare; their reservation parents are not known here: one lane
        nets = [n.prefix for n in self.config.networks_of(self.key)]
        found: set[str] = set()
        for attrs in (change.before, change.after):
            ip = (attrs or {}).get("ip")
            if ip:
                found.add(parent_of(str(ip), nets))
        return found or {str(change.address)}

    def _run_lane(self, lane: list[tuple[int, Change]]) -> dict[int, ChangeOutcome]:
        return {i: self._apply_one(change) for i, change in lane}

    def _apply_one(self, change: Change) -> ChangeOutcome:
        tries = _Tries()
        try:
            if self.client.gave_up is not None:
                raise GaveUp(self.client.gave_up)
            if change.address.type == PREFIX_TYPE:
                outcome = self._create_prefix(change, tries)
            elif change.action is Action.CREATE:
                outcome = self._create_host(change, tries)
            elif change.action is Action.UPDATE:
                outcome = self._update_host(change, tries)
            else:
                outcome = self._delete_host(change, tries)
        except GaveUp:
            if tries.sent:  # a call of this change went out and got no answer: it may have landed
                return ChangeOutcome(change.address, "failed", error=f"nipap: {self.client.gave_up}; "
                                     "this change got no answer and may have been applied",
                                     retries=tries.retries)
            return ChangeOutcome(change.address, "skipped", f"abandoned: {self.client.gave_up}",
                                 retries=tries.retries)
        except NetsotError as exc:
            return ChangeOutcome(change.address, "failed", error=str(exc), retries=tries.retries)
        except Exception as exc:  # a bug must not abort the rest of the batch, nor show a traceback
            return ChangeOutcome(
                change.address, "failed", error=f"nipap: unexpected {type(exc).__name__}: {exc}",
                retries=tries.retries,
            )
        return replace(outcome, retries=tries.retries)

    # ---- sending, resending
    def _send(self, tries: _Tries, call: Callable[[], T]) -> T:
        try:
            result = call()
        except GaveUp:
            raise  # not sent
        except BaseException:
            tries.sent += 1
            raise
        tries.sent += 1
        return result

    def _resending(self, tries: _Tries, what: str, call: Callable[[], T]) -> T:
        """``call`` (idempotent: a read, a remove by id, an edit to absolute values), resent after a
        transient fault with a bounded, jittered backoff."""
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._send(tries, call)
            except TransientFault as exc:
                if attempt == attempts:
                    raise ProviderError(SYSTEM, f"{what}: {exc.text} (still failing after {attempts} "
                                        "attempts)") from None
            tries.retries += 1
            self._pause(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, attempt: int) -> None:
        time.sleep(random.uniform(0.5, 1.5) * min(BACKOFF_CAP, self.backoff * 2 ** (attempt - 1)))

    # ---- the changes
    def _create_prefix(self, change: Change, tries: _Tries) -> ChangeOutcome:
        if change.action is not Action.CREATE:
            raise ProviderError(SYSTEM, f"{change.address}: netsot only creates network prefixes")
        after = dict(change.after or {})
        vrf_id = self.vrf()["id"]
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                row = self._send(tries, lambda: self.client.add_prefix(
                    vrf_id, after["prefix"], "assignment", description=after.get("description")))
                return ChangeOutcome(change.address, "applied", provider_id=str(row["id"]), attributes=after)
            except TransientFault as exc:
                if attempt == attempts:
                    raise ProviderError(SYSTEM, f"{change.address}: {exc.text} (still failing after "
                                        f"{attempts} attempts)") from None
            except DuplicatePrefix:
                if not tries.retries:
                    raise
                # our own earlier attempt may have landed before its answer was lost
                rows = self._resending(tries, str(change.address), lambda: self.client.list_prefixes(
                    {"vrf_id": vrf_id, "prefix": after["prefix"]}))
                mine = [r for r in rows if r.get("type") == "assignment"
                        and r.get("authoritative_source") == self.client.source]
                if not mine:
                    raise
                return ChangeOutcome(change.address, "applied", provider_id=str(mine[0]["id"]),
                                     attributes=after)
            tries.retries += 1
            self._pause(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _create_host(self, change: Change, tries: _Tries) -> ChangeOutcome:
        after = dict(change.after or {})
        after["avps"] = dict(after.get("avps") or {})
        ip = str(after["ip"])
        prefix = f"{ip}/{128 if ':' in ip else 32}"
        vrf_id = self.vrf()["id"]
        attempts = self.settings.retries + 1
        failure: Exception | None = None
        for attempt in range(1, attempts + 1):
            try:
                row = self._send(tries, lambda: self.client.add_prefix(
                    vrf_id, prefix, "host", node=after.get("hostname"),
                    description=after.get("description"), avps=after["avps"]))
                return ChangeOutcome(change.address, "applied", provider_id=str(row["id"]), attributes=after)
            except GaveUp:
                raise
            except TransientFault as exc:
                failure = exc  # it may have landed (a reset after the insert): the resend recognises it
            except (DuplicatePrefix, ProviderTimeout) as exc:
                # 1400 on a manual add: either a real taker (conflict) or a lost race / our own
                # earlier attempt (timeout, reset). Look before deciding; never retry onto a taken address.
                holder = self._holder(tries, vrf_id, ip)
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
                if isinstance(exc, ProviderTimeout):
                    raise
                failure = exc
            if attempt < attempts:
                tries.retries += 1
                self._pause(attempt)
        if isinstance(failure, TransientFault):
            raise ProviderError(SYSTEM, f"{change.address}: {failure.text} (still failing after "
                                f"{attempts} attempts)")
        raise ProviderError(
            SYSTEM,
            f"{change.address}: NIPAP kept answering 'duplicate' for free address {ip} "
            f"after {attempts} attempts",
        )

    def _holder(self, tries: _Tries, vrf_id: int, ip: str) -> dict[str, Any] | None:
        rows = self._resending(tries, f"look up {ip}", lambda: self.client.holders_of(vrf_id, ip))
        return dict(rows[0]) if rows else None

    def _update_host(self, change: Change, tries: _Tries) -> ChangeOutcome:
        after = dict(change.after or {})
        attr = mapping.edit_attr(change.before, after)
        if not change.provider_id:
            raise ProviderError(SYSTEM, f"{change.address}: no NIPAP prefix id to update")
        prefix_id, vrf_id = int(change.provider_id), self.vrf()["id"]
        try:
            row = self._resending(tries, str(change.address), lambda: self.client.edit_prefix(
                prefix_id, vrf_id, attr, str(change.address)))
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

    def _delete_host(self, change: Change, tries: _Tries) -> ChangeOutcome:
        if not change.provider_id:
            raise ProviderError(SYSTEM, f"{change.address}: no NIPAP prefix id to delete")
        prefix_id = int(change.provider_id)
        # already gone (also when a resent remove finds its own earlier attempt done): the goal is reached
        with contextlib.suppress(NotFound):
            self._resending(tries, str(change.address), lambda: self.client.remove_prefix(
                prefix_id, str(change.address)))
        return ChangeOutcome(change.address, "applied", provider_id=change.provider_id, attributes=None)

    def close(self) -> None:
        self.client.close()

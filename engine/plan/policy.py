"""The safety policy: which planned changes may run now, and which gate holds the rest.

Owns: octoDNS-style change thresholds per system, protected objects, two-phase
deletes (orphan mark, then removal after a grace period or with approval), the
per-run delete budget, changes that would also remove what netsot does not manage
(``Change.loses``, allowed only by ``policy.delete_unmodelled``), deletes of objects netsot adopted
but did not make (``Change.adopted``: never, whatever ``--force`` says), and holding everything
that depends on a held change.
Must not: do I/O or change the plan's decisions about *what* the systems should be;
it only decides *when* a change may run. The caller persists orphan marks.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from core.config import Policy
from core.errors import ConfigError
from core.model import Action, Address, Change, Held, ManagedResource, Plan
from state.model import State

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"24h"``, ``"7d"``, ``"2w"`` → timedelta."""
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"policy: {text!r} is not a duration (e.g. 30m, 24h, 7d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class PolicyResult:
    """The plan with ``held`` filled in, and the orphan marks the caller must record."""

    plan: Plan
    mark_orphaned: tuple[Address, ...] = ()  # owned objects that lost their source just now
    unmark_orphaned: tuple[Address, ...] = ()  # orphans whose source came back
    gates: tuple[str, ...] = ()  # every gate that held something, for metrics and messages


def apply_policy(
    plan: Plan,
    policy: Policy,
    owned: Mapping[Address, ManagedResource],
    *,
    now: datetime | None = None,
    force: bool = False,
    service: bool = False,
    units: Mapping[Address, str] | None = None,
) -> PolicyResult:
    """Split ``plan.changes`` into what may run now and what is held (``plan.held``).

    ``service=True`` is the unattended loop: deletes then also need ``policy.delete
    == "auto"`` and an elapsed grace period. An interactive ``apply`` (the user typed
    ``yes`` after seeing the deletes) counts as approval and skips the grace period.
    ``force`` lifts the change thresholds only — never protection or the delete policy.
    ``units`` names each change's binding (``engine.plan.units``): a binding's changes across its objects
    are applied together or held together, all with one reason.
    """
    units = units or {}
    now = now or datetime.now(UTC)
    held: dict[Address, Held] = {}
    marks: list[Address] = []

    def hold(change: Change, gate: str, reason: str) -> None:
        held.setdefault(change.address, Held(change, gate, reason))

    grace = parse_duration(policy.orphan_grace)
    for change in plan.changes:
        deleting = change.action is Action.DELETE and change.moved_from is None
        if deleting and _protected(change.address, policy.protected):
            hold(change, "protected", f"{change.address} matches a protected pattern; never deleted")
            continue
        if change.loses and not policy.delete_unmodelled:
            hold(change, "loses_unmodelled", _loses_reason(change))
            continue
        if deleting and change.adopted:
            hold(change, "adopted", _adopted_reason(change))
            continue
        if not deleting:
            continue
        if policy.delete == "never":
            hold(change, "delete_policy", "policy.delete is 'never': deletes are reported, not applied")
            continue
        record = owned.get(change.address)
        if record is not None and record.status == "recovering":
            continue  # not a lost source: cleaning up an interrupted apply
        # an object owned only through its marker (not in state) starts its grace period now
        since = _parse_time(record.orphaned_since) if record and record.status == "orphaned" else None
        if since is None:
            if record is not None:
                marks.append(change.address)
            since = now
        if service and policy.delete != "auto":
            hold(change, "delete_policy", "lost its source; the service never deletes (policy.delete: plan)")
        elif service and now - since < grace:
            left = grace - (now - since)
            hold(change, "orphan_grace", f"orphaned since {_fmt(since)}; deleted after {_human(left)} more")

    _apply_budget(plan.changes, held, policy.delete_budget, hold, units)
    if not force:
        _apply_thresholds(plan.changes, held, policy, owned, hold)
    _hold_dependents(plan.changes, held)
    while _hold_units(plan.changes, held, units):
        _hold_dependents(plan.changes, held)

    runnable = tuple(c for c in plan.changes if c.address not in held)
    ordered_held = tuple(held[c.address] for c in plan.changes if c.address in held)
    deleting = {c.address for c in plan.changes if c.action is Action.DELETE}
    unmark = tuple(a for a, r in owned.items() if r.status == "orphaned" and a not in deleting)
    return PolicyResult(
        plan=replace(plan, changes=runnable, held=plan.held + ordered_held),
        mark_orphaned=tuple(marks),
        unmark_orphaned=unmark,
        gates=tuple(sorted({h.gate for h in ordered_held})),
    )


def _adopted_reason(change: Change) -> str:
    return (f"netsot adopted it ({change.adopted}) and never deletes what it did not make: delete it there "
            f"yourself, or `netsot state rm {change.address}` to stop managing it")


def _loses_reason(change: Change) -> str:
    what = ", ".join(change.loses)
    return (f"it would also remove what netsot does not manage: {what}; "
            "remove those by hand, or set policy.delete_unmodelled: true to allow it")


def _apply_budget(changes: Iterable[Change], held: dict[Address, Held], budget: int | None, hold,
                  units: Mapping[Address, str]) -> None:
    """At most ``budget`` deletes run; a binding's deletes count together (all of them run, or none)."""
    if budget is None:
        return
    per_unit: dict[str, list[Change]] = {}
    for change in changes:
        if change.action is Action.DELETE and change.address not in held:
            per_unit.setdefault(units.get(change.address, str(change.address)), []).append(change)
    allowed = 0
    for deletes in per_unit.values():
        if allowed + len(deletes) <= budget:
            allowed += len(deletes)
            continue
        for change in deletes:
            hold(change, "delete_budget", f"more than {budget} deletes in one run (policy.delete_budget)")


def _hold_units(changes: tuple[Change, ...], held: dict[Address, Held], units: Mapping[Address, str]) -> bool:
    """A binding whose changes are held in part is held whole, every change with the first one's reason.

    Returns whether anything more was held.
    """
    members: dict[str, list[Change]] = {}
    for change in changes:
        unit = units.get(change.address)
        if unit is not None:
            members.setdefault(unit, []).append(change)
    grew = False
    for unit, group in members.items():
        stopped = [held[c.address] for c in group if c.address in held]
        if not stopped or len(group) == 1:
            continue
        first = next((h for h in stopped if not h.reason.startswith("waits for ")), stopped[0])
        reason = (f"binding {unit} moves as one ({len(group)} changes): held because {first.change.address} "
                  f"is: {first.reason}")
        for change in group:
            current = held.get(change.address)
            if current is None:
                grew = True
            if current is None or current.reason != reason:
                held[change.address] = Held(change, first.gate, reason, unit)
    return grew


def _apply_thresholds(changes, held, policy: Policy, owned, hold) -> None:
    owned_per_system = Counter(a.system for a in owned)
    risky = [c for c in changes if c.action is not Action.CREATE and c.address not in held]
    per_system = Counter(c.system for c in risky)
    for system, count in sorted(per_system.items()):
        total = owned_per_system.get(system, 0)
        if total < policy.min_existing:
            continue
        percent = 100.0 * count / total
        if percent <= policy.max_change_percent:
            continue
        reason = (
            f"{count} updates/deletes on {system} touch {percent:.0f}% of its {total} owned objects "
            f"(limit {policy.max_change_percent:g}%); review and re-run with --force"
        )
        for change in risky:
            if change.system == system:
                hold(change, "threshold", reason)


def _hold_dependents(changes: tuple[Change, ...], held: dict[Address, Held]) -> None:
    """A held change holds what must run after it (creates/updates after, deletes before)."""
    waits = Waits(changes)
    grew = True
    while grew:
        grew = False
        for change in changes:
            if change.address in held:
                continue
            blocker = waits.blocker(change, held)
            if blocker is not None:
                held[change.address] = Held(change, held[blocker].gate, f"waits for {blocker}, which is held")
                grew = True


class Waits:
    """The one rule of what waits for a held change, over one plan's changes, indexed once.

    A change waits for a held change it depends on (creates and updates run after what they depend on),
    a delete for a held delete of something that depends on it (deletes run in reverse), and the two
    halves of a rename done as create + delete for each other. The indexes answer a delete's questions
    without a scan of the plan per delete (a scan made holding 3,000 deletes take 30 s).
    """

    def __init__(self, changes: Iterable[Change]) -> None:
        self.by_address = {c.address: c for c in changes}
        # in the plan's order, so the first held one found is the one a scan would find
        self._replaced_by: dict[Address, list[Address]] = {}
        self._deleted_before: dict[Address, list[Address]] = {}
        for other in self.by_address.values():
            if other.replaces is not None:
                self._replaced_by.setdefault(other.replaces, []).append(other.address)
            if other.action is Action.DELETE:
                for dep in other.depends_on:
                    self._deleted_before.setdefault(dep, []).append(other.address)

    def blocker(self, change: Change, held: Mapping[Address, object]) -> Address | None:
        """The held change ``change`` waits for, if any."""
        # a rename done as create + delete goes whole or not at all: never two objects for one
        # device (the create without the delete) nor none (the delete without the create)
        if change.replaces is not None and change.replaces in held:
            return change.replaces
        if change.action is Action.DELETE:
            for index in (self._replaced_by, self._deleted_before):
                for other in index.get(change.address, ()):
                    if other in held:
                        return other
            return None
        for dep in change.depends_on:
            if dep in held and self.by_address[dep].action is not Action.DELETE:
                return dep
        return None


def _protected(address: Address, patterns: Iterable[str]) -> bool:
    return is_protected(str(address), patterns)


def is_protected(address: str, patterns: Iterable[str]) -> bool:
    """Whether ``address`` matches one of ``policy.protected``'s globs: ``*`` is any run of characters
    (dots included: ``nipap_address.lan.*`` covers the whole network), ``?`` one character, and
    everything else is literal — brackets too, so ``edgemax_host[cabin].*`` names the cabin's
    router (in ``fnmatch`` a bracket would start a character class)."""
    return any(fnmatch.fnmatchcase(address, _literal_brackets(p)) for p in patterns)


def _literal_brackets(pattern: str) -> str:
    return "".join("[[]" if ch == "[" else "[]]" if ch == "]" else ch for ch in pattern)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _fmt(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _human(delta: timedelta) -> str:
    """``3h 20m``, ``45m``, ``12s``."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    return " ".join(parts[:2]) if parts else f"{secs}s"


def record_orphans(state: State, result: PolicyResult, now: datetime | None = None) -> State:
    """The state with this run's orphan marks set and returned sources unmarked (no system I/O)."""
    when = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for address in result.mark_orphaned:
        record = state.resources.get(str(address))
        if record is not None and record.status != "orphaned":
            state = state.with_resource(replace(record, status="orphaned", orphaned_since=when))
    for address in result.unmark_orphaned:
        record = state.resources.get(str(address))
        if record is not None and record.status == "orphaned":
            state = state.with_resource(replace(record, status="managed", orphaned_since=None))
    return state

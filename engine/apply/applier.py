"""Apply: run a plan's changes in provider batches and record every result in state.

Owns: batching (one ``provider.apply`` per system and round, so the router commits once),
skipping what depends on a failure, the crash journal (intended → sent → done) and saving
the state after every batch. Must not: plan, render, print or decide policy.

Batching: among changes whose dependencies are all applied, every system whose *entire*
remaining set is ready runs (systems in parallel); if none qualifies, only the ready changes
of the first system in the registry's order run.

Crash tests: each round passes the fault points ``after-intended`` (journal saved as intended),
``after-sent`` (journal saved as sent, before ``provider.apply``) and ``after-batch`` (state saved
after a batch) of the test-only seam ``core.faults``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from core import faults
from core.errors import NetsotError, PlanError
from core.model import (
    Action,
    Address,
    ApplyResult,
    Change,
    ChangeOutcome,
    Plan,
    to_jsonable,
)
from engine.observe import NullObserver, Observer
from engine.plan import replacing
from engine.plan.graph import Graph
from engine.plan.planner import FOUND_BY_MARKER, change_edges, gc_paused, safe_text, system_rank
from providers import registry
from providers.base import Provider
from state.model import ADOPTED, MADE, JournalEntry, ResourceState, State


@dataclass(frozen=True)
class ApplyReport:
    """What an apply did: outcomes by status (in completion order), final state, provider logs."""

    applied: tuple[ChangeOutcome, ...]
    failed: tuple[ChangeOutcome, ...]
    skipped: tuple[ChangeOutcome, ...]
    state: State
    logs: Mapping[str, tuple[str, ...]]
    outcomes: tuple[ChangeOutcome, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    @property
    def retries(self) -> dict[str, int]:
        """Calls re-sent per system (transient faults, lost races); only systems that retried."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            if outcome.retries:
                system = outcome.address.system
                counts[system] = counts.get(system, 0) + outcome.retries
        return dict(sorted(counts.items()))


class _Backend:
    """What apply needs of a state backend (``state.backend.StateBackend`` has it)."""

    def load(self) -> State: ...

    def save(self, state: State) -> State: ...


def apply_plan(
    plan: Plan,
    providers: Mapping[str, Provider],
    backend: Any,
    observer: Observer | None = None,
    *,
    state: State | None = None,
) -> ApplyReport:
    """Apply ``plan``; ``state`` defaults to ``backend.load()``. Never raises for a failed change.

    A plan with replacements (``--replace``: a delete and a create of one address) runs in two
    rounds: the replaced objects' deletes first, then everything else; a create whose delete did
    not succeed is skipped.
    """
    start = state if state is not None else backend.load()
    observer = observer or NullObserver()
    first, rest = replacing.split(plan)
    if not first:
        run = _Run(plan, providers, backend, observer, start)
        run.prepare()
        run.loop()
        return run.report()
    deleting = _Run(replace(plan, changes=first), providers, backend, observer, start)
    deleting.prepare()
    deleting.loop()
    creating = _Run(replace(plan, changes=rest, drift=()), providers, backend, observer, deleting.state)
    for outcome in deleting.outcomes:
        if outcome.status != "applied":
            creating.skip(outcome.address, f"skipped: its replacement's delete {outcome.status}")
    creating.loop()
    for system, lines in deleting.logs.items():
        creating.logs[system] = [*lines, *creating.logs.get(system, [])]
    return creating.report(before=deleting.outcomes)


class _Run:
    def __init__(self, plan: Plan, providers: Mapping[str, Provider], backend: _Backend,
                 observer: Observer, state: State) -> None:
        self.plan, self.providers, self.backend, self.observer = plan, providers, backend, observer
        self.state = state
        edges = change_edges(plan.changes)
        graph = Graph([c.address for c in plan.changes], edges)  # raises CycleError for a bad plan file
        self.waits: dict[Address, set[Address]] = {a: set(graph.dependencies(a)) for a in graph.nodes}
        self.status: dict[Address, str] = {}
        self.outcomes: list[ChangeOutcome] = []
        self.logs: dict[str, list[str]] = {}

    # -------------------------------------------------------------- before the first batch

    def prepare(self) -> None:
        """Record adopted drift, and close the journal of an interrupted run (the plan was made
        from this state, so it already finishes or reverts what that run left behind)."""
        before = self.state
        blocked = {a for c in self.plan.conflicts for a in c.blocked}
        changing = {c.address for c in self.plan.changes}
        for drift in self.plan.drift:
            if drift.resolution == "adopt" and drift.address not in blocked | changing:
                self._adopt(drift.address, drift.actual, drift.reason.startswith(FOUND_BY_MARKER))
        if self.state.journal:
            self.state = self.state.with_journal(())
        if not self.state.same_content(before):
            self._save()

    def _adopt(self, address: Address, actual: Mapping[str, Any] | None, marked: bool = False) -> None:
        key = str(address)
        current = self.state.resources.get(key)
        if actual is None:
            if current is not None:
                self.state = self.state.without(key)
            return
        plain = to_jsonable(actual)
        if current is None:
            # an object carrying netsot's marker, or one an interrupted apply of netsot created, is netsot's
            # own; anything else it took over
            made = marked or any(e.address == key and e.action == "create" for e in self.state.journal)
            adopted = ResourceState(key, address.system, None, MappingProxyType(plain),  # instance key
                                    ownership=MADE if made else ADOPTED)
            self.state = self.state.with_resource(adopted)
            return
        attrs = {**current.attributes, **{k: plain[k] for k in current.attributes if k in plain}}
        self.state = self.state.with_resource(replace(current, attributes=MappingProxyType(attrs)))

    # ---------------------------------------------------------------------------- rounds

    def loop(self) -> None:
        pending = list(self.plan.changes)
        while pending:
            self._skip_downstream(pending)
            pending = [c for c in pending if c.address not in self.status]
            if not pending:
                return
            ready = [c for c in pending if self._ready(c)]
            if not ready:
                raise PlanError("no change can run: the plan's dependencies are inconsistent")
            self._round(self._choose(ready, pending))

    def _ready(self, change: Change) -> bool:
        return all(self.status.get(d) == "applied" for d in self.waits[change.address])

    def _skip_downstream(self, pending: Sequence[Change]) -> None:
        progress = True
        while progress:
            progress = False
            for change in pending:
                if change.address in self.status:
                    continue
                waits = self.waits[change.address]
                bad = sorted(d for d in waits if self.status.get(d) in ("failed", "skipped"))
                if bad:
                    why = "failed" if self.status[bad[0]] == "failed" else "was skipped"
                    reason = f"skipped: depends on {bad[0]} which {why}"
                    self._finish(ChangeOutcome(change.address, "skipped", reason))
                    progress = True

    @staticmethod
    def _choose(ready: Sequence[Change], pending: Sequence[Change]) -> dict[str, list[Change]]:
        ready_by: dict[str, list[Change]] = {}
        for change in ready:
            ready_by.setdefault(change.system, []).append(change)
        remaining: dict[str, int] = {}
        for change in pending:
            remaining[change.system] = remaining.get(change.system, 0) + 1
        full = {s: ready_by[s] for s in sorted(ready_by, key=system_rank) if len(ready_by[s]) == remaining[s]}
        if full:
            return full
        first = min(ready_by, key=system_rank)
        return {first: ready_by[first]}

    def _round(self, batches: dict[str, list[Change]]) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        entries = [
            JournalEntry(uuid.uuid4().hex, str(c.address), c.action.value, "intended", system,
                         MappingProxyType(to_jsonable(c.after or {})), now)
            for system, changes in batches.items() for c in changes
        ]
        self.state = self.state.with_journal(self.state.journal + tuple(entries))
        self._save()
        faults.point("after-intended")
        sent = {e.op_id for e in entries}
        self.state = self.state.with_journal(
            tuple(replace(e, phase="sent") if e.op_id in sent else e for e in self.state.journal)
        )
        self._save()
        faults.point("after-sent")
        # no cyclic GC during the batches (as while planning): a router batch models thousands of
        # lines as new tree nodes, and each full collection walked the whole heap again
        with gc_paused(), ThreadPoolExecutor(max_workers=len(batches),
                                             thread_name_prefix="netsot-apply") as pool:
            futures = {}
            for system, changes in batches.items():
                self.observer.batch_started(system, changes)
                futures[pool.submit(self._call, system, changes)] = system
            # Record each system's batch as soon as it ends, so a crash loses as little as possible.
            for future in as_completed(futures):
                system = futures[future]
                self._record(system, batches[system], future.result())
                self._save()
                faults.point("after-batch")

    def _call(self, system: str, changes: Sequence[Change]) -> ApplyResult:
        provider = self.providers.get(system)
        if provider is None:
            error = f"{system}: this system is not configured, so its changes cannot be applied"
        else:
            try:
                return provider.apply(list(changes))
            except NetsotError as exc:
                error = str(exc)
            except Exception as exc:
                error = f"{system}: apply failed unexpectedly ({safe_text(exc)})"
        return ApplyResult(tuple(ChangeOutcome(c.address, "failed", error) for c in changes))

    # ----------------------------------------------------------------------- bookkeeping

    def _record(self, system: str, changes: Sequence[Change], result: ApplyResult) -> None:
        by_address = {o.address: o for o in result.outcomes}
        for change in changes:
            outcome = by_address.get(change.address)
            if outcome is None:
                outcome = ChangeOutcome(change.address, "failed", f"{system} reported no outcome for it")
            elif outcome.status not in ("applied", "failed", "skipped"):
                outcome = ChangeOutcome(change.address, "failed", f"{system} reported {outcome.status!r}")
            if outcome.status == "applied":
                self._write(change, outcome)
            self._finish(outcome)
        # A failed change may still have landed (a session lost after the commit, a timeout after
        # the server acted): its journal entry stays, so the next plan adopts or reverts it.
        settled = {str(o.address) for o in self.outcomes if o.status != "failed"}
        done = {str(c.address) for c in changes} & settled
        self.state = self.state.with_journal(tuple(e for e in self.state.journal if e.address not in done))
        self.logs.setdefault(system, []).extend(result.log)

    def _write(self, change: Change, outcome: ChangeOutcome) -> None:
        if registry.is_pseudo(change.address.type):
            return  # a system condition (e.g. the router saved its config), not an owned object
        ownership = self._ownership(change)
        if change.moved_from is not None:
            self.state = self.state.without(str(change.moved_from))
        if change.action is Action.DELETE:
            self.state = self.state.without(str(change.address))
            return
        attributes = outcome.attributes if outcome.attributes is not None else change.after
        self.state = self.state.with_resource(ResourceState(
            address=str(change.address),
            provider=change.system,
            provider_id=outcome.provider_id or change.provider_id,
            attributes=MappingProxyType(to_jsonable(attributes or {})),
            dependencies=tuple(str(d) for d in change.depends_on),
            origin=change.origin,
            ownership=ownership,
        ))

    def _ownership(self, change: Change) -> str:
        """Made for what this apply created; an object it took over (an update of an object the state did
        not hold) is adopted; everything else keeps what the state says (a move keeps its old record's)."""
        if change.action is Action.CREATE:
            return MADE
        record = self.state.resources.get(str(change.moved_from or change.address))
        return record.ownership if record is not None else ADOPTED

    def skip(self, address: Address, reason: str) -> None:
        """Mark ``address`` skipped before the loop (its changes, and what depends on them, never run)."""
        if address in self.waits:
            self._finish(ChangeOutcome(address, "skipped", reason))

    def _finish(self, outcome: ChangeOutcome) -> None:
        self.status[outcome.address] = outcome.status
        self.outcomes.append(outcome)
        self.observer.change_finished(outcome)

    def _save(self) -> None:
        self.state = self.backend.save(self.state)
        self.observer.state_saved(self.state.serial)

    def report(self, before: Sequence[ChangeOutcome] = ()) -> ApplyReport:
        """What this run (after the outcomes ``before`` of an earlier round) did."""
        outcomes = [*before, *self.outcomes]

        def having(status: str) -> tuple[ChangeOutcome, ...]:
            return tuple(o for o in outcomes if o.status == status)

        return ApplyReport(
            applied=having("applied"),
            failed=having("failed"),
            skipped=having("skipped"),
            state=self.state,
            logs=MappingProxyType({k: tuple(v) for k, v in sorted(self.logs.items())}),
            outcomes=tuple(outcomes),
        )

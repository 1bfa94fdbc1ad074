"""The run history and the last verify: two side records of the state, for `explain` and the page.

Owns: the ``history.jsonl`` record — one JSON line per change an apply carried out or failed (time,
run, action, address, system, reason, before/after of the changed keys, error), written after every
state save of the apply (``Recorder``) so a run killed midway keeps what it confirmed, plus the
``interrupted`` entries the next run's recovery records from the journal such a run left (what was
sent, or only intended, and never confirmed); capped to the last ``MAX_RUNS`` runs, mode 0600 —
and the ``verify.json`` record, the last ``netsot verify``'s checks and when they ran. The state backend
keeps them (``state.records``: ``<state>.history.jsonl`` / ``<state>.verify.json`` next to a state file,
rows of ``netsot_record`` with PostgreSQL); both are written atomically and hold only what plans and
the state hold (attributes of system objects), never a secret.
Must not: decide anything, or fail a run: a history that cannot be written is logged, not raised.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import StateError
from core.model import Change, ChangeOutcome, Check, Plan, to_jsonable
from state.records import Record

log = logging.getLogger("netsot.history")

HISTORY = "history.jsonl"
VERIFY = "verify.json"
MAX_RUNS = 50  # runs kept in the history file
MAX_LINES = 20_000  # and never more lines than this (a first apply of a big lab is one run)


@dataclass(frozen=True)
class Entry:
    """One change of one run, as the history keeps it."""

    time: str  # ISO 8601 UTC, when the run's apply finished
    run: str  # the run's id: its start time to the microsecond (two runs within a second stay apart)
    action: str
    address: str
    system: str
    status: str  # "applied", "failed", "skipped"
    reason: str = ""
    changed: Mapping[str, Mapping[str, Any]] | None = None  # key -> {"before": …, "after": …}
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "changed": to_jsonable(self.changed or {})}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        return cls(
            str(data["time"]),
            str(data["run"]),
            str(data["action"]),
            str(data["address"]),
            str(data.get("system", "")),
            str(data.get("status", "applied")),
            str(data.get("reason", "")),
            dict(data.get("changed") or {}),
            str(data.get("error", "")),
        )


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


_last_run: list[datetime] = []
_run_lock = threading.Lock()


def run_id() -> str:
    """A new run's id: its start time to the microsecond, later than any id this process made before.
    The history groups entries by it (and keeps the last ``MAX_RUNS``), so a run that starts in the same
    second as the one before it (the run recovering from a run killed a moment earlier) must not share
    that run's id."""
    with _run_lock:
        now = datetime.now(UTC)
        if _last_run and now <= _last_run[0]:
            now = _last_run[0] + timedelta(microseconds=1)
        _last_run[:] = [now]
    return now.isoformat(timespec="microseconds").replace("+00:00", "Z")


def record_of(backend: Any, name: str) -> Record | None:
    """The side record ``name`` of a state backend, or None when it keeps none."""
    record = getattr(backend, "record", None)
    return record(name) if callable(record) else None


# ----------------------------------------------------------------------------- history


def entries_of(plan: Plan, outcomes: Iterable[ChangeOutcome], run: str, when: str) -> list[Entry]:
    """The history entries of one apply: every change that was attempted, in plan order."""
    by_address = {c.address: c for c in plan.changes}
    out = []
    for outcome in outcomes:
        change = by_address.get(outcome.address)
        if change is None:
            continue
        out.append(
            Entry(
                when,
                run,
                change.action.value,
                str(change.address),
                change.system,
                outcome.status,
                change.reason,
                _changed(change),
                outcome.error or "",
            )
        )
    return out


def _changed(change: Change) -> dict[str, dict[str, Any]]:
    before, after = change.before or {}, change.after or {}
    return {
        k: {"before": to_jsonable(before.get(k)), "after": to_jsonable(after.get(k))}
        for k in change.changed_attributes()
    }


def interrupted_entries(journal: Iterable[Any], when: str, past: Sequence[Entry] = ()) -> list[Entry]:
    """The history of a run that ended mid-apply (killed, or failed), from the journal it left: every
    change it had sent, or only intended, and never confirmed. Its run id is the journal's first time.
    A change the history already has as ``failed`` since (its journal entry stays because a failed
    change may still have landed) is not repeated."""
    failed = {(e.address, e.time[:19]) for e in past if e.status == "failed"}
    entries = [e for e in journal
               if not any(address == e.address and at >= str(e.time)[:19] for address, at in failed)]
    if not entries:
        return []
    run = min((str(e.time) for e in entries if e.time), default=when)
    out = []
    for e in entries:
        what = ("was sent, but the run ended before the system's answer was recorded" if e.phase == "sent"
                else "was intended, but the run ended before sending it" if e.phase == "intended"
                else f"was {e.phase}, but the run ended before it was recorded")
        data = to_jsonable(dict(e.data))
        out.append(Entry(str(e.time) or when, run, e.action, e.address, e.system, "interrupted",
                         f"the run was interrupted: this change {what}; the next run (at {when}) found it "
                         "and finished or reverted it",
                         {k: {"before": None, "after": v} for k, v in sorted(data.items())}))
    return out


class Recorder:
    """An apply ``Observer`` that writes each finished change to the history after the state save that
    recorded it (so a run killed midway keeps the history of what it confirmed)."""

    def __init__(self, path: Record | None, plan: Plan, run: str, inner: Any) -> None:
        self.path, self.plan, self.run, self.inner = path, plan, run, inner
        self._pending: list[ChangeOutcome] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # read_* and message go to the wrapped observer

    def batch_started(self, system: str, changes: Sequence[Change]) -> None:
        self.inner.batch_started(system, changes)

    def change_finished(self, outcome: ChangeOutcome) -> None:
        self._pending.append(outcome)
        self.inner.change_finished(outcome)

    def state_saved(self, serial: int) -> None:
        self.flush()
        self.inner.state_saved(serial)

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            record(self.path, entries_of(self.plan, pending, self.run, now_iso()))


def record(path: Record | None, entries: Sequence[Entry]) -> None:
    """Append ``entries``, keeping the last ``MAX_RUNS`` runs (and at most ``MAX_LINES`` lines)."""
    if path is None or not entries:
        return
    try:
        # the lines already there are kept as written (re-encoding thousands of them made every
        # run of a big lab's service seconds slower); a line that does not parse is dropped, as before
        kept = _runs_of_lines(path) + [(e.run, json.dumps(e.to_dict(), sort_keys=True, ensure_ascii=False))
                                       for e in entries]
        keep = set(list(dict.fromkeys(run for run, _ in kept))[-MAX_RUNS:])
        lines = [line for run, line in kept if run in keep][-MAX_LINES:]
        path.write("".join(line + "\n" for line in lines))
    except StateError as exc:
        log.warning("could not write the run history: %s", exc)


def _entry_lines(path: Record) -> list[tuple[Entry, str]]:
    """(entry, line) of every line of the record that parses as an entry; a line that does not (a torn
    write of another tool) is skipped."""
    try:
        text = path.read() or ""
    except StateError:
        return []
    out = []
    for line in text.splitlines():
        try:
            out.append((Entry.from_dict(json.loads(line)), line))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    return out


def _runs_of_lines(path: Record) -> list[tuple[str, str]]:
    """(run, line) of every entry line of the record that parses as one."""
    return [(entry.run, line) for entry, line in _entry_lines(path)]


def read(path: Record | None) -> list[Entry]:
    """Every entry, oldest first; a line that does not parse is skipped (a torn write of another tool)."""
    return [] if path is None else [entry for entry, _ in _entry_lines(path)]


def for_addresses(entries: Iterable[Entry], addresses: Iterable[str], limit: int = 10) -> list[Entry]:
    """The newest ``limit`` entries about any of ``addresses``, newest first."""
    wanted = set(addresses)
    return [e for e in reversed(list(entries)) if e.address in wanted][:limit]


# ----------------------------------------------------------------------------- last verify


@dataclass(frozen=True)
class VerifyRecord:
    time: str
    checks: tuple[Check, ...]


def save_verify(path: Record | None, checks: Sequence[Check], when: str | None = None) -> None:
    if path is None:
        return
    doc = {"time": when or now_iso(), "checks": [asdict(c) for c in checks]}
    try:
        path.write(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    except StateError as exc:
        log.warning("could not record the verify results: %s", exc)


def load_verify(path: Record | None) -> VerifyRecord | None:
    if path is None:
        return None
    try:
        doc = json.loads(path.read() or "null")
        checks = tuple(
            Check(
                str(c["check"]), str(c["object"]), bool(c["ok"]), str(c["detail"]), str(c.get("address", ""))
            )
            for c in doc["checks"]
        )
        return VerifyRecord(str(doc["time"]), checks)
    except (StateError, ValueError, KeyError, TypeError):
        return None

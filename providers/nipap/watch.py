"""Watching NIPAP between full reads: what changed, by ``last_modified``, in two cheap calls.

Owns: one ``search_prefix`` for the rows of the managed prefixes whose ``last_modified`` is newer than
the newest one seen (minus a margin: the value is the transaction's start, so a late commit can carry
an older stamp), and one ``list_vrf`` for the VRF's prefix counts, because a removed row leaves no
stamp behind (nipap.md §9.4). The server's clock only: the mark is the largest ``last_modified``
read, never the local time. Any change makes the next partial run read NIPAP again (it is a cheap
read: one search).
Must not: change anything in NIPAP.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from core.model import Change, Observation
from providers.nipap.provider import NipapProvider

MARGIN = timedelta(seconds=2)
EPOCH = datetime(1970, 1, 1)


def stamp(value: Any) -> datetime | None:
    """A ``last_modified`` from the wire (naive, the server's UTC) as a ``datetime``."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    text = str(getattr(value, "value", value) or "")
    for fmt in ("%Y%m%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def fingerprint(row: dict[str, Any]) -> str:
    """A row's content (what a search shows; ``match``/``display`` are hints about the query)."""
    return repr(sorted((k, str(v)) for k, v in row.items() if k not in ("match", "display")))


def changed_since(vrf_id: int, prefixes: Sequence[str], since: datetime) -> dict[str, Any]:
    """The query: rows in ``vrf_id`` within any of ``prefixes`` modified after ``since`` (UTC)."""
    inside: dict[str, Any] | None = None
    for p in prefixes:
        leaf = {"operator": "contained_within_equals", "val1": "prefix", "val2": p}
        inside = leaf if inside is None else {"operator": "or", "val1": inside, "val2": leaf}
    newer = {"operator": "greater", "val1": "last_modified", "val2": since.strftime("%Y-%m-%d %H:%M:%S+00")}
    in_vrf = {"operator": "equals", "val1": "vrf_id", "val2": vrf_id}
    query: dict[str, Any] = {"operator": "and", "val1": in_vrf, "val2": newer}
    return query if inside is None else {"operator": "and", "val1": query, "val2": inside}


class NipapWatch:
    """One NIPAP instance's watch, with its own provider (and client)."""

    def __init__(self, provider: NipapProvider) -> None:
        self.provider = provider
        self.key = provider.key
        self._lock = threading.Lock()
        self._mark: datetime | None = None  # the newest last_modified read
        self._seen: set[tuple[Any, datetime, str]] = set()  # (id, last_modified, content) of rows known
        self._counts: tuple[str, str] | None = None
        self._dirty = False

    def poll(self) -> list[str]:
        vrf = self.provider.vrf()
        prefixes = [str(n.prefix) for n in self.provider.config.networks_of(self.key)]
        since = (self._mark - MARGIN) if self._mark is not None else EPOCH
        rows = self.provider.client.search_prefixes(changed_since(int(vrf["id"]), prefixes, since),
                                                    "look for changed prefixes")
        counts = next(((str(v.get("num_prefixes_v4")), str(v.get("num_prefixes_v6")))
                       for v in self.provider.client.list_vrfs() if v.get("id") == vrf["id"]), ("", ""))
        # a row is known by its id, stamp and content: two edits within one second share a stamp
        stamped = [(r.get("id"), stamp(r.get("last_modified")), fingerprint(r), r.get("prefix"))
                   for r in rows]
        with self._lock:
            first = self._mark is None
            new = [(i, t, f, p) for i, t, f, p in stamped if t is not None and (i, t, f) not in self._seen]
            for i, t, f, _ in new:
                self._seen.add((i, t, f))  # type: ignore[arg-type]
                if self._mark is None or t > self._mark:  # type: ignore[operator]
                    self._mark = t
            if self._mark is None:
                self._mark = EPOCH + MARGIN  # an empty VRF: from the start
            floor = self._mark - MARGIN
            self._seen = {(i, t, f) for i, t, f in self._seen if t >= floor}
            gone = self._counts is not None and counts != self._counts
            self._counts = counts
            if first:
                return []
            notes = [f"{self.key}: {p} changed" for _, _, _, p in new[:5]]
            if len(new) > 5:
                notes.append(f"{self.key}: {len(new) - 5} more prefixes changed")
            if gone and not new:
                notes.append(f"{self.key}: the VRF's prefix count changed")
            if notes:
                self._dirty = True
            return notes

    def full_read(self, provider: Any, observation: Observation) -> None:
        with self._lock:
            self._dirty = False

    def applied(self, changes: Sequence[Change]) -> None:
        with self._lock:
            self._dirty = True

    def refresh(self, cached: Observation) -> Observation | None:
        """NIPAP read again when it changed (one search), else None (the cache stands)."""
        with self._lock:
            dirty, self._dirty = self._dirty, False
        if not dirty:
            return None
        try:
            return self.provider.read()
        except Exception:
            with self._lock:
                self._dirty = True
            raise

    def close(self) -> None:
        self.provider.close()


def watch(provider: NipapProvider) -> NipapWatch:
    """The ``watch`` hook (providers.base.Hooks)."""
    return NipapWatch(provider)

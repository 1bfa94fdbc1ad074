"""Watching NIPAP between full reads: what changed, by ``last_modified``, in two cheap calls.

Owns: one ``search_prefix`` for the rows of the managed prefixes whose ``last_modified`` is newer than
the newest one seen (minus a margin: the value is the transaction's start, so a late commit can carry
an older stamp), and one ``list_vrf`` for the VRF's prefix counts, because a removed row leaves no
stamp behind (nipap.md §9.4). The server's clock only: the mark is the largest ``last_modified``
read, never the local time. A row is news when what a person can change in it differs from what was
seen (a host added beside it only moves its stamp), and not when it is netsot's own write. Any news
makes the next partial run read NIPAP again (a cheap read: one search).
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


CONTENT = ("prefix", "type", "status", "node", "description", "comment", "tags", "avps", "external_key",
           "vlan", "vrf_id", "pool_id", "expires", "alarm_priority", "monitor", "country", "order_id",
           "customer_id")


def fingerprint(row: dict[str, Any]) -> str:
    """What a person can change in a prefix (not its stamp, nor what nipapd computes: a host added
    beside it moves its ``last_modified`` and its parent's counts, and changes nothing netsot reads)."""
    return repr([(k, str(row.get(k))) for k in CONTENT])


def _host_ip(row: dict[str, Any]) -> str:
    return str(row.get("prefix") or "").split("/")[0]


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
        self._content: dict[Any, str] = {}  # prefix id -> what netsot cares about in it (``fingerprint``)
        self._expected: set[str] = set()  # addresses netsot itself just wrote: not news when they show
        self._expect_count = False  # netsot itself added or removed prefixes: the VRF's count moves
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
        with self._lock:
            first = self._mark is None
            changed: list[str] = []
            ours = 0
            for row in rows:
                when = stamp(row.get("last_modified"))
                if when is not None and (self._mark is None or when > self._mark):
                    self._mark = when
                ident, content = row.get("id"), fingerprint(row)
                if self._content.get(ident) == content:
                    continue  # only its stamp moved (a host was added or removed beside it)
                self._content[ident] = content
                if _host_ip(row) in self._expected:  # netsot's own write: NIPAP is read again anyway
                    self._expected.discard(_host_ip(row))
                    ours += 1
                    continue
                changed.append(str(row.get("prefix")))
            if self._mark is None:
                self._mark = EPOCH + MARGIN  # an empty VRF: from the start
            gone = self._counts is not None and counts != self._counts
            if gone and self._expect_count:
                gone, self._expect_count = False, False  # the count moved by netsot's own writes
            self._counts = counts
            if first:
                return []
            notes = [f"{self.key}: {p} changed" for p in changed[:5]]
            if len(changed) > 5:
                notes.append(f"{self.key}: {len(changed) - 5} more prefixes changed")
            if gone and not changed:
                notes.append(f"{self.key}: the VRF's prefix count changed")
            if notes:
                self._dirty = True
            return notes

    def full_read(self, provider: Any, observation: Observation) -> None:
        with self._lock:
            self._dirty = False

    def applied(self, changes: Sequence[Change]) -> None:
        """netsot wrote these: read NIPAP again at the next partial run, and do not take its own rows
        (or its removals in the VRF's count) for news at the next polls."""
        with self._lock:
            self._dirty = True
            for change in changes:
                for side in (change.after, change.before):
                    if side and side.get("ip"):
                        self._expected.add(str(side["ip"]).split("/")[0])
                if change.before is None or change.after is None:
                    self._expect_count = True  # a create or a removal moves the VRF's count

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

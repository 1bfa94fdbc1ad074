"""Watching Proxmox between full reads: the cluster task log and the guest list, one request each.

Owns: noticing which guests changed since the last look (a finished worker task of the kinds that
create, change, move, start or stop a guest — ``/cluster/tasks`` — and any difference in what
``/cluster/resources?type=vm`` lists for a guest: new, gone, node, status, name, tags, lock), and the
re-read of only those guests into the last full read's ``Discovery`` (proxmox.md §3.12, §5: PVE has
no notifications; a synchronous ``PUT …/config`` makes no task, so such an edit shows only when the
list changes, or at the next full read).
Must not: re-read a guest nobody named, or act on a guest while it is locked (being created, cloned…).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from core.model import Change, Observation
from providers.proxmox.descriptor import IPCONFIG_TYPE
from providers.proxmox.provider import Discovery, ProxmoxProvider

# Worker types that create, remove, change, move, start or stop a guest (proxmox.md §3.12).
GUEST_TASKS = frozenset({
    "qmcreate", "qmrestore", "qmclone", "qmdestroy", "qmconfig", "qmigrate", "qmtemplate",
    "qmstart", "qmstop", "qmshutdown", "qmreboot",
    "vzcreate", "vzrestore", "vzclone", "vzdestroy", "vzmigrate", "vztemplate",
    "vzstart", "vzstop", "vzshutdown", "vzreboot",
    "hastart", "hastop", "hamigrate",
})
LISTED = ("node", "type", "status", "name", "tags", "lock", "template")  # what a guest's list entry shows


def guest_entries(resources: Sequence[Any]) -> dict[int, Mapping[str, Any]]:
    """The guests of a ``/cluster/resources`` answer by vmid (templates left out, as the read does)."""
    out: dict[int, Mapping[str, Any]] = {}
    for e in resources:
        if isinstance(e, Mapping) and e.get("type") in ("qemu", "lxc") \
                and str(e.get("template")) not in ("1", "True", "true"):
            try:
                out[int(e["vmid"])] = e
            except (KeyError, TypeError, ValueError):
                continue
    return out


def listed(entry: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    return None if entry is None else tuple(str(entry.get(k, "")) for k in LISTED)


def finished(task: Mapping[str, Any]) -> bool:
    """A task that has ended (``endtime`` is set, or ``status`` holds its exit status)."""
    return task.get("endtime") is not None


class ProxmoxWatch:
    """One Proxmox instance's watch; keeps its own provider (its sessions stay open between polls)."""

    def __init__(self, provider: ProxmoxProvider) -> None:
        self.provider = provider
        self.key = provider.key
        self._lock = threading.Lock()
        self._seen: set[str] | None = None  # UPIDs of finished tasks already taken into account
        self._listed: dict[int, tuple[str, ...]] = {}  # vmid -> what the list showed when last read
        self._entries: dict[int, Mapping[str, Any]] = {}  # vmid -> the newest list entry
        self._pending: set[int] = set()  # guests to re-read at the next partial run
        self._discovery: Discovery | None = None  # the cache: the last full read, patched per event

    # ---- the cheap look
    def poll(self) -> list[str]:
        client = self.provider.client
        tasks = [t for t in client.cluster_tasks() if isinstance(t, Mapping)]
        current = guest_entries(client.cluster_resources_vms())
        notes: list[str] = []
        with self._lock:
            done = {str(t.get("upid")): t for t in tasks if finished(t)}
            if self._seen is None:  # the first look is the baseline
                self._seen = set(done)
                return []
            for upid, task in done.items():
                if upid in self._seen:
                    continue
                kind, vmid = str(task.get("type")), str(task.get("id") or "")
                if kind in GUEST_TASKS and vmid.isdigit() and not (current.get(int(vmid)) or {}).get("lock"):
                    self._pending.add(int(vmid))
                    notes.append(f"{self.key}: task {kind} of guest {vmid} on {task.get('node')}")
            self._seen = set(done)  # forget what the log no longer lists
            if self._discovery is not None:
                for vmid in sorted(set(current) | set(self._listed)):
                    now = listed(current.get(vmid))
                    if now == self._listed.get(vmid):
                        continue
                    if now is None:
                        self._listed.pop(vmid, None)
                    else:
                        self._listed[vmid] = now
                    if current.get(vmid, {}).get("lock"):
                        continue  # being created/cloned/backed up: read it once the lock is gone
                    self._pending.add(vmid)
                    what = "gone" if now is None else "listed" if vmid not in self._entries else "changed"
                    notes.append(f"{self.key}: guest {vmid} {what} in /cluster/resources")
            self._entries = dict(current)
        return sorted(set(notes))

    # ---- the cache
    def full_read(self, provider: Any, observation: Observation) -> None:
        found = getattr(provider, "discovery", None)
        with self._lock:
            if found is None:
                self._discovery = None
                return
            self._discovery = found
            entries = guest_entries(found.resources)
            self._entries = entries
            self._listed = {vmid: listed(e) for vmid, e in entries.items()}  # type: ignore[misc]
            self._pending.clear()

    def applied(self, changes: Sequence[Change]) -> None:
        """netsot wrote these guests (write-back): re-read them at the next partial run."""
        with self._lock:
            for change in changes:
                if change.address.type == IPCONFIG_TYPE and change.after:
                    self._pending.add(int(change.after["vmid"]))

    def refresh(self, cached: Observation) -> Observation | None:
        """The cached observation with the pending guests re-read (None when nothing is pending)."""
        with self._lock:
            vmids, base, entries = set(self._pending), self._discovery, dict(self._entries)
            self._pending.clear()
        if not vmids or base is None:
            return None
        try:
            fresh = self.provider.discover(resources=[entries[v] for v in sorted(vmids) if v in entries])
        except Exception:
            with self._lock:
                self._pending |= vmids  # not read: keep asking
            raise
        merged = merge(base, fresh, vmids)
        with self._lock:
            self._discovery = merged
            self._pending |= {int(u["vmid"]) for u in fresh.unread if str(u.get("vmid")).isdigit()}  # again
        return self.provider.observation(merged)

    def close(self) -> None:
        self.provider.close()


def merge(base: Discovery, fresh: Discovery, vmids: set[int]) -> Discovery:
    """``base`` with the guests ``vmids`` replaced by what ``fresh`` read of them (gone when it has none)."""
    def other(vmid: Any) -> bool:
        try:
            return int(vmid) not in vmids
        except (TypeError, ValueError):
            return True

    named = re.compile(r"/(" + "|".join(str(v) for v in sorted(vmids)) + r")\b") if vmids else None
    guests = [g for g in base.guests if other(g.vmid)] + list(fresh.guests)
    return Discovery(
        guests=sorted(guests, key=lambda g: (g.node, g.vmid)),
        warnings=[w for w in base.warnings if named is None or not named.search(w)] + list(fresh.warnings),
        unread=[u for u in base.unread if other(u.get("vmid"))] + list(fresh.unread),
        unread_nodes=set(base.unread_nodes) | set(fresh.unread_nodes),
        configs={**{k: v for k, v in base.configs.items() if other(k[1])}, **fresh.configs},
        resources=[e for e in base.resources if other(e.get("vmid"))] + list(fresh.resources),
    )


def watch(provider: ProxmoxProvider) -> ProxmoxWatch:
    """The ``watch`` hook (providers.base.Hooks)."""
    return ProxmoxWatch(provider)

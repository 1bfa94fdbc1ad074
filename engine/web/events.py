"""``serve``'s event path: watch the systems between full reads, and run on what changed.

Owns: the watchers of the configured systems (each kind's ``watch`` hook — Proxmox's task log and
guest list, NIPAP's ``last_modified``), polling them every ``--watch-interval`` seconds while the
service waits for its next full read, the cache of the observations of the last read, and what a
partial run plans from: the cache, with only what changed read again (the guests an event names, a
NIPAP that changed); every system netsot itself changed in a run is read again right after it, while
the service waits (``prefetch``), or by the next partial run when that read failed. The partial run is
the service's own ``run_once`` (same lock, same safety policy, same records); only its reads differ.
Must not: plan from anything but a complete set of observations (a system not read again is its
cached observation, never an empty one: nothing is deleted because it was not looked at), or run a
partial run before a full read succeeded (a failed run drops the cache until the next full read).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from core.config import Config
from core.errors import NetsotError
from core.model import Change, Observation, Plan
from engine import runtime
from engine.plan.planner import read_all, safe_text
from providers import registry

log = logging.getLogger("netsot.service")


class Events:
    """The watch of one service: watchers, the observation cache, and the partial run's reads."""

    def __init__(self, config: Config, interval: float, clock: Any = time.monotonic) -> None:
        self.config = config
        self.interval = interval
        self.clock = clock
        self.watchers: dict[str, Any] = {}
        self.cache: dict[str, Observation] | None = None  # the last run's observations (None: none usable)
        self.dirty: set[str] = set()  # systems without a watcher that netsot changed: read them again
        self.trigger: tuple[str, ...] = ()  # what the running partial run reacts to
        self._taken: dict[str, Observation] | None = None
        self._readers: dict[str, Any] = {}  # system -> the provider that read its cached observation
        self._poll_error: dict[str, str] = {}
        self._told: set[str] = set()  # watched systems netsot changed in the last run (prefetch reads them)
        self._again: tuple[str, ...] = ()  # notes of a run that could not start (the lock was held)
        self._began = False  # the running partial run got as far as its reads
        self._wake: float | None = None  # when deletes held by orphan_grace may go (a run then)

    # ---- lifetime
    def start(self) -> None:
        """A watcher per system that has one; their first poll is the baseline (no event)."""
        try:
            providers = runtime.build_providers(self.config)
        except Exception as exc:  # a watch that cannot start never stops the service: full reads go on
            log.warning("watching disabled: %s", exc)
            return
        for key, provider in providers.items():
            hook = registry.hook(registry.kind_of(key).name, "watch")
            if hook is None:
                runtime.close_providers({key: provider})
                continue
            try:
                self.watchers[key] = hook(provider)
            except Exception as exc:
                log.warning("watching %s disabled: %s", key, exc, extra={"fields": {"system": key}})
                runtime.close_providers({key: provider})
        if self.watchers:
            log.info("watching %s every %gs", ", ".join(self.watchers), self.interval,
                     extra={"fields": {"watch": sorted(self.watchers), "watch_interval": self.interval}})
        self.poll()

    def close(self) -> None:
        for key, watcher in self.watchers.items():
            try:
                watcher.close()
            except Exception as exc:  # closing never stops the service
                log.warning("closing the watch of %s failed: %s", key, exc)
        self.watchers.clear()

    # ---- looking
    def poll(self) -> list[str]:
        """What changed since the last poll, one line each (a watcher that fails is logged once)."""
        notes: list[str] = []
        for key, watcher in self.watchers.items():
            try:
                notes.extend(watcher.poll())
            except Exception as exc:  # a watch that fails never stops the service: the full read remains
                text = str(exc) if isinstance(exc, NetsotError) else safe_text(exc)
                if self._poll_error.get(key) != text:
                    log.warning("watching %s failed: %s (the full read every --interval still runs)", key,
                                text, extra={"fields": {"system": key}})
                self._poll_error[key] = text
                continue
            if self._poll_error.pop(key, None) is not None:
                log.info("watching %s works again", key, extra={"fields": {"system": key}})
        return notes

    def wait(self, service: Any, delay: float) -> None:
        """Wait ``delay`` seconds for the next full run; meanwhile poll, and run on what changed."""
        deadline = self.clock() + delay
        self.prefetch()
        while not service.stop_event.is_set():
            left = deadline - self.clock()
            if left <= 0 or service.stop_event.wait(min(self.interval, left)):
                self.cache = None  # the full run is next: until it succeeds, no partial run
                return
            notes = self.poll() or list(self._again)
            if not notes and self._wake is not None and self.clock() >= self._wake:
                notes = ["the orphan_grace of held deletes has passed"]
            if not notes:
                continue
            if self.cache is None:
                self._wake, self._again = None, ()
                log.info("change seen; waiting for the next full read (the last run did not finish)",
                         extra={"fields": {"trigger": notes}})
                continue
            self.trigger = tuple(notes)
            log.info("change seen: %s", "; ".join(notes), extra={"fields": {"trigger": notes}})
            self._began = False
            try:
                ok = service.run_once(events=self)
            finally:
                self.trigger = ()
            # a run that never reached its reads (a CLI apply held the state lock) is tried again at
            # the next poll; one that ran and failed waits for the next change or the full read
            self._again = () if ok or self._began else tuple(notes)
            self.prefetch()

    # ---- the cache
    def full_read(self, providers: Mapping[str, Any], observations: Mapping[str, Observation]) -> None:
        """A full read: the new cache and every watcher's new baseline."""
        self.cache = None
        self._taken = dict(observations)
        self._readers = dict(providers)
        self.dirty.clear()
        for key, watcher in self.watchers.items():
            if key in providers and key in observations:
                watcher.full_read(providers[key], observations[key])

    def prefetch(self) -> None:
        """Between runs: read again at once what the last run changed (the systems netsot wrote), so
        that the next partial run plans from the cache without waiting for these reads.

        What the next run would read again anyway, read earlier: what changes after this read is
        still seen as before (a watched system's polls name it; an unwatched one waits for the full
        read). A read that fails leaves the system to be read again by the next partial run."""
        told, self._told = self._told, set()
        if self.cache is None or not (self.dirty or told):
            return
        cache = dict(self.cache)
        dirty = {k: self._readers[k] for k in sorted(self.dirty) if k in self._readers and k in cache}
        try:
            if dirty:
                try:
                    cache.update(read_all(dirty))
                finally:
                    runtime.close_providers(dirty)  # as a run's providers are: each reopens on use
                self.dirty.difference_update(dirty)
            for key in sorted(told):
                if key in cache and key in self.watchers:
                    fresh = self.watchers[key].refresh(cache[key])  # one that fails asks again next time
                    if fresh is not None:
                        cache[key] = fresh
        except Exception as exc:  # the next partial run reads them again (and reports a failure)
            text = str(exc) if isinstance(exc, NetsotError) else safe_text(exc)
            log.info("reading again what the last run changed failed: %s (the next run reads it)", text)
        if self.cache is not None:
            self.cache = cache

    def observations(self, providers: dict[str, Any]) -> dict[str, Observation]:
        """A partial run's observations: the cache, with what changed read again.

        A provider plans from what it read (the router's subnets, for one), so ``providers`` gets back
        the instance that read each cached observation (closed since; each reopens on use). The cache
        is taken: until ``applied`` gives it back (the run went through), no other partial run may use
        it."""
        self._began = True
        cache, self.cache = self.cache, None
        if cache is None:
            raise NetsotError("no complete read to plan from yet")
        out = dict(cache)
        dirty = {k: providers[k] for k in sorted(self.dirty) if k in providers}
        for key in providers:
            if key not in dirty and key in self._readers:
                providers[key] = self._readers[key]
        if dirty:
            out.update(read_all(dirty))
            self._readers.update(dirty)
        self.dirty.clear()
        for key, watcher in self.watchers.items():
            if key in out:
                fresh = watcher.refresh(out[key])
                if fresh is not None:
                    out[key] = fresh
        missing = sorted(set(providers) - set(out))
        if missing:
            raise NetsotError(f"no observation of {', '.join(missing)} to plan from")
        self._taken = out
        return out

    def applied(self, plan: Plan, report: Any) -> None:
        """After a run: the cache is valid again, minus what netsot changed (read again next time)."""
        self.cache, self._taken = self._taken, None
        self._wake = None
        if any(h.gate == "orphan_grace" for h in plan.held):  # each ends within one grace from now
            from engine.plan.policy import parse_duration

            self._wake = self.clock() + parse_duration(self.config.policy.orphan_grace).total_seconds() + 0.5
        if report is None:
            return
        touched: dict[str, list[Change]] = {}
        by_address = {c.address: c for c in plan.changes}
        for outcome in (*report.applied, *report.failed):
            change = by_address.get(outcome.address)
            touched.setdefault(outcome.address.system, []).extend([change] if change is not None else [])
        for system, changes in touched.items():
            watcher = self.watchers.get(system)
            if watcher is not None:
                watcher.applied(changes)
                self._told.add(system)
            else:
                self.dirty.add(system)


def summary(trigger: Sequence[str]) -> str:
    """``3 changes`` / the one change, for the run's log line."""
    return trigger[0] if len(trigger) == 1 else f"{len(trigger)} changes"

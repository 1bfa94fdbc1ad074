"""Why an owned object lost its source, in the source's own words: removed, renamed, or no longer a binding.

Owns: rewording the planners' "lost its source: …" delete reasons when the origin's system still holds
the object that was the source — found by the object the entry was recorded to depend on, its MAC or its
address — as "renamed in NIPAP to cam1 (…)" or "nipap 192.168.10.77 (id 21) is no longer a binding: is
not tagged netsot". "host removed from NIPAP" then stays only for a source that is really gone.
Must not: do I/O, change what is planned, or name a system (kinds, titles and facts do).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from core.config import split_key
from core.ipv4 import ip_int
from core.model import Action, Address, Change, Fact, ManagedResource, Observation
from engine.plan.units import mac_in
from providers import registry

LOST = "lost its source: "


def reword(changes: Iterable[Change], owned: Mapping[Address, ManagedResource],
           observations: Mapping[str, Observation]) -> list[Change]:
    changes = list(changes)
    sources = _Sources(observations)
    why: dict[Address, str] = {}  # every owned delete's words (a rename's too: its siblings share them)
    for c in changes:
        record = owned.get(c.address)
        if c.action is Action.DELETE and record is not None:
            why[c.address] = _why(c, record.origin, observations, sources)
    # an entry found by nothing of its own (a DNS name whose address changed too) shares the words of
    # the entries recorded against the same source object
    by_dep: dict[Address, str] = {}
    for c in changes:
        for dep in c.depends_on:
            if why.get(c.address):
                by_dep.setdefault(dep, why[c.address])
    out: list[Change] = []
    for c in changes:
        if c.address not in why or not c.reason.startswith(LOST):
            out.append(c)
            continue
        words = why[c.address] or next((by_dep[d] for d in c.depends_on if d in by_dep), "")
        out.append(replace(c, reason=LOST + words) if words else c)
    return out


def _why(c: Change, origin: str, observations: Mapping[str, Observation], sources: _Sources) -> str:
    found = sources.find(c, origin)
    if found is None:
        return ""
    key, fact = found
    if fact.origin:  # still a binding, yet this entry is not wanted: the binding has another name now
        title = registry.kind_of(key).title.split(" (")[0]  # "NIPAP", not "NIPAP (IPAM)"
        return f"renamed in {title} to {fact.hostname} ({fact.ref})"
    resource = observations[key].resources.get(fact.address) if fact.address is not None else None
    because = resource.unmanaged_reason if resource is not None and resource.unmanaged_reason else ""
    return f"{fact.ref} is no longer a binding" + (f": {because}" if because else "")


class _Sources:
    """The facts that can have been an owned object's source (each system's facts of an object netsot does
    not own), indexed by object, MAC and IP once per plan: a delete finds its source without a scan of
    every fact (that scan was half of a 3 s plan with 9,000 deletes among 6,000 guests)."""

    def __init__(self, observations: Mapping[str, Observation]) -> None:
        self._observations = observations
        self._indexes: dict[str, tuple[dict[Any, tuple[int, Fact]], ...]] = {}

    def _index(self, key: str) -> tuple[dict[Any, tuple[int, Fact]], ...]:
        """(by object address, by MAC, by IP) → the first such fact and its place in the system's facts."""
        if key not in self._indexes:
            by_address: dict[Any, tuple[int, Fact]] = {}
            by_mac: dict[Any, tuple[int, Fact]] = {}
            by_ip: dict[Any, tuple[int, Fact]] = {}
            for n, f in enumerate(self._observations[key].facts):
                if f.address is None or f.owned:
                    continue
                by_address.setdefault(f.address, (n, f))
                by_mac.setdefault(f.mac, (n, f))
                by_ip.setdefault(f.ip, (n, f))
            self._indexes[key] = (by_address, by_mac, by_ip)
        return self._indexes[key]

    def find(self, c: Change, origin: str) -> tuple[str, Fact] | None:
        """The fact of the origin's system that was ``c``'s object's source, if that system still holds it:
        the first fact (in the system's order) of the object ``c`` depends on, else of its MAC, else of one
        of its IPs."""
        if not origin:
            return None
        before = c.before or {}
        mac = mac_in(before)
        ips = {v for v in before.values() if isinstance(v, str) and ip_int(v) is not None}
        ips |= {x for v in before.values() if isinstance(v, list | tuple) for x in v
                if isinstance(x, str) and ip_int(x) is not None}
        for key in sorted(self._observations):
            if split_key(key)[0] != origin:
                continue
            by_address, by_mac, by_ip = self._index(key)
            for index, values in ((by_address, c.depends_on), (by_mac, () if mac is None else (mac,)),
                                  (by_ip, ips)):
                hits = [index[v] for v in values if v in index]
                if hits:
                    return key, min(hits, key=lambda hit: hit[0])[1]
        return None

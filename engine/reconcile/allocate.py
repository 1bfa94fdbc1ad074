"""Address allocation for reconcile: the first free address per network.

Owns: ``ALLOCATOR_RULE`` and ``allocate``, one cursor per network over the set of addresses
any source uses (skipping the gateway and the DHCP range).
Must not: report conflicts (it only marks ``Group.no_free``; ``conflicts`` reports it).
"""

from __future__ import annotations

from collections.abc import Mapping

from core.ipv4 import Span, ip_int, ip_text
from core.model import Provenance
from engine.reconcile.grouping import FactView, Group

ALLOCATOR_RULE = "first free address outside the DHCP range"


def allocate(groups: list[Group], facts: list[FactView], spans: Mapping[str, Span]) -> None:
    """First free address per network, skipping everything any source uses.

    One moving cursor per network over a set of used integers: linear in the part of the
    prefix actually walked, never quadratic in the number of bindings.
    """
    wanting = [g for g in groups if g.ip is None and not g.blocked]
    if not wanting:
        return  # nothing to allocate: the used set is not needed
    texts: list[str | None] = [g.ip for g in groups]
    for f in facts:
        texts.append(f.ip)
        # addresses an object is seen using (a guest agent's report) are taken even if no source
        # records them
        if f.fact.in_use:
            texts.extend(f.fact.in_use)
    used = {n for n in map(ip_int, texts) if n is not None}
    cursors: dict[str, int] = {}
    for g in sorted(wanting, key=Group.sort_key):
        span = spans[g.network.name]
        cur, last = cursors.get(g.network.name, span.usable[0]), span.usable[1]
        while cur <= last:
            if span.dynamic and span.dynamic[0] <= cur <= span.dynamic[1]:
                cur = span.dynamic[1] + 1
            elif cur in used or cur == span.gateway:
                cur += 1
            else:
                break
        cursors[g.network.name] = cur + 1
        if cur > last:
            g.no_free = True  # reported by ip_conflicts
            continue
        used.add(cur)
        g.ip = ip_text(cur)
        g.provenance["ip"] = Provenance("allocator", ALLOCATOR_RULE, g.network.name)

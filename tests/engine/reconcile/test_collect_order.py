"""``collect`` lists the facts in one order whatever order the observations list them in: by (source, ref),
the whole fact (``_order``) where two share both."""

from __future__ import annotations

import random
from dataclasses import replace

from core.model import Fact, Observation
from engine.reconcile.grouping import _order, collect
from tests.engine.reconcile.test_reconcile import config, dns_host, lease, mapping, nipap, pve


def test_facts_come_in_source_then_ref_order_whatever_order_they_were_read_in() -> None:
    guest = pve("web", "02:00:00:00:00:01", vmid=101)
    facts = [
        guest, pve("db", "02:00:00:00:00:02", vmid=102), pve("app", "02:00:00:00:00:03", vmid=99),
        nipap("web", "02:00:00:00:00:01", "10.0.0.10"), nipap("db", "02:00:00:00:00:02", "10.0.0.11"),
        mapping("web", "02:00:00:00:00:01", "10.0.0.10"), dns_host("web", "10.0.0.10"),
        dns_host("db", "10.0.0.11"), lease("02:00:00:00:00:09", "10.0.0.99"),
        # two facts of one source and ref: the rest of the fact orders them
        replace(guest, ip="10.0.0.20"), replace(guest, ip="10.0.0.12"),
        # a ref that sorts before other sources' refs: the source still comes first
        replace(guest, ref="a guest", mac="02:00:00:00:00:04"),
    ]
    cfg = config()
    nets = {n.name: n for n in cfg.networks}
    expected = sorted(facts, key=_order)
    rnd = random.Random(24)
    for _ in range(20):
        shuffled = list(facts)
        rnd.shuffle(shuffled)
        by_source: dict[str, list[Fact]] = {}
        for f in shuffled:
            by_source.setdefault(f.source, []).append(f)
        systems = list(by_source)
        rnd.shuffle(systems)
        observations = {s: Observation(system=s, facts=tuple(by_source[s])) for s in systems}
        got = [view.fact for view in collect(cfg, observations, {}, nets)]
        assert got == expected


def test_without_shared_refs_the_order_is_source_then_ref() -> None:
    facts = [pve("b", "02:00:00:00:00:01", vmid=102), nipap("a", "02:00:00:00:00:02", "10.0.0.10"),
             pve("a", "02:00:00:00:00:02", vmid=101), mapping("a", "02:00:00:00:00:02", "10.0.0.10"),
             replace(pve("c", "02:00:00:00:00:03", vmid=103), ref="a guest")]
    cfg = config()
    observations = {"x": Observation(system="x", facts=tuple(reversed(facts)))}
    views = collect(cfg, observations, {}, {n.name: n for n in cfg.networks})
    got = [(v.fact.source, v.fact.ref) for v in views]
    assert got == sorted((f.source, f.ref) for f in facts)

"""``pick`` (reconcile's fast path) must choose exactly what ``resolve`` chooses, in any input order."""

from __future__ import annotations

import random
from operator import attrgetter

from hypothesis import given
from hypothesis import strategies as st

from core.model import Fact
from engine.reconcile.grouping import FactView
from engine.reconcile.precedence import Candidate, pick, pick_by, ranking, resolve

SOURCES = st.sampled_from(["config", "proxmox", "nipap", "edgemax", "lease"])
VALUES = st.one_of(st.none(), st.sampled_from(["a", "b", "10.0.0.1", "10.0.0.2"]), st.integers(0, 3))
TRIPLES = st.lists(st.tuples(SOURCES, VALUES, st.sampled_from(["", "r1", "r2", "r3"])), max_size=8)
ORDERS = st.lists(SOURCES, unique=True, max_size=4)


@given(TRIPLES, ORDERS, st.randoms())
def test_pick_agrees_with_resolve(
    triples: list[tuple[str, object, str]], order: list[str], rnd: random.Random
) -> None:
    expected = resolve("ip", [Candidate(s, v, r) for s, v, r in triples], order)
    ranks, rule_text = ranking("ip", order)
    assert pick(triples, ranks, rule_text) == (expected.value, expected.provenance)
    shuffled = list(triples)
    rnd.shuffle(shuffled)
    again = resolve("ip", [Candidate(s, v, r) for s, v, r in shuffled], order)
    assert pick(shuffled, ranks, rule_text) == (again.value, again.provenance)

def test_pick_ignores_unranked_sources_and_missing_values() -> None:
    ranks, rule_text = ranking("ip", ["nipap", "proxmox"])
    assert pick([("lease", "10.0.0.9", "l"), ("proxmox", None, "p")], ranks, rule_text) == (None, None)
    value, provenance = pick([("proxmox", "10.0.0.2", "p"), ("nipap", "10.0.0.1", "n")], ranks, rule_text)
    assert value == "10.0.0.1" and provenance is not None and provenance.source == "nipap"
    assert provenance.rule == "ip: nipap > proxmox"


@given(TRIPLES, ORDERS)
def test_reconciles_pick_over_facts_agrees_with_pick(
    triples: list[tuple[str, object, str]], order: list[str]
) -> None:
    # reconcile's ``pick_by`` reads the facts themselves instead of (source, value, ref) triples
    facts = [FactView(Fact(source, ref, "lan", None, None, None), None, False, None, None, None,
                      aliases=value)  # type: ignore[arg-type]  # any value: pick only compares them
             for source, value, ref in triples]
    ranks, rule_text = ranking("ip", order)
    assert pick_by(facts, attrgetter("fact.source"), attrgetter("aliases"), attrgetter("fact.ref"), ranks,
                   rule_text) == pick(triples, ranks, rule_text)

"""``pick`` (reconcile's fast path) must choose exactly what ``resolve`` chooses, in any input order."""

from __future__ import annotations

import random
from operator import attrgetter

from hypothesis import given
from hypothesis import strategies as st

from core.model import Fact
from engine.reconcile.bindings import _pick_values
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


NAMES = st.one_of(st.none(), st.sampled_from(["a", "b"]))
MACS = st.one_of(st.none(), st.sampled_from(["02:00:00:00:00:01", "02:00:00:00:00:02"]))
IPS = st.sampled_from([None, "10.0.0.1", "10.0.0.2"])
KINDS = st.sampled_from([None, "proxmox", "config"])  # None: a supporting fact
FACTS = st.lists(st.tuples(SOURCES, st.sampled_from(["", "r1", "r2"]), NAMES, MACS, IPS, KINDS), max_size=8)


@given(FACTS, MACS, ORDERS, ORDERS, ORDERS)
def test_reconciles_one_pass_over_a_groups_facts_agrees_with_pick_by(
    rows: list[tuple[str, str, str | None, str | None, str | None, str | None]], mac_key: str | None,
    names: list[str], macs: list[str], ips: list[str],
) -> None:
    # ``_pick_values`` picks the host name, MAC and IP in one pass: each exactly as ``pick_by`` over the
    # facts, the MAC only over the origins and the facts on the group's MAC when it has one
    facts = [FactView(Fact(source, ref, "lan", name, mac, ip), kind, False, name, mac, ip)
             for source, ref, name, mac, ip, kind in rows]
    rankings = (ranking("hostname", names), ranking("mac", macs), ranking("ip", ips))
    on_key = [f for f in facts if f.kind is not None or f.mac == mac_key] if mac_key else facts
    source, ref = attrgetter("fact.source"), attrgetter("fact.ref")
    expected = (pick_by(facts, source, attrgetter("hostname"), ref, *rankings[0]),
                pick_by(on_key, source, attrgetter("mac"), ref, *rankings[1]),
                pick_by(facts, source, attrgetter("ip"), ref, *rankings[2]))
    assert _pick_values(facts, mac_key, rankings) == expected

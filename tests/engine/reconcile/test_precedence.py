"""Unit tests of the precedence engine on its own (no facts, no networks)."""

from __future__ import annotations

import itertools

from core.model import Provenance
from engine.reconcile.precedence import Candidate, Resolved, resolve, rule

IP_ORDER = ("config", "nipap", "proxmox", "edgemax")


def test_rule_text() -> None:
    assert rule("ip", IP_ORDER) == "ip: config > nipap > proxmox > edgemax"


def test_first_source_in_order_with_a_value_wins() -> None:
    cands = [
        Candidate("edgemax", "192.168.1.30", "edgemax mapping LAN web01"),
        Candidate("proxmox", "192.168.1.20", "proxmox pve1/101 net0"),
        Candidate("nipap", "192.168.1.10", "nipap 192.168.1.10/24"),
    ]
    got = resolve("ip", cands, IP_ORDER)
    assert got.value == "192.168.1.10"
    assert got.provenance == Provenance(
        "nipap", "ip: config > nipap > proxmox > edgemax", "nipap 192.168.1.10/24"
    )
    assert got.found
    # losers: best-ranked first, only those with a different value
    assert [c.source for c in got.losers] == ["proxmox", "edgemax"]


def test_none_is_no_opinion() -> None:
    cands = [Candidate("config", None, "config host x"), Candidate("proxmox", "10.0.0.5", "pve")]
    got = resolve("ip", cands, IP_ORDER)
    assert got.value == "10.0.0.5"
    assert got.provenance is not None and got.provenance.source == "proxmox"
    assert got.losers == ()


def test_equal_values_are_not_losers() -> None:
    cands = [Candidate("nipap", "a", "n"), Candidate("edgemax", "a", "e"), Candidate("proxmox", "b", "p")]
    got = resolve("hostname", cands, ("proxmox", "nipap", "edgemax"))
    assert got.value == "b"
    assert [c.source for c in got.losers] == ["nipap", "edgemax"]


def test_custom_order_changes_the_winner() -> None:
    cands = [Candidate("nipap", "10.0.0.1", "n"), Candidate("edgemax", "10.0.0.2", "e")]
    assert resolve("ip", cands, ("edgemax", "nipap")).value == "10.0.0.2"
    assert resolve("ip", cands, ("nipap", "edgemax")).value == "10.0.0.1"


def test_sources_outside_the_order_never_win() -> None:
    cands = [Candidate("lease", "10.0.0.9", "lease"), Candidate("nipap", "10.0.0.1", "n")]
    got = resolve("ip", cands, ("config", "proxmox"))
    assert got == Resolved(None, None, got.losers)
    assert not got.found
    assert {c.source for c in got.losers} == {"lease", "nipap"}


def test_no_candidates() -> None:
    got = resolve("mac", [], ("config",))
    assert got.value is None and got.provenance is None and got.losers == ()


def test_result_does_not_depend_on_candidate_order() -> None:
    cands = [
        Candidate("edgemax", "x2", "edgemax b"),
        Candidate("edgemax", "x1", "edgemax a"),
        Candidate("proxmox", None, "pve"),
        Candidate("nipap", None, "nipap"),
    ]
    results = {resolve("ip", list(p), IP_ORDER) for p in itertools.permutations(cands)}
    assert len(results) == 1
    (only,) = results
    # within one source the ref breaks the tie
    assert only.value == "x1" and only.provenance is not None and only.provenance.ref == "edgemax a"

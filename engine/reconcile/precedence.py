"""Per-attribute precedence: the first source in an order that has a value wins.

Owns: the ``Candidate`` / ``Resolved`` value types, the rule text shown in provenance
and ``resolve()``. Pure data and functions, independent of facts, networks and systems.
Must not: decide conflicts or do I/O — callers look at ``losers`` if they care.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any, TypeVar

from core.model import Provenance

_T = TypeVar("_T")


@dataclass(frozen=True)
class Candidate:
    """One source's opinion about one attribute. ``value is None`` means "no opinion"."""

    source: str
    value: Any
    ref: str = ""


@dataclass(frozen=True)
class Resolved:
    """The outcome of one precedence decision.

    ``provenance`` is None when no ranked source offered a value (``value`` is then None).
    ``losers`` are the candidates that offered a different value, best-ranked first.
    """

    value: Any
    provenance: Provenance | None
    losers: tuple[Candidate, ...] = ()

    @property
    def found(self) -> bool:
        return self.provenance is not None


def rule(attribute: str, order: Sequence[str]) -> str:
    """The rule text carried in provenance, e.g. ``ip: config > nipap > proxmox > edgemax``."""
    return _rule(attribute, tuple(order))


@lru_cache(maxsize=256)
def _rule(attribute: str, order: tuple[str, ...]) -> str:
    return f"{attribute}: {' > '.join(order)}"


@lru_cache(maxsize=256)
def _ranks(order: tuple[str, ...]) -> dict[str, int]:
    # reconcile resolves three attributes per binding with the same few orders: rank them once
    return {source: i for i, source in enumerate(order)}


def resolve(attribute: str, candidates: Sequence[Candidate], order: Sequence[str]) -> Resolved:
    """Pick the value of the first source in ``order`` that has a non-None value.

    Sources not in ``order`` never win. Within one source, ties are broken by ``ref``
    then by value, so the result does not depend on the order of ``candidates``.
    """
    order = tuple(order)
    rank = _ranks(order)
    unranked = len(rank)

    def key(c: Candidate) -> tuple[int, str, str]:
        return (rank.get(c.source, unranked), c.ref, repr(c.value))

    offered = [c for c in candidates if c.value is not None]
    if len(offered) > 1:
        offered.sort(key=key)
    if not offered or offered[0].source not in rank:
        return Resolved(None, None, tuple(offered))
    winner = offered[0]
    losers = tuple(c for c in offered[1:] if c.value != winner.value)
    return Resolved(winner.value, Provenance(winner.source, _rule(attribute, order), winner.ref), losers)


def ranking(attribute: str, order: Sequence[str]) -> tuple[dict[str, int], str]:
    """The ranks of ``order`` and its rule text, computed once for many :func:`pick` calls."""
    order = tuple(order)
    return _ranks(order), _rule(attribute, order)


def pick(
    offered: Iterable[tuple[str, Any, str]], ranks: Mapping[str, int], rule_text: str
) -> tuple[Any, Provenance | None]:
    """The (value, provenance) :func:`resolve` would return for ``(source, value, ref)`` triples,
    without building candidates or losers (reconcile resolves three attributes per binding).

    Same winner: the smallest (rank, ref, repr(value)), the first of equals in input order.
    """
    return pick_by(offered, _FIRST, _SECOND, _THIRD, ranks, rule_text)


_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)


def pick_by(
    items: Iterable[_T], source_of: Callable[[_T], str], value_of: Callable[[_T], Any],
    ref_of: Callable[[_T], str], ranks: Mapping[str, int], rule_text: str,
) -> tuple[Any, Provenance | None]:
    """:func:`pick` over any items, each read by the three getters (reconcile passes its facts as they
    are, without a triple per fact)."""
    unranked = len(ranks)
    best: _T | None = None
    best_value: Any = None
    best_ref = ""
    best_rank = unranked
    for item in items:
        value = value_of(item)
        if value is None:
            continue
        r = ranks.get(source_of(item), unranked)
        if best is None or r < best_rank:
            best, best_value, best_ref, best_rank = item, value, ref_of(item), r
        elif r == best_rank:
            ref = ref_of(item)
            if ref < best_ref or (ref == best_ref and repr(value) < repr(best_value)):
                best, best_value, best_ref = item, value, ref
    if best is None or best_rank == unranked:
        return None, None
    return best_value, Provenance(source_of(best), rule_text, best_ref)

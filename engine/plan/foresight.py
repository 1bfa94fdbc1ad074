"""Changes a system would refuse, foreseen by its provider: held as conflicts, the rest goes ahead.

Owns: asking each provider that can foresee its system's own commit rules (an optional
``foresee(changes) -> Sequence[Conflict]`` method: the changes of that system the plan would send,
after conflicts and ``--target``) which of them break one, removing those changes and every change
that waits for one of them (what must run after a create/update, what must run before a delete,
the other half of a rename), and adding the conflicts to the plan's, each naming all it holds.
Holding can leave another change of the same system breaking a rule (a create held, a delete
alone), so the providers are asked again until nothing new is held.
Must not: know any system's rules (the providers do) or decide policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from core.errors import NetsotError, ProviderError
from core.model import Address, Change, Conflict, Desired
from engine.plan.policy import Waits  # the one rule of what waits for a held change
from engine.safetext import visible
from providers import registry
from providers.base import Provider

ROUNDS = 5  # each round holds more; a provider's rule set settles long before


def _waiting(changes: Sequence[Change], held: set[Address]) -> dict[Address, Address]:
    """Every change that waits for one of ``held`` → the held change it waits for (``held`` map to
    themselves). One pass over the plan per round, however many conflicts it has."""
    waits = Waits(changes)
    root = {a: a for a in held}
    grew = True
    while grew:
        grew = False
        for change in changes:
            if change.address in root:
                continue
            blocker = waits.blocker(change, root)
            if blocker is not None:
                root[change.address] = root[blocker]
                grew = True
    return root


def _ask(providers: Mapping[str, Provider], changes: Sequence[Change]) -> list[Conflict]:
    out: list[Conflict] = []
    by_system: dict[str, list[Change]] = {}  # one pass over the plan, not one per provider
    for change in changes:
        by_system.setdefault(change.system, []).append(change)
    for name in sorted(providers, key=registry.rank):
        foresee = getattr(providers[name], "foresee", None)
        mine = by_system.get(name)
        if foresee is None or not mine:
            continue
        try:
            out += list(foresee(mine))
        except NetsotError:
            raise
        except Exception as exc:
            why = f"{type(exc).__name__}: {visible(str(exc))}"[:300]
            raise ProviderError(name, f"checking its commit rules failed unexpectedly ({why})") from exc
    return out


def hold_foreseen(providers: Mapping[str, Provider], changes: list[Change],
                  desired: Desired) -> tuple[list[Change], Desired]:
    """(the changes that may go, ``desired`` with the foreseen conflicts added)."""
    found: list[Conflict] = []
    for _ in range(ROUNDS):
        new = _ask(providers, changes)
        if not new:
            break
        root = _waiting(changes, {a for c in new for a in c.blocked})
        waiting_on: dict[Address, list[Address]] = {}  # held change -> what waits for it (and itself)
        for a, r in root.items():
            waiting_on.setdefault(r, []).append(a)
        for conflict in new:
            own = set(conflict.blocked)
            extra = tuple(sorted((a for r in own for a in waiting_on.get(r, ()) if a not in own), key=str))
            found.append(replace(conflict, blocked=conflict.blocked + extra) if extra else conflict)
        changes = [c for c in changes if c.address not in root]
    if not found:
        return changes, desired
    return changes, replace(desired, conflicts=desired.conflicts + tuple(found))

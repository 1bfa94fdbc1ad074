"""One apply on VyOS: ONE ``/configure`` holding every operation, then ONE ``/config-file`` save.

Owns: the apply's outcome per operation. A failed commit is not all-or-nothing on VyOS (vyos.md
§5.3: subsystems of an earlier priority stay committed), so after ANY failure the router is read
again and each operation is reported as landed or not from what is really there; what landed
is then saved, so the running and the saved config agree with what netsot records. With
``confirm_minutes`` (commit-confirm, VyOS 1.5), the commit is confirmed only after ``verify``
passes; otherwise it is left unconfirmed and the router reverts when the timer runs out.
Must not: decide what to change, or retry a refused commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.errors import ProviderError
from providers.vyatta.tree import Tree
from providers.vyos.client import Op, VyosClient
from providers.vyos.inventory import read_router


@dataclass(frozen=True)
class Outcome:
    landed: tuple[Op, ...]  # on the router now (committed)
    missing: tuple[Op, ...]  # not there: refused, or discarded after an earlier subsystem failed
    error: str | None = None  # VyOS's text when the commit (or the call) failed
    saved: bool = False
    confirmed: bool | None = None  # None: no commit-confirm asked for
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.missing


def has_landed(tree: Tree, op: Op) -> bool:
    """Whether ``op``'s effect is in ``tree``: a ``set`` path (value last) is there, a ``delete``'s not."""
    there = tree.exists(list(op.path))
    return there if op.op == "set" else not there


def _split(tree: Tree, ops: Sequence[Op]) -> tuple[tuple[Op, ...], tuple[Op, ...]]:
    landed = tuple(o for o in ops if has_landed(tree, o))
    return landed, tuple(o for o in ops if o not in landed)


def push(client: VyosClient, ops: Sequence[Op], *, confirm_minutes: int | None = None,
         verify: Callable[[], bool] | None = None) -> Outcome:
    """Send ``ops`` in one call, reconcile on failure, confirm after ``verify``, save once."""
    if not ops:
        return Outcome((), ())
    try:
        client.configure(ops, confirm_minutes)
    except ProviderError as err:
        landed, missing = _split(read_router(client), ops)  # a read failure here propagates: unknown state
        saved = False
        if landed:
            client.save()
            saved = True
        return Outcome(landed, missing, str(err), saved, None,
                       f"{len(landed)} of {len(ops)} operations landed before the commit failed")
    confirmed: bool | None = None
    note = ""
    if confirm_minutes is not None:
        if verify is not None and not verify():
            landed, missing = _split(read_router(client), ops)
            why = f"verify failed: the commit is left unconfirmed; VyOS reverts it in {confirm_minutes} min"
            return Outcome(landed, missing, None, False, False, why)
        client.confirm()
        confirmed = True
    client.save()
    landed, missing = _split(read_router(client), ops)
    if missing:
        note = "the commit succeeded but some operations are not on the router (read back after the commit)"
    return Outcome(landed, missing, None, True, confirmed, note)

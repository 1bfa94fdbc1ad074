"""Who made an owned object, as the plan needs it: a delete of an object netsot adopted is marked so.

Owns: setting ``Change.adopted`` on the delete of every owned object the state records as adopted
(``netsot import``, ``import ADDR ID``, an apply that took over an existing object), of any system, and
on the delete of one whose state cannot tell (``unknown``: written before netsot recorded it) unless the
object carries netsot's own marker. The policy's ``adopted`` gate then holds it whatever ``--force``
says; ``apply --replace ADDR`` and ``state rm ADDR`` are the user's explicit ways out.
Must not: do I/O, plan anything, or override a provider's own words (NIPAP's ``authoritative_source``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from core.model import Action, Address, Change, ManagedResource, Observation

ADOPTED = "adopted"
UNKNOWN = "unknown"
TAKEN_OVER = "taken over by an import or an apply, not created by netsot"
CANNOT_TELL = ("its state is from before netsot recorded who made what, and the object carries no netsot "
               "marker")


def hold_adopted(changes: Iterable[Change], owned: Mapping[Address, ManagedResource],
                 observations: Mapping[str, Observation]) -> list[Change]:
    """``changes`` with ``adopted`` set on each delete of an object netsot did not make."""
    out: list[Change] = []
    for change in changes:
        why = _adopted(change, owned.get(change.address), observations)
        out.append(replace(change, adopted=why) if why else change)
    return out


def _adopted(change: Change, record: ManagedResource | None,
             observations: Mapping[str, Observation]) -> str:
    if change.action is not Action.DELETE or change.moved_from is not None or change.adopted:
        return ""
    if record is None or record.status in ("recovering", "marked"):
        return ""  # written by an interrupted apply of netsot, or carrying netsot's marker
    if record.ownership == ADOPTED:
        return TAKEN_OVER
    if record.ownership == UNKNOWN and not _marked(change.address, observations):
        return CANNOT_TELL
    return ""


def _marked(address: Address, observations: Mapping[str, Observation]) -> bool:
    observation = observations.get(address.system)
    seen = observation.resources.get(address) if observation is not None else None
    return seen is not None and seen.owned_marker

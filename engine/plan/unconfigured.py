"""State objects of a system instance the configuration no longer names (a site taken out of
``providers:``, a lab started with fewer sites).

Owns: the plan's warning about them — how many, of which instances, and the exact command that
forgets them. netsot neither reads, changes nor deletes them: without the instance's settings it
cannot reach that system, and forgetting them is the user's decision.
Must not: change the state or the plan's changes.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from core.model import Address


def unconfigured_notes(owned: Mapping[Address, Any], configured: Iterable[str]) -> list[str]:
    """One warning naming the instances whose objects the state holds though the config has no such
    instance, with ``netsot state rm`` and every address (quoted for a shell: ``[cabin]`` is a glob)."""
    keys = set(configured)
    stray = sorted((a for a in owned if a.system not in keys), key=str)
    if not stray:
        return []
    systems = sorted({a.system for a in stray})
    objects = f"{len(stray)} object{'s' if len(stray) != 1 else ''}"
    command = "netsot state rm " + " ".join(shlex.quote(str(a)) for a in stray)
    return [f"the state holds {objects} of {', '.join(systems)}, which the configuration does not name "
            "(providers:): netsot leaves them alone, as it cannot read that system. Configure it again to "
            f"manage them, or forget them (no system changes): {command}"]

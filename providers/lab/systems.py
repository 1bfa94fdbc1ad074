"""Which kinds play the lab's parts: every registered kind with a ``Hooks.lab`` (a ``LabSystem``).

Owns: looking the lab's systems up in the registry (a kind joins the lab by its descriptor alone, no
lab file names it), the default kind of each part, the lab's process names and their parts, and a
lab's choice of kinds (``lab up --router SITE=KIND``) checked with a clear error.
Must not: name a system.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import NetsotError
from providers import registry
from providers.base import LAB_ROLES, LabSystem


class LabChoiceError(NetsotError):
    """A lab part asked for a kind that cannot play it."""


def _load(kind: str) -> LabSystem:
    """The kind's ``Hooks.lab``, loaded by the registry (its one documented lazy loading)."""
    return registry.hook(kind, "lab")  # type: ignore[return-value]


def lab_systems() -> dict[str, LabSystem]:
    """kind name → its ``LabSystem``, for every registered kind that joins the lab (registry order)."""
    return {kind.name: _load(kind.name) for kind in registry.kinds() if kind.hooks.lab}


def lab_system(kind: str) -> LabSystem:
    found = lab_systems().get(kind)
    if found is None:
        known = ", ".join(lab_systems()) or "none"
        raise LabChoiceError(f"{kind!r} has no simulator in the lab (kinds that do: {known})")
    return found


def kinds_for(role: str) -> list[str]:
    """The kinds that can play ``role``, the default first."""
    found = [(not s.default, name) for name, s in lab_systems().items() if s.role == role]
    return [name for _, name in sorted(found)]


def default_kind(role: str) -> str:
    defaults = [name for name, s in lab_systems().items() if s.role == role and s.default]
    if len(defaults) != 1:
        raise LabChoiceError(f"the lab's {role} needs exactly one default kind, has {defaults or 'none'}")
    return defaults[0]


def shared(role: str) -> bool:
    """Whether one system of ``role`` serves every site (the IPAM), not one per site."""
    return role == "ipam"


def processes() -> tuple[str, ...]:
    """The lab's process names (a further site's carry its name: ``router.cabin``)."""
    return tuple(dict.fromkeys(s.process for s in lab_systems().values()))


def role_of(process: str) -> str:
    """The part the lab process ``process`` (``router``, ``router.cabin``) plays."""
    base = process.split(".", 1)[0]
    for s in lab_systems().values():
        if s.process == base:
            return s.role
    raise LabChoiceError(f"the lab has no process {process!r}")


def choose(sites: Sequence[str], asked: Mapping[str, str] | None = None) -> dict[str, str]:
    """kind of each lab process, for the sites named (site 1 is ""): every part its default kind, but a
    site's router as ``asked`` ({site: kind}, "home" or "" naming site 1)."""
    asked = {("" if site == "home" else site): kind for site, kind in (asked or {}).items()}
    unknown = sorted(set(asked) - set(sites))
    if unknown:
        names = ", ".join(s or "home" for s in sites)
        raise LabChoiceError(f"--router {unknown[0] or 'home'}=…: no such site in this lab (sites: {names})")
    chosen: dict[str, str] = {}
    for site in sites:
        for role in LAB_ROLES:
            if shared(role) and site:
                continue
            kind = asked.get(site, default_kind(role)) if role == "router" else default_kind(role)
            system = lab_system(kind)
            if system.role != role:
                routers = ", ".join(kinds_for(role))
                raise LabChoiceError(f"--router {site or 'home'}={kind}: {kind} is no router in the lab "
                                     f"(routers: {routers})")
            name = f"{system.process}.{site}" if site else system.process
            chosen[name] = kind
    return chosen


def parse_routers(values: Sequence[str]) -> dict[str, str]:
    """``--router SITE=KIND`` values as {site: kind} (a clear error for anything else)."""
    out: dict[str, str] = {}
    for value in values:
        site, sep, kind = value.partition("=")
        if not sep or not site.strip() or not kind.strip():
            raise LabChoiceError(f"--router {value!r}: give SITE=KIND, e.g. cabin=" + (kinds_for("router")[-1]
                                                                                       if kinds_for("router")
                                                                                       else "KIND"))
        out[site.strip()] = kind.strip()
    return out


def system_of(process: str, kinds: Mapping[str, Any]) -> LabSystem:
    """The ``LabSystem`` running the lab process ``process`` (by the lab's recorded kinds, else the
    default kind of its part)."""
    kind = kinds.get(process) or default_kind(role_of(process))
    return lab_system(str(kind))

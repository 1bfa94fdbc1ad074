"""`netsot verify`: check the live systems really serve what the state says netsot wrote.

Owns: the checks every system gets — each owned object is read back and compared with the state on
the attributes its resource type declares, and a guest-side object that reports the addresses it
uses (a guest agent) must hold the binding's planned IP, unless its system says a change waits for it
(``pending restart``: reported as such, not a failure) — plus each system's own checks (its
descriptor's ``verify`` hook, e.g. DNS answers through the router), and the table / JSON output.
The run itself (state, providers, the saved record) is ``workflow.verify_run``.
Must not: change anything (no lock, no state write), print, or name a system.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from core.config import Config
from core.errors import NetsotError
from core.model import Address, Check, Observation
from engine import systems as systems_module
from engine.safetext import visible
from providers import registry
from providers.base import ROLE_ADDRESS, Provider
from state.model import ResourceState, State

__all__ = ["Check", "read_checks", "render_json", "render_table"]


def read_checks(providers: Mapping[str, Provider]) -> tuple[dict[str, Observation], list[Check]]:
    """One ``read()`` per configured system; a system that cannot be read is a failed check."""
    observations: dict[str, Observation] = {}
    failed: list[Check] = []
    for key in registry.ordered(providers):
        try:
            observations[key] = providers[key].read()
        except NetsotError as exc:
            failed.append(Check("read", key, False, f"cannot read {key}: {exc}"))
    return observations, failed


def _observed(obs: Observation, res: ResourceState) -> Mapping[str, Any] | None:
    """The live object for a state entry: same address, else the same provider id."""
    address = Address.parse(res.address)
    found = obs.resources.get(address)
    if found is None and res.provider_id:
        found = next((r for r in obs.resources.values()
                      if r.address.type == address.type and r.provider_id == res.provider_id), None)
    return found.attributes if found is not None else None


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _compare(live: Mapping[str, Any], want: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    return [f"{k} is {live.get(k)!s}, expected {want.get(k)!s}" for k in keys
            if k in want and _norm(live.get(k)) != _norm(want.get(k))]


def read_back(state: State, observations: Mapping[str, Observation]) -> list[Check]:
    """Every owned object, per system in registry order, compared with what the state recorded."""
    out: list[Check] = []
    by_system: dict[str, list[ResourceState]] = {}
    for address, res in sorted(state.resources.items()):
        by_system.setdefault(Address.parse(address).system, []).append(res)
    for key in registry.ordered(by_system):
        obs = observations.get(key)
        if obs is None:
            continue  # not configured, or the read failure is already reported
        kind = registry.kind_of(key)
        label, where = kind.check_label or kind.name, kind.location or f"in {kind.title}"
        for res in by_system[key]:
            rtype = registry.resource_type(Address.parse(res.address).type)
            if rtype is None or rtype.pseudo:
                continue
            live = _observed(obs, res)
            if live is None:
                out.append(Check(label, res.address, False, f"missing {where}", address=res.address))
                continue
            problems = _compare(live, res.attributes, rtype.attributes)
            detail = "; ".join(problems) if problems else "matches the state (" + ", ".join(
                f"{k} {res.attributes[k]}" for k in rtype.attributes
                if res.attributes.get(k) not in (None, "")) + ")"
            out.append(Check(label, res.address, not problems, detail, address=res.address))
    return out


def in_use(config: Config, state: State, observations: Mapping[str, Observation],
           bindings: Sequence[Any]) -> list[Check]:
    """An object that reports the addresses it uses (a guest agent) holds its binding's planned IP."""
    systems = systems_module.of(config)
    planned: dict[tuple[str, str], tuple[str, str]] = {}
    for b in bindings:
        address = systems.role_address(ROLE_ADDRESS, b.network, b.hostname)
        if b.mac and address is not None and str(address) in state.resources:
            planned[(b.network, b.mac.lower())] = (b.ip, str(address))
    out = []
    for key in registry.ordered(observations):
        for fact in sorted(observations[key].facts, key=lambda f: f.ref):
            if not fact.mac or not fact.network or not (fact.in_use or fact.waiting):
                continue
            want = planned.get((fact.network, fact.mac.lower()))
            if want is None:
                continue
            ip, address = want
            if fact.waiting and ip not in fact.in_use and fact.ip == ip:
                # the system holds the new address, the object does not have it yet: not a failure
                before = fact.answers_at or "an unknown address"
                now = (f"the guest still reports {', '.join(fact.in_use)}" if fact.in_use else
                       f"nothing reports its address (it answered at {before} when the change was written)")
                detail = f"{fact.waiting}: {now}; {address} planned {ip}, which it takes when restarted"
                out.append(Check("guest", f"{fact.ref} ({fact.hostname})", True, detail, address=address))
                continue
            ok = ip in fact.in_use
            detail = (f"the guest holds {ip} ({address})" if ok else
                      f"the guest reports {', '.join(fact.in_use)}, but {address} planned {ip}")
            out.append(Check("guest", f"{fact.ref} ({fact.hostname})", ok, detail, address=address))
    return out


def system_checks(config: Config, state: State, observations: Mapping[str, Observation]) -> list[Check]:
    """Each configured system's own checks (its descriptor's ``verify`` hook)."""
    out: list[Check] = []
    for key in registry.ordered(config.providers):
        hook = registry.hook(registry.kind_of(key).name, "verify")
        if hook is None:
            continue
        mine = [r for a, r in sorted(state.resources.items()) if Address.parse(a).system == key]
        out += hook(config, key, observations.get(key), mine)
    return out


# ----------------------------------------------------------------------------- output


def render_table(results: list[Check]) -> str:
    if not results:
        return "Nothing to verify: the state is empty (run `netsot apply` first).\n"
    rows = [("CHECK", "OBJECT", "RESULT", "DETAIL")]
    rows += [(visible(c.check), visible(c.object), "ok" if c.ok else "FAIL", visible(c.detail))
             for c in results]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    failed = [c for c in results if not c.ok]
    lines.append("")
    if failed:
        lines.append(f"Verify failed: {len(failed)} of {len(results)} checks found a problem:")
        lines += [f"  - {visible(c.check)} {visible(c.object)}: {visible(c.detail)}" for c in failed]
    else:
        lines.append(f"Verify passed: all {len(results)} checks agree with the state.")
    waiting = [c for c in results if c.ok and c.detail.startswith("pending ")]
    if waiting:
        what = "; ".join(f"{visible(c.object)} {visible(c.detail.split(':', 1)[0])}" for c in waiting)
        lines.append(f"{len(waiting)} still waiting (not a failure): {what}")
    return "\n".join(lines) + "\n"


def render_json(results: list[Check]) -> str:
    ok = all(c.ok for c in results)
    return json.dumps({"ok": ok, "checks": [asdict(c) for c in results]}, indent=2) + "\n"

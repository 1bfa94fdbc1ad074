"""The plan's Unmanaged section: what the systems hold in the managed networks that netsot neither
owns nor will touch, each with the reason and what would adopt it.

Owns: finding those objects (the objects behind the facts of the configured networks that are not
owned, not a binding's origin and not part of a change), their reason — forgotten by ``state rm``,
the system's own word (``ObservedResource.unmanaged_reason``), what its import would say, or that
netsot's marker is on an object nothing wants — and the adopt hint; and keeping deletes of
objects owned only through netsot's marker out of the plan (a fresh or lost state never deletes).
Must not: name a system (import hooks and descriptors say what is system-specific) or do I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.config import Config, split_key
from core.ipv4 import ip_int
from core.model import Action, Address, Change, ManagedResource, Observation, Unmanaged
from engine import systems as systems_module
from engine.plan.units import mac_in
from engine.reconcile.grouping import config_facts
from providers import registry
from providers.base import ROLE_ADDRESS
from state.model import State

MARKED_UNWANTED = ("carries netsot's marker but is not in the state, and nothing wants it now "
                   "(a lost or fresh state never deletes; delete it by hand if it is stale)")


def drop_marked_deletes(changes: Iterable[Change], owned: Mapping[Address, ManagedResource]
                        ) -> tuple[list[Change], set[Address]]:
    """Deletes of objects netsot owns only by their marker (not in state) are never planned."""
    kept, dropped = [], set()
    for change in changes:
        record = owned.get(change.address)
        if change.action is Action.DELETE and record is not None and record.status == "marked":
            dropped.add(change.address)
            continue
        kept.append(change)
    return kept, dropped


def find_unmanaged(
    config: Config,
    observations: Mapping[str, Observation],
    owned: Mapping[Address, ManagedResource],
    changes: Sequence[Change],
    state: State | None,
    dropped: set[Address],
) -> tuple[Unmanaged, ...]:
    nets = {n.name for n in config.networks}
    domains = {n.domain.lower() for n in config.networks if n.domain}  # the managed ones
    touched = {c.address for c in changes} | {c.moved_from for c in changes if c.moved_from}
    forgotten = {f.address: f for f in state.forgotten} if state is not None else {}
    out: list[Unmanaged] = []
    for key in registry.ordered(observations):
        obs = observations[key]
        if not obs.resources:
            continue  # only an object the system holds is listed (a guest's facts alone are not)
        # each object listed → (the object, its first fact): one index where two were kept
        listed: dict[Address, tuple[Any, Any]] = {}
        resources = obs.resources
        for fact in obs.facts:
            address = fact.address
            if address is None or fact.discovery or fact.origin or address in touched:
                continue
            if fact.network not in nets and not (fact.domain and fact.domain.lower() in domains):
                continue
            if address in owned and (not dropped or address not in dropped):  # (empty: no hash of it)
                continue  # before the object is looked up (a managed system's facts are mostly of owned ones)
            resource = resources.get(address)
            if resource is not None:
                listed.setdefault(address, (resource, fact))
        for address in dropped:  # netsot's marker, nothing wants it: listed whatever facts exist
            if address in resources:
                listed.setdefault(address, (resources[address], None))
        if not listed:
            continue
        # only an object whose reason is the import's verdict is judged (not a forgotten or marked one,
        # nor one its system gives a reason for)
        judged = {a: r for a, (r, _) in listed.items()
                  if not r.unmanaged_reason and not (dropped and a in dropped)
                  and not (forgotten and str(a) in forgotten)}
        verdicts = _import_verdicts(config, key, obs, owned, observations, judged) if judged else {}
        command = _import_command(key)
        by_text = {str(a): (a, *found) for a, found in listed.items()}
        for text in sorted(by_text):  # plain strs (unique, as the addresses are): the fastest sort
            address, resource, fact = by_text[text]
            reason, adopt = _reason(resource, command, forgotten.get(text), verdicts.get(text),
                                    bool(dropped) and address in dropped)
            out.append(_located(address, reason, adopt, resource, fact))
    return tuple(out)


def _located(address: Address, reason: str, adopt: str, resource: Any, fact: Any) -> Unmanaged:
    """The item with what lets a person find the object: its IP, MAC and id in its system (from its
    fact, else from its attributes: an object only netsot's marker claims may have no fact)."""
    if fact is not None:
        ip, mac = fact.ip, fact.mac
    else:
        attrs = resource.attributes or {}
        texts = [v.split("/")[0] for k, v in attrs.items()
                 if isinstance(v, str) and ("ip" in k or "inet" in k)]
        ip, mac = next((t for t in texts if ip_int(t) is not None), None), mac_in(attrs)
    # made once per object (a plan lists thousands)
    return Unmanaged(address, reason, adopt, ip, mac, resource.import_id or resource.provider_id or "")


def _import_command(key: str) -> str:
    """``netsot import KEY`` when system ``key`` can import, else empty."""
    importable = registry.hook(registry.kind_of(key).name, "importer") is not None
    return f"netsot import {key}" if importable else ""


def _reason(resource: Any, command: str, forgotten: Any, verdict: Any, marked: bool) -> tuple[str, str]:
    """Why the object is listed, and what would adopt it."""
    if marked:
        return MARKED_UNWANTED, resource.adopt_hint
    if forgotten is not None:
        when = f" on {forgotten.time}" if forgotten.time else ""
        return f"forgotten by `netsot state rm`{when}", resource.adopt_hint or command
    if resource.unmanaged_reason:
        return resource.unmanaged_reason, resource.adopt_hint
    if verdict is not None and verdict.status == "conflict":
        return verdict.reason, f"fix it, then `{command}`" if command else ""
    if verdict is not None and verdict.status == "adopt":
        return "not imported", command
    return "netsot does not own it", resource.adopt_hint or command


def _import_verdicts(config: Config, key: str, obs: Observation, owned: Mapping[Address, ManagedResource],
                     observations: Mapping[str, Observation], candidates: Mapping[Address, Any]
                     ) -> dict[str, Any]:
    """What ``netsot import KEY`` would do with each candidate (adopt, or refuse and why).

    The importer weighs the whole observation (a host name at an owned reservation's address is
    refused as a second name) but judges the candidates only, and gives the verdicts alone (no state
    record, claim or adoption reason: the section says "not imported"), so a plan pays for what it lists.
    """
    importer = registry.hook(split_key(key)[0], "importer")
    if importer is None:
        return {}
    systems = systems_module.of(config)
    facts = config_facts(config) + [f for k, o in observations.items() if k != key for f in o.facts]
    plan = importer(config, key, obs, owned, facts,
                    lambda network, name: systems.role_address(ROLE_ADDRESS, network, name),
                    only=candidates.keys(), verdicts_only=True)
    return {item.address: item for item in plan.items}

"""``netsot import edgemax``: adopt the router's existing objects (and their NIPAP hosts) into state.

Owns: the I/O of an import — read the router (or a config.boot backup) and, when configured,
Proxmox and NIPAP for the matching reasons; decide with ``providers.edgemax.importer.adopt``;
adopt the NIPAP host that already holds each adopted binding's address; record everything in
the state under its lock. Re-running is a no-op.
Must not: change any system.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from engine.config import Config
from engine.errors import ProviderError
from engine.model import Address, Fact, ManagedResource, Observation, to_jsonable
from engine.plan import owned_from_state
from engine.runtime import open_backend
from engine.safetext import visible
from providers.base import provider_class
from providers.edgemax import importer
from providers.edgemax.importer import ImportItem, ImportPlan
from state.model import ResourceState


def run(config: Config, from_file: str | None, dry_run: bool, as_json: bool, *,
        force_state: bool = False) -> str:
    """Read, decide, print; unless ``dry_run`` record the adoptions in the state under its lock."""
    router = importer.read_observation(config, from_file)
    observations, notes = _read_others(config)
    others = [f for obs in observations.values() for f in obs.facts]
    backend = open_backend(config, force=force_state)

    def decide(state: Any) -> ImportPlan:
        owned = owned_from_state(state)
        plan = importer.adopt(config, router, owned, others)
        return ImportPlan(plan.items + _adopt_nipap(config, plan, observations.get("nipap"), owned))

    written = 0
    if dry_run:
        plan = decide(backend.load())
    else:
        with backend.lock("import"):
            state = backend.load()
            plan = decide(state)
            for record in plan.records():
                state = state.with_resource(ResourceState.from_dict(record))
                written += 1
            if written:
                backend.save(state)
    if as_json:
        doc = plan.to_dict()
        doc.update(dry_run=dry_run, written=written, notes=notes)
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
    text = "".join(f"Note: {visible(n)}\n" for n in notes) + importer.render_table(_visible(plan))
    if dry_run:
        return text + "Dry run: the state was not changed.\n"
    if written:
        return text + f"Recorded {written} object(s) in the state; netsot now manages them.\n"
    return text + "Nothing to do.\n"


def _visible(plan: ImportPlan) -> ImportPlan:
    """The plan as the table may print it: names from the router with their control characters escaped."""
    items = (replace(i, address=visible(i.address), reason=visible(i.reason)) for i in plan.items)
    return ImportPlan(tuple(items))


def _read_others(config: Config) -> tuple[dict[str, Observation], list[str]]:
    """Proxmox and NIPAP, when configured, so matches can be explained; a failure is a note."""
    observations: dict[str, Observation] = {}
    notes: list[str] = []
    for name in ("proxmox", "nipap"):
        settings = getattr(config.providers, name)
        if settings is None:
            continue
        provider = provider_class(name)(config, settings)
        try:
            observations[name] = provider.read()
        except ProviderError as exc:
            notes.append(f"could not read {name} ({exc}); matching uses the router's data only")
        finally:
            provider.close()
    return observations, notes


def _adopt_nipap(
    config: Config, plan: ImportPlan, nipap: Observation | None, owned: Mapping[Address, ManagedResource]
) -> tuple[ImportItem, ...]:
    """The NIPAP host holding each adopted binding's address joins it (same node name only)."""
    if nipap is None:
        return ()
    by_ip: dict[tuple[str | None, str], Fact] = {}
    for fact in nipap.facts:
        if fact.ip and fact.address is not None:
            by_ip[(fact.network, fact.ip)] = fact
    items: list[ImportItem] = []
    seen: set[str] = set()
    for item in plan.adoptions:
        record = item.record or {}
        network, name, ip = _binding_of(config, record)
        fact = by_ip.get((network, ip or ""))
        if fact is None or fact.address is None or str(fact.address) in seen:
            continue
        address = str(fact.address)
        seen.add(address)
        if fact.address in owned:
            items.append(ImportItem(address, "managed", "already managed by netsot"))
        elif fact.hostname not in (None, name):
            items.append(ImportItem(address, "conflict",
                                    f"NIPAP holds {ip} for node {fact.hostname!r}, not {name!r}"))
        else:
            resource = nipap.resources.get(fact.address)
            attrs = to_jsonable(resource.attributes) if resource is not None else {}
            items.append(ImportItem(address, "adopt", f"holds {ip} for {item.address}", {
                "address": address,
                "provider": "nipap",
                "provider_id": resource.provider_id if resource is not None else None,
                "attributes": attrs,
                "dependencies": [],
                "origin": record.get("origin", "import"),
            }))
    return tuple(items)


def _binding_of(config: Config, record: Mapping[str, Any]) -> tuple[str | None, str, str | None]:
    """(network, host name, ip) of an adopted router record."""
    attrs = record.get("attributes") or {}
    if "shared_network" in attrs:
        network = next((n.name for n in config.networks
                        if n.edgemax and n.edgemax.shared_network == attrs["shared_network"]), None)
        return network, str(attrs.get("name")), attrs.get("ip_address")
    label, _, domain = str(attrs.get("host_name", "")).partition(".")
    network = next((n.name for n in config.networks if (n.domain or "").lower() == domain.lower()), None)
    return network, label, attrs.get("inet")

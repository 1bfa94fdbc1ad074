"""When another system's import adopts bindings, the NIPAP hosts that already hold their addresses.

Owns: the pure decision — for each adopted binding (network, host name, IP), the NIPAP host of
that network holding the IP joins it when its node name is the binding's name (or empty);
another name is a conflict; an object netsot already owns is left as it is; a host that is a binding's
source (made in NIPAP, tagged) is never adopted: NIPAP is its truth, netsot only follows it.
Must not: change NIPAP or the state (the engine records what this returns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.config import Config
from core.model import Address, Fact, ManagedResource, Observation, to_jsonable
from providers.importing import BindingClaim, ImportItem


def adopt(
    config: Config, key: str, observation: Observation, claims: Sequence[BindingClaim],
    owned: Mapping[Address, ManagedResource],
) -> list[ImportItem]:
    by_ip: dict[tuple[str | None, str], Fact] = {}
    for fact in observation.facts:
        if fact.ip and fact.address is not None:
            by_ip[(fact.network, fact.ip)] = fact
    items: list[ImportItem] = []
    seen: set[str] = set()
    for claim in claims:
        fact = by_ip.get((claim.network, claim.ip or ""))
        if fact is None or fact.address is None or str(fact.address) in seen:
            continue
        address = str(fact.address)
        seen.add(address)
        if fact.origin:  # NIPAP is this binding's source: netsot follows the host, never manages it
            items.append(ImportItem(address, "ignored", f"the binding's source in NIPAP ({fact.ref}): netsot "
                                                        "follows it and never adopts it"))
        elif fact.address in owned:
            items.append(ImportItem(address, "managed", "already managed by netsot"))
        elif fact.hostname not in (None, claim.hostname):
            why = f"NIPAP holds {claim.ip} for node {fact.hostname!r}, not {claim.hostname!r}"
            items.append(ImportItem(address, "conflict", why))
        else:
            resource = observation.resources.get(fact.address)
            attrs: dict[str, Any] = to_jsonable(resource.attributes) if resource is not None else {}
            items.append(ImportItem(address, "adopt", f"holds {claim.ip} for {claim.address}", {
                "address": address,
                "provider": key,
                "provider_id": resource.provider_id if resource is not None else None,
                "attributes": attrs,
                "dependencies": [],
                "origin": claim.origin,
            }))
    return items

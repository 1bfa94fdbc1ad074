"""`netsot import vyos`: adopt a VyOS router's existing static mappings and host names.

The decision is the Vyatta library's (``providers/vyatta/importer.py``), run with this kind's values
(``descriptor.VYATTA``); this module reads the router (a file or live) and speaks the boundary's types.
Must not: change anything on the router.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from core.config import Config, split_key
from core.errors import ConfigError
from core.model import Address, Fact, ManagedResource, Observation
from providers.importing import BindingClaim, ImportItem, ImportPlan
from providers.vyatta import importer as library
from providers.vyos.descriptor import VYATTA


def _item(v: library.Verdict) -> ImportItem:
    claim = v.claim
    return ImportItem(v.address, v.status, v.reason, v.record, None if claim is None else BindingClaim(
        claim.address, claim.network, claim.hostname, claim.ip, claim.mac, claim.origin))


def adopt(
    config: Config,
    key: str,
    observation: Observation,
    owned: Mapping[Address, ManagedResource],
    others: Sequence[Fact] = (),
    address_of: Any = None,
    only: Collection[Address] | None = None,
) -> ImportPlan:
    """What to adopt from the router, and why; conflicts are refused, never adopted (the library's
    ``adopt``: ``others`` explain matches, ``address_of(network, name)`` is the binding's IPAM
    address, ``only`` limits the verdicts to those objects)."""
    verdicts = library.adopt(VYATTA, config, key, observation, owned, others, address_of, only)
    return ImportPlan(tuple(_item(v) for v in verdicts))


def read_observation(config: Config, key: str, from_file: str | None) -> Observation:
    """The router as an Observation: from a file (`show configuration commands`, a `set` script, a
    config.boot tree — templated ones too), or read live over the API."""
    from providers.vyos.inventory import read_file
    from providers.vyos.observe import observation
    from providers.vyos.read import read

    if from_file:
        tree, warnings = read_file(Path(from_file))  # lines outside what netsot reads: warnings
        return observation(read(tree), config, key, warnings=warnings)
    if key not in config.providers:
        raise ConfigError(f"providers.{key} is not configured (or use --from-file)")
    from providers.vyos.provider import VyosProvider

    provider = VyosProvider(config, config.settings(key), split_key(key)[1])
    try:
        return provider.read()
    finally:
        provider.close()


def entry_address(ident: str, key: str = "") -> tuple[Address, Mapping[str, str]]:
    """The address of the router entry at config path ``ident``, and what the path says about it."""
    return library.entry_address(VYATTA, ident, key)


def import_one(config: Config, key: str, observation: Observation, address: Address, ident: str,
               owned: Mapping[Address, ManagedResource], facts: Sequence[Fact] = (),
               address_of: Any = None) -> ImportItem:
    """The router entry at config path ``ident`` as the item to adopt at ``address`` (the same checks as
    ``netsot import vyos``: a shared MAC or IP, an IP outside the subnet, a name netsot cannot manage)."""
    item = library.import_one(VYATTA, config, key, observation, address, ident, owned, facts, address_of)
    return _item(item)

"""`netsot import vyos`: adopt a VyOS router's existing static mappings and host names.

The decision is the Vyatta library's (``providers/vyatta/importer.py``), run with this kind's values
(``descriptor.VYATTA``) and the boundary's import types; this module reads the router (a file or live).
Must not: change anything on the router.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from core.config import Config, split_key
from core.errors import ConfigError
from core.model import Observation
from providers.importing import BindingClaim, ImportItem, ImportPlan
from providers.vyatta import importer as library
from providers.vyos.descriptor import VYATTA

MADE = library.Boundary(item=ImportItem, claim=BindingClaim, plan=ImportPlan)
# (config, key, observation, owned, others=(), address_of=None, only=None, verdicts_only=False)
# -> ImportPlan
adopt = partial(library.adopt, VYATTA, MADE)
# (ident, key="") -> (address, what the path says)
entry_address = partial(library.entry_address, VYATTA)
# (config, key, observation, address, ident, owned, facts=(), address_of=None) -> ImportItem
import_one = partial(library.import_one, VYATTA, MADE)


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

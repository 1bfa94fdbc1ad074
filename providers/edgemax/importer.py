"""`netsot import edgemax`: adopt the router's existing static mappings and host entries.

The decision is the Vyatta library's (``providers/vyatta/importer.py``), run with this kind's values
(``descriptor.VYATTA``) and the boundary's import types; this module reads the router (a file or live).
Must not: change anything on the router.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from core.config import Config, split_key
from core.errors import ConfigError, ProviderDataError
from core.model import Observation
from providers.edgemax.descriptor import VYATTA
from providers.importing import BindingClaim, ImportItem, ImportPlan
from providers.vyatta import importer as library

MADE = library.Boundary(item=ImportItem, claim=BindingClaim, plan=ImportPlan)
# (config, key, observation, owned, others=(), address_of=None, only=None, verdicts_only=False)
# -> ImportPlan
adopt = partial(library.adopt, VYATTA, MADE)
# (ident, key="") -> (address, what the path says)
entry_address = partial(library.entry_address, VYATTA)
# (config, key, observation, address, ident, owned, facts=(), address_of=None) -> ImportItem
import_one = partial(library.import_one, VYATTA, MADE)


def read_observation(config: Config, key: str, from_file: str | None) -> Observation:
    """The router as an Observation: from a backup file (any format ``parse.detect`` knows), or
    read live over SSH."""
    from providers.edgemax.extract import extract
    from providers.edgemax.planner import observation_from_config
    from providers.vyatta.lenient import parse_file

    if from_file:
        path = Path(from_file)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ProviderDataError("edgemax", f"cannot read {path}: {exc.strerror}") from None
        tree, warnings = parse_file(text, path.name)  # lines outside what netsot reads: warnings
        return observation_from_config(extract(tree), config, key=key, warnings=warnings)
    if key not in config.providers:
        raise ConfigError(f"providers.{key} is not configured (or use --from-file)")
    from providers.edgemax.provider import EdgemaxProvider

    provider = EdgemaxProvider(config, config.settings(key), split_key(key)[1])
    try:
        return provider.read()
    finally:
        provider.close()

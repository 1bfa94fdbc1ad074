"""`netsot inventory edgemax`: what the router holds, as a table or as JSON.

Owns: the inventory document (validated by ``schemas/edgemax.inventory.schema.json``) built
from a live read or from a backup file in any format ``parse.detect`` knows (``--from-file``,
no router needed; a line it cannot parse outside what netsot reads is a warning, ``lenient``).
Must not: change anything, or print secrets (none of these fields is one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.config import Config, split_key
from core.errors import ConfigError, ProviderDataError
from core.vendors import vendor_of
from providers.edgemax.extract import EdgeConfig, extract
from providers.edgemax.leases import Lease
from providers.vyatta.inventory import render_text
from providers.vyatta.lenient import parse_file
from providers.vyatta.parse import parse_any
from schemas import validator


def document(cfg: EdgeConfig, leases: Sequence[Lease | Mapping[str, Any]] = (),
             warnings: Sequence[str] = ()) -> dict[str, Any]:
    """The inventory document of an extracted config (validated against the schema); ``warnings``:
    the lines of a file netsot skipped (outside what it reads)."""
    doc = {
        "dhcp_static_mappings": [
            {
                "shared_network": sn.name,
                "subnet": sub.cidr,
                "name": m.name,
                "ip_address": m.ip,
                "mac_address": m.mac,
            }
            for sn, sub, m in cfg.mappings()
        ],
        "static_host_mappings": [
            {"host_name": h.host_name, "inet": list(h.inet), "aliases": list(h.aliases)}
            for h in cfg.host_mappings
        ],
        "leases": [_with_vendor(lease.to_dict() if isinstance(lease, Lease) else dict(lease))
                   for lease in leases],
        "dnsmasq": cfg.dnsmasq,
        **({"warnings": list(warnings)} if warnings else {}),
    }
    errors = sorted(validator("edgemax.inventory").iter_errors(doc), key=lambda e: list(e.path))
    if errors:  # a bug, not user input: say where
        first = errors[0]
        raise ProviderDataError(
            "edgemax", f"inventory does not match its schema at {list(first.path)}: {first.message}"
        )
    return doc


def _with_vendor(lease: dict[str, Any]) -> dict[str, Any]:
    """A lease with the vendor of its MAC's OUI (the packaged IEEE registry; "" when unknown)."""
    return {**lease, "vendor": vendor_of(lease.get("mac"))}


def _read(config: Config | None, from_file: str | None, key: str) -> dict[str, Any]:
    if from_file:
        path = Path(from_file)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ProviderDataError("edgemax", f"cannot read {path}: {exc.strerror}") from None
        tree, warnings = parse_file(text, path.name)
        return document(extract(tree), warnings=warnings)
    if config is None or key not in config.providers:
        raise ConfigError(f"providers.{key} is not configured (or use --from-file)")
    from providers.edgemax.leases import parse_show_leases
    from providers.edgemax.provider import EdgemaxProvider

    provider = EdgemaxProvider(config, config.settings(key), split_key(key)[1])
    try:
        session = provider.session  # the provider's one SSH session
        cfg = extract(parse_any(session.show_commands(), "show configuration commands"))
        leases = parse_show_leases(session.show_leases())
    finally:
        provider.close()
    return document(cfg, leases)


def run(config: Config | None, from_file: str | None, as_json: bool, key: str = "edgemax") -> str:
    """The inventory as JSON (``as_json``) or a readable table."""
    doc = _read(config, from_file, key)
    return json.dumps(doc, indent=2) + "\n" if as_json else render_text(doc)

"""`netsot inventory vyos`: what a VyOS router holds, in the document shape of ``inventory edgemax``.

Owns: the inventory document (validated by the EdgeMax inventory schema: the two kinds promise
one shape) from a live read through the API (``showConfig`` of ``service dhcp-server`` and
``system static-host-mapping``, ``show dhcp server leases``) or from a file in any format the
Vyatta library reads — `show configuration commands`, a vbash `set` script, a config.boot tree,
templated ones included (a line netsot cannot parse outside what it reads is a warning).
Must not: change anything, or print secrets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.config import Config
from core.errors import ConfigError, ProviderDataError
from core.vendors import vendor_of
from providers.vyatta.inventory import render_text
from providers.vyatta.lenient import parse_file
from providers.vyatta.tree import Tree
from providers.vyos.client import VyosClient
from providers.vyos.configjson import graft, json_tree, normalize
from providers.vyos.leases import Lease, parse_leases
from providers.vyos.read import DHCP, HOSTS, VyosConfig, read
from providers.vyos.settings import VyosSettings
from schemas import validator

READ_PATHS = (DHCP, HOSTS)
LEASES = ("dhcp", "server", "leases")


def document(cfg: VyosConfig, leases: Sequence[Lease] = (), warnings: Sequence[str] = ()) -> dict[str, Any]:
    doc = {
        "dhcp_static_mappings": [
            {"shared_network": m.shared_network, "subnet": m.subnet, "name": m.name, "ip_address": m.ip,
             "mac_address": m.mac}
            for m in cfg.mappings
        ],
        "static_host_mappings": [
            {"host_name": h.host_name, "inet": list(h.inet), "aliases": list(h.aliases)} for h in cfg.hosts
        ],
        "leases": [{**le.to_dict(), "vendor": vendor_of(le.mac)} for le in leases],
        "dnsmasq": False,  # VyOS answers DNS with PowerDNS Recursor from /etc/hosts (vyos.md §3)
        **({"warnings": list(warnings)} if warnings else {}),
    }  # fmt: skip
    errors = sorted(validator("edgemax.inventory").iter_errors(doc), key=lambda e: list(e.path))
    if errors:  # a bug, not user input: say where
        raise ProviderDataError("vyos", f"inventory does not match its schema at {list(errors[0].path)}: "
                                f"{errors[0].message}")
    return doc


def read_file(path: Path) -> tuple[Tree, tuple[str, ...]]:
    """(tree, warnings) of a router file; errors name the file and line, as ``vyos`` errors."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ProviderDataError("vyos", f"cannot read {path}: {exc.strerror}") from None
    try:
        tree, warnings = parse_file(text, path.name)
    except ProviderDataError as err:  # the library speaks as the family's first kind
        raise ProviderDataError("vyos", str(err).removeprefix(f"{err.system}: ")) from None
    return normalize(tree), warnings


def read_router(client: VyosClient) -> Tree:
    """The parts of the running config netsot reads, as one tree (one ``showConfig`` per part)."""
    tree = Tree.empty()
    for path in READ_PATHS:
        data = client.show_config(path)
        if data is not None:
            if not isinstance(data, dict):
                raise ProviderDataError("vyos", f"showConfig {' '.join(path)} answered {type(data).__name__}")
            tree = graft(tree, json_tree(data, path), path)
    return normalize(tree)


def from_file(path: str) -> dict[str, Any]:
    tree, warnings = read_file(Path(path))
    return document(read(tree), warnings=warnings)


def from_router(client: VyosClient) -> dict[str, Any]:
    return document(read(read_router(client)), parse_leases(client.show(list(LEASES))))


def as_output(doc: dict[str, Any], as_json: bool) -> str:
    return json.dumps(doc, indent=2) + "\n" if as_json else render_text(doc, dnsmasq_line=False)


def client_for(config: Config, settings: VyosSettings) -> VyosClient:
    """The API client of one configured router (the key resolved from its secret reference)."""
    ca = str(config.resolve_path(settings.ca_bundle)) if settings.ca_bundle else None
    return VyosClient(settings.url, settings.api_key.resolve(), ca_bundle=ca,
                      fingerprint=settings.fingerprint, timeout=settings.timeout)


def run(config: Config | None, path: str | None, as_json: bool, key: str = "vyos") -> str:
    """``netsot inventory vyos [--from-file PATH]``: the inventory as JSON (``as_json``) or a table."""
    if path:
        return as_output(from_file(path), as_json)
    if config is None or key not in config.providers:
        raise ConfigError(f"providers.{key} is not configured (or use --from-file)")
    client = client_for(config, config.settings(key))
    try:
        return as_output(from_router(client), as_json)
    finally:
        client.close()

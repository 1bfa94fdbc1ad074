"""`netsot inventory nipap`: the managed prefixes and their hosts, as a table or JSON.

Owns: rendering an Observation of NIPAP for people and scripts; reading it live (through
the provider) or from a file (a JSON list of list_prefix rows, or a simulator seed).
Must not: change anything in NIPAP.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.config import Config, split_key
from core.errors import ConfigError
from core.model import Observation
from providers.nipap import mapping
from providers.nipap.descriptor import ADDRESS_TYPE, prefix_address


def run(config: Config, from_file: str | None = None, as_json: bool = False, key: str = "nipap") -> str:
    if from_file:
        observation = _from_file(config, from_file, key)
    else:
        if key not in config.providers:
            raise ConfigError(f"providers.{key} is not configured")
        from providers.nipap.provider import NipapProvider

        provider = NipapProvider(config, config.settings(key), split_key(key)[1])
        try:
            observation = provider.read()
        finally:
            provider.close()
    doc = document(config, observation, key)
    return json.dumps(doc, indent=2, sort_keys=True) if as_json else table(doc)


def _from_file(config: Config, path: str, key: str) -> Observation:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read NIPAP inventory file {path}: {exc}") from None
    rows = data.get("prefixes", []) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "prefix" in r for r in rows):
        raise ConfigError(f"{path}: expected a JSON list of prefix rows (or a seed with 'prefixes')")
    normal = []
    for i, r in enumerate(rows, start=1):
        normal.append(
            {"id": r.get("id", i), "vrf_id": r.get("vrf_id", 0), "type": r.get("type", "host"), **r}
        )
    return mapping.observe(config, {"id": 0, "rt": None, "name": "default"}, normal, key)


def document(config: Config, obs: Observation, key: str = "nipap") -> dict[str, Any]:
    networks = []
    for net in config.networks_of(key):
        pres = obs.resources.get(prefix_address(net.name, key))
        hosts = []
        for addr, res in sorted(obs.resources.items()):
            if addr.type != ADDRESS_TYPE or not addr.name.startswith(f"{net.name}."):
                continue
            a = res.attributes
            hosts.append(
                {
                    "address": str(addr),
                    "id": res.provider_id,
                    "ip": a.get("ip"),
                    "hostname": a.get("hostname"),
                    "mac": a.get("mac"),
                    "description": a.get("description"),
                    "owned": res.owned_marker,
                }
            )
        hosts.sort(
            key=lambda h: tuple(int(x) for x in str(h["ip"]).split(".")) if "." in str(h["ip"]) else ()
        )
        networks.append(
            {
                "name": net.name,
                "prefix": str(net.prefix),
                "prefix_id": pres.provider_id if pres else None,
                "type": pres.attributes.get("type") if pres else None,
                "hosts": hosts,
            }
        )
    return {
        "system": key,
        "vrf": obs.data.get("vrf"),
        "networks": networks,
        "warnings": list(obs.warnings),
    }


def table(doc: dict[str, Any]) -> str:
    lines = [f"NIPAP inventory ({doc.get('vrf')})"]
    for net in doc["networks"]:
        state = f"id {net['prefix_id']}, {net['type']}" if net["prefix_id"] else "MISSING"
        lines.append(f"\n{net['name']}  {net['prefix']}  ({state}, {len(net['hosts'])} hosts)")
        if net["hosts"]:
            lines.append(f"  {'IP':<16} {'HOSTNAME':<24} {'MAC':<18} {'OWNED':<6} DESCRIPTION")
        for h in net["hosts"]:
            lines.append(
                f"  {h['ip'] or '':<16} {h['hostname'] or '-':<24} {h['mac'] or '-':<18} "
                f"{'yes' if h['owned'] else 'no':<6} {h['description'] or ''}"
            )
    for w in doc["warnings"]:
        lines.append(f"warning: {w}")
    return "\n".join(lines) + "\n"

"""``netsot inventory proxmox``: the guests and NICs netsot discovers, as JSON or a table.

Owns: rendering discovered guests (validated against ``schemas/proxmox.inventory.schema.json``)
and reading a saved dump (an earlier ``--json`` output, or a simulator seed) instead of the API.
Must not: change anything on the cluster.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from core.config import Config, split_key
from core.errors import ConfigError, ProviderDataError
from providers.proxmox import mapping

SCHEMA = "proxmox.inventory"
log = logging.getLogger("netsot.proxmox")


def run(config: Config | None, from_file: str | None, as_json: bool, key: str = "proxmox") -> str:
    """Discovered guests as JSON (schema-validated) or a readable table."""
    warnings: list[str] = []
    if from_file:
        guests = _from_file(Path(from_file))
    else:
        if config is None or key not in config.providers:
            raise ConfigError(f"providers.{key} is not configured; nothing to inventory")
        from providers.proxmox.provider import ProxmoxProvider  # the only path that needs proxmoxer

        provider = ProxmoxProvider(config, config.settings(key), split_key(key)[1])
        try:
            found = provider.discover()
        finally:
            provider.close()
        guests = [g.to_dict() for g in found.guests]
        warnings = found.warnings
    if config is not None:
        for g in guests:  # which configured network each NIC feeds (None: unmanaged)
            for nic in g["nics"]:
                net = mapping.network_for(config, key, nic["bridge"], nic["vlan"])
                nic["network"] = net.name if net is not None else None
    _validate(guests, "inventory")
    for w in warnings:
        log.warning("proxmox: %s", w)
    if as_json:
        return json.dumps(guests, indent=2) + "\n"
    return render_table(guests, warnings)


def _validate(guests: list[dict[str, Any]], where: str) -> None:
    from schemas import validator

    errors = sorted(validator(SCHEMA).iter_errors(guests), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        path = "/".join(str(p) for p in first.path) or "(top)"
        raise ProviderDataError("proxmox", f"{where} does not match {SCHEMA}: {path}: {first.message}")


def _from_file(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ProviderDataError("proxmox", f"cannot read {path}: {exc}") from None
    if isinstance(data, list):  # an earlier `inventory proxmox --json`
        _validate(data, str(path))
        return data
    if isinstance(data, dict) and isinstance(data.get("guests"), list):  # a simulator seed
        out = []
        for g in data["guests"]:
            cfg = g.get("config") or {}
            if str(cfg.get("template", g.get("template", 0))) in ("1", "True", "true"):
                continue
            entry = {
                "node": g.get("node"),
                "vmid": g.get("vmid"),
                "type": g.get("type", "qemu"),
                "status": g.get("status", "stopped"),
            }
            agent = g.get("agent") if g.get("status") == "running" and not g.get("agent_error") else None
            lxc = g.get("interfaces") if g.get("status") == "running" else None
            out.append(mapping.guest_nics(entry, cfg, agent, lxc).to_dict())
        return sorted(out, key=lambda d: (d["node"], d["vmid"]))
    raise ProviderDataError("proxmox", f"{path} is neither an inventory list nor a simulator seed")


def render_table(guests: list[dict[str, Any]], warnings: list[str] = ()) -> str:  # type: ignore[assignment]
    header = (
        "NODE",
        "VMID",
        "TYPE",
        "NAME",
        "STATUS",
        "NIC",
        "MAC",
        "BRIDGE",
        "VLAN",
        "IP",
        "GATEWAY",
        "AGENT IPS",
        "NETWORK",
        "TAGS",
    )
    rows: list[tuple[str, ...]] = []
    for g in guests:
        nics = g["nics"] or [None]
        for i, nic in enumerate(nics):
            first = i == 0
            rows.append(
                (
                    g["node"] if first else "",
                    str(g["vmid"]) if first else "",
                    g["type"] if first else "",
                    g["name"] if first else "",
                    g["status"] if first else "",
                    *(_nic_cells(nic)),
                    ",".join(g["tags"]) if first else "",
                )
            )
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    nic_count = sum(len(g["nics"]) for g in guests)
    lines.append(f"\n{len(guests)} guest(s), {nic_count} NIC(s)")
    unmanaged = [f"{g['node']}/{g['vmid']} {n['id']} (bridge {n['bridge'] or '-'}, VLAN {n['vlan'] or '-'})"
                 for g in guests for n in g["nics"] if "network" in n and n["network"] is None]
    if unmanaged:
        lines.append(f"unmanaged: {len(unmanaged)} NIC(s) on a bridge/VLAN no configured network maps: "
                     + ", ".join(unmanaged))
    lines += [f"warning: {w}" for w in warnings]
    return "\n".join(lines) + "\n"


def _nic_cells(nic: dict[str, Any] | None) -> tuple[str, ...]:
    if nic is None:
        return ("-",) * 8
    return (
        nic["id"],
        nic["mac"] or "-",
        nic["bridge"] or "-",
        str(nic["vlan"]) if nic["vlan"] is not None else "-",
        nic["ip"] or "-",
        nic["gateway"] or "-",
        ",".join(nic["agent_ips"]) or "-",
        (nic["network"] or "unmanaged") if "network" in nic else "-",
    )

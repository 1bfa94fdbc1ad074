"""``netsot init`` for a Proxmox VE cluster: URL, API token and its secret, the TLS certificate
trusted only after its SHA-256 fingerprint was confirmed (or given with ``--pve-fingerprint``, or
verified against ``--ca-bundle`` or the system CAs), then one read of the guests: which bridge and
VLAN tag carries which addresses (static ipconfig / LXC ip, guest agent and LXC interface answers).
Never writes to the cluster.
"""

from __future__ import annotations

import re
import urllib.parse
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from core.config import Config
from core.errors import NetsotError
from providers.base import InitHook, InitPlacement, InitSystem, InitUI

TOKEN_ID_RE = re.compile(r"^([^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$")


def options() -> Sequence[click.Option]:
    return [
        click.Option(["--pve-url"], metavar="URL", help="Proxmox VE: https://HOST:8006 (any node)."),
        click.Option(["--pve-token-id"], metavar="USER@REALM!NAME", help="Proxmox VE: the API token's id."),
        click.Option(
            ["--pve-token-secret-file"],
            metavar="FILE",
            type=click.Path(dir_okay=False, exists=True),
            help="Proxmox VE: a file holding the token's secret (its UUID).",
        ),
        click.Option(
            ["--pve-fingerprint"],
            metavar="AA:BB:…",
            help="Proxmox VE: the certificate's SHA-256 fingerprint you trust (pvenode cert info).",
        ),
        click.Option(
            ["--ca-bundle"],
            metavar="FILE",
            type=click.Path(dir_okay=False, exists=True),
            help="Proxmox VE: verify against this CA (e.g. a copy of /etc/pve/pve-root-ca.pem).",
        ),
    ]


def _verify(answers: Mapping[str, Any], ui: InitUI, host: str, port: int) -> tuple[bool | str, str]:
    """``verify_tls`` for the config, and the path the client uses now."""
    from core.probe import tls_peer

    bundle = answers.get("ca_bundle")
    try:
        peer = tls_peer(host, port, str(Path(str(bundle)).resolve()) if bundle else None)
    except OSError as exc:
        raise NetsotError(f"no TLS handshake with {host}:{port}: {exc}") from None
    if bundle:
        if not peer.verified:
            raise NetsotError(
                f"{host}:{port} does not verify against {bundle}: {peer.error} (it presents SHA-256 "
                f"{peer.fingerprint})"
            )
        path = str(Path(str(bundle)).resolve())
        return path, path
    if peer.verified:
        ui.say(
            f"Proxmox VE {host}:{port}: certificate trusted by the system CAs (SHA-256 {peer.fingerprint})"
        )
        return True, ""
    ui.trust(
        f"Proxmox VE {host}:{port} (TLS certificate)",
        peer.fingerprint,
        answers.get("pve_fingerprint"),
        "--pve-fingerprint",
    )
    name = ui.write("pve-ca.pem", peer.pem)
    return name, str(Path(ui.outdir) / name)


def connect(answers: Mapping[str, Any], ui: InitUI) -> InitSystem | None:
    url = answers.get("pve_url") or ui.ask(
        "Proxmox VE URL, https://HOST:8006 (empty: no Proxmox)", "--pve-url", default=""
    )
    if not url:
        return None
    parts = urllib.parse.urlsplit(url if "//" in url else f"https://{url}")
    if parts.scheme != "https" or not parts.hostname:
        raise NetsotError(f"--pve-url {url!r}: expected https://HOST[:PORT]")
    host, port = parts.hostname, parts.port or 8006
    token_id = answers.get("pve_token_id") or ui.ask("API token id (USER@REALM!NAME)", "--pve-token-id")
    match = TOKEN_ID_RE.match(token_id)
    if not match:
        raise NetsotError(f"{token_id!r} is not a token id (USER@REALM!NAME, e.g. netsot@pve!netsot)")
    secret_file = answers.get("pve_token_secret_file")
    secret = (
        Path(str(secret_file)).read_text().strip()
        if secret_file
        else ui.ask("API token secret", "--pve-token-secret-file", secret=True)
    )
    verify, live_verify = _verify(answers, ui, host, port)
    settings: dict[str, Any] = {
        "host": host,
        "port": port,
        "user": match.group(1),
        "token_name": match.group(2),
        "token_value": ui.secret("proxmox-token", secret),
        "verify_tls": verify,
    }
    comments = {
        "token_name": "privileges: see README (NetsotSync role)",
        "verify_tls": "pinned after its fingerprint was confirmed"
        if isinstance(verify, str) and not answers.get("ca_bundle")
        else "",
    }
    live = {**settings, "token_value": secret, "verify_tls": live_verify or verify}
    placements, version = read_placements(live, ui)
    return InitSystem(
        "proxmox",
        settings,
        {k: v for k, v in comments.items() if v},
        placements=placements,
        notes=(f"Proxmox VE {version}",),
    )


def read_placements(raw: Mapping[str, Any], ui: InitUI) -> tuple[tuple[InitPlacement, ...], str]:
    from providers.proxmox.provider import ProxmoxProvider
    from providers.proxmox.settings import ProxmoxSettings

    settings = ProxmoxSettings.model_validate(dict(raw))
    provider = ProxmoxProvider(Config(source_path=str(Path(ui.outdir) / "netsot.yaml")), settings)
    try:
        version = str(provider.client.version().get("version", "?"))
        found = provider.discover()
    finally:
        provider.close()
    by_place: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    for guest in found.guests:
        for nic in guest.nics:
            if not nic.bridge:
                continue
            addresses = [nic.ip] if nic.ip and "/" in nic.ip else []
            addresses += [a for a in nic.agent_ips if "." in a]
            by_place[(nic.bridge, nic.vlan)] += addresses
    placements = []
    for (bridge, vlan), addresses in sorted(by_place.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        settings_out: dict[str, Any] = {"bridge": bridge, **({"vlan": vlan} if vlan else {})}
        label = f"{bridge} VLAN {vlan}" if vlan else f"{bridge} (untagged)"
        placements.append(InitPlacement(settings_out, tuple(addresses), label))
    ui.say(f"Proxmox VE {raw['host']}: {len(found.guests)} guest(s) on {len(placements)} bridge/VLAN(s)")
    for warning in found.warnings:
        ui.say(f"  note: {warning}")
    return tuple(placements), version


HOOK = InitHook(options=options, connect=connect)

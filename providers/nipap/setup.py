"""``netsot init`` for NIPAP: URL, user, password and VRF; reads the VRF's assignments (the networks
hosts live in) and never writes. An https URL must present a certificate the system CAs trust
(``providers.nipap`` has no CA setting): its fingerprint is shown when it does not.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from core.errors import NetsotError
from providers.base import InitHook, InitSubnet, InitSystem, InitUI


def options() -> Sequence[click.Option]:
    return [
        click.Option(["--nipap-url"], metavar="URL", help="NIPAP: XML-RPC URL (http://HOST:1337/XMLRPC)."),
        click.Option(["--nipap-user"], metavar="USER", help="NIPAP: user (read-write: see README)."),
        click.Option(
            ["--nipap-password-file"],
            metavar="FILE",
            type=click.Path(dir_okay=False, exists=True),
            help="NIPAP: a file holding the password.",
        ),
        click.Option(
            ["--nipap-vrf"], metavar="RT|NAME", help="NIPAP: the VRF netsot works in (default VRF: none)."
        ),
    ]


def _check_tls(url: str, ui: InitUI) -> None:
    from core.probe import tls_peer

    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https":
        if parts.hostname not in ("127.0.0.1", "::1", "localhost"):
            ui.say(f"Note: {url} is plain HTTP: the NIPAP password crosses the network unencrypted")
        return
    try:
        peer = tls_peer(parts.hostname or "", parts.port or 443, None)
    except OSError as exc:
        raise NetsotError(f"no TLS handshake with {url}: {exc}") from None
    if not peer.verified:
        raise NetsotError(
            f"{url} presents a certificate the system does not trust ({peer.error}; SHA-256 "
            f"{peer.fingerprint}); add its CA to the system store (update-ca-certificates) first"
        )


def connect(answers: Mapping[str, Any], ui: InitUI) -> InitSystem | None:
    from providers.nipap.client import NipapClient, NotFound
    from providers.nipap.settings import NipapSettings

    url = answers.get("nipap_url") or ui.ask("NIPAP XML-RPC URL (empty: no NIPAP)", "--nipap-url", default="")
    if not url:
        return None
    _check_tls(url, ui)
    user = answers.get("nipap_user") or ui.ask("NIPAP user", "--nipap-user")
    password_file = answers.get("nipap_password_file")
    password = (
        Path(str(password_file)).read_text().strip()
        if password_file
        else ui.ask("NIPAP password", "--nipap-password-file", secret=True)
    )
    vrf = answers.get("nipap_vrf")
    client = NipapClient(NipapSettings(url=url, username=user, password=password), source="netsot-init")
    try:
        vrfs = client.list_vrfs()
        if vrf is None:
            named = [str(v.get("name")) for v in vrfs if v.get("rt")]
            hint = f" (one of: {', '.join(named)})" if named else ""
            default = named[0] if len(named) == 1 else ""
            vrf = (
                ui.ask(f"NIPAP VRF, rt or name{hint}; empty: the default VRF", "--nipap-vrf", default=default)
                or None
            )
        try:
            found = client.find_vrf(vrf)
        except NotFound:
            raise NetsotError(f"NIPAP has no VRF {vrf!r}") from None
        rows = client.list_prefixes({"vrf_id": int(found.get("id") or 0), "type": "assignment"})
    finally:
        client.close()
    settings: dict[str, Any] = {
        "url": url,
        "username": user,
        "password": ui.secret("nipap-password", password),
    }
    if vrf:
        settings["vrf"] = vrf
    subnets = tuple(
        InitSubnet(str(r["prefix"]), note=f"assignment {r.get('description') or '(no description)'}")
        for r in rows
        if ":" not in str(r["prefix"])
    )
    ui.say(f"NIPAP: VRF {found.get('name') or 'default'} holds {len(subnets)} IPv4 assignment(s)")
    return InitSystem(
        "nipap",
        settings,
        {"password": "read-write user"},
        subnets=subnets,
        notes=(f"VRF {found.get('name')} (rt {found.get('rt')})",) if vrf else (),
    )


HOOK = InitHook(options=options, connect=connect)

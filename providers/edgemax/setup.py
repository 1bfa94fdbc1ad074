"""``netsot init`` for an EdgeRouter: SSH address, user and key or password, the host key trusted
only after its fingerprint was confirmed (or given with ``--router-host-key``, or from
``--known-hosts``), then one read of ``show configuration commands``: each DHCP shared network's
subnets, gateway, domain and range become networks. Never configures anything.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from core.config import Config
from core.errors import NetsotError
from providers.base import InitHook, InitSubnet, InitSystem, InitUI

KEY_ORDER = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "ssh-rsa",
)


def options() -> Sequence[click.Option]:
    return [
        click.Option(["--router-host"], metavar="HOST", help="EdgeRouter: address for SSH."),
        click.Option(
            ["--router-port"], type=int, default=None, metavar="PORT", help="EdgeRouter: SSH port (22)."
        ),
        click.Option(["--router-user"], metavar="USER", help="EdgeRouter: user (admin level; see README)."),
        click.Option(
            ["--router-key"],
            metavar="FILE",
            type=click.Path(dir_okay=False, exists=True),
            help="EdgeRouter: SSH private key (instead of a password).",
        ),
        click.Option(
            ["--router-password-file"],
            metavar="FILE",
            type=click.Path(dir_okay=False, exists=True),
            help="EdgeRouter: a file holding the password (instead of a key).",
        ),
        click.Option(
            ["--router-host-key"],
            metavar="SHA256:…",
            help="EdgeRouter: the host key fingerprint you trust (ssh-keygen -lf on the router).",
        ),
        click.Option(
            ["--known-hosts"],
            metavar="FILE",
            type=click.Path(dir_okay=False, exists=True),
            help="EdgeRouter: use this known_hosts file (it must hold the router's key).",
        ),
    ]


def key_fingerprint(blob_b64: str) -> str:
    """OpenSSH's ``SHA256:…`` fingerprint of a base64 public key blob."""
    digest = hashlib.sha256(base64.b64decode(blob_b64)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def scan(host: str, port: int) -> list[tuple[str, str, str]]:
    """The router's host keys (``known_hosts`` name, type, base64 blob), preferred type first."""
    binary = shutil.which("ssh-keyscan")
    if binary is None:
        raise NetsotError("ssh-keyscan is not installed (apt-get install openssh-client)")
    out = subprocess.run(
        [binary, "-T", "10", "-p", str(port), host], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    keys = [
        tuple(line.split()[:3])
        for line in out.splitlines()
        if line and not line.startswith("#") and len(line.split()) >= 3
    ]
    keys.sort(key=lambda k: KEY_ORDER.index(k[1]) if k[1] in KEY_ORDER else len(KEY_ORDER))
    return [(k[0], k[1], k[2]) for k in keys]


def _known_hosts(answers: Mapping[str, Any], ui: InitUI, host: str, port: int) -> str:
    if answers.get("known_hosts"):
        return str(Path(str(answers["known_hosts"])).resolve())
    keys = scan(host, port)
    if not keys:
        raise NetsotError(f"no SSH host key from {host}:{port} (is SSH enabled on the router?)")
    name, ktype, blob = keys[0]
    ui.trust(
        f"The router {host}:{port} ({ktype} host key)",
        key_fingerprint(blob),
        answers.get("router_host_key"),
        "--router-host-key",
    )
    return ui.write("known_hosts", f"{name} {ktype} {blob}\n")


def connect(answers: Mapping[str, Any], ui: InitUI) -> InitSystem | None:
    host = answers.get("router_host") or ui.ask(
        "EdgeRouter address (empty: no router)", "--router-host", default=""
    )
    if not host:
        return None
    port = int(answers.get("router_port") or ui.ask("EdgeRouter SSH port", "--router-port", default="22"))
    user = answers.get("router_user") or ui.ask("EdgeRouter user", "--router-user")
    settings: dict[str, Any] = {"host": host, "port": port, "username": user}
    comments = {"username": "admin level: configure needs it"}
    live: dict[str, Any] = {}  # the secret itself, for this one read (the config gets the reference)
    key = answers.get("router_key")
    if key is None and not answers.get("router_password_file"):
        key = (
            ui.ask("EdgeRouter SSH private key file (empty: use a password)", "--router-key", default="")
            or None
        )
    if key:
        settings["private_key"] = str(Path(str(key)).expanduser().resolve())
    else:
        password_file = answers.get("router_password_file")
        password = (
            Path(str(password_file)).read_text().strip()
            if password_file
            else ui.ask("EdgeRouter password", "--router-password-file", secret=True)
        )
        settings["password"] = ui.secret("edgemax-password", password)
        live["password"] = password
    settings["known_hosts"] = _known_hosts(answers, ui, host, port)
    comments["known_hosts"] = "the router's host key, trusted after its fingerprint was confirmed"
    return InitSystem("edgemax", settings, comments, subnets=read_subnets({**settings, **live}, ui))


def read_subnets(raw: Mapping[str, Any], ui: InitUI) -> tuple[InitSubnet, ...]:
    from providers.edgemax.extract import extract
    from providers.edgemax.session import EdgeSession
    from providers.edgemax.settings import EdgemaxSettings
    from providers.vyatta.parse import parse_commands

    config = Config(source_path=str(Path(ui.outdir) / "netsot.yaml"))  # paths relative to the new config
    settings = EdgemaxSettings.model_validate(dict(raw))
    with EdgeSession(settings, config) as session:
        text = session.show_commands()
    from providers.edgemax.doctor import refused_read

    refused = refused_read(text)
    if refused:
        raise NetsotError(f"the router shows {raw['username']} no configuration ({refused}); netsot needs an "
                          "admin-level user (README: Connect your homelab)")
    cfg = extract(parse_commands(text))
    found = []
    for sn in cfg.shared_networks:
        for sub in sn.subnets:
            start, stop = next(((a, b) for a, b in sub.ranges if b), (None, None))
            found.append(
                InitSubnet(
                    sub.cidr,
                    name=sn.name,
                    gateway=sub.default_router or "",
                    domain=sub.domain_name or cfg.domain_name or "",
                    dhcp_range=(start, stop) if start and stop else None,
                    settings={"shared_network": sn.name},
                    note=f"DHCP shared network {sn.name}"
                    + (f" ({sn.description})" if sn.description else "")
                    + (", disabled" if sn.disabled else ""),
                )
            )
    ui.say(
        f"EdgeRouter {raw['host']}: {len(found)} DHCP subnet(s) in "
        f"{len(cfg.shared_networks)} shared network(s)"
    )
    return tuple(found)


HOOK = InitHook(options=options, connect=connect)

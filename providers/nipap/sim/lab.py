"""NIPAP's part of the embedded lab (``Hooks.lab``): one IPAM for every site, as the NIPAP simulator.

Owns: its seed (VRF ``homelab``, every site's prefixes and the hosts already recorded), its users (a
read-write and a read-only one, passwords as secrets of the lab folder), starting the simulator resumed
from ``run/nipap/database.json`` (ids kept) or from the seed, and its block of the lab's ``netsot.yaml``.
Must not: be imported by netsot's product code (only the lab and tests start it).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.files import write_atomic
from providers.lab.homelab import Homelab, LabNetwork
from providers.lab.runner import NIPAP_READONLY_USER, NIPAP_USER, Paths
from providers.lab.seeds import VRF_NAME, VRF_RT


class NipapLab:
    """The NIPAP simulator, resumed from and saved to ``run/nipap/database.json`` (its ids kept)."""

    def __init__(self, handle: Any, saved: Path) -> None:
        self.handle, self.saved = handle, saved

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    @property
    def port(self) -> int:
        return int(self.handle.port)

    def save(self) -> None:
        self.saved.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.saved, json.dumps(self.handle.store.snapshot()), 0o600)

    def stop(self) -> None:
        self.save()
        self.handle.stop()


def start_nipap(paths: Paths) -> NipapLab:
    from providers.nipap.sim.server import start_simulator

    saved = paths.state_dir("nipap") / "database.json"
    users = {NIPAP_USER: (paths.secret("nipap_password"), "rw"),
             NIPAP_READONLY_USER: (paths.secret("nipap_password_readonly"), "ro")}
    if saved.exists():
        handle = start_simulator(None, users)
        handle.store.restore(json.loads(saved.read_text()))
        return NipapLab(handle, saved)
    return NipapLab(start_simulator(json.loads((paths.seeds / "nipap.json").read_text()), users), saved)


def nipap_seed(lab: Homelab, *more: Homelab) -> dict[str, Any]:
    """VRF ``homelab`` (one NIPAP for every site): an assignment prefix per network, the hosts recorded."""
    labs = (lab, *more)
    prefixes: list[dict[str, Any]] = [
        {"prefix": n.prefix, "type": "assignment", "description": _net_description(n), "vrf": VRF_NAME}
        for site in labs for n in site.networks
    ]
    for ip, node, description in (h for site in labs for h in site.ipam_hosts):
        prefixes.append({"prefix": f"{ip}/32", "type": "host", "node": node, "description": description,
                         "vrf": VRF_NAME, "authoritative_source": "admin"})
    return {"vrfs": [{"rt": VRF_RT, "name": VRF_NAME, "description": "the lab's homelab"}],
            "prefixes": prefixes}


def _net_description(net: LabNetwork) -> str:
    return f"{net.name} ({net.shared_network})"


class NipapLabSystem:
    """``LabSystem`` (providers.base) of the NIPAP kind: the lab's IPAM, one for every site."""

    role = "ipam"
    process = "nipap"
    default = True
    saves = ("nipap/database.json",)
    title = "NIPAP"
    # netsot-readonly.yaml: NIPAP's read-only user
    readonly = ((r"(?m)^(    username: )" + re.escape(NIPAP_USER)
                 + r"(\n    password: \$\{file:secrets/)nipap_password\}",
                 rf"\g<1>{NIPAP_READONLY_USER}\g<2>nipap_password_readonly}}"),)

    def seed(self, paths: Paths, labs: Sequence[Any]) -> None:
        write_atomic(paths.seeds / "nipap.json", json.dumps(nipap_seed(*labs), indent=1), 0o644)
        for name in ("nipap_password", "nipap_password_readonly"):
            if not (paths.secrets / name).exists():
                write_atomic(paths.secrets / name, secrets.token_urlsafe(24) + "\n", 0o600)

    def start(self, paths: Paths, options: Mapping[str, Any]) -> NipapLab:
        return start_nipap(paths)

    def provider(self, paths: Paths, port: int, dns_port: int | None) -> str:
        return (f"    url: http://127.0.0.1:{port}/XMLRPC\n"
                f"    username: {NIPAP_USER}\n"
                "    password: ${file:secrets/nipap_password}\n"
                f"    vrf: {VRF_NAME}\n")

    def network(self, network: Any) -> str:
        return ""

    def describe(self, paths: Paths, port: int) -> str:
        return f"http://127.0.0.1:{port}/XMLRPC"


LAB = NipapLabSystem()

"""The lab with its NIPAP either the simulator or a real nipapd (``NETSOT_TEST_NIPAP_URL``).

``NipapWorld`` is the lab plus NIPAP as a person uses it (its web UI writes through nipapd's API as
``nipap-www``): on the live target the lab's NIPAP seed goes into a throwaway VRF of the real server
and the lab's config points netsot there; the router, Proxmox and dnsmasq stay the lab's.
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from providers.lab.seeds import VRF_NAME
from tests.e2e.conftest import Lab, start_lab


class NipapWorld:
    """A running lab and the NIPAP netsot talks to in it (simulator or real), as a person sees it."""

    def __init__(self, lab: Lab, url: str, vrf_id: int, kind: str) -> None:
        self.lab, self.url, self.vrf_id, self.kind = lab, url, vrf_id, kind

    def call(self, method: str, source: str = "nipap-www", **args: Any) -> Any:
        proxy = xmlrpc.client.ServerProxy(self.url, allow_none=True)
        return getattr(proxy, method)({"auth": {"authoritative_source": source}, **args})

    def add_host(self, ip: str, node: str, mac: str, **attr: Any) -> int:
        row = self.call("add_prefix", attr={"prefix": f"{ip}/32", "type": "host", "node": node,
                                            "vrf_id": self.vrf_id, "avps": {"mac": mac}, **attr})
        return int(row["id"])

    def hosts(self) -> dict[str, dict[str, Any]]:
        """ip → the host row, for every host of the lab's VRF."""
        rows = self.call("list_prefix", prefix={"vrf_id": self.vrf_id, "type": "host"})
        return {str(r["prefix"]).split("/")[0]: r for r in rows}


def _live_world(lab: Lab, url: str) -> Iterator[NipapWorld]:
    parts = urllib.parse.urlsplit(url)
    netloc = f"{parts.hostname}:{parts.port or 1337}"
    base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    world = NipapWorld(lab, url, 0, "live")
    tag = secrets.token_hex(3)
    name = f"netsot-lab-{tag}"
    rt = f"65534:{int(tag, 16) % 60000 + 1000}"
    vrf = world.call("add_vrf", source="netsot-test",
                     attr={"rt": rt, "name": name, "description": "netsot test, safe to delete"})
    world.vrf_id = int(vrf["id"])
    try:
        seed = json.loads((lab.paths.seeds / "nipap.json").read_text())
        for p in sorted(seed["prefixes"], key=lambda p: p["type"] == "host"):  # assignments first
            attr = {k: v for k, v in p.items() if k not in ("vrf", "authoritative_source")}
            world.call("add_prefix", source=p.get("authoritative_source", "admin"),
                       attr={**attr, "vrf_id": world.vrf_id})
        secret = lab.paths.secrets / "nipap_password"
        secret.write_text(urllib.parse.unquote(parts.password or "") + "\n")
        text = lab.config.read_text()
        old_url = next(line for line in text.splitlines() if "/XMLRPC" in line).split("url: ", 1)[1]
        text = text.replace(f"url: {old_url}", f"url: {base}", 1)
        text = text.replace(f"    vrf: {VRF_NAME}\n", f"    vrf: {name}\n", 1)
        user = urllib.parse.unquote(parts.username or "")
        text = text.replace("    username: netsot\n", f"    username: {user}\n", 1)
        lab.config.write_text(text)
        yield world
    finally:
        world.call("remove_vrf", source="netsot-test", vrf={"id": world.vrf_id})


def world_fixture(kind: str, tmp: Path, url: str | None = None) -> Iterator[NipapWorld]:
    """The lab with the simulator's NIPAP (``sim``) or a throwaway VRF on the real nipapd at ``url``
    (``live``: the session's ``live_nipap_url``)."""
    if kind == "live" and not url:
        raise ValueError("the live world needs the real nipapd's URL (the live_nipap_url fixture)")
    for lab in start_lab(tmp):
        if kind == "live":
            yield from _live_world(lab, str(url))
            return
        password = lab.paths.secret("nipap_password")
        url = f"http://netsot:{password}@127.0.0.1:{lab.nipap.port}/XMLRPC"
        world = NipapWorld(lab, url, 0, "sim")
        world.vrf_id = int(world.call("list_vrf", vrf={"name": VRF_NAME})[0]["id"])
        yield world

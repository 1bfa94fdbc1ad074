"""The lab's NIPAP on the real nipapd (``live_nipap_url``): the lab seed's VRF, prefixes and hosts
loaded through nipapd's XML-RPC API, and the few read-backs the e2e tests use of the simulator's
handle (``port``, ``prefixes()``, ``add_prefix``, ``stop``). ``stop`` removes the VRF with
everything in it, so the next lab on the same nipapd starts clean."""

from __future__ import annotations

import ipaddress
import json
import urllib.parse
import xmlrpc.client
from pathlib import Path
from typing import Any

from providers.lab import dns as labdns

MARK = "netsot e2e test lab, safe to delete"  # the only VRFs this module ever removes


class LiveNipap:
    def __init__(self, url: str, seed: dict[str, Any]) -> None:
        parts = urllib.parse.urlsplit(url)
        self.url = url
        self.port = parts.port or 1337
        self.password = urllib.parse.unquote(parts.password or "")
        self.vrf_ids: list[int] = []
        self._load(seed)

    def call(self, method: str, source: str = "backdoor", **args: Any) -> Any:
        proxy = xmlrpc.client.ServerProxy(self.url, allow_none=True)
        return getattr(proxy, method)({"auth": {"authoritative_source": source}, **args})

    def _load(self, seed: dict[str, Any]) -> None:
        """The simulator's seed format (providers/nipap/sim/server.py), shortest prefixes first."""
        names: dict[str, int] = {}
        for vrf in seed.get("vrfs", ()):
            for row in self.call("list_vrf", vrf={"rt": vrf["rt"]}):
                if row["description"] != MARK:
                    raise RuntimeError(f"the nipapd at port {self.port} already has a VRF with rt "
                                       f"{vrf['rt']} ({row['name']!r}) that is not a netsot test VRF: "
                                       "not touching it")
                self.call("remove_vrf", vrf={"id": row["id"]})  # left by a killed test run
            row = self.call("add_vrf", attr={**vrf, "description": MARK})
            self.vrf_ids.append(row["id"])
            names[vrf["name"]] = names[vrf["rt"]] = row["id"]
        for p in sorted(seed.get("prefixes", ()), key=lambda r: ipaddress.ip_network(r["prefix"]).prefixlen):
            attr = dict(p)
            source = str(attr.pop("authoritative_source", "seed"))
            vrf = attr.pop("vrf", None)
            attr["vrf_id"] = names[vrf] if vrf is not None else 0
            if "description" not in attr and "node" not in attr:
                attr["description"] = ""
            self.call("add_prefix", source=source, attr=attr)

    def prefixes(self, vrf_id: int | None = None) -> list[dict[str, Any]]:
        return list(self.call("list_prefix", prefix={} if vrf_id is None else {"vrf_id": vrf_id}))

    def add_prefix(self, prefix: str, type: str = "host", *, vrf_id: int = 0, source: str = "backdoor",
                   **attr: Any) -> int:
        full = {"prefix": prefix, "type": type, "vrf_id": vrf_id, **attr}
        if "description" not in full and "node" not in full:
            full["description"] = ""
        return int(self.call("add_prefix", source=source, attr=full)["id"])

    def stop(self) -> None:
        for vrf_id in self.vrf_ids:
            self.call("remove_vrf", vrf={"id": vrf_id})
        self.vrf_ids = []


def start_live_nipap(url: str, seeds: Path, secrets: Path) -> LiveNipap:
    """The lab's NIPAP on the real nipapd at ``url``; the lab's secret file gets its password."""
    server = LiveNipap(url, json.loads((seeds / "nipap.json").read_text()))
    labdns.write_atomic(secrets / "nipap_password", server.password + "\n", mode=0o600)
    return server

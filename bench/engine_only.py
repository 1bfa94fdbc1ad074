"""The socket-free engine benchmark: reconcile + plan for many bindings from in-memory observations.

Owns: building Observations for all three systems without any socket — Proxmox through the real
provider with an in-memory client, NIPAP rows from the simulator's data store (no server), the
router from a generated config.boot through the real parser — then timing ``make_plan`` alone.
Must not: open sockets or write files.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from typing import Any

from bench import scenarios
from bench.measure import Row, peak_rss_mb
from core.config import Config
from engine.plan.planner import make_plan
from engine.runtime import build_providers
from state.model import State


class MemoryProxmoxClient:
    """Serves the Proxmox seed from memory with the methods ``ProxmoxProvider.discover`` calls."""

    def __init__(self, seed: Mapping[str, Any]) -> None:
        from providers.proxmox.sim.server import config_digest

        self._guests = {(g["node"], g["vmid"]): g for g in seed["guests"]}
        self._digest = config_digest

    def cluster_resources_vms(self) -> list[dict[str, Any]]:
        out = []
        for g in self._guests.values():
            cfg = g["config"]
            out.append({"id": f"{g['type']}/{g['vmid']}", "vmid": g["vmid"], "node": g["node"],
                        "type": g["type"], "status": g["status"], "template": 0,
                        "name": cfg.get("name") or cfg.get("hostname"), **({"tags": cfg["tags"]}
                                                                              if cfg.get("tags") else {})})
        return out

    def guest_config(self, gtype: str, node: str, vmid: int) -> dict[str, Any]:
        cfg = self._guests[(node, vmid)]["config"]
        return {**cfg, "digest": self._digest(cfg)}

    def agent_interfaces(self, node: str, vmid: int) -> Any:
        return self._guests[(node, vmid)].get("agent")

    def lxc_interfaces(self, node: str, vmid: int) -> Any:
        return self._guests[(node, vmid)].get("interfaces")

    def close(self) -> None:
        pass


def _addresses(specs: list[scenarios.GuestSpec]) -> dict[int, str]:
    """The IP each guest already holds: its static one, else the next one from x.x.1.0 upwards."""
    out: dict[int, str] = {}
    cursor: dict[str, int] = {}
    for g in specs:
        if g.static_ip:
            out[g.vmid] = g.static_ip
            continue
        k = cursor.get(g.net.name, 0)
        cursor[g.net.name] = k + 1
        base = ipaddress.IPv4Network(g.net.prefix).network_address + 256
        out[g.vmid] = str(base + k)
    return out


def _nipap_rows(specs: list[scenarios.GuestSpec], ips: Mapping[int, str]) -> list[dict[str, Any]]:
    """list_prefix rows: the networks from the simulator's store, hosts cloned from one real row
    (inserting thousands of hosts through the simulator's store is itself quadratic)."""
    from providers.nipap.sim import api as simapi
    from providers.nipap.sim.data import Session, Store
    from providers.nipap.sim.server import load_seed

    store = Store()
    load_seed(store, scenarios.nipap_seed([{"prefix": "10.10.0.9/32", "type": "host", "node": "template",
                                             "description": "template", "authoritative_source": "netsot"}]))
    with store.lock:
        rows = simapi.list_prefix(store, Session("bench", True, "bench"), {"prefix": {}})
    template = next(r for r in rows if r["node"] == "template")
    rows = [r for r in rows if r is not template]
    next_id = max(r["id"] for r in rows) + 1
    for n, g in enumerate(specs):
        ip = ips[g.vmid]
        rows.append({**template, "id": next_id + n, "prefix": f"{ip}/32", "display_prefix": ip,
                     "node": g.name, "description": f"proxmox {g.node}/{g.vmid} net0 ({g.type})",
                     "avps": {"managed-by": "netsot", "mac": g.mac.lower(),
                              "netsot-binding": f"{g.net.name}.{g.name}", "proxmox-vmid": str(g.vmid)}})
    return rows


def _router_observation(config: Config, specs: list[scenarios.GuestSpec], ips: Mapping[int, str]) -> Any:
    """The router knows the ``lan`` guests (mapping + host name); the ``servers`` ones are new to it."""
    from providers.edgemax import extract, planner
    from providers.vyatta import parse

    lan = [g for g in specs if g.net.name == "lan"]
    mappings = "".join(
        f"                static-mapping {g.name} {{\n                    ip-address {ips[g.vmid]}\n"
        f"                    mac-address {g.mac.lower()}\n                }}\n" for g in lan)
    hosts = "".join(
        f"        host-name {g.name}.{g.net.domain} {{\n            inet {ips[g.vmid]}\n        }}\n"
        for g in lan)
    tree = parse.parse_boot(scenarios.config_boot(mappings, hosts))
    return planner.observation_from_config(extract.extract(tree), config, [])


def build(guests: int) -> tuple[Config, dict[str, Any], dict[str, Any], dict[str, float]]:
    """(config, providers, observations, seconds spent building each observation)."""
    from providers.nipap import mapping as nipap_mapping
    from providers.proxmox.provider import ProxmoxProvider

    specs = scenarios.guests(guests)
    ips = _addresses(specs)
    config = scenarios.make_config(
        state_path="/nonexistent/netsot.state.json",
        proxmox={"host": "127.0.0.1", "user": "netsot@pve", "token_name": "t", "token_value": "x",
                 "writeback_tag": scenarios.WRITEBACK_TAG},
        nipap={"url": "http://127.0.0.1:9/XMLRPC", "username": "netsot", "password": "pw"},
        edgemax={"host": "127.0.0.1", "username": "ubnt", "password": "pw", "known_hosts": "/dev/null"},
    )
    providers = build_providers(config)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    pve = ProxmoxProvider(config, config.providers.get("proxmox"),  # type: ignore[arg-type]
                          client=MemoryProxmoxClient(scenarios.proxmox_seed(specs)))  # type: ignore[arg-type]
    providers["proxmox"] = pve
    observations: dict[str, Any] = {"proxmox": pve.read()}
    seconds["proxmox"] = time.perf_counter() - t
    t = time.perf_counter()
    rows = _nipap_rows(specs, ips)
    seconds["nipap-store"] = time.perf_counter() - t
    t = time.perf_counter()
    observations["nipap"] = nipap_mapping.observe(config, {"id": 0, "rt": None, "name": "default"}, rows)
    seconds["nipap"] = time.perf_counter() - t
    t = time.perf_counter()
    observations["edgemax"] = _router_observation(config, specs, ips)
    seconds["edgemax"] = time.perf_counter() - t
    return config, providers, observations, seconds


def run_engine(guests: int) -> Row:
    """Time ``make_plan`` (reconcile + every provider's plan + drift + ordering) from memory."""
    config, providers, observations, seconds = build(guests)
    start = time.perf_counter()
    plan = make_plan(config, providers, State(), observations=observations)
    wall = time.perf_counter() - start
    facts = {k: len(v.facts) for k, v in observations.items()}
    built = ", ".join(f"{k} {v:.2f}s" for k, v in seconds.items())
    return Row(f"engine-{guests}", guests, "engine", wall, None, {}, 0, 0, peak_rss_mb(),
               f"{len(plan.bindings)} bindings from facts {facts}; changes {plan.counts()}; "
               f"{len(plan.conflicts)} conflicts; (untimed) observations built in: {built}")

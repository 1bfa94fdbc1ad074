"""The golden scenarios: configs, observations and states built in memory from the lab's and the
bench's seeds, planned by the real engine (``make_plan``) without a socket.

Each scenario is a first run (an empty state: every object is someone else's) and a second run (a
state that owns most of what the systems hold, some of it edited by hand since, some of it gone, some
guests deleted): together they reach every path of every provider's diff — create, update, delete,
leave alone, blocked by a conflict, orphaned, lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from core.config import Config
from core.model import Observation, frozen_map
from engine.config.load import config_from_data
from engine.plan.document import plan_document
from engine.plan.planner import make_plan
from engine.runtime import build_providers
from state.model import ResourceState, State

VERSION = "golden"  # the document's netsot_version: a release must not change the golden files
CREATED_AT = "2026-01-01T00:00:00Z"
LINEAGE = "00000000-0000-4000-8000-000000000000"
LEASE_END = "2030/01/01 00:00:00"  # every lease runs past any day the test runs


@dataclass(frozen=True)
class World:
    """One scenario: its config, the providers (the engine's), and what each system holds now."""

    config: Config
    providers: Mapping[str, Any]
    observations: Mapping[str, Observation]


def _proxmox(config: Config, key: str, seed: Mapping[str, Any]) -> tuple[Any, Observation]:
    from bench.engine_only import MemoryProxmoxClient
    from providers.proxmox.provider import ProxmoxProvider

    _, _, instance = key.partition(".")
    provider = ProxmoxProvider(config, config.providers.get(key), instance,  # type: ignore[arg-type]
                               client=MemoryProxmoxClient(seed))  # type: ignore[arg-type]
    return provider, provider.read()


def _nipap(config: Config, seed: Mapping[str, Any], key: str = "nipap") -> Observation:
    """The rows ``list_prefix`` answers for the seed, through the simulator's store (no server)."""
    from providers.nipap import mapping
    from providers.nipap.sim import api as simapi
    from providers.nipap.sim.data import Session, Store
    from providers.nipap.sim.server import load_seed

    store = Store()
    load_seed(store, seed)
    with store.lock:
        rows = simapi.list_prefix(store, Session("golden", True, "golden"), {"prefix": {}})
        vrfs = simapi.list_vrf(store, Session("golden", True, "golden"), {"vrf": {}})
    settings = config.providers.get(key)
    wanted = getattr(settings, "vrf", None)
    vrf = next((v for v in vrfs if wanted in (v["name"], v["rt"])), None) if wanted else None
    vrf = vrf or {"id": 0, "rt": None, "name": "default"}
    return mapping.observe(config, vrf, rows, key, settings)  # type: ignore[arg-type]


def _edgemax(config: Config, key: str, config_boot: str, leases: Sequence[Any]) -> Observation:
    from providers.edgemax import extract, planner
    from providers.edgemax.leases import Lease
    from providers.vyatta import parse

    tree = parse.parse_boot(config_boot)
    rows = [Lease(x.ip, x.mac, LEASE_END, x.pool, x.hostname) for x in leases]
    return planner.observation_from_config(extract.extract(tree), config, rows, unsaved="", key=key)


def _vyos(config: Config, providers: dict[str, Any], key: str, commands: str) -> Observation:
    """What ``VyosProvider.read`` does, from `show configuration commands` text instead of the API."""
    from providers.vyatta.parse import parse_commands
    from providers.vyos import observe
    from providers.vyos.configjson import normalize
    from providers.vyos.provider import subnets_of
    from providers.vyos.read import read

    tree = normalize(parse_commands(commands))
    provider = providers[key]
    provider._cfg = read(tree)
    provider._subnets = subnets_of(tree)
    provider._observed = observe.observation(provider._cfg, config, key, [])
    return provider._observed


# --------------------------------------------------------------------------- the lab


def _lab_network(net: Any, instance: str) -> dict[str, Any]:
    inst = {"instance": instance} if instance else {}
    proxmox: dict[str, Any] = {**inst, "bridge": net.bridge}
    if net.vlan:
        proxmox["vlan"] = net.vlan
    return {"name": net.name, "prefix": net.prefix, "gateway": net.gateway, "domain": net.domain,
            "dhcp_range": {"start": net.dhcp_start, "stop": net.dhcp_stop},
            "proxmox": proxmox, "edgemax": {**inst, "shared_network": net.shared_network}}


def lab() -> World:
    """The embedded lab's two sites (``netsot lab up --sites 2``): home and cabin, one NIPAP."""
    from providers.lab import seeds
    from providers.lab.homelab import CABIN, HOME, NAS_MAC, site_homelab
    from providers.nipap.sim.lab import nipap_seed
    from providers.proxmox.sim.seed import proxmox_seed

    home, cabin = site_homelab(HOME), site_homelab(CABIN)
    pve = {"host": "127.0.0.1", "user": "netsot@pve", "token_name": "t", "token_value": "x",
           "writeback_tag": "netsot-static"}
    router = {"host": "127.0.0.1", "username": "ubnt", "password": "pw", "known_hosts": "/dev/null"}
    config = config_from_data({
        "version": 1,
        "state": {"backend": "file", "path": "/nonexistent/netsot.state.json"},
        "providers": {
            "proxmox": pve, "proxmox.cabin": pve,
            "nipap": {"url": "http://127.0.0.1:9/XMLRPC", "username": "netsot", "password": "pw",
                      "vrf": seeds.VRF_NAME},
            "edgemax": router, "edgemax.cabin": router,
        },
        "networks": [*(_lab_network(n, "") for n in HOME.networks),
                     *(_lab_network(n, "cabin") for n in CABIN.networks)],
        "hosts": [{"name": "nas", "network": "lan", "mac": NAS_MAC, "ip": "192.168.10.20",
                   "description": "Synology NAS"}],
        "policy": {"delete": "plan"},
    })
    providers = dict(build_providers(config))
    observations: dict[str, Observation] = {}
    for key, site in (("proxmox", home), ("proxmox.cabin", cabin)):
        providers[key], observations[key] = _proxmox(config, key, proxmox_seed(site))
    observations["nipap"] = _nipap(config, nipap_seed(home, cabin))
    observations["edgemax"] = _edgemax(config, "edgemax", home.config_boot, home.leases)
    observations["edgemax.cabin"] = _edgemax(config, "edgemax.cabin", cabin.config_boot, cabin.leases)
    return World(config, providers, observations)


# --------------------------------------------------------------------------- the bench


def bench(guests: int = 60) -> World:
    """The engine-only bench's homelab (``bench.engine_only.build``), small enough to read."""
    from bench.engine_only import build

    config, providers, observations, _ = build(guests)
    return World(config, providers, observations)


# --------------------------------------------------------------------------- VyOS


VYOS_CABIN = """\
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 option default-router '192.168.30.1'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 range 0 start '192.168.30.100'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 range 0 stop '192.168.30.199'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 static-mapping ap ip-address '192.168.30.5'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 static-mapping ap mac '74:83:c2:30:00:05'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 static-mapping ap description 'the Wi-Fi AP'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 static-mapping cam ip-address '192.168.30.40'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 static-mapping cam mac '74:83:c2:30:00:40'
set service dhcp-server shared-network-name CABIN subnet 192.168.30.0/24 subnet-id '7'
set system host-name 'cabin'
set system static-host-mapping host-name ap.cabin.lab.example inet '192.168.30.5'
set system static-host-mapping host-name ap.cabin.lab.example alias 'wifi'
set system static-host-mapping host-name cam.cabin.lab.example inet '192.168.30.41'
"""  # noqa: E501


def vyos() -> World:
    """The lab's home site with an EdgeRouter, and a cabin whose router is VyOS 1.5 (``vyos.cabin``)."""
    from providers.lab import seeds
    from providers.lab.homelab import CABIN, HOME, NAS_MAC, site_homelab
    from providers.nipap.sim.lab import nipap_seed
    from providers.proxmox.sim.seed import proxmox_seed

    home, cabin = site_homelab(HOME), site_homelab(CABIN)
    pve = {"host": "127.0.0.1", "user": "netsot@pve", "token_name": "t", "token_value": "x",
           "writeback_tag": "netsot-static"}
    nets = [_lab_network(n, "") for n in HOME.networks]
    for n in CABIN.networks:
        net = _lab_network(n, "cabin")
        del net["edgemax"]
        net["vyos"] = {"instance": "cabin", "shared_network": n.shared_network}
        nets.append(net)
    config = config_from_data({
        "version": 1,
        "state": {"backend": "file", "path": "/nonexistent/netsot.state.json"},
        "providers": {
            "proxmox": pve, "proxmox.cabin": pve,
            "nipap": {"url": "http://127.0.0.1:9/XMLRPC", "username": "netsot", "password": "pw",
                      "vrf": seeds.VRF_NAME},
            "edgemax": {"host": "127.0.0.1", "username": "ubnt", "password": "pw",
                        "known_hosts": "/dev/null"},
            "vyos.cabin": {"url": "https://127.0.0.1:9", "api_key": "k", "fingerprint": "AA:" * 31 + "AA"},
        },
        "networks": nets,
        "hosts": [{"name": "nas", "network": "lan", "mac": NAS_MAC, "ip": "192.168.10.20"},
                  {"name": "cam", "network": "cabin", "mac": "74:83:c2:30:00:40", "ip": "192.168.30.40"}],
        "policy": {"delete": "plan"},
    })
    providers = dict(build_providers(config))
    observations: dict[str, Observation] = {}
    for key, site in (("proxmox", home), ("proxmox.cabin", cabin)):
        providers[key], observations[key] = _proxmox(config, key, proxmox_seed(site))
    observations["nipap"] = _nipap(config, nipap_seed(home, cabin))
    observations["edgemax"] = _edgemax(config, "edgemax", home.config_boot, home.leases)
    observations["vyos.cabin"] = _vyos(config, providers, "vyos.cabin", VYOS_CABIN)
    return World(config, providers, observations)


# --------------------------------------------------------------------------- the test system


DNSBOX_ZONE = {  # what the zone holds before netsot's first run
    "nas.lab.example": {"name": "nas.lab.example", "ip": "192.168.10.20", "ttl": 60},
    "web01.lab.example": {"name": "web01.lab.example", "ip": "192.168.10.99", "ttl": 60},
    "gitlab.srv.lab.example": {"name": "gitlab.srv.lab.example", "ip": "10.20.0.2", "ttl": 3600},
    "printer.lab.example": {"name": "printer.lab.example", "ip": "192.168.10.30", "ttl": 3600},
    "old.srv.lab.example": {"name": "old.srv.lab.example", "ip": "10.20.0.77", "ttl": 300},
}


def dnsbox() -> World:
    """The lab's home site with README's test system (``tests/architecture/dnsbox``) as its DNS."""
    from providers.lab import seeds
    from providers.lab.homelab import HOME, NAS_MAC, site_homelab
    from providers.nipap.sim.lab import nipap_seed
    from providers.proxmox.sim.seed import proxmox_seed
    from tests.architecture.dnsbox import provider as dnsbox_provider

    home = site_homelab(HOME)
    nets = [_lab_network(n, "") for n in HOME.networks]
    nets[0]["dnsbox"] = {"ttl": 60}
    config = config_from_data({
        "version": 1,
        "state": {"backend": "file", "path": "/nonexistent/netsot.state.json"},
        "providers": {
            "proxmox": {"host": "127.0.0.1", "user": "netsot@pve", "token_name": "t", "token_value": "x",
                        "writeback_tag": "netsot-static"},
            "nipap": {"url": "http://127.0.0.1:9/XMLRPC", "username": "netsot", "password": "pw",
                      "vrf": seeds.VRF_NAME},
            "dnsbox": {"zone_store": "golden", "token": "t0ken"},
        },
        "networks": nets,
        "hosts": [{"name": "nas", "network": "lan", "mac": NAS_MAC, "ip": "192.168.10.20"}],
        "policy": {"delete": "plan"},
    })
    dnsbox_provider.ZONES["golden"] = {k: dict(v) for k, v in DNSBOX_ZONE.items()}
    providers = dict(build_providers(config))
    observations: dict[str, Observation] = {}
    providers["proxmox"], observations["proxmox"] = _proxmox(config, "proxmox", proxmox_seed(home))
    observations["nipap"] = _nipap(config, nipap_seed(home))
    observations["dnsbox"] = providers["dnsbox"].read()
    return World(config, providers, observations)


# --------------------------------------------------------------------------- second runs


def _edited(attributes: Mapping[str, Any], n: int) -> dict[str, Any]:
    """What netsot last wrote, when a person edited the object since: one attribute differs."""
    out = dict(attributes)
    for key in ("ip", "hostname", "mac", "name", "description"):
        if isinstance(out.get(key), str) and out[key]:
            ip_edit = out[key].rsplit(".", 1)[0] + f".{200 + n % 50}"
            out[key] = f"{out[key]}-was{n}" if key != "ip" else ip_edit
            break
    return out


def owning_state(world: World, *, every: int = 1) -> State:
    """A state that owns every ``every``-th object the systems hold (pseudo resources aside): most as
    netsot wrote them, one in 5 edited on the system since, and one in 11 gone from its system
    (deleted by hand; still recorded)."""
    resources: dict[str, ResourceState] = {}
    n = 0
    for key in sorted(world.observations):
        for address, seen in sorted(world.observations[key].resources.items()):
            if address.name in ("saved",):
                continue
            n += 1
            if n % every:
                continue
            attrs = _edited(seen.attributes, n) if n % 5 == 0 else dict(seen.attributes)
            resources[str(address)] = ResourceState(str(address), address.kind, seen.provider_id,
                                                    MappingProxyType(attrs), origin="proxmox")
    return State(lineage=LINEAGE, serial=7, resources=MappingProxyType(resources))


def _hand_edit(attributes: Mapping[str, Any], n: int) -> dict[str, Any]:
    """An object as a person left it: its address (or else its description) changed on the system."""
    out = dict(attributes)
    for key in ("ip", "ip_address", "inet"):
        if isinstance(out.get(key), str) and out[key].count(".") == 3:
            head, _, last = out[key].partition("/")[0].rpartition(".")
            out[key] = out[key].replace(f"{head}.{last}", f"{head}.{150 + n % 40}", 1)
            return out
    if "description" in out:
        out["description"] = f"edited by hand {n}"
    return out


def without_gone(world: World, state: State) -> World:
    """The world with one in 11 owned objects deleted by hand from its system, and one in 7 edited there."""
    owned = sorted(state.resources)
    gone = {a for i, a in enumerate(owned) if i % 11 == 3 and "_prefix." not in a}
    edited = {a: i for i, a in enumerate(owned) if i % 7 == 5 and "_prefix." not in a}
    observations = {}
    for key, obs in world.observations.items():
        kept = {a: (replace(r, attributes=frozen_map(_hand_edit(r.attributes, edited[str(a)])))
                    if str(a) in edited else r)
                for a, r in obs.resources.items() if str(a) not in gone}
        observations[key] = replace(obs, resources=MappingProxyType(kept))
    return replace(world, observations=MappingProxyType(observations))


def _guest_edits(world: World) -> World:
    """Since the last run, one guest in 13 was renamed and one in 17 got a new MAC (facts of Proxmox)."""
    observations = dict(world.observations)
    for key, obs in world.observations.items():
        if not key.startswith("proxmox"):
            continue
        facts = []
        for n, f in enumerate(obs.facts):
            if f.origin and f.hostname and n % 13 == 4:
                f = replace(f, hostname=f"{f.hostname}-new")
            elif f.origin and f.mac and n % 17 == 6:
                f = replace(f, mac=f.mac[:-2] + ("aa" if f.mac[-2:] != "aa" else "bb"))
            facts.append(f)
        observations[key] = replace(obs, facts=tuple(facts))
    return replace(world, observations=MappingProxyType(observations))


def plan_json(world: World, state: State | None = None) -> dict[str, Any]:
    """The plan document (``netsot plan --json``) of a world, with its clock and version pinned."""
    plan = make_plan(world.config, world.providers, state or State(lineage=LINEAGE),
                     observations=world.observations)
    return plan_document(plan, netsot_version=VERSION, created_at=CREATED_AT)


def _with_dnsbox(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``run`` with the test system registered (step 5 of README's "Adding a system"), and after it not."""
    from providers import registry
    from tests.architecture.dnsbox.descriptor import KIND

    registry.register_kind(KIND)
    try:
        return run()
    finally:
        registry.unregister_kind("dnsbox")


def _second(build: Callable[[], World], every: int) -> dict[str, Any]:
    world = build()
    state = owning_state(world, every=every)
    return plan_json(_guest_edits(without_gone(world, state)), state)


SCENARIOS: dict[str, Callable[[], dict[str, Any]]] = {
    "lab": lambda: plan_json(lab()),
    "lab-owned": lambda: _second(lab, 1),
    "bench": lambda: plan_json(bench()),
    "bench-owned": lambda: _second(bench, 2),
    "vyos": lambda: plan_json(vyos()),
    "vyos-owned": lambda: _second(vyos, 1),
    "dnsbox": lambda: _with_dnsbox(lambda: plan_json(dnsbox())),
    "dnsbox-owned": lambda: _with_dnsbox(lambda: _second(dnsbox, 1)),
}

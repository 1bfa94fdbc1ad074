"""Fixtures for the NIPAP tests: a seeded simulator, raw XML-RPC and pynipap access, and
a "target" that is either the simulator or a real nipapd (NETSOT_TEST_NIPAP_URL, or the one
``live_nipap_url`` starts for the run), each live test in a throwaway VRF of its own."""

from __future__ import annotations

import ipaddress
import secrets
import urllib.parse
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pynipap
import pytest

from core.config import Config, Network
from providers.nipap import client as client_mod
from providers.nipap.settings import NipapSettings
from providers.nipap.sim.server import SimHandle, start_simulator

LAB_RT = "65000:1"
LAB_NET = "192.168.1.0/24"

SEED: dict[str, Any] = {
    "vrfs": [{"rt": LAB_RT, "name": "lab", "description": "test lab"}],
    "prefixes": [
        {"prefix": LAB_NET, "type": "assignment", "description": "LAN", "vrf": LAB_RT},
        {
            "prefix": "192.168.1.5/32",
            "type": "host",
            "node": "printer",
            "description": "office printer",
            "vrf": LAB_RT,
            "avps": {"mac": "00:11:22:33:44:55"},
        },
        {"prefix": "10.0.0.0/8", "type": "reservation", "description": "rfc1918"},
        {"prefix": "10.1.0.0/24", "type": "assignment", "description": "servers"},
        {"prefix": "10.1.0.1/32", "type": "host", "node": "gw", "description": "gateway"},
    ],
}


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    handle = start_simulator(
        SEED,
        users={
            "netsot": ("pw", "rw"),
            "reader": ("pw2", "ro"),
            "boss": ("pw3", "trusted"),
            "odd": ("p@ss:w/rd %x", "rw"),
        },
    )
    yield handle
    handle.stop()


Call = Callable[..., Any]


def rpc_for(url: str, source: str = "test") -> Call:
    proxy = xmlrpc.client.ServerProxy(url, allow_none=True, use_datetime=True)

    def call(method: str, **args: Any) -> Any:
        return getattr(proxy, method)({"auth": {"authoritative_source": source}, **args})

    return call


@pytest.fixture
def rpc(sim: SimHandle) -> Call:
    """Raw XML-RPC as user netsot (read-write)."""
    return rpc_for(sim.url("netsot", "pw"))


@pytest.fixture
def pn(sim: SimHandle) -> Iterator[Callable[[str, str], None]]:
    """Configure pynipap directly (as a user of the library would) for a user of the simulator."""

    def use(user: str = "netsot", password: str = "pw") -> None:
        pynipap.xmlrpc_uri = sim.url(user, password)
        pynipap.AuthOptions({"authoritative_source": "test"})
        client_mod.clear_pynipap_cache()

    use()
    yield use
    client_mod._GATE.active = None  # we changed pynipap's globals behind the gate's back
    client_mod.clear_pynipap_cache()


def fault_of(fn: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(xmlrpc.client.Fault) as info:
        fn()
    return info.value.faultCode, info.value.faultString


# ---------------------------------------------------------------------- targets (sim or live)
@dataclass
class Target:
    """Where provider tests run: the simulator, or a throwaway VRF on a real nipapd."""

    kind: str
    base_url: str  # without credentials
    username: str
    password: str
    vrf: str
    network: str
    rpc: Call
    vrf_id: int
    sim: SimHandle | None = None

    def settings(self, **overrides: Any) -> NipapSettings:
        values: dict[str, Any] = {
            "url": self.base_url,
            "username": self.username,
            "password": self.password,
            "vrf": self.vrf,
            "timeout": 5.0,
        }
        values.update(overrides)
        return NipapSettings(**values)

    def config(self, settings: NipapSettings, networks: tuple[Network, ...] | None = None) -> Config:
        nets = networks or (Network(name="lan", prefix=self.network),)
        return Config(networks=nets, providers={"nipap": settings})

    def hosts(self) -> list[dict[str, Any]]:
        rows = self.rpc("list_prefix", prefix={"vrf_id": self.vrf_id, "type": "host"})
        return sorted(rows, key=lambda r: r["prefix"])

    def add_host(self, ip: str, node: str) -> int:
        """Add a host behind the provider's back (another NIPAP user)."""
        row = self.rpc(
            "add_prefix",
            attr={
                "prefix": f"{ip}/32",
                "type": "host",
                "node": node,
                "vrf_id": self.vrf_id,
                "description": "someone else",
            },
        )
        return int(row["id"])


def _sim_target(sim: SimHandle) -> Target:
    call = rpc_for(sim.url("netsot", "pw"), source="other-tool")
    vrf_id = call("list_vrf", vrf={"rt": LAB_RT})[0]["id"]
    return Target("sim", sim.url(), "netsot", "pw", LAB_RT, LAB_NET, call, vrf_id, sim)


@pytest.fixture
def simtarget() -> Iterator[Target]:
    handle = start_simulator(SEED)
    yield _sim_target(handle)
    handle.stop()


@pytest.fixture(params=["sim", pytest.param("live", marks=pytest.mark.live)])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "sim":
        handle = start_simulator(SEED)
        yield _sim_target(handle)
        handle.stop()
        return
    with live_target(request.getfixturevalue("live_nipap_url")) as target:
        yield target


@contextmanager
def live_target(url: str, network: str = "192.0.2.0/24") -> Iterator[Target]:
    """A throwaway VRF on the real nipapd holding ``network`` (an assignment) and the printer host;
    removed (recursively, with everything in it) at the end."""
    parts = urllib.parse.urlsplit(url)
    base = urllib.parse.urlunsplit(
        (parts.scheme, f"{parts.hostname}:{parts.port or 1337}", parts.path, "", "")
    )
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    call = rpc_for(url, source="netsot-test")
    tag = secrets.token_hex(3)
    rt = f"65535:{int(tag, 16) % 60000 + 1000}"
    vrf = call(
        "add_vrf", attr={"rt": rt, "name": f"netsot-test-{tag}", "description": "netsot test, safe to delete"}
    )
    try:
        call(
            "add_prefix",
            attr={
                "prefix": network,
                "type": "assignment",
                "description": "netsot test",
                "vrf_id": vrf["id"],
            },
        )
        call(
            "add_prefix",
            attr={
                "prefix": str(ipaddress.ip_network(network).network_address + 5) + "/32",
                "type": "host",
                "node": "printer",
                "description": "office printer",
                "vrf_id": vrf["id"],
            },
        )
        yield Target("live", base, user, password, vrf["rt"], network, call, vrf["id"])
    finally:
        call("remove_vrf", vrf={"id": vrf["id"]})
        client_mod._GATE.active = None

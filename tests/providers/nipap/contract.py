"""The NIPAP simulator as a contract harness."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.config import Config, Network
from core.model import Binding, Desired
from providers.nipap.provider import NipapProvider
from providers.nipap.settings import NipapSettings
from providers.nipap.sim.server import start_simulator
from tests.providers.contract import Harness
from tests.providers.nipap.conftest import LAB_RT, SEED, rpc_for

WRITES = ("add_prefix", "edit_prefix", "remove_prefix")


@contextmanager
def harness(tmp_path: Path) -> Iterator[Harness]:
    sim = start_simulator(SEED, users={"netsot": ("pw", "rw")})
    try:
        settings = NipapSettings(url=sim.url(), username="netsot", password="pw", vrf=LAB_RT, timeout=5)
        lan = Network(name="lan", prefix="192.168.1.0/24")
        config = Config(networks=(lan,), providers={"nipap": settings})
        call = rpc_for(sim.url("netsot", "pw"), source="someone-else")
        vrf_id = call("list_vrf", vrf={"rt": LAB_RT})[0]["id"]

        def add_foreign():  # type: ignore[no-untyped-def]
            from tests import addresses as A

            call("add_prefix", attr={"prefix": "192.168.1.9/32", "type": "host", "node": "intruder",
                                     "vrf_id": vrf_id, "description": "made by hand"})
            return A.nipap_address("lan", "intruder")

        yield Harness(
            config=config,
            key="nipap",
            provider=lambda: NipapProvider(config, settings),
            desired=Desired(bindings=(
                Binding("lan", "web01", "bc:24:11:00:00:01", "192.168.1.10", origin="config"),
                Binding("lan", "db01", "bc:24:11:00:00:02", "192.168.1.11", origin="config"),
            )),
            writes=lambda: sum(sim.counts[m] for m in WRITES),
            add_foreign=add_foreign,
            fail_writes=lambda: sim.knobs.fail_call(1),
        )
    finally:
        sim.stop()

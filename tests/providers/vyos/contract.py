"""The VyOS API simulator (1.5) as a contract harness."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.model import Address, Binding, Desired
from providers.vyos.client import Op, VyosClient
from providers.vyos.commands import mapping_path
from providers.vyos.descriptor import mapping_address
from providers.vyos.provider import VyosProvider
from providers.vyos.sim.server import start
from tests.providers.contract import Harness
from tests.providers.vyos.fixtures import LAB, lab_config, vyos_settings

WRITES = ("/configure", "/config-file")


@contextmanager
def harness(tmp_path: Path) -> Iterator[Harness]:
    sim = start(LAB["1.5"], dialect="1.5", state_dir=tmp_path)
    try:
        settings = vyos_settings(sim)
        config = lab_config(settings)

        def add_foreign() -> Address:
            base = mapping_path("LAN", "192.168.1.0/24", "byhand")
            client = VyosClient(sim.url, sim.key, ca_bundle=str(sim.ca_path))
            client.configure([Op("set", (*base, "ip-address", "192.168.1.30")),
                              Op("set", (*base, "mac", "02:00:00:00:00:30"))])
            client.close()
            return mapping_address("LAN", "byhand")

        def fail_writes() -> None:
            sim.router.fail_after["/configure"] = len(sim.calls("/configure")) + 1

        yield Harness(
            config=config,
            key="vyos",
            provider=lambda: VyosProvider(config, settings),
            desired=Desired(bindings=(
                Binding("lan", "web01", "bc:24:11:00:00:01", "192.168.1.20", origin="config"),
                Binding("lan", "db01", "bc:24:11:00:00:02", "192.168.1.21", origin="config"),
            )),
            writes=lambda: sum(len(sim.calls(e)) for e in WRITES),
            add_foreign=add_foreign,
            fail_writes=fail_writes,
        )
    finally:
        sim.stop()

"""The EdgeRouter simulator as a contract harness."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.model import Binding, Desired
from providers.edgemax.provider import EdgemaxProvider
from providers.edgemax.session import EdgeSession
from providers.edgemax.sim.server import start_simulator
from tests import addresses as A
from tests.providers.contract import Harness
from tests.providers.edgemax.sim_fixtures import LAB_BOOT, edgemax_settings, lab_config

SN = "service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"


@contextmanager
def harness(tmp_path: Path) -> Iterator[Harness]:
    sim = start_simulator(tmp_path / "router", config_boot=LAB_BOOT, users={"ubnt": "password"})
    try:
        settings = edgemax_settings(sim)
        config = lab_config(settings)

        def add_foreign():  # type: ignore[no-untyped-def]
            with EdgeSession(settings, config) as session:
                session.configure([f"set {SN} static-mapping byhand ip-address 192.168.1.30",
                                   f"set {SN} static-mapping byhand mac-address 02:00:00:00:00:30"])
            return A.edgemax_dhcp_mapping("LAN", "byhand")

        def fail_writes() -> None:
            sim.faults.fail_next_commit = True

        yield Harness(
            config=config,
            key="edgemax",
            provider=lambda: EdgemaxProvider(config, settings),
            desired=Desired(bindings=(
                Binding("lan", "web01", "bc:24:11:00:00:01", "192.168.1.20", origin="config"),
                Binding("lan", "db01", "bc:24:11:00:00:02", "192.168.1.21", origin="config"),
            )),
            writes=lambda: sim.log.commits,
            add_foreign=add_foreign,
            fail_writes=fail_writes,
        )
    finally:
        sim.stop()

"""The Proxmox VE simulator as a contract harness (write-back of tagged guests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.model import Binding, Desired
from providers.proxmox.provider import ProxmoxProvider
from providers.proxmox.sim.server import start_simulator
from tests import addresses as A
from tests.providers.contract import Harness
from tests.providers.proxmox.conftest import lab_seed, make_config


@contextmanager
def harness(tmp_path: Path) -> Iterator[Harness]:
    sim = start_simulator(lab_seed(), tmp_path / "pve")
    try:
        config = make_config(sim)
        settings = config.settings("proxmox")
        # 101 (qemu) and 201 (lxc) carry the write-back tag; their bindings get new addresses
        web = A.proxmox_ref("pve1", 101, "qemu", "net0", True, "192.168.1.10/24", "192.168.1.1")
        ct = A.proxmox_ref("pve2", 201, "lxc", "net0", True, "192.168.1.20/24", "192.168.1.1")
        yield Harness(
            config=config,
            key="proxmox",
            provider=lambda: ProxmoxProvider(config, settings),
            desired=Desired(bindings=(
                Binding("lan", "web01", None, "192.168.1.50", origin="proxmox", origin_refs=(web,)),
                Binding("lan", "ct01", None, "192.168.1.60", origin="proxmox", origin_refs=(ct,)),
            )),
            writes=lambda: sum(1 for e in sim.log if e.method in ("PUT", "POST", "DELETE")),
            # an untagged guest's NIC: there, but not netsot's to write
            add_foreign=lambda: A.proxmox_ipconfig("pve1", 102, "net0"),
            fail_writes=lambda: setattr(sim.knobs, "fail_nth", 1),
        )
    finally:
        sim.stop()

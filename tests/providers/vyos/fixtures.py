"""A VyOS simulator with netsot's settings and a one-network config pointing at it."""

from __future__ import annotations

from core.config import Config, Network
from providers.vyos.settings import VyosNetwork, VyosSettings
from providers.vyos.sim.server import SimHandle

# a lab router in either dialect: one shared network LAN, 192.168.1.0/24 (1.5: subnet-id 1)
LAB = {
    "1.4": """\
set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 default-router '192.168.1.1'
set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 range 0 start '192.168.1.100'
set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 range 0 stop '192.168.1.199'
set system host-name 'cabin'
""",
    "1.5": """\
set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 option default-router '192.168.1.1'
set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 range 0 start '192.168.1.100'
set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 range 0 stop '192.168.1.199'
set service dhcp-server shared-network-name LAN subnet 192.168.1.0/24 subnet-id '1'
set system host-name 'cabin'
""",
}


def vyos_settings(sim: SimHandle, **overrides: object) -> VyosSettings:
    data: dict[str, object] = {"url": sim.url, "api_key": sim.key, "ca_bundle": str(sim.ca_path),
                               "timeout": 10}
    data.update(overrides)
    if "fingerprint" in overrides:
        data.pop("ca_bundle")
    return VyosSettings(**data)  # type: ignore[arg-type]


def lab_config(settings: VyosSettings) -> Config:
    lan = Network(
        name="lan",
        prefix="192.168.1.0/24",  # type: ignore[arg-type]
        gateway="192.168.1.1",  # type: ignore[arg-type]
        domain="lab.example",
        dhcp_range={"start": "192.168.1.100", "stop": "192.168.1.199"},  # type: ignore[arg-type]
        vyos=VyosNetwork(shared_network="LAN"),
    )
    return Config(providers={"vyos": settings}, networks=(lan,))

"""Fixtures for the I/O tests: an in-process EdgeOS simulator on loopback, a client key, settings.

Kept out of conftest.py (which the pure-part tests own); test modules import these names.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncssh
import pytest

from core.config import Config, Network
from providers.edgemax.settings import EdgemaxNetwork, EdgemaxSettings
from providers.edgemax.sim.server import SimHandle, Simulator, start_simulator

LAB_BOOT = """\
interfaces {
    ethernet eth0 {
        address dhcp
    }
    ethernet eth1 {
        address 192.168.1.1/24
    }
}
service {
    dhcp-server {
        disabled false
        hostfile-update disable
        shared-network-name LAN {
            authoritative enable
            subnet 192.168.1.0/24 {
                default-router 192.168.1.1
                dns-server 192.168.1.1
                domain-name lab.example
                lease 86400
                start 192.168.1.100 {
                    stop 192.168.1.199
                }
                static-mapping nas {
                    ip-address 192.168.1.10
                    mac-address 00:11:32:aa:bb:cc
                }
            }
        }
        static-arp disable
        use-dnsmasq disable
    }
    dns {
        forwarding {
            cache-size 150
            listen-on eth1
        }
    }
    ssh {
        port 22
    }
}
system {
    domain-name lab.example
    host-name edge
    login {
        user ubnt {
            authentication {
                encrypted-password $6$REDACTEDsalt$REDACTEDhash
            }
            level admin
        }
    }
    static-host-mapping {
        host-name nas.lab.example {
            inet 192.168.1.10
        }
    }
}


/* Warning: Do not remove the following line. */
/* === vyatta-config-version: "dhcp-server@4:system@4" === */
/* Release version: v2.0.9-hotfix.7 */
"""


@pytest.fixture(scope="session")
def host_key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Host keys generated once (RSA generation is slow) and copied into every router's state dir."""
    path = tmp_path_factory.mktemp("edgemax-hostkeys")
    sim = Simulator(path, config_boot=LAB_BOOT)
    sim.port = 1
    sim._write_known_hosts()  # creates the deliberately wrong keys too
    return path


@pytest.fixture(scope="session")
def client_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An ed25519 client key: (private key file with mode 0600, public key line)."""
    path = tmp_path_factory.mktemp("edgemax-client") / "id_ed25519"
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(path))
    path.chmod(0o600)
    return path, key.export_public_key().decode().strip()


@pytest.fixture
def make_sim(
    tmp_path: Path, host_key_dir: Path, client_key: tuple[Path, str]
) -> Iterator[Callable[..., SimHandle]]:
    handles: list[SimHandle] = []

    def make(config_boot: str = LAB_BOOT, **kwargs: object) -> SimHandle:
        state = tmp_path / f"router{len(handles)}"
        shutil.copytree(host_key_dir, state)
        kwargs.setdefault("authorized_keys", client_key[1])
        handle = start_simulator(state, config_boot=config_boot, **kwargs)  # type: ignore[arg-type]
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop()


@pytest.fixture
def sim(make_sim: Callable[..., SimHandle]) -> SimHandle:
    return make_sim()


def edgemax_settings(sim: SimHandle, **overrides: object) -> EdgemaxSettings:
    data: dict[str, object] = {
        "host": "127.0.0.1",
        "port": sim.port,
        "username": "ubnt",
        "password": "password",
        "known_hosts": str(sim.known_hosts),
        "timeout": 5,
    }
    data.update(overrides)
    if "private_key" in overrides:
        data.pop("password", None)
    return EdgemaxSettings(**data)  # type: ignore[arg-type]


def lab_config(settings: EdgemaxSettings) -> Config:
    lan = Network(
        name="lan",
        prefix="192.168.1.0/24",  # type: ignore[arg-type]
        gateway="192.168.1.1",  # type: ignore[arg-type]
        domain="lab.example",
        dhcp_range={"start": "192.168.1.100", "stop": "192.168.1.199"},  # type: ignore[arg-type]
        edgemax=EdgemaxNetwork(shared_network="LAN"),
    )
    return Config(providers={"edgemax": settings}, networks=(lan,))

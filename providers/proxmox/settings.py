"""Proxmox VE settings: ``providers.proxmox`` and ``networks[].proxmox``.

Owns: the validated settings of one Proxmox cluster and the per-network rule that says which
guest NICs belong to a network (bridge and VLAN tag). Must not: do I/O.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from core.config import Frozen, NetworkSettings, Seconds, SystemSettings
from core.secrets import SecretField

RESTART_POLICIES = ("never", "when-stopped", "now")


class ProxmoxWriteback(Frozen):
    """What netsot does about a running VM whose cloud-init address it writes back.

    A running guest keeps its old address until it boots from a rebuilt cloud-init drive
    (``pending restart``). ``never``: write, regenerate the drive, and wait for the owner's restart;
    ``when-stopped``: write only to stopped guests (a running guest's write-back waits);
    ``now``: restart the guest through Proxmox's API (``POST …/status/reboot``) after writing.
    """

    restart: Literal["never", "when-stopped", "now"] = "never"
    restart_timeout: Seconds = 120  # how long a `now` restart may take (shutdown + start)


class ProxmoxSettings(SystemSettings):
    KIND: ClassVar[str] = "proxmox"

    host: str
    port: int = Field(8006, ge=1, le=65535)
    user: str
    token_name: str
    token_value: SecretField
    verify_tls: bool | str = True  # True, False or a CA bundle path (made absolute at load)
    timeout: Seconds = 10
    agent_timeout: Seconds = 5
    max_workers: int = Field(8, ge=1, le=64)
    max_response_bytes: int = Field(64 * 1024 * 1024, ge=1024)  # a larger answer is refused
    writeback_tag: str = "netsot-static"
    writeback: ProxmoxWriteback = ProxmoxWriteback()


class ProxmoxNetwork(NetworkSettings):
    KIND: ClassVar[str] = "proxmox"

    bridge: str
    vlan: int | None = Field(None, ge=1, le=4094)

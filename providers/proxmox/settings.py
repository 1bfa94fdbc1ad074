"""Proxmox VE settings: ``providers.proxmox`` and ``networks[].proxmox``.

Owns: the validated settings of one Proxmox cluster and the per-network rule that says which
guest NICs belong to a network (bridge and VLAN tag). Must not: do I/O.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from core.config import NetworkSettings, Seconds, SystemSettings
from core.secrets import SecretField


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


class ProxmoxNetwork(NetworkSettings):
    KIND: ClassVar[str] = "proxmox"

    bridge: str
    vlan: int | None = Field(None, ge=1, le=4094)

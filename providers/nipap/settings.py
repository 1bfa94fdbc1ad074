"""NIPAP settings: ``providers.nipap`` and ``networks[].nipap`` (only ``instance``).

Owns: the validated settings of one nipapd. Must not: do I/O.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from core.config import NetworkSettings, Seconds, SystemSettings
from core.secrets import SecretField


class NipapSettings(SystemSettings):
    KIND: ClassVar[str] = "nipap"

    url: str
    username: str
    password: SecretField
    vrf: str | None = None  # rt or name; None = default VRF (id 0)
    timeout: Seconds = 10
    manage_prefixes: bool = False
    max_workers: int = Field(4, ge=1, le=32)
    retries: int = Field(8, ge=0, le=50)


class NipapNetwork(NetworkSettings):
    KIND: ClassVar[str] = "nipap"

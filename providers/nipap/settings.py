"""NIPAP settings: ``providers.nipap`` and ``networks[].nipap`` (only ``instance``).

Owns: the validated settings of one nipapd. Must not: do I/O.
"""

from __future__ import annotations

from typing import ClassVar, Literal

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
    retries: int = Field(8, ge=0, le=50)  # resends of one call: transient faults, lost allocation races
    # after this many calls in a row got no answer within `timeout`, the rest of the apply's NIPAP
    # changes are abandoned (reported as skipped; other systems go on)
    give_up_after_timeouts: int = Field(3, ge=1, le=1000)
    max_response_bytes: int = Field(64 * 1024 * 1024, ge=1024)  # a larger answer is refused
    # which hosts made in NIPAP (not by netsot) are bindings: "tagged" (the host or its prefix
    # carries binding_tag), "all" (every host with a node name and a MAC), "none"
    bindings: Literal["tagged", "all", "none"] = "tagged"
    binding_tag: str = Field("netsot", min_length=1)
    mac_avp: str = Field("mac", min_length=1)  # the avp that holds a host's MAC


class NipapNetwork(NetworkSettings):
    KIND: ClassVar[str] = "nipap"

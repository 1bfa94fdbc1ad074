"""EdgeRouter settings: ``providers.edgemax`` and ``networks[].edgemax``.

Owns: the validated SSH settings of one router and the per-network DHCP shared network.
Must not: do I/O.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from core.config import NetworkSettings, SystemSettings
from core.secrets import SecretField


class EdgemaxSettings(SystemSettings):
    KIND: ClassVar[str] = "edgemax"

    host: str
    port: int = Field(22, ge=1, le=65535)
    username: str
    password: SecretField | None = None
    private_key: str | None = None
    known_hosts: str = "~/.ssh/known_hosts"
    ssh_config: str = "/dev/null"
    timeout: float = Field(30, gt=0)
    dns_server: str | None = None  # "host:port" the router's resolver answers on (verify)
    commit_comment: str = "netsot"

    @model_validator(mode="after")
    def _auth(self) -> EdgemaxSettings:
        if (self.password is None) == (self.private_key is None):
            raise ValueError("give exactly one of password or private_key")
        return self


class EdgemaxNetwork(NetworkSettings):
    KIND: ClassVar[str] = "edgemax"

    shared_network: str

"""EdgeRouter settings: ``providers.edgemax`` and ``networks[].edgemax``.

Owns: the validated SSH settings of one router and the per-network DHCP shared network.
Must not: do I/O.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from core.config import NetworkSettings, Seconds, SystemSettings
from core.secrets import SecretField

# What may follow `commit comment` on the router: it is typed into a shell inside double quotes,
# so it never carries syntax. Checked at config load and again by the EdgeOS session.
SAFE_COMMENT = re.compile(r"[A-Za-z0-9 ._:/-]{1,80}")
COMMENT_RULE = "may only hold letters, digits, spaces and . _ - : / (at most 80 characters)"


def check_commit_comment(value: str) -> str:
    if value and not SAFE_COMMENT.fullmatch(value):
        raise ValueError(f"commit_comment {COMMENT_RULE}")
    return value


class EdgemaxSettings(SystemSettings):
    KIND: ClassVar[str] = "edgemax"

    host: str
    port: int = Field(22, ge=1, le=65535)
    username: str
    password: SecretField | None = None
    private_key: str | None = None
    known_hosts: str = "~/.ssh/known_hosts"
    ssh_config: str = "/dev/null"
    timeout: Seconds = 30
    dns_server: str | None = None  # "host:port" the router's resolver answers on (verify)
    commit_comment: str = "netsot"
    # `static-host-mapping … inet`: one value or several? (edgeos.md §11.5: single in every Vyatta
    # template, multi in VyOS, unsettled for EdgeOS 2.x). "auto": several only when the router's own
    # config shows two values on one host name; netsot never relies on two values otherwise.
    inet_values: Literal["auto", "multi", "single"] = "auto"

    @field_validator("commit_comment")
    @classmethod
    def _comment(cls, v: str) -> str:
        return check_commit_comment(v)

    @model_validator(mode="after")
    def _auth(self) -> EdgemaxSettings:
        if (self.password is None) == (self.private_key is None):
            raise ValueError("give exactly one of password or private_key")
        return self


class EdgemaxNetwork(NetworkSettings):
    KIND: ClassVar[str] = "edgemax"

    shared_network: str

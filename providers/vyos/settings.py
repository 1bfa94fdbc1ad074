"""VyOS settings: ``providers.vyos`` and ``networks[].vyos``.

Owns: the validated HTTPS API settings of one router (URL, API key as a secret reference, TLS by a
CA bundle or a pinned SHA-256 certificate fingerprint — never unverified), the dialect override,
the opt-in commit-confirm, and the per-network DHCP shared network.
Must not: do I/O.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from core.config import NetworkSettings, Seconds, SystemSettings
from core.secrets import SecretField

_FINGERPRINT = re.compile(r"(?i)(sha256:)?([0-9a-f]{2}[: ]?){31}[0-9a-f]{2}")


class VyosSettings(SystemSettings):
    KIND: ClassVar[str] = "vyos"

    url: str  # https://router[:port]
    api_key: SecretField
    ca_bundle: str | None = None
    fingerprint: str | None = None  # SHA-256 of the router's certificate (VyOS's is self-signed)
    timeout: Seconds = 60
    dialect: Literal["auto", "1.4", "1.5"] = "auto"
    dns_server: str | None = None  # "host:port" the router's resolver answers on (verify)
    # VyOS 1.5 commit-confirm: the apply is confirmed only after `verify` passes (None: plain commit)
    commit_confirm: int | None = Field(None, ge=1, le=60)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith("https://") or len(v) <= len("https://"):
            raise ValueError("url must be https://HOST[:PORT] (VyOS's API is HTTPS only)")
        return v.rstrip("/")

    @field_validator("fingerprint")
    @classmethod
    def _fingerprint(cls, v: str | None) -> str | None:
        if v is not None and not _FINGERPRINT.fullmatch(v.strip()):
            raise ValueError("fingerprint must be a SHA-256 fingerprint: 32 hex bytes, e.g. AB:CD:…")
        return v

    @model_validator(mode="after")
    def _tls(self) -> VyosSettings:
        if (self.ca_bundle is None) == (self.fingerprint is None):
            raise ValueError("give exactly one of ca_bundle or fingerprint (TLS is never unverified)")
        return self

    @property
    def dialect_override(self) -> str | None:
        return None if self.dialect == "auto" else self.dialect


class VyosNetwork(NetworkSettings):
    KIND: ClassVar[str] = "vyos"

    shared_network: str

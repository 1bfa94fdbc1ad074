"""Configuration: the frozen models of ``netsot.yaml``.

Owns: the typed, validated configuration (networks, hosts, providers, precedence,
policy) and secret references that resolve only when a provider needs them.
Must not: resolve secrets eagerly, or let a secret value reach state, plans or logs.

Loading (YAML with file:line:column on every problem, schema validation against
``schemas/config.schema.json``, then these models) lives in ``engine.configload``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from engine.errors import SecretError

HOSTNAME_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAC_RE = re.compile(
    r"^[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}$"
    r"|^[0-9a-f]{12}$|^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$"
)
SECRET_RE = re.compile(r"^\$\{(env|file):([^}]+)\}$")


def normalize_mac(value: str) -> str:
    """``00-11-32-AA-BB-CC`` / ``0011.32aa.bbcc`` / ``0:11:32:aa:bb:cc`` → ``00:11:32:aa:bb:cc``."""
    text = str(value).strip().lower()
    if not MAC_RE.match(text):
        raise ValueError(f"{value!r} is not a MAC address")
    if ":" in text or "-" in text:
        parts = re.split(r"[:-]", text)
        return ":".join(p.zfill(2) for p in parts)
    digits = text.replace(".", "")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def validate_hostname(value: str) -> str:
    """A single DNS label: lower-case letters, digits and inner hyphens, at most 63."""
    text = str(value)
    if not HOSTNAME_RE.match(text):
        raise ValueError(
            f"{value!r} is not a valid host name (one DNS label: a-z, 0-9 and inner '-', at most 63)"
        )
    return text


class Secret:
    """A secret reference (``${env:NAME}``, ``${file:PATH}``) or a literal, resolved lazily.

    ``repr`` and ``str`` never show the value.
    """

    __slots__ = ("_base", "_ref")

    def __init__(self, ref: str, base: Path | None = None) -> None:
        self._ref = ref
        self._base = base

    @property
    def reference(self) -> str:
        """The reference text if it is one (safe to show), else ``"<literal>"``."""
        return self._ref if SECRET_RE.match(self._ref) else "<literal>"

    def resolve(self) -> str:
        match = SECRET_RE.match(self._ref)
        if not match:
            return self._ref
        kind, name = match.groups()
        if kind == "env":
            if name not in os.environ:
                raise SecretError(f"environment variable {name} is not set (referenced as ${{env:{name}}})")
            return os.environ[name]
        path = Path(name).expanduser()
        if not path.is_absolute() and self._base is not None:
            path = self._base / path
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise SecretError(f"cannot read secret file {path}: {exc.strerror}") from None

    def __repr__(self) -> str:
        return f"Secret({self.reference!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._ref == self._ref

    def __hash__(self) -> int:
        return hash(self._ref)


def _to_secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string or a ${env:NAME} / ${file:PATH} reference")
    return Secret(value)


SecretField = Annotated[Secret, BeforeValidator(_to_secret)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class StateSettings(_Frozen):
    backend: Literal["file", "postgres"] = "file"
    path: str = "netsot.state.json"
    dsn: SecretField | None = None
    key: str = "default"  # postgres: which state row (workspace)


# What may follow `commit comment` on the router: it is typed into a shell inside double quotes,
# so it never carries syntax. Checked at config load and again by the EdgeOS session.
SAFE_COMMENT = re.compile(r"[A-Za-z0-9 ._:/-]{1,80}")
COMMENT_RULE = "may only hold letters, digits, spaces and . _ - : / (at most 80 characters)"


def check_commit_comment(value: str) -> str:
    if value and not SAFE_COMMENT.fullmatch(value):
        raise ValueError(f"commit_comment {COMMENT_RULE}")
    return value


Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]  # a finite, positive duration


class ProxmoxSettings(_Frozen):
    host: str
    port: int = Field(8006, ge=1, le=65535)
    user: str
    token_name: str
    token_value: SecretField
    verify_tls: bool | str = True  # True, False or a CA bundle path (made absolute at load)
    timeout: Seconds = 10
    agent_timeout: Seconds = 5
    max_workers: int = Field(8, ge=1, le=64)
    writeback_tag: str = "netsot-static"


class NipapSettings(_Frozen):
    url: str
    username: str
    password: SecretField
    vrf: str | None = None  # rt or name; None = default VRF (id 0)
    timeout: Seconds = 10
    manage_prefixes: bool = False
    max_workers: int = Field(4, ge=1, le=32)
    retries: int = Field(8, ge=0, le=50)


class EdgemaxSettings(_Frozen):
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

    @field_validator("commit_comment")
    @classmethod
    def _comment(cls, v: str) -> str:
        return check_commit_comment(v)

    @model_validator(mode="after")
    def _auth(self) -> EdgemaxSettings:
        if (self.password is None) == (self.private_key is None):
            raise ValueError("give exactly one of password or private_key")
        return self


class Providers(_Frozen):
    proxmox: ProxmoxSettings | None = None
    nipap: NipapSettings | None = None
    edgemax: EdgemaxSettings | None = None

    def configured(self) -> tuple[str, ...]:
        return tuple(n for n in ("proxmox", "nipap", "edgemax") if getattr(self, n) is not None)


class DhcpRange(_Frozen):
    start: ipaddress.IPv4Address
    stop: ipaddress.IPv4Address

    @model_validator(mode="after")
    def _order(self) -> DhcpRange:
        if int(self.stop) < int(self.start):
            raise ValueError("stop is before start")
        return self

    def __contains__(self, ip: object) -> bool:
        addr = ipaddress.IPv4Address(str(ip))
        return int(self.start) <= int(addr) <= int(self.stop)


class NetworkProxmox(_Frozen):
    bridge: str
    vlan: int | None = Field(None, ge=1, le=4094)


class NetworkEdgemax(_Frozen):
    shared_network: str


class Network(_Frozen):
    name: str
    prefix: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address | None = None
    domain: str | None = None
    dns_owner: bool = False  # owns the names of a domain it shares with other networks
    dhcp_range: DhcpRange | None = None
    proxmox: NetworkProxmox | None = None
    edgemax: NetworkEdgemax | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$", v):
            raise ValueError(f"{v!r} is not a valid network name (letters, digits, '-', '_')")
        return v

    @model_validator(mode="after")
    def _inside(self) -> Network:
        for label, ip in (("gateway", self.gateway),):
            if ip is not None and ip not in self.prefix:
                raise ValueError(f"{label} {ip} is outside {self.prefix}")
        if self.dhcp_range is not None:
            for ip in (self.dhcp_range.start, self.dhcp_range.stop):
                if ip not in self.prefix:
                    raise ValueError(f"dhcp_range {ip} is outside {self.prefix}")
        return self


class Host(_Frozen):
    name: str
    network: str
    mac: str | None = None
    ip: ipaddress.IPv4Address | None = None
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return validate_hostname(v)

    @field_validator("mac")
    @classmethod
    def _mac(cls, v: str | None) -> str | None:
        return None if v is None else normalize_mac(v)


SOURCES = ("config", "nipap", "proxmox", "edgemax")
SourceName = Literal["config", "nipap", "proxmox", "edgemax"]


class Precedence(_Frozen):
    ip: tuple[SourceName, ...] = ("config", "nipap", "proxmox", "edgemax")
    hostname: tuple[SourceName, ...] = ("config", "proxmox", "nipap", "edgemax")
    mac: tuple[SourceName, ...] = ("config", "proxmox", "edgemax")

    @field_validator("ip", "hostname", "mac")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("a source is listed twice")
        if not v:
            raise ValueError("must list at least one source")
        return v


class Policy(_Frozen):
    # updates/deletes vs owned objects, per system
    max_change_percent: float = Field(30, ge=0, le=100, allow_inf_nan=False)
    min_existing: int = Field(10, ge=0)  # thresholds apply only above this many owned objects
    # plan: deletes are planned and need an interactive apply; auto: the service may delete too
    delete: Literal["plan", "auto", "never"] = "plan"
    orphan_grace: str = "0s"  # e.g. "24h": an orphan is only deleted after this long
    delete_budget: int | None = Field(None, ge=0)  # max deletes per run
    protected: tuple[str, ...] = ()  # address globs never deleted


class Config(_Frozen):
    version: Literal[1] = 1
    state: StateSettings = StateSettings()
    providers: Providers = Providers()
    networks: tuple[Network, ...] = ()
    hosts: tuple[Host, ...] = ()
    precedence: Precedence = Precedence()
    policy: Policy = Policy()
    source_path: str | None = Field(None, exclude=True)  # the file it came from

    def network(self, name: str) -> Network:
        for net in self.networks:
            if net.name == name:
                return net
        raise KeyError(name)

    @property
    def base_dir(self) -> Path:
        return Path(self.source_path).resolve().parent if self.source_path else Path.cwd()

    def resolve_path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder, ``~`` expanded."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

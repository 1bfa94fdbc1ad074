"""Configuration: the generic frozen models of ``netsot.yaml``.

Owns: networks, hosts, precedence, policy, the state settings and the two base classes a system
plugs its own settings into — ``SystemSettings`` (``providers.<kind>[.<instance>]``) and
``NetworkSettings`` (``networks[].<kind>``) — plus the rules that say which system instance
serves which network.
Must not: know any system (``engine.config.load`` validates each system's part with the models its
descriptor declares, then builds these), resolve secrets, or do I/O.

System instances: ``providers:`` maps an instance key to its settings. The key is the system's
kind (``edgemax``: the unnamed, default instance) or ``kind.instance`` (``edgemax.cabin``). A
network is served by the instance its ``networks[].<kind>.instance`` names, else by the kind's
default instance: the unnamed one, or the only one.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator, model_validator

from core.names import hostname_problem, normalize_mac, validate_hostname
from core.secrets import SecretField

INSTANCE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
KIND_RE = re.compile(r"^[a-z][a-z0-9]{0,31}$")


Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]  # a finite, positive duration


def system_key(kind: str, instance: str = "") -> str:
    """``edgemax`` / ``edgemax.cabin``: how state, plans and observations name a system instance."""
    return f"{kind}.{instance}" if instance else kind


def split_key(key: str) -> tuple[str, str]:
    """``edgemax.cabin`` → ``("edgemax", "cabin")``; ``edgemax`` → ``("edgemax", "")``."""
    kind, _, instance = key.partition(".")
    return kind, instance


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class SystemSettings(Frozen):
    """Base of one system's settings (``providers.<kind>``); ``KIND`` names the system."""

    KIND: ClassVar[str] = ""


class NetworkSettings(Frozen):
    """Base of one system's per-network settings (``networks[].<kind>``)."""

    KIND: ClassVar[str] = ""
    instance: str | None = None  # which instance of the kind serves the network (default: the default one)

    @field_validator("instance")
    @classmethod
    def _instance(cls, v: str | None) -> str | None:
        if v is not None and not INSTANCE_RE.match(v):
            raise ValueError(f"{v!r} is not an instance name (a-z, then a-z, 0-9, '-', '_'; at most 32)")
        return v


class StateSettings(Frozen):
    backend: Literal["file", "postgres"] = "file"
    path: str = "netsot.state.json"
    dsn: SecretField | None = None
    key: str = "default"  # postgres: which state row (workspace)


class DhcpRange(Frozen):
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


def _typed_systems(values: Mapping[str, Any], base: type[Frozen], where: str) -> dict[str, Any]:
    """Keys that are not core fields must be a system's own settings model (never raw data here)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        kind = split_key(str(key))[0]
        if not isinstance(value, base):
            raise ValueError(f"unknown key {key!r} in {where}")
        declared = getattr(value, "KIND", "")
        if declared and declared != kind:
            raise ValueError(f"{where} {key!r} holds settings of {declared!r}")
        out[str(key)] = value
    return out


class Network(Frozen):
    name: str
    prefix: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address | None = None
    domain: str | None = None
    dns_owner: bool = False  # owns the names of a domain it shares with other networks
    dhcp_range: DhcpRange | None = None
    # kind -> that system's per-network settings (``networks[].<kind>`` in the file)
    systems: Mapping[str, SerializeAsAny[NetworkSettings]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        systems = dict(data.get("systems") or {})
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in cls.model_fields and key != "systems":
                out[key] = value
            elif key != "systems":
                systems[key] = value
        out["systems"] = _typed_systems(systems, NetworkSettings, "network")
        return out

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$", v):
            raise ValueError(f"{v!r} is not a valid network name (letters, digits, '-', '_')")
        return v

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        """A DNS name (one trailing '.' allowed); a newline or a bad label would make every host of the
        network a conflict at plan time."""
        if v is None:
            return v
        problem = hostname_problem(v.lower().removesuffix(".") if v.endswith(".") and v != "." else v.lower())
        if problem:
            raise ValueError(f"{v!r} is not a valid DNS domain: it {problem}")
        return v

    @model_validator(mode="after")
    def _inside(self) -> Network:
        if self.gateway is not None and self.gateway not in self.prefix:
            raise ValueError(f"gateway {self.gateway} is outside {self.prefix}")
        if self.dhcp_range is not None:
            for ip in (self.dhcp_range.start, self.dhcp_range.stop):
                if ip not in self.prefix:
                    raise ValueError(f"dhcp_range {ip} is outside {self.prefix}")
        return self

    def settings_for(self, kind: str) -> Any:
        """This network's settings for system ``kind`` (``networks[].<kind>``), or None."""
        return self.systems.get(kind)


class Host(Frozen):
    name: str
    network: str
    mac: str | None = None
    ip: ipaddress.IPv4Address | None = None
    description: str = ""
    # the host's extra names (service names, CNAME-like names); None: not given (other sources may
    # name them), (): it has none
    aliases: tuple[str, ...] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return validate_hostname(v)

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is None:
            return v
        for alias in v:
            validate_hostname(alias)
        if len(set(v)) != len(v):
            raise ValueError("an alias is listed twice")
        return v

    @model_validator(mode="after")
    def _not_its_name(self) -> Host:
        if self.aliases and self.name in self.aliases:
            raise ValueError(f"alias {self.name!r} is the host's own name")
        return self

    @field_validator("mac")
    @classmethod
    def _mac(cls, v: str | None) -> str | None:
        return None if v is None else normalize_mac(v)


class Precedence(Frozen):
    """Per-attribute source order; None means the order the registered systems declare."""

    ip: tuple[str, ...] | None = None
    hostname: tuple[str, ...] | None = None
    mac: tuple[str, ...] | None = None

    @field_validator("ip", "hostname", "mac")
    @classmethod
    def _unique(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is None:
            return v
        if len(set(v)) != len(v):
            raise ValueError("a source is listed twice")
        if not v:
            raise ValueError("must list at least one source")
        return v


class Policy(Frozen):
    # updates/deletes vs owned objects, per system
    max_change_percent: float = Field(30, ge=0, le=100, allow_inf_nan=False)
    min_existing: int = Field(10, ge=0)  # thresholds apply only above this many owned objects
    # plan: deletes are planned and need an interactive apply; auto: the service may delete too
    delete: Literal["plan", "auto", "never"] = "plan"
    orphan_grace: str = "0s"  # e.g. "24h": an orphan is only deleted after this long
    delete_budget: int | None = Field(None, ge=0)  # max deletes per run
    # a delete that would also remove what netsot does not manage (Change.loses) is held unless true
    delete_unmodelled: bool = False
    protected: tuple[str, ...] = ()  # address globs never deleted


class WebSettings(Frozen):
    """The HTTP surface of ``serve --listen`` and ``ui`` (``web:``): which names it answers to and the
    limits that keep an unauthenticated client from exhausting it."""

    # Host names (or IPs) the page answers to besides the listening address's own names
    allowed_hosts: tuple[str, ...] = ()
    max_body_bytes: int = Field(65536, ge=1024)  # a larger request body gets 413
    max_header_bytes: int = Field(16384, ge=1024)  # larger request headers get 431
    header_timeout: Seconds = 10.0  # a client must send its request headers within this
    max_connections: int = Field(64, ge=1)  # connections beyond this are closed at once
    login_attempts: int = Field(5, ge=1)  # failed logins per client and minute before 429

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for host in v:
            name = host.strip().strip("[]").lower()
            if not name or any(c.isspace() or c in "/@?#\\" for c in name):
                raise ValueError(f"{host!r} is not a host name or IP address")
            out.append(name)
        return tuple(out)


class Config(Frozen):
    version: Literal[1] = 1
    state: StateSettings = StateSettings()
    # instance key ("edgemax", "edgemax.cabin") -> that system's settings
    providers: Mapping[str, SerializeAsAny[SystemSettings]] = Field(default_factory=dict)
    networks: tuple[Network, ...] = ()
    hosts: tuple[Host, ...] = ()
    precedence: Precedence = Precedence()
    policy: Policy = Policy()
    web: WebSettings = WebSettings()
    source_path: str | None = Field(None, exclude=True)  # the file it came from

    @field_validator("providers", mode="before")
    @classmethod
    def _providers(cls, v: Any) -> Any:
        if not isinstance(v, Mapping):
            return v
        for key in v:
            kind, instance = split_key(str(key))
            if not KIND_RE.match(kind) or (instance and not INSTANCE_RE.match(instance)):
                raise ValueError(f"{key!r} is not a system (KIND or KIND.INSTANCE)")
        return _typed_systems(v, SystemSettings, "providers")

    def network(self, name: str) -> Network:
        for net in self.networks:
            if net.name == name:
                return net
        raise KeyError(name)

    def instances(self, kind: str | None = None) -> tuple[str, ...]:
        """Instance keys in the order of the file, all of them or those of ``kind``."""
        return tuple(k for k in self.providers if kind is None or split_key(k)[0] == kind)

    def settings(self, key: str) -> Any:
        """The settings of instance ``key`` (``edgemax``, ``edgemax.cabin``)."""
        return self.providers[key]

    def default_instance(self, kind: str) -> str | None:
        """The instance serving networks that do not name one: the unnamed one, else the only one.

        With no instance of ``kind`` configured it is ``kind`` itself, the key its default instance
        would have (an offline read, such as an import from a backup file, serves those networks).
        """
        if kind in self.providers:
            return kind
        keys = self.instances(kind)
        if not keys:
            return kind
        return keys[0] if len(keys) == 1 else None

    def instance_for(self, network: Network, kind: str) -> str | None:
        """The key of the ``kind`` instance that serves ``network`` (None: no instance does)."""
        own = network.settings_for(kind)
        if own is not None and own.instance is not None:
            key = system_key(kind, own.instance)
            return key if key in self.providers else None
        return self.default_instance(kind)

    def networks_of(self, key: str) -> tuple[Network, ...]:
        """The networks instance ``key`` serves."""
        kind = split_key(key)[0]
        return tuple(n for n in self.networks if self.instance_for(n, kind) == key)

    @property
    def base_dir(self) -> Path:
        return Path(self.source_path).resolve().parent if self.source_path else Path.cwd()

    def resolve_path(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder, ``~`` expanded."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

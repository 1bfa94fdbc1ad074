"""Pure Proxmox data handling: property strings, tags, MACs and guest NIC extraction.

Owns: parsing/printing QEMU ``netN`` / ``ipconfigN`` and LXC ``netN`` property strings
(PVE print order), tag normalisation, single-key updates, and ``guest_nics`` which turns
one ``/cluster/resources`` entry + config + agent/LXC interface answer into a ``Guest``.
Must not: do I/O or import proxmoxer/requests. Bad data raises ``PropertyError`` (a
``ValueError``); ``guest_nics`` re-raises it as ``ProviderDataError`` naming guest and key.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from core.config import Config, Network
from core.errors import ProviderDataError
from core.model import OriginRef
from core.names import normalize_mac

SYSTEM = "proxmox"

# PVE's own MAC check (pve_verify_mac_addr): unicast only (first octet even).
MAC_RE = re.compile(r"^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$", re.IGNORECASE)
# Syntax only: what we accept when *reading* (edited samples carry multicast ff:ff:… MACs).
MAC_SYNTAX_RE = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$", re.IGNORECASE)
TAG_RE = re.compile(r"^[a-z0-9_][a-z0-9_\-+.]*$", re.IGNORECASE)
BRIDGE_RE = re.compile(r"^[-_.\w]+$")
NIC_KEY_RE = re.compile(r"^net(\d+)$")

QEMU_NET_MODELS = (
    "e1000",
    "e1000-82540em",
    "e1000-82544gc",
    "e1000-82545em",
    "e1000e",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "pcnet",
    "rtl8139",
    "virtio",
    "vmxnet3",
)
QEMU_NET_KEYS = frozenset(
    {
        "model",
        "macaddr",
        "bridge",
        "tag",
        "trunks",
        "firewall",
        "link_down",
        "queues",
        "rate",
        "mtu",
        "host-tunnel",
    }
)
LXC_NET_KEYS = frozenset(
    {
        "name",
        "bridge",
        "hwaddr",
        "ip",
        "gw",
        "ip6",
        "gw6",
        "tag",
        "trunks",
        "firewall",
        "link_down",
        "mtu",
        "rate",
        "type",
        "host-managed",
    }
)
IPCONFIG_KEYS = frozenset({"ip", "gw", "ip6", "gw6"})
BOOL_TRUE = frozenset({"1", "on", "yes", "true"})
BOOL_FALSE = frozenset({"0", "off", "no", "false"})


class PropertyError(ValueError):
    """A property string (or one of its values) is malformed; ``key`` names the bad part."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


# --------------------------------------------------------------------------- generic


def parse_property_string(text: str, default_key: str | None = None) -> dict[str, str]:
    """``a=1,b=2`` → ``{"a": "1", "b": "2"}`` (insertion order kept; no duplicate keys).

    One bare value is allowed when ``default_key`` is given (``virtio,bridge=vmbr0``).
    """
    if not isinstance(text, str):
        raise PropertyError("", f"expected a property string, got {type(text).__name__}")
    out: dict[str, str] = {}
    if text.strip() == "":
        return out
    for part in text.split(","):
        part = part.strip()
        if part == "":
            raise PropertyError("", f"empty element in {text!r}")
        key, eq, value = part.partition("=")
        if not eq:
            if default_key is None or default_key in out:
                raise PropertyError(part, f"value without a key in {text!r}")
            key, value = default_key, part
        key = key.strip()
        if key in out:
            raise PropertyError(key, f"duplicate key in {text!r}")
        out[key] = value.strip()
    return out


def print_property_string(values: Mapping[str, Any], first: Iterable[str] = ()) -> str:
    """PVE print order: the ``first`` keys (in that order), then the rest alphabetically."""
    first = [k for k in first if k in values and values[k] is not None]
    rest = sorted(k for k in values if k not in first and values[k] is not None)
    return ",".join(f"{k}={values[k]}" for k in [*first, *rest])


def update_property(text: str, key: str, value: str | None) -> str:
    """Set (or with ``None`` remove) ONE ``key=`` element, leaving every other element as written."""
    parts = [p for p in text.split(",") if p.strip() != ""] if text else []
    out: list[str] = []
    done = False
    for part in parts:
        k, eq, _ = part.partition("=")
        if eq and k.strip() == key:
            if value is not None and not done:
                out.append(f"{key}={value}")
            done = True
        else:
            out.append(part)
    if not done and value is not None:
        out.append(f"{key}={value}")
    return ",".join(out)


def parse_bool(key: str, value: str) -> int:
    """Booleans inside property strings: ``1|0|on|off|yes|no|true|false`` → 1/0."""
    low = str(value).strip().lower()
    if low in BOOL_TRUE:
        return 1
    if low in BOOL_FALSE:
        return 0
    raise PropertyError(key, f"type check ('boolean') failed - got '{value}'")


# --------------------------------------------------------------------------- values


def is_valid_mac(mac: str) -> bool:
    """PVE's MAC rule (§4.4): six octets, unicast."""
    return bool(MAC_RE.match(mac or ""))


def normalize_read_mac(key: str, mac: str) -> str:
    """A MAC as read from Proxmox (``BC:24:11:…``) → core's form; syntax checked, multicast tolerated."""
    if not MAC_SYNTAX_RE.match(mac or ""):
        raise PropertyError(key, f"invalid MAC address {mac!r}")
    return normalize_mac(mac)


def _check_vlan(key: str, value: str) -> int:
    try:
        tag = int(value)
    except (TypeError, ValueError):
        raise PropertyError(key, f"VLAN tag {value!r} is not a number") from None
    if not 1 <= tag <= 4094:
        raise PropertyError(key, f"VLAN tag {tag} is outside 1-4094")
    return tag


def _check_cidr4(key: str, value: str) -> str:
    addr, slash, plen = value.partition("/")
    try:
        ipaddress.IPv4Address(addr)
        length = int(plen)
    except ValueError:
        raise PropertyError(key, f"invalid IPv4 CIDR {value!r}") from None
    if not slash or not 7 < length <= 32:
        raise PropertyError(key, f"invalid IPv4 CIDR {value!r} (prefix must be 8-32)")
    return value


def _check_ip4(key: str, value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise PropertyError(key, f"invalid IPv4 address {value!r}") from None
    return value


def _check_cidr6(key: str, value: str) -> str:
    try:
        ipaddress.IPv6Interface(value)
    except ValueError:
        raise PropertyError(key, f"invalid IPv6 CIDR {value!r}") from None
    if "/" not in value:
        raise PropertyError(key, f"invalid IPv6 CIDR {value!r} (prefix missing)")
    return value


def _check_ip6(key: str, value: str) -> str:
    try:
        ipaddress.IPv6Address(value.split("%", 1)[0])
    except ValueError:
        raise PropertyError(key, f"invalid IPv6 address {value!r}") from None
    return value


def _check_ip_fields(prefix: str, values: dict[str, str]) -> None:
    """ip/gw/ip6/gw6 rules shared by ``ipconfigN`` and LXC ``netN`` (schema level, as the API)."""
    if "ip" in values and values["ip"] not in ("dhcp", "manual"):
        _check_cidr4(f"{prefix}.ip", values["ip"])
    if "gw" in values:
        _check_ip4(f"{prefix}.gw", values["gw"])
        if "ip" not in values:
            raise PropertyError(f"{prefix}.gw", f"missing property - '{prefix}.gw' requires 'ip'")
    if "ip6" in values and values["ip6"] not in ("dhcp", "auto", "manual"):
        _check_cidr6(f"{prefix}.ip6", values["ip6"])
    if "gw6" in values:
        _check_ip6(f"{prefix}.gw6", values["gw6"])
        if "ip6" not in values:
            raise PropertyError(f"{prefix}.gw6", f"missing property - '{prefix}.gw6' requires 'ip6'")


# --------------------------------------------------------------------------- QEMU netN


def parse_qemu_net(text: str, key: str = "net") -> dict[str, str]:
    """QEMU ``netN`` → ``{"model", "macaddr"?, "bridge"?, "tag"?, ...}``.

    Accepts ``virtio=<MAC>`` (model alias), bare ``virtio`` and ``model=virtio,macaddr=…``.
    """
    raw = parse_property_string(text, default_key="model")
    out: dict[str, str] = {}
    for k, v in raw.items():
        if k in QEMU_NET_MODELS:
            if "model" in raw or "model" in out:
                raise PropertyError(f"{key}.{k}", "model given twice")
            out["model"] = k
            out["macaddr"] = v
        elif k in QEMU_NET_KEYS:
            out[k] = v
        else:
            raise PropertyError(f"{key}.{k}", "property is not defined in schema")
    if "model" not in out:
        raise PropertyError(f"{key}.model", "missing property - model is required")
    if out["model"] not in QEMU_NET_MODELS:
        raise PropertyError(f"{key}.model", f"unknown NIC model {out['model']!r}")
    if "macaddr" in out:
        normalize_read_mac(f"{key}.macaddr", out["macaddr"])
    if "bridge" in out and not BRIDGE_RE.match(out["bridge"]):
        raise PropertyError(f"{key}.bridge", f"invalid bridge name {out['bridge']!r}")
    if "tag" in out:
        _check_vlan(f"{key}.tag", out["tag"])
    return out


def print_qemu_net(values: Mapping[str, Any]) -> str:
    """Canonical ``<model>=<MAC>,bridge=…,firewall=…,tag=…`` (PVE's print_net order)."""
    rest = {k: v for k, v in values.items() if k not in ("model", "macaddr")}
    head = f"{values['model']}={values['macaddr']}" if values.get("macaddr") else str(values["model"])
    tail = print_property_string(rest)
    return f"{head},{tail}" if tail else head


# --------------------------------------------------------------------------- ipconfigN


def parse_ipconfig(text: str, key: str = "ipconfig") -> dict[str, str]:
    """``ip=192.0.2.10/24,gw=192.0.2.1,ip6=auto`` → dict, validated like the PVE API does."""
    values = parse_property_string(text)
    for k in values:
        if k not in IPCONFIG_KEYS:
            raise PropertyError(f"{key}.{k}", "property is not defined in schema")
    _check_ip_fields(key, values)
    return values


def ipconfig_equal(a: str | None, b: str | None) -> bool:
    """Compare two ``ipconfigN`` strings by meaning (PVE stores them as sent)."""
    return parse_ipconfig(a or "") == parse_ipconfig(b or "")


# --------------------------------------------------------------------------- LXC netN


def parse_lxc_net(text: str, key: str = "net") -> dict[str, str]:
    """LXC ``netN`` → dict (``name`` required)."""
    values = parse_property_string(text)
    for k in values:
        if k not in LXC_NET_KEYS:
            raise PropertyError(f"{key}.{k}", "property is not defined in schema")
    if "name" not in values:
        raise PropertyError(f"{key}.name", "missing property - 'name' is required")
    if not BRIDGE_RE.match(values["name"]):
        raise PropertyError(f"{key}.name", f"invalid interface name {values['name']!r}")
    if "hwaddr" in values:
        normalize_read_mac(f"{key}.hwaddr", values["hwaddr"])
    if "bridge" in values and not BRIDGE_RE.match(values["bridge"]):
        raise PropertyError(f"{key}.bridge", f"invalid bridge name {values['bridge']!r}")
    if "tag" in values:
        _check_vlan(f"{key}.tag", values["tag"])
    if "type" in values and values["type"] != "veth":
        raise PropertyError(
            f"{key}.type", f"value {values['type']!r} does not have a value in the enumeration 'veth'"
        )
    _check_ip_fields(key, values)
    return values


def print_lxc_net(values: Mapping[str, Any]) -> str:
    """Canonical ``name=eth0,bridge=…,gw=…,hwaddr=…,ip=…,tag=…,type=veth``."""
    return print_property_string(values, first=("name",))


# --------------------------------------------------------------------------- tags


def parse_tags(text: str | None) -> tuple[str, ...]:
    """PVE tag list (``;``, ``,`` or space separated) → lower-case, de-duplicated, sorted."""
    if text is None:
        return ()
    parts = [p for p in re.split(r"[;,\s]+", str(text)) if p]
    for p in parts:
        if not TAG_RE.match(p):
            raise PropertyError("tags", f"invalid tag {p!r}")
    return tuple(sorted({p.lower() for p in parts}))


def print_tags(tags: Iterable[str]) -> str:
    return ";".join(sorted({t.lower() for t in tags}))


def agent_enabled(value: Any) -> bool:
    """Config ``agent``: ``1``, ``enabled=1,fstrim_cloned_disks=1``, ``1,type=virtio`` → True."""
    if value is None:
        return False
    try:
        values = parse_property_string(str(value), default_key="enabled")
        return parse_bool("agent.enabled", values.get("enabled", "0")) == 1
    except PropertyError:
        return False


# --------------------------------------------------------------------------- guests


@dataclass(frozen=True)
class GuestNic:
    id: str  # "net0"
    mac: str | None  # lower-case
    bridge: str | None
    vlan: int | None
    ip: str | None  # "a.b.c.d/nn", "dhcp" or None
    gateway: str | None
    agent_ips: tuple[str, ...] = ()  # addresses without prefix, link-local/loopback dropped
    ip6: str | None = None  # "auto", "dhcp", "2001:db8::5/64" or None (not configured)

    @property
    def ipv6_only(self) -> bool:
        """IPv6 is configured or in use and IPv4 neither (netsot still reserves an IPv4 address)."""
        v4_in_use = any("." in a for a in self.agent_ips)
        v6 = self.ip6 is not None or any(":" in a for a in self.agent_ips)
        return self.ip is None and v6 and not v4_in_use

    @property
    def index(self) -> int:
        return int(self.id[3:])

    @property
    def ip_mode(self) -> str | None:
        if self.ip == "dhcp":
            return "dhcp"
        return "static" if self.ip and "/" in self.ip else None

    @property
    def address(self) -> str | None:
        """The static address without prefix (None for dhcp / unset)."""
        return self.ip.split("/", 1)[0] if self.ip_mode == "static" and self.ip else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mac": self.mac,
            "bridge": self.bridge,
            "vlan": self.vlan,
            "ip": self.ip,
            "gateway": self.gateway,
            "agent_ips": list(self.agent_ips),
        }


@dataclass(frozen=True)
class Guest:
    node: str
    vmid: int
    type: str  # "qemu" | "lxc"
    name: str
    status: str
    tags: tuple[str, ...]
    template: bool
    digest: str | None
    nics: tuple[GuestNic, ...]
    cloudinit: str | None = None  # the config key of a QEMU guest's cloud-init drive ("ide2"), if any
    uptime: int | None = None  # seconds since its QEMU process / container started (running guests)

    @property
    def label(self) -> str:
        return f"{self.node}/{self.vmid}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "vmid": self.vmid,
            "type": self.type,
            "name": self.name,
            "status": self.status,
            "tags": list(self.tags),
            "nics": [n.to_dict() for n in self.nics],
        }


def _keep_agent_ip(ip: str) -> str | None:
    """Drop link-local (fe80::/10 incl. ``%zone``, 169.254/16) and loopback addresses."""
    bare = ip.split("%", 1)[0]
    try:
        addr = ipaddress.ip_address(bare)
    except ValueError:
        return None
    if addr.is_link_local or addr.is_loopback or addr.is_unspecified:
        return None
    return str(addr)


def _addresses_by_mac(agent: Any, lxc: Any) -> dict[str, list[str]]:
    """mac (lower) → usable IPs, from a QEMU agent ``result`` and/or LXC ``/interfaces`` list."""
    out: dict[str, list[str]] = {}
    items: list[Any] = []
    if isinstance(agent, Mapping):
        agent = agent.get("result", agent)
    if isinstance(agent, list):
        items.extend(agent)
    if isinstance(lxc, list):
        items.extend(lxc)
    for item in items:
        if not isinstance(item, Mapping):
            raise PropertyError("interfaces", f"unexpected interface entry {item!r}")
        mac = item.get("hardware-address") or item.get("hwaddr")
        if not isinstance(mac, str) or not MAC_SYNTAX_RE.match(mac):
            continue  # Windows loopback, tunnels: no usable MAC
        ips: list[str] = []
        for entry in item.get("ip-addresses") or ():
            if isinstance(entry, Mapping) and isinstance(entry.get("ip-address"), str):
                ips.append(entry["ip-address"])
        if not item.get("ip-addresses"):  # legacy LXC format: first address of each family
            for fam in ("inet", "inet6"):
                if isinstance(item.get(fam), str):
                    ips.append(item[fam].split("/", 1)[0])
        bucket = out.setdefault(normalize_mac(mac), [])
        for ip in ips:
            kept = _keep_agent_ip(ip)
            if kept and kept not in bucket:
                bucket.append(kept)
    return out


def _nic_index(key: str) -> int:
    return int(NIC_KEY_RE.match(key).group(1))  # type: ignore[union-attr]


def _qemu_nic(key: str, config: Mapping[str, Any], ips: dict[str, list[str]]) -> GuestNic:
    net = parse_qemu_net(str(config[key]), key)
    mac = normalize_read_mac(f"{key}.macaddr", net["macaddr"]) if "macaddr" in net else None
    ipkey = f"ipconfig{_nic_index(key)}"
    ipc = parse_ipconfig(str(config[ipkey]), ipkey) if config.get(ipkey) not in (None, "") else {}
    return _nic(key, mac, net, ipc.get("ip"), ipc.get("gw"), ips, ipc.get("ip6"))


def _lxc_nic(key: str, config: Mapping[str, Any], ips: dict[str, list[str]]) -> GuestNic:
    net = parse_lxc_net(str(config[key]), key)
    mac = normalize_read_mac(f"{key}.hwaddr", net["hwaddr"]) if "hwaddr" in net else None
    return _nic(key, mac, net, net.get("ip"), net.get("gw"), ips, net.get("ip6"))


def _nic(key: str, mac: str | None, net: Mapping[str, Any], ip: str | None, gateway: str | None,
         ips: dict[str, list[str]], ip6: str | None = None) -> GuestNic:
    """One NIC from its parsed ``netN`` and the address settings (``manual`` means none)."""
    return GuestNic(
        id=key,
        mac=mac,
        bridge=net.get("bridge"),
        vlan=int(net["tag"]) if "tag" in net else None,
        ip=None if ip in (None, "manual") else ip,
        gateway=gateway,
        agent_ips=tuple(ips.get(mac, ())) if mac else (),
        ip6=None if ip6 in (None, "manual") else ip6,
    )


def config_gives_addresses(gtype: str, config: Mapping[str, Any]) -> bool:
    """Whether the config already states a static IPv4 address for every NIC, so the agent /
    interfaces call could only repeat it (issue: optional calls only where they answer something).
    A config that cannot be read here says no: the call is then made as before."""
    keys = [k for k in config if NIC_KEY_RE.match(k)]
    if not keys:
        return False
    try:
        for key in keys:
            if gtype == "lxc":
                ip = parse_lxc_net(str(config[key]), key).get("ip")
            else:
                ipkey = f"ipconfig{_nic_index(key)}"
                raw = config.get(ipkey)
                ip = parse_ipconfig(str(raw), ipkey).get("ip") if raw not in (None, "") else None
            if ip in (None, "", "dhcp", "manual"):
                return False
    except (PropertyError, ValueError):
        return False
    return True


def guest_nics(
    resource: Mapping[str, Any],
    config: Mapping[str, Any],
    agent_result: Any | None,
    lxc_interfaces: Any | None,
) -> Guest:
    """One ``/cluster/resources`` entry + its config (+ agent / LXC interfaces) → ``Guest``."""
    node = str(resource.get("node", "?"))
    vmid_raw = resource.get("vmid", "?")
    label = f"guest {node}/{vmid_raw}"
    try:
        vmid = int(vmid_raw)
    except (TypeError, ValueError):
        raise ProviderDataError(SYSTEM, f"{label}: vmid {vmid_raw!r} is not a number") from None
    gtype = resource.get("type")
    if gtype not in ("qemu", "lxc"):
        raise ProviderDataError(SYSTEM, f"{label}: unknown guest type {gtype!r}")
    if not isinstance(config, Mapping):
        raise ProviderDataError(SYSTEM, f"{label}: config is not an object")
    name_key = "name" if gtype == "qemu" else "hostname"
    default_name = f"VM {vmid}" if gtype == "qemu" else f"CT{vmid}"
    name = str(config.get(name_key) or resource.get("name") or default_name)
    label = f"guest {node}/{vmid} ({name})"
    key = ""
    try:
        key = "tags"
        tags = parse_tags(config.get("tags", resource.get("tags")))
        key = "interfaces"
        ips = _addresses_by_mac(agent_result, lxc_interfaces)
        nics = []
        for key in sorted((k for k in config if NIC_KEY_RE.match(k)), key=_nic_index):
            nics.append((_qemu_nic if gtype == "qemu" else _lxc_nic)(key, config, ips))
    except PropertyError as exc:
        text = str(exc) if str(exc).startswith(key) else f"{key}: {exc}"
        raise ProviderDataError(SYSTEM, f"{label}: {text}") from None
    template = config.get("template", resource.get("template", 0))
    digest = config.get("digest")
    uptime = resource.get("uptime")
    return Guest(
        node=node,
        vmid=vmid,
        type=gtype,
        name=name,
        status=str(resource.get("status") or "unknown"),
        tags=tags,
        template=str(template) in ("1", "True", "true"),
        digest=str(digest) if digest is not None else None,
        nics=tuple(nics),
        cloudinit=cloudinit_drive(config) if gtype == "qemu" else None,
        uptime=int(uptime) if isinstance(uptime, int | float) and not isinstance(uptime, bool) else None,
    )


def guest_origin(
    node: str,
    vmid: int,
    gtype: str,
    nic: str,
    writeback: bool = False,
    configured_ip: str | None = None,
    gateway: str | None = None,
    key: str = SYSTEM,
) -> OriginRef:
    """The origin reference of one guest NIC: what a binding remembers of where it came from."""
    from providers.proxmox.descriptor import ipconfig_address

    _, _, instance = key.partition(".")
    label = f"{SYSTEM}[{instance}]" if instance else SYSTEM
    return OriginRef(
        kind=SYSTEM,
        instance=instance,
        object=f"{node}/{vmid}",
        label=f"{label} {node}/{vmid} {nic}",
        noun="guest",
        address=ipconfig_address(node, vmid, nic, key),
        annotations=MappingProxyType({"proxmox-vmid": str(vmid)}),
        data=MappingProxyType({"node": node, "vmid": vmid, "type": gtype, "nic": nic, "writeback": writeback,
                               "configured_ip": configured_ip, "gateway": gateway}),
    )


def network_for(config: Config, key: str, bridge: str | None, vlan: int | None) -> Network | None:
    """The configured network a NIC on ``bridge``/``vlan`` of cluster ``key`` belongs to, if any."""
    if bridge is None:
        return None
    for net in config.networks_of(key):
        own = net.settings_for(SYSTEM)
        if own is not None and own.bridge == bridge and own.vlan == vlan:
            return net
    return None


# --------------------------------------------------------------------------- cloud-init drive

# qemu-server Drive.pm drive_is_cloudinit: the volume (text before the first ",") of an ideN/sataN/scsiN
CLOUDINIT_VOLUME_RE = re.compile(r"[:/](vm-\d+-)?cloudinit(\.(raw|qcow|qcow2|qed|vmdk|cloop))?$")
DRIVE_KEY_RE = re.compile(r"^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30))$")


def cloudinit_drive(config: Mapping[str, Any]) -> str | None:
    """The config key of the VM's cloud-init drive (``ide2``), or None when it has none.

    Without one, ``ipconfigN`` is accepted and stored by Proxmox and never reaches the guest.
    """
    for key in sorted(config):
        if DRIVE_KEY_RE.match(key):
            volume = str(config[key]).split(",", 1)[0]
            if CLOUDINIT_VOLUME_RE.search(volume):
                return key
    return None


CLOUDINIT_KEYS_RE = re.compile(r"^(ipconfig\d+|net\d+|name|ciuser|cipassword|citype|cicustom|ciupgrade"
                               r"|sshkeys|nameserver|searchdomain)$")


def cloudinit_values(config: Mapping[str, Any]) -> dict[str, str]:
    """The config values a cloud-init drive is built from (PVE records them in ``[special:cloudinit]``)."""
    return {k: str(v) for k, v in config.items() if CLOUDINIT_KEYS_RE.match(k)}

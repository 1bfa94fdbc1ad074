"""The Proxmox provider: read guests into facts, plan and apply cloud-init / LXC IP write-back.

Owns: the read strategy (one ``/cluster/resources`` call, then configs and agent/LXC
interfaces with a bounded thread pool; offline or hung nodes become warnings), the
translation of guest NICs into ``Fact``s and ``proxmox_ipconfig`` resources, and the
write-back of ``ipconfigN`` (QEMU) / ``netN ip=`` (LXC) with the digest read earlier.
Must not: touch guests that did not opt in (``settings.writeback_tag``) or import proxmoxer.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from core.config import Config, Network, system_key
from core.errors import ProviderAuthError, ProviderError, ProviderUnavailable
from core.model import (
    Action,
    Address,
    ApplyResult,
    Change,
    ChangeOutcome,
    Desired,
    Fact,
    Observation,
    ObservedResource,
    frozen_map,
)
from providers.base import ROLE_ADDRESS, PlanContext
from providers.proxmox import mapping
from providers.proxmox.client import NodeTimeout, NodeUnavailable, ProxmoxClient
from providers.proxmox.descriptor import IPCONFIG_TYPE, ipconfig_address
from providers.proxmox.mapping import Guest, GuestNic
from providers.proxmox.settings import ProxmoxSettings

SYSTEM = "proxmox"
log = logging.getLogger("netsot.proxmox")


@dataclass
class Discovery:
    """Everything one read found: guests, what could not be read, and the raw configs."""

    guests: list[Guest] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unread: list[dict[str, Any]] = field(default_factory=list)  # {node, vmid, reason}
    unread_nodes: set[str] = field(default_factory=set)
    configs: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    resources: list[Mapping[str, Any]] = field(default_factory=list)  # the guest entries it read from


class ProxmoxProvider:
    name = SYSTEM

    def __init__(
        self, config: Config, settings: ProxmoxSettings, instance: str = "",
        client: ProxmoxClient | None = None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.key = system_key(SYSTEM, instance)
        self.label = f"{SYSTEM}[{instance}]" if instance else SYSTEM
        self.client = client or ProxmoxClient(settings)
        self._configs: dict[tuple[str, int], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.discovery: Discovery | None = None  # the last full read (the watch's cache starts from it)

    # ------------------------------------------------------------------ read

    def discover(self, resources: Sequence[Mapping[str, Any]] | None = None) -> Discovery:
        """Read every non-template guest; failures of single nodes/guests become warnings.

        ``resources``: read only these ``/cluster/resources`` entries (the watch's re-read of the guests
        an event names) instead of asking for the list. ``self.discovery`` keeps the last full one.
        """
        full = resources is None
        if resources is None:
            resources = self.client.cluster_resources_vms()  # fatal on failure, by design
        entries = [
            e
            for e in resources
            if isinstance(e, Mapping) and e.get("type") in ("qemu", "lxc") and not _truthy(e.get("template"))
        ]
        found = Discovery(resources=list(entries))
        bad_nodes: dict[str, str] = {}  # node -> first failure text
        skipped: dict[str, list[int]] = defaultdict(list)
        lock = threading.Lock()

        def read_one(entry: Mapping[str, Any]) -> Guest | None:
            node, vmid, gtype = str(entry.get("node")), entry.get("vmid"), entry["type"]
            with lock:
                if node in bad_nodes:
                    skipped[node].append(vmid)  # type: ignore[arg-type]
                    return None
            try:
                cfg = self.client.guest_config(gtype, node, int(vmid))  # type: ignore[arg-type]
                if _truthy(cfg.get("template")):
                    return None
                agent = lxc = None
                running = entry.get("status") == "running"
                try:
                    if gtype == "qemu" and running and mapping.agent_enabled(cfg.get("agent")):
                        agent = self.client.agent_interfaces(node, int(vmid))  # type: ignore[arg-type]
                    elif gtype == "lxc" and running:
                        lxc = self.client.lxc_interfaces(node, int(vmid))  # type: ignore[arg-type]
                except NodeUnavailable:
                    raise  # the node is gone, not just this guest's agent
                except ProviderError as exc:
                    # The agent is optional, slow and permission-gated: note it, keep the guest.
                    with lock:
                        found.warnings.append(f"guest {node}/{vmid}: interfaces not read: {_msg(exc)}")
                guest = mapping.guest_nics(entry, cfg, agent, lxc)
                with lock:
                    found.configs[(node, guest.vmid)] = cfg
                return guest
            except (NodeUnavailable, NodeTimeout) as exc:
                with lock:
                    bad_nodes.setdefault(node, _msg(exc))
                    skipped[node].append(vmid)  # type: ignore[arg-type]
                return None
            except ProviderAuthError as exc:
                if "authentication failed" in str(exc):
                    raise
                with lock:
                    found.warnings.append(f"guest {node}/{vmid} not read: {_msg(exc)}")
                    found.unread.append({"node": node, "vmid": vmid, "reason": _msg(exc)})
                return None
            except ProviderError as exc:
                with lock:
                    found.warnings.append(f"guest {node}/{vmid} not read: {_msg(exc)}")
                    found.unread.append({"node": node, "vmid": vmid, "reason": _msg(exc)})
                return None

        with ThreadPoolExecutor(max_workers=self.settings.max_workers, thread_name_prefix="pve-read") as pool:
            results = list(pool.map(read_one, entries))
        found.guests = sorted((g for g in results if g is not None), key=lambda g: (g.node, g.vmid))
        for node in sorted(bad_nodes):
            vmids = sorted(skipped[node])
            found.unread_nodes.add(node)
            found.unread.extend({"node": node, "vmid": v, "reason": bad_nodes[node]} for v in vmids)
            found.warnings.append(
                f"{bad_nodes[node]}; its {len(vmids)} guest(s) were not read "
                f"({', '.join(map(str, vmids))}); other nodes were read"
            )
        with self._lock:
            self._configs.update(found.configs)
            if full:
                self.discovery = found
        return found

    def read(self) -> Observation:
        return self.observation(self.discover())

    def observation(self, found: Discovery) -> Observation:
        """What a discovery means for the engine: binding facts per NIC, write-back resources (pure)."""
        facts: list[Fact] = []
        resources: dict[Address, ObservedResource] = {}
        tag = self.settings.writeback_tag.lower()
        hint = f"tag the guest {self.settings.writeback_tag} to let netsot rewrite it"
        for guest in found.guests:
            writeback = tag in guest.tags
            for nic in guest.nics:
                addr = ipconfig_address(guest.node, guest.vmid, nic.id, self.key)
                if writeback:
                    resources[addr] = ObservedResource(
                        address=addr,
                        attributes=frozen_map(_resource_attrs(guest, nic)),
                        provider_id=guest.digest,
                        owned_marker=True,  # the opt-in tag is the guest's own "netsot may write"
                    )
                network = self._network_for(nic)
                ref = f"{self.label} {guest.node}/{guest.vmid} {nic.id}"
                if network is None:
                    log.debug("read: %s (%s) is on bridge %s, VLAN %s, which no configured network maps; "
                              "ignored (netsot inventory lists it as unmanaged)",
                              ref, guest.name, nic.bridge, nic.vlan if nic.vlan is not None else "none")
                    continue
                facts.append(
                    Fact(
                        source=SYSTEM,
                        ref=ref,
                        network=network.name,
                        hostname=guest.name.lower(),
                        mac=nic.mac,
                        ip=nic.address,
                        origin=True,
                        address=addr if writeback else None,
                        extra=frozen_map(
                            {
                                "node": guest.node,
                                "vmid": guest.vmid,
                                "type": guest.type,
                                "nic": nic.id,
                                "tags": list(guest.tags),
                                "status": guest.status,
                                "ip_mode": nic.ip_mode,
                                "configured_ip": nic.ip,
                                "gateway": nic.gateway,
                                "agent_ips": list(nic.agent_ips),
                                "writeback": writeback,
                                "digest": guest.digest,
                            }
                        ),
                        in_use=tuple(nic.agent_ips),
                        static_ip=nic.ip_mode == "static",
                        ip_writable=writeback,
                        writable_hint="" if writeback else hint,
                        origin_ref=mapping.guest_origin(guest.node, guest.vmid, guest.type, nic.id,
                                                        writeback, nic.ip, nic.gateway, self.key),
                        description=f"{ref} ({guest.type})",
                        notes=(f"{ref} ({guest.name}) has IPv6 only (no IPv4 configured or in use); netsot "
                               "still gives it an IPv4 address, reservation and DNS name",)
                        if nic.ipv6_only else (),
                    )
                )
        return Observation(
            system=self.key,
            resources=frozen_map(resources),
            facts=tuple(facts),
            warnings=tuple(found.warnings),
            data=frozen_map(
                {
                    "guests": [g.to_dict() for g in found.guests],
                    "unread": found.unread,
                    "unread_nodes": sorted(found.unread_nodes),
                }
            ),
            incomplete=(f"{len(found.unread)} guests unread",) if found.unread else (),
        )

    def _network_for(self, nic: GuestNic) -> Network | None:
        return mapping.network_for(self.config, self.key, nic.bridge, nic.vlan)

    # ------------------------------------------------------------------ plan

    def plan(self, desired: Desired, observed: Observation, ctx: PlanContext) -> list[Change]:
        changes: list[Change] = []
        blocked = desired.blocked
        for binding in desired.bindings:
            origin = binding.origin_in(self.key)
            if origin is None or not origin.data.get("writeback"):
                continue
            ref = _Nic(str(origin.data["node"]), int(origin.data["vmid"]), str(origin.data["type"]),
                       str(origin.data["nic"]))
            address = ipconfig_address(ref.node, ref.vmid, ref.nic, self.key)
            if address in blocked:
                continue
            current = observed.resources.get(address)
            if current is None:
                continue  # guest not read this time (offline node): never guess
            try:
                net = self.config.network(binding.network)
            except KeyError:
                continue
            before = dict(current.attributes)
            want_ip = f"{binding.ip}/{net.prefix.prefixlen}"
            want_gw = str(net.gateway) if net.gateway is not None else before.get("gateway")
            if before.get("ip") == want_ip and before.get("gateway") == want_gw:
                continue
            after = {**before, "ip": want_ip, "gateway": want_gw}
            key = f"ipconfig{ref.nic[3:]}" if ref.type == "qemu" else f"{ref.nic} ip="
            what = f"cloud-init {key}" if ref.type == "qemu" else f"LXC {key}"
            dep = ctx.role_address(ROLE_ADDRESS, binding.network, binding.hostname)
            prov = {k: v for k, v in binding.provenance.items() if k == "ip"}
            changes.append(
                Change(
                    action=Action.UPDATE,
                    address=address,
                    before=frozen_map(before),
                    after=frozen_map(after),
                    reason=f"{what} follows NIPAP: {before.get('ip') or 'unset'} -> {want_ip}",
                    provenance=frozen_map(prov),
                    depends_on=(dep,) if dep is not None else (),
                    provider_id=current.provider_id,
                    origin=binding.origin,
                )
            )
        return changes

    # ------------------------------------------------------------------ apply

    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        by_guest: dict[tuple[str, int, str], list[Change]] = defaultdict(list)
        outcomes: list[ChangeOutcome] = []
        for change in changes:
            attrs = change.after or {}
            if change.action is not Action.UPDATE or change.address.type != IPCONFIG_TYPE:
                outcomes.append(
                    ChangeOutcome(
                        change.address, "failed", f"proxmox cannot {change.action.value} {change.address}"
                    )
                )
                continue
            by_guest[(str(attrs["node"]), int(attrs["vmid"]), str(attrs["type"]))].append(change)
        log: list[str] = []
        with ThreadPoolExecutor(
            max_workers=self.settings.max_workers, thread_name_prefix="pve-apply"
        ) as pool:
            for result, lines in pool.map(lambda item: self._apply_guest(*item), by_guest.items()):
                outcomes.extend(result)
                log.extend(lines)
        return ApplyResult(outcomes=tuple(outcomes), log=tuple(log))

    def _apply_guest(
        self, key: tuple[str, int, str], changes: list[Change]
    ) -> tuple[list[ChangeOutcome], list[str]]:
        node, vmid, gtype = key
        digest = changes[0].provider_id
        try:
            with self._lock:
                cfg = self._configs.get((node, vmid))
            if cfg is None or (digest and cfg.get("digest") != digest):
                cfg = self.client.guest_config(gtype, node, vmid)
            params: dict[str, str] = {}
            for change in changes:
                nic = str(change.after["nic"])  # type: ignore[index]
                ip, gw = change.after.get("ip"), change.after.get("gateway")  # type: ignore[union-attr]
                if gtype == "qemu":
                    pkey = f"ipconfig{nic[3:]}"
                    text = params.get(pkey, cfg.get(pkey) or "")
                else:
                    pkey = nic
                    if not cfg.get(nic):
                        raise ProviderError(SYSTEM, f"{node}/{vmid} has no {nic} any more; run plan again")
                    text = params.get(pkey, cfg[nic])
                text = mapping.update_property(str(text), "ip", ip)
                text = mapping.update_property(text, "gw", gw)
                params[pkey] = text
            if gtype == "qemu":
                self.client.set_qemu_config(node, vmid, digest or cfg.get("digest"), **params)
            else:
                self.client.set_lxc_config(node, vmid, digest or cfg.get("digest"), **params)
        except ProviderUnavailable as exc:
            if not isinstance(exc, NodeUnavailable):
                raise  # the API itself is unreachable: the whole batch cannot run
            return [ChangeOutcome(c.address, "failed", str(exc)) for c in changes], []
        except ProviderError as exc:
            return [ChangeOutcome(c.address, "failed", str(exc)) for c in changes], []
        new_digest: str | None = None
        try:
            fresh = self.client.guest_config(gtype, node, vmid)
            new_digest = fresh.get("digest")
            with self._lock:
                self._configs[(node, vmid)] = fresh
        except ProviderError:
            pass  # written; the next read refreshes the digest
        lines = [f"PUT /nodes/{node}/{gtype}/{vmid}/config {k}={v}" for k, v in sorted(params.items())]
        return [ChangeOutcome(c.address, "applied", None, new_digest, c.after) for c in changes], lines

    def close(self) -> None:
        self.client.close()


@dataclass(frozen=True)
class _Nic:
    """The guest NIC a binding's origin names (from ``OriginRef.data``)."""

    node: str
    vmid: int
    type: str  # "qemu" or "lxc"
    nic: str  # "net0"


def _truthy(value: Any) -> bool:
    return str(value) in ("1", "True", "true")


def _msg(exc: Exception) -> str:
    text = str(exc)
    return text.removeprefix(f"{SYSTEM}: ")


def _resource_attrs(guest: Guest, nic: GuestNic) -> dict[str, Any]:
    return {
        "node": guest.node,
        "vmid": guest.vmid,
        "type": guest.type,
        "nic": nic.id,
        "ip": nic.ip,
        "gateway": nic.gateway,
    }

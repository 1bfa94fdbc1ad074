"""The Proxmox provider: read guests into facts, want and apply cloud-init / LXC IP write-back.

Owns: the read strategy (one ``/cluster/resources`` call, then configs and agent/LXC
interfaces with a bounded thread pool; offline or hung nodes become warnings), the
translation of guest NICs into ``Fact``s and ``proxmox_ipconfig`` resources, what write-back wants
(the shared diff ``providers.diffing`` plans it), and the write-back of ``ipconfigN`` (QEMU) /
``netN ip=`` (LXC) with the digest read earlier.
Must not: touch guests that did not opt in (``settings.writeback_tag``) or import proxmoxer.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
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
    ManagedResource,
    Observation,
    ObservedResource,
    frozen_map,
)
from providers.base import ROLE_ADDRESS, PlanContext
from providers.diffing import Want, Wanted, Wanting
from providers.proxmox import mapping, pending
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


class ProxmoxProvider(Wanting):
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
        self._guests: dict[tuple[str, int], Guest] = {}  # the last read, with when each guest started
        self._started: dict[tuple[str, int], float] = {}
        self._networks: dict[Address, str] = {}  # ipconfig address -> its network's prefix
        self._answers: dict[Address, str | None] = {}  # ipconfig address -> where the NIC answered when read
        # each guest's part of the observation, made by the read worker that read it (the guest it is of)
        self._views: dict[tuple[str, int], tuple[Guest, _GuestView]] = {}
        self._lock = threading.Lock()
        self._restart_key = f"providers.{self.key}.writeback.restart"
        # agent / LXC interface answers kept between reads (`serve` cycles), per guest: valid while
        # the config digest is the same and the guest has not restarted (uptime only grows)
        self._kept = _kept_answers(config, self.key)
        self.interface_calls = 0  # agent / LXC interface calls made (for tests and the bench)
        self.discovery: Discovery | None = None  # the last full read (the watch's cache starts from it)

    # ------------------------------------------------------------------ read

    def discover(self, resources: Sequence[Mapping[str, Any]] | None = None) -> Discovery:
        """Read every non-template guest; failures of single nodes/guests become warnings.

        ``resources``: read only these ``/cluster/resources`` entries (the watch's re-read of the guests
        an event names) instead of asking for the list. ``self.discovery`` keeps the last full one.
        """
        full = resources is None
        workers = self.settings.max_workers
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pve-read")
        if resources is None:
            # The guest list is asked for by a read worker (whose connection then serves configs too),
            # and submitted first, so no other worker's start-up delays it; each other worker connects
            # (its TLS handshake) while the list is made and sent, not after it.
            listed = pool.submit(self.client.cluster_resources_vms)
            connect = getattr(self.client, "connect", None)
            others = workers - 1 if connect is not None else 0
            started = itertools.count(1)
            everyone = threading.Event()

            def connect_apart() -> None:
                # a thread that finished its connect would be idle and take the next one (the pool starts a
                # thread only when none is idle): each connect holds its thread until all have one
                if next(started) >= others:
                    everyone.set()
                connect()
                everyone.wait()

            for _ in range(others):
                pool.submit(connect_apart)
            try:
                resources = listed.result()  # fatal on failure, by design
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)  # the connects end on their own
                raise
            finally:
                everyone.set()  # the list is here (or failed): no connect waits longer
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
                try:
                    agent, lxc = self._interfaces(entry, gtype, node, int(vmid), cfg)  # type: ignore[arg-type]
                except NodeUnavailable:
                    raise  # the node is gone, not just this guest's agent
                except ProviderError as exc:
                    # The agent is optional, slow and permission-gated: note it, keep the guest.
                    with lock:
                        found.warnings.append(f"guest {node}/{vmid}: interfaces not read: {_msg(exc)}")
                guest = mapping.guest_nics(entry, cfg, agent, lxc)
                view = self._view(guest)  # while the other workers wait for their answers
                with lock:
                    found.configs[(node, guest.vmid)] = cfg
                with self._lock:
                    self._views[(guest.node, guest.vmid)] = (guest, view)
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

        # Each worker takes the next guest until none is left: one task per worker, not a future per
        # guest (its lock, condition and wake-ups), and the first request goes out at once instead of
        # after the whole list was queued. A failure no guest can survive (a failed login) stops the
        # others taking more: the guests not asked yet are not asked.
        todo = deque(entries)
        stop = threading.Event()
        results: list[Guest] = []

        def work() -> None:
            while not stop.is_set():
                try:
                    entry = todo.popleft()
                except IndexError:
                    return
                try:
                    guest = read_one(entry)
                except BaseException:
                    stop.set()
                    raise
                if guest is not None:
                    results.append(guest)

        with pool:
            tasks = [pool.submit(work) for _ in range(min(workers, len(entries)))]
            try:
                wait(tasks, return_when=FIRST_EXCEPTION)
            finally:
                stop.set()  # an interrupt here: the workers end after their current guest
        for task in tasks:
            task.result()  # the first worker's failure, if any (the others have ended)
        found.guests = sorted(results, key=lambda g: (g.node, g.vmid))
        now = time.time()
        with self._lock:
            for g in found.guests:
                if g.uptime is not None and g.status == "running":
                    self._started[(g.node, g.vmid)] = now - g.uptime
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

    def _interfaces(self, entry: Mapping[str, Any], gtype: str, node: str, vmid: int,
                    cfg: Mapping[str, Any]) -> tuple[Any, Any]:
        """(agent answer, LXC interfaces) of a guest, asked only where they answer something: a
        running guest whose config does not already give every NIC's address, and whose answer is
        not kept from an earlier read of the same config (digest) and the same boot (uptime)."""
        running = entry.get("status") == "running"
        wanted = running and (gtype == "lxc" or mapping.agent_enabled(cfg.get("agent")))
        # a VM netsot writes back to may not run with its config's address yet (pending restart):
        # only its agent says where it answers, so it is always asked, and its answer never kept
        writes_back = gtype == "qemu" and self._tagged(cfg)
        if not wanted or (mapping.config_gives_addresses(gtype, cfg) and not writes_back):
            if not running:
                with self._lock:
                    self._kept.pop((node, vmid), None)  # it will boot anew: ask again then
            return None, None
        digest = str(cfg.get("digest") or "")
        uptime = int(entry.get("uptime") or 0) if str(entry.get("uptime") or "0").isdigit() else 0
        with self._lock:
            kept = self._kept.get((node, vmid))
        if kept is not None and digest and kept[0] == digest and uptime >= kept[1] and not writes_back:
            return kept[2], kept[3]
        with self._lock:
            self.interface_calls += 1
        if gtype == "qemu":
            agent, lxc = self.client.agent_interfaces(node, vmid), None
        else:
            agent, lxc = None, self.client.lxc_interfaces(node, vmid)
        if digest and (agent is not None or lxc is not None):
            with self._lock:
                self._kept[(node, vmid)] = (digest, uptime, agent, lxc)
        return agent, lxc

    def _tagged(self, cfg: Mapping[str, Any]) -> bool:
        """Whether a guest's config carries the write-back tag (an unreadable tag list: assume so)."""
        try:
            return self.settings.writeback_tag.lower() in mapping.parse_tags(cfg.get("tags"))
        except mapping.PropertyError:
            return True

    def read(self) -> Observation:
        return self.observation(self.discover())

    def observation(self, found: Discovery) -> Observation:
        """What a discovery means for the engine: binding facts per NIC, write-back resources (pure).

        Each guest's part was made by the read worker that read it (``_view``, while other requests
        were in flight); a guest read elsewhere (another discovery) is made here."""
        facts: list[Fact] = []
        resources: dict[Address, ObservedResource] = {}
        guests: list[Mapping[str, Any]] = []
        for guest in found.guests:
            key = (guest.node, guest.vmid)
            with self._lock:
                kept = self._views.get(key)
            view = kept[1] if kept is not None and kept[0] is guest else self._view(guest)
            with self._lock:
                self._guests[key] = guest
                self._networks.update(view.networks)
                self._answers.update(view.answers)
            facts.extend(view.facts)
            resources.update(view.resources)
            guests.append(view.guest)
        return Observation(
            system=self.key,
            resources=frozen_map(resources),
            facts=tuple(facts),
            warnings=tuple(found.warnings),
            data=frozen_map(
                {
                    "guests": guests,
                    "unread": found.unread,
                    "unread_nodes": sorted(found.unread_nodes),
                }
            ),
            incomplete=(f"{len(found.unread)} guests unread",) if found.unread else (),
        )

    def _view(self, guest: Guest) -> _GuestView:
        """One guest's part of the observation: its facts, write-back resources, and what ``recall`` /
        ``wants`` / apply look up later (each NIC's network prefix and where it answers). Pure."""
        facts: list[Fact] = []
        resources: dict[Address, ObservedResource] = {}
        networks: dict[Address, str] = {}
        answers: dict[Address, str | None] = {}
        tag = self.settings.writeback_tag.lower()
        hint = f"tag the guest {self.settings.writeback_tag} to let netsot rewrite it"
        restart = self.settings.writeback.restart
        tagged = tag in guest.tags
        no_drive = tagged and guest.type == "qemu" and guest.cloudinit is None
        writeback = tagged and not no_drive
        for nic in guest.nics:
            addr = ipconfig_address(guest.node, guest.vmid, nic.id, self.key)
            if writeback:
                resources[addr] = ObservedResource(
                    address=addr,
                    attributes=frozen_map(_resource_attrs(guest, nic)),
                    provider_id=guest.digest,
                    owned_marker=True,  # the opt-in tag is the guest's own "netsot may write"
                    import_id=f"{guest.node}/{guest.vmid}/{nic.id}",
                )
            network = self._network_for(nic)
            ref = f"{self.label} {guest.node}/{guest.vmid} {nic.id}"
            if network is None:
                log.debug("read: %s (%s) is on bridge %s, VLAN %s, which no configured network maps; "
                          "ignored (netsot inventory lists it as unmanaged)",
                          ref, guest.name, nic.bridge, nic.vlan if nic.vlan is not None else "none")
                continue
            notes: list[str] = []
            if nic.ipv6_only:
                notes.append(f"{ref} ({guest.name}) has IPv6 only (no IPv4 configured or in use); netsot "
                             "still gives it an IPv4 address, reservation and DNS name")
            where, waiting = None, ""
            if no_drive:
                notes.append(pending.no_drive_note(ref, guest, nic, self.settings.writeback_tag))
            elif writeback:
                where = pending.answers_at(guest, nic, str(network.prefix))
                networks[addr] = str(network.prefix)
                answers[addr] = where
                if where and nic.address and where != nic.address:
                    # the agent reports another address than the config holds: an older drive runs
                    waiting = pending.PENDING
                    notes.append(pending.pending_note(ref, guest, nic, where, self._restart_key))
                elif restart == "now":
                    where = None  # apply restarts it: the name can point at the new address at once
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
                    writable_hint="" if writeback else (
                        "give it a cloud-init drive so netsot can rewrite it" if no_drive else hint),
                    origin_ref=mapping.guest_origin(guest.node, guest.vmid, guest.type, nic.id,
                                                    writeback, nic.ip, nic.gateway, self.key),
                    description=f"{ref} ({guest.type})",
                    notes=tuple(notes),
                    answers_at=where,
                    waiting=waiting,
                )
            )
        # frozen here, by the worker that read the guest: ``observation`` (after the last answer) only
        # collects the frozen entries (freezing 1,000 guests there took ~10 ms after the read's I/O)
        return _GuestView(tuple(facts), resources, networks, answers, frozen_map(guest.to_dict()))

    def recall(self, observed: Observation, owned: Mapping[Address, ManagedResource]) -> Observation:
        """The observation with what netsot's state remembers: a VM whose address netsot wrote while it
        ran and that has not taken it yet stays ``pending restart`` (Proxmox's API cannot tell: a modified
        ``ipconfigN`` is not listed as pending), its DNS name following where it still answers."""
        facts: list[Fact] = []
        changed = False
        for fact in observed.facts:
            managed = owned.get(fact.address) if fact.address is not None else None
            rec = managed.attributes.get(pending.RECORD) if managed is not None else None
            same = managed is not None and managed.attributes.get("ip") == fact.extra.get("configured_ip")
            if isinstance(rec, Mapping) and fact.extra.get("writeback") and not fact.waiting and same:
                key = (str(fact.extra.get("node")), int(fact.extra.get("vmid", 0)))
                with self._lock:
                    guest, started = self._guests.get(key), self._started.get(key)
                    prefix = self._networks.get(fact.address)  # type: ignore[arg-type]
                nic = next((n for n in guest.nics if n.id == fact.extra.get("nic")), None) if guest else None
                if guest is not None and nic is not None and not pending.settled(rec, fact, started):
                    fact = pending.recalled(fact, rec, guest, nic, prefix, self._restart_key)
                    changed = True
            facts.append(fact)
        return replace(observed, facts=tuple(facts)) if changed else observed

    def _network_for(self, nic: GuestNic) -> Network | None:
        return mapping.network_for(self.config, self.key, nic.bridge, nic.vlan)

    # ------------------------------------------------------------------ plan

    def wants(self, desired: Desired, observed: Observation, ctx: PlanContext) -> Wanted:
        """Write-back: the address of every tagged guest NIC that originates a binding, as NIPAP holds it.
        Only ever an update of a NIC read this time (``creates=False``: never a guess about an offline node);
        the shared diff (``providers.diffing``) leaves what already matches and anything blocked."""
        wants: list[Want] = []
        for binding in desired.bindings:
            origin = binding.origin_in(self.key)
            if origin is None or not origin.data.get("writeback"):
                continue
            ref = _Nic(str(origin.data["node"]), int(origin.data["vmid"]), str(origin.data["type"]),
                       str(origin.data["nic"]))
            address = ipconfig_address(ref.node, ref.vmid, ref.nic, self.key)
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
            key = f"ipconfig{ref.nic[3:]}" if ref.type == "qemu" else f"{ref.nic} ip="
            what = f"cloud-init {key}" if ref.type == "qemu" else f"LXC {key}"
            with self._lock:
                guest = self._guests.get((ref.node, ref.vmid))
                where = self._answers.get(address)
            running = guest is not None and guest.status == "running"
            if running and ref.type == "qemu" and self.settings.writeback.restart == "when-stopped":
                continue  # writeback.restart: when-stopped — written once the guest is stopped
            dep = ctx.role_address(ROLE_ADDRESS, binding.network, binding.hostname)
            wants.append(Want(
                address, frozen_map({**before, "ip": want_ip, "gateway": want_gw}), creates=False,
                update_reason=f"{what} follows NIPAP: {before.get('ip') or 'unset'} -> {want_ip}"
                + (self._running_effect(ref, binding.hostname, where, want_ip) if running else ""),
                provenance=frozen_map({k: v for k, v in binding.provenance.items() if k == "ip"}),
                depends_on=(dep,) if dep is not None else (), origin=binding.origin,
            ))
        return Wanted(tuple(wants))

    def _running_effect(self, ref: _Nic, name: str, where: str | None, want_ip: str) -> str:
        """What writing a running guest's address does, for the change's reason."""
        if ref.type == "lxc":
            return ("; the container runs: Proxmox changes its address live (connections on the old address "
                    "break) and rewrites its network file")
        if self.settings.writeback.restart == "now":
            return (f"; then netsot restarts {name} through Proxmox (writeback.restart: now, up to "
                    f"{self.settings.writeback.restart_timeout:g} s) so it boots with {want_ip}; "
                    f"{pending.SSH_KEYS}")
        now = f"keeps {where}" if where else "keeps its current address"
        return (f"; the VM runs: netsot regenerates its cloud-init drive, and it {now} until restarted "
                f"through Proxmox ({pending.PENDING}; its DNS name follows where it answers; the restart "
                "regenerates its SSH host keys)")

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
        extra, lines = self._after_write(node, vmid, gtype, changes)
        new_digest: str | None = None
        try:
            fresh = self.client.guest_config(gtype, node, vmid)
            new_digest = fresh.get("digest")
            with self._lock:
                self._configs[(node, vmid)] = fresh
        except ProviderError:
            pass  # written; the next read refreshes the digest
        lines = [*(f"PUT /nodes/{node}/{gtype}/{vmid}/config {k}={v}" for k, v in sorted(params.items())),
                 *lines]
        return [ChangeOutcome(c.address, "applied", None, new_digest, {**(c.after or {}), **extra})
                for c in changes], lines

    def _after_write(self, node: str, vmid: int, gtype: str,
                     changes: list[Change]) -> tuple[dict[str, Any], list[str]]:
        """After writing a running guest's address: regenerate its cloud-init drive, then restart it
        (``writeback.restart: now``) or record it as ``pending restart`` in the state (what the apply
        log says, and the attributes recorded with the changes)."""
        with self._lock:
            guest = self._guests.get((node, vmid))
            where = next((w for c in changes if (w := self._answers.get(c.address))), None)
        if guest is None or guest.status != "running":
            return {}, []
        who = f"{node}/{vmid} ({guest.name})"
        ips = ", ".join(str((c.after or {}).get("ip")) for c in changes)
        if gtype == "lxc":
            return {}, [f"note: {who}: the running container took {ips} at once (Proxmox changed it live)"]
        lines: list[str] = []
        try:
            self.client.regenerate_cloudinit(node, vmid)
            lines.append(f"PUT /nodes/{node}/qemu/{vmid}/cloudinit: drive regenerated")
        except ProviderError as exc:
            lines.append(f"note: {who}: cloud-init drive not regenerated ({_msg(exc)}); its next start "
                         "rebuilds it")
        policy = self.settings.writeback
        if policy.restart == "now":
            try:
                upid = self.client.power("qemu", node, vmid, "reboot", timeout=int(policy.restart_timeout))
                self.client.wait_task(node, upid, policy.restart_timeout + 5)
                lines.append(f"POST /nodes/{node}/qemu/{vmid}/status/reboot ({upid})")
                lines.append(f"note: {who} restarted through Proxmox, boots with {ips}; {pending.SSH_KEYS}")
                return {}, lines
            except ProviderError as exc:
                lines.append(f"note: {who}: restart failed ({_msg(exc)})")
        now = f"still answers at {where}" if where else "keeps its old address"
        hint = pending.how_to_restart(guest, self._restart_key)
        lines.append(f"note: {who}: {pending.PENDING} — Proxmox holds {ips} for its next boot; it {now} "
                     f"until restarted. To finish: {hint}")
        return {pending.RECORD: pending.record(where)}, lines

    def close(self) -> None:
        self.client.close()


@dataclass(frozen=True)
class _GuestView:
    """One guest's part of an observation (``ProxmoxProvider._view``)."""

    facts: tuple[Fact, ...]
    resources: Mapping[Address, ObservedResource]
    networks: Mapping[Address, str]  # ipconfig address -> its network's prefix
    answers: Mapping[Address, str | None]  # ipconfig address -> where the NIC answered when read
    guest: Mapping[str, Any]  # Guest.to_dict() frozen, the observation's data


@dataclass(frozen=True)
class _Nic:
    """The guest NIC a binding's origin names (from ``OriginRef.data``)."""

    node: str
    vmid: int
    type: str  # "qemu" or "lxc"
    nic: str  # "net0"


# `serve` opens the providers anew every cycle with the same Config object: the kept answers live
# as long as that object (a new config, e.g. another test's or a reload, starts empty)
# (keyed by the object's id; the entry goes when the object does, before its id can be reused)
_KEPT: dict[int, dict[str, dict[tuple[str, int], tuple[str, int, Any, Any]]]] = {}
_KEPT_LOCK = threading.Lock()


def _kept_answers(config: Config, key: str) -> dict[tuple[str, int], tuple[str, int, Any, Any]]:
    with _KEPT_LOCK:
        per_config = _KEPT.get(id(config))
        if per_config is None:
            try:
                weakref.finalize(config, _forget, id(config))
            except TypeError:  # a config that cannot be weakly referenced: this provider only
                return {}
            per_config = _KEPT[id(config)] = {}
        return per_config.setdefault(key, {})


def _forget(config_id: int) -> None:
    with _KEPT_LOCK:
        _KEPT.pop(config_id, None)


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

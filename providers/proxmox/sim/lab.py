"""Proxmox VE's part of the embedded lab (``Hooks.lab``): a site's cluster as the Proxmox simulator.

Owns: its seed (the site's cluster and guests), its API tokens (a full one and one without the write
privileges, secrets of the lab folder), starting the simulator resumed from ``run/<proxmox>/`` or from
the seed with the guests' "DHCP clients" (``GuestNetworks``: a running guest's agent / LXC answers
follow its site's router's static mappings and leases), and its block of the lab's ``netsot.yaml``.
Must not: be imported by netsot's product code (only the lab and tests start it).
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.files import write_atomic
from providers.lab.runner import PVE_READONLY_TOKEN, PVE_TOKEN_NAME, PVE_USER, Paths
from providers.proxmox.sim.seed import guest_answers, proxmox_seed


class GuestNetworks:
    """The guests' "DHCP clients": keeps agent / LXC interface answers in line with the network.

    A background thread re-derives every running guest's answers (bounded period) from its
    current config and the router's published static mappings, so after an apply the guests
    "renew" their leases. A VM with a cloud-init drive runs with what it booted with (the simulator's
    ``ci_active``; its DHCP client keeps the address it got after booting): a write-back reaches it
    only after a restart through the API (``pending restart``). A container takes one at once.
    """

    def __init__(self, handle: Any, paths: Paths, leases: dict[str, str], period: float = 0.1) -> None:
        self.handle, self.paths, self.leases, self.period = handle, paths, leases, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lab-guest-dhcp", daemon=True)
        self._pinned: dict[tuple[int, Any], dict[str, str]] = {}

    def start(self) -> GuestNetworks:
        self.refresh()
        self._thread.start()
        return self

    def _static(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.paths.dhcp_file.read_text()).get("static") or {})
        except (OSError, ValueError):
            return {}

    def _leases(self) -> dict[str, str]:
        """mac → ip of the router's leases now (a lease added with `lab lease add` counts at once)."""
        try:
            rows = json.loads(self.paths.leases_file.read_text())
            return {str(x["mac"]).lower(): str(x["ip"]) for x in rows}
        except (OSError, ValueError, KeyError, TypeError):
            return self.leases

    def refresh(self) -> None:
        static = self._static()
        leases = self._leases()
        cluster = self.handle.cluster
        with cluster.lock:
            guests = copy.deepcopy(list(cluster.guests.values()))
        for g in guests:
            answers = guest_answers(g, static, leases, self._pins(g, static, leases))
            changed = {k: v for k, v in answers.items() if g.get(k) != v}
            if changed:
                with cluster.lock:
                    if g["vmid"] in cluster.guests:
                        cluster.guests[g["vmid"]].update(changed)

    def _pins(self, g: dict[str, Any], static: dict[str, str], leases: dict[str, str]) -> dict[str, str]:
        """A cloud-init VM's DHCP client keeps the address it got after booting until it restarts (its
        network is what cloud-init set up at boot): mac → ip, per boot of the guest."""
        from providers.proxmox import mapping

        cfg = g.get("config") or {}
        if g.get("type") != "qemu" or g.get("status") != "running" or not mapping.cloudinit_drive(cfg):
            return {}
        boot = (g["vmid"], g.get("boot"))
        pins = self._pinned.setdefault(boot, {})
        for value in cfg.values():
            found = re.search(r"=([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})", str(value))
            mac = found.group(1).lower() if found else None
            if mac and mac not in pins and (static.get(mac) or leases.get(mac)):
                pins[mac] = static.get(mac) or leases[mac]
        return pins

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.refresh()
            except Exception:  # a lab nicety must never take the Proxmox simulator down
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)


@dataclass
class ProxmoxLab:
    handle: Any
    guests: GuestNetworks

    @property
    def port(self) -> int:
        return int(self.handle.port)

    def stop(self) -> None:
        self.guests.stop()
        self.handle.stop()


def start_proxmox(paths: Paths) -> ProxmoxLab:
    from providers.proxmox.sim.perms import READ_PRIVILEGES, SimToken
    from providers.proxmox.sim.server import start_simulator

    seed = json.loads((paths.site_seeds / "proxmox.json").read_text())
    leases = {x["mac"].lower(): x["ip"] for x in json.loads((paths.site_seeds / "leases.json").read_text())}
    token = (PVE_USER, PVE_TOKEN_NAME, paths.secret(paths.pve_token))
    # persist: every change (a write-back, a guest made or destroyed) lands in run/proxmox*/, and the
    # next start resumes from it instead of the seed
    readonly = SimToken(PVE_USER, PVE_READONLY_TOKEN, paths.secret(paths.pve_token_readonly),
                        {"/vms": READ_PRIVILEGES})
    handle = start_simulator(seed, paths.state_dir(paths.process("proxmox")), token, persist=True,
                             more_tokens=(readonly,))
    write_atomic(paths.ca, handle.ca_path.read_text(), 0o644)
    return ProxmoxLab(handle, GuestNetworks(handle, paths, leases).start())


@dataclass(frozen=True)
class _GuestOps:
    module: Any

    def add(self, workdir: Any, name: str, **options: Any) -> str:
        return str(self.module.guest_add(workdir, name, **options))

    def rm(self, workdir: Any, which: str, **options: Any) -> str:
        return str(self.module.guest_rm(workdir, which, **options))

    def set(self, workdir: Any, which: str, **options: Any) -> str:
        return str(self.module.guest_set(workdir, which, **options))

    def restart(self, workdir: Any, which: str, **options: Any) -> str:
        return str(self.module.guest_restart(workdir, which, **options))


class ProxmoxClusterLab:
    """``LabSystem`` (providers.base) of the Proxmox kind: the lab's hypervisor."""

    role = "hypervisor"
    process = "proxmox"
    default = True
    saves = ("proxmox*/proxmox-state.json",)
    title = "Proxmox VE"
    # netsot-readonly.yaml: each site's token that lacks the write privileges
    readonly = ((r"(?m)^(    token_name: )" + re.escape(PVE_TOKEN_NAME) + "$", rf"\g<1>{PVE_READONLY_TOKEN}"),
                (r"\$\{file:secrets/pve_token(-[a-z0-9_-]+)?\}", r"${file:secrets/pve_token_readonly\1}"))

    def seed(self, paths: Paths, labs: Sequence[Any]) -> None:
        write_atomic(paths.site_seeds / "proxmox.json", json.dumps(proxmox_seed(labs[0]), indent=1), 0o644)
        for name in (paths.pve_token, paths.pve_token_readonly):
            if not (paths.secrets / name).exists():
                write_atomic(paths.secrets / name, secrets.token_urlsafe(24) + "\n", 0o600)

    def start(self, paths: Paths, options: Mapping[str, Any]) -> ProxmoxLab:
        return start_proxmox(paths)

    @property
    def guests(self) -> Any:
        """``netsot lab guest add|rm|set|restart`` through the simulator's API (``sim/guests.py``)."""
        from providers.proxmox.sim import guests

        return _GuestOps(guests)

    def provider(self, paths: Paths, port: int, dns_port: int | None) -> str:
        return ("    host: 127.0.0.1\n"
                f"    port: {port}\n"
                f"    user: {PVE_USER}\n"
                f"    token_name: {PVE_TOKEN_NAME}\n"
                f"    token_value: ${{file:secrets/{paths.pve_token}}}\n"
                f"    verify_tls: {paths.ca}\n"
                "    writeback_tag: netsot-static\n")

    def network(self, network: Any) -> str:
        vlan = f", vlan: {network.vlan}" if network.vlan else ""
        return f"bridge: {network.bridge}{vlan}"

    def describe(self, paths: Paths, port: int) -> str:
        return f"https://127.0.0.1:{port}"


LAB = ProxmoxClusterLab()

"""Run the lab's systems from a prepared lab folder: in this process, or one per process.

Owns: the lab folder's file layout (``Paths``: shared files, and per site its seeds, run info,
router-hosts, router-dhcp.json, router-leases.json, known_hosts, CA and token), starting each
simulator from what it saved when it last stopped (``run/<process>/``: Proxmox's cluster, the
router's saved config.boot, NIPAP's database; so ``lab down`` then ``lab up`` resumes) or else from
the seed files in ``<workdir>/seeds`` (site 2's in ``seeds/<site>/``), each router's DHCP leases
from its ``router-leases.json`` (the lab's control channel for leases: EdgeOS has no API to add
one, so ``netsot lab lease add`` writes this file and the router re-reads it), each router's commit hook
(rewrite its site's ``router-hosts`` from the ACTIVE config, SIGHUP its dnsmasq, publish its
static mappings to its ``router-dhcp.json``), the Proxmox side's "DHCP client" (a site's guests
pick up their own router's static mapping, or their cloud-init / LXC static address, in agent
answers), and the standalone entry
``python -m providers.lab.runner proxmox|nipap|router --workdir DIR [--site NAME]``.
Must not: decide what netsot manages, or be imported by netsot's engine or providers.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.lab import dns, seeds
from providers.lab.homelab import SITES, site_named

SYSTEMS = ("proxmox", "nipap", "router")
PVE_USER, PVE_TOKEN_NAME = "netsot@pve", "netsot"
NIPAP_USER, ROUTER_USER = "netsot", "ubnt"
# netsot-readonly.yaml's identities: a token without the write privileges, NIPAP's read-only user
PVE_READONLY_TOKEN, NIPAP_READONLY_USER = "readonly", "netsot-ro"


@dataclass(frozen=True)
class Paths:
    """Every file of a lab folder, as one site sees it.

    ``site`` is "" for site 1, whose files keep their plain names; another site's own files carry
    its name (``seeds/cabin/``, ``router-hosts-cabin``, ``known_hosts-cabin``, ``ca-cabin.pem``,
    processes ``router.cabin``…). Shared by every site: NIPAP's seed, secrets, the SSH key, the
    config, ``lab.json``, the logs and run folders.
    """

    root: Path
    site: str = ""

    def for_site(self, site: str) -> Paths:
        """The same lab folder as site ``site`` sees it."""
        return Paths(self.root, site)

    def _own(self, name: str, suffix: str = "") -> str:
        return f"{name}-{self.site}{suffix}" if self.site else f"{name}{suffix}"

    def process(self, system: str) -> str:
        """The name of this site's ``system`` process (and of its run info, state and log)."""
        return f"{system}.{self.site}" if self.site else system

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def site_seeds(self) -> Path:
        """This site's Proxmox and router seeds (NIPAP's, shared, is in ``seeds``)."""
        return self.seeds / self.site if self.site else self.seeds

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def hosts_file(self) -> Path:
        return self.root / self._own("router-hosts")

    @property
    def dhcp_file(self) -> Path:
        return self.root / self._own("router-dhcp", ".json")

    @property
    def leases_file(self) -> Path:
        """The router's DHCP leases (the lab's control channel: the router re-reads it when it changes)."""
        return self.root / self._own("router-leases", ".json")

    @property
    def private_key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.root / self._own("known_hosts")

    @property
    def ca(self) -> Path:
        return self.root / self._own("ca", ".pem")

    @property
    def pve_token(self) -> str:
        """The name of the secret holding this site's Proxmox API token."""
        return self._own("pve_token")

    @property
    def pve_token_readonly(self) -> str:
        """The name of the secret holding this site's read-only Proxmox API token."""
        return self._own("pve_token_readonly")

    @property
    def config(self) -> Path:
        return self.root / "netsot.yaml"

    @property
    def readonly_config(self) -> Path:
        """The lab's config with identities that may read but not write (`netsot doctor` shows ✗)."""
        return self.root / "netsot-readonly.yaml"

    @property
    def lab_json(self) -> Path:
        return self.root / "lab.json"

    def state_dir(self, system: str) -> Path:
        return self.run / system

    def info(self, system: str) -> Path:
        return self.run / f"{system}.json"

    def secret(self, name: str) -> str:
        return (self.secrets / name).read_text().strip()


# ----------------------------------------------------------------------------- proxmox


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
            answers = seeds.guest_answers(g, static, leases, self._pins(g, static, leases))
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
    dns.write_atomic(paths.ca, handle.ca_path.read_text())
    return ProxmoxLab(handle, GuestNetworks(handle, paths, leases).start())


# ----------------------------------------------------------------------------- nipap


class NipapLab:
    """The NIPAP simulator, resumed from and saved to ``run/nipap/database.json`` (its ids kept)."""

    def __init__(self, handle: Any, saved: Path) -> None:
        self.handle, self.saved = handle, saved

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    def save(self) -> None:
        self.saved.parent.mkdir(parents=True, exist_ok=True)
        dns.write_atomic(self.saved, json.dumps(self.handle.store.snapshot()), mode=0o600)

    def stop(self) -> None:
        self.save()
        self.handle.stop()


def start_nipap(paths: Paths) -> NipapLab:
    from providers.nipap.sim.server import start_simulator

    saved = paths.state_dir("nipap") / "database.json"
    users = {NIPAP_USER: (paths.secret("nipap_password"), "rw"),
             NIPAP_READONLY_USER: (paths.secret("nipap_password_readonly"), "ro")}
    if saved.exists():
        handle = start_simulator(None, users)
        handle.store.restore(json.loads(saved.read_text()))
        return NipapLab(handle, saved)
    return NipapLab(start_simulator(json.loads((paths.seeds / "nipap.json").read_text()), users), saved)


# ----------------------------------------------------------------------------- router


class RouterHook:
    """The router's commit hook: what EdgeOS does after a commit for DNS and DHCP."""

    def __init__(self, paths: Paths, reload: Callable[[], None] | None) -> None:
        self.paths, self.reload = paths, reload
        self.lock = threading.Lock()

    def __call__(self, active_tree: Any) -> None:
        with self.lock:
            dns.write_atomic(self.paths.hosts_file, dns.render_hosts(active_tree))
            static = seeds.static_from_tree(active_tree)
            dns.write_atomic(self.paths.dhcp_file, json.dumps({"static": static}, sort_keys=True))
            if self.reload is not None:
                self.reload()


class LeaseWatcher:
    """Re-reads the router's ``router-leases.json`` when it changes (what `lab lease add` writes), and
    expires its leases at their end as the router's DHCP server does (the lab's clock): an expired
    lease leaves `show dhcp leases`, and `lab lease add` may give its address to another device."""

    def __init__(self, handle: Any, path: Path, period: float = 0.2) -> None:
        self.handle, self.path, self.period = handle, path, period
        self._seen: tuple[int, int] | None = None
        self._rows: list[dict[str, Any]] = []
        self._active: list[dict[str, Any]] | None = None
        self.check()  # what the router starts with counts as applied
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lab-router-leases", daemon=True)
        self._thread.start()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def check(self) -> None:
        from providers.edgemax.sim.server import leases_from_json

        stamp = self._stamp()
        text = None
        if stamp is not None and stamp != self._seen:
            try:
                text = self.path.read_text()
                rows = [dict(row) for row in json.loads(text)]
                leases_from_json(rows)
            except (OSError, ValueError, KeyError, TypeError):
                return  # half-written or broken: the next change is read
            self._seen, self._rows = stamp, rows
        now = seeds.lab_now()
        active = [row for row in self._rows if seeds.lease_active(row, now)]
        if text is not None or active != self._active:
            self.handle.set_leases(leases_from_json(active))
            self._active = active
        if text is not None:
            dns.write_atomic(self.path.with_suffix(".applied"), text)  # `lab lease add` waits for this

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            self.check()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


class RouterLab:
    """The site's EdgeOS simulator, its lease watcher, and its saved config kept across restarts
    (``run/<router>/config.boot``: what the router boots from, as a real one does after `save`)."""

    def __init__(self, handle: Any, watcher: LeaseWatcher, saved: Path) -> None:
        self.handle, self.watcher, self.saved = handle, watcher, saved

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    def stop(self) -> None:
        self.watcher.stop()
        dns.write_atomic(self.saved, self.handle.saved_text())
        self.handle.stop()


def start_router(paths: Paths, reload: Callable[[], None] | None = None) -> RouterLab:
    """The site's EdgeOS simulator with the lab's commit hook; writes its hosts file once at start."""
    from providers.edgemax.sim.server import leases_from_json, start_simulator

    state_dir = paths.state_dir(paths.process("edgemax"))
    saved = state_dir / "config.boot"
    boot = saved if saved.exists() else paths.site_seeds / "config.boot"
    if not paths.leases_file.exists():
        dns.write_atomic(paths.leases_file, (paths.site_seeds / "leases.json").read_text())
    hook = RouterHook(paths, reload)
    handle = start_simulator(
        state_dir,
        config_boot=boot.read_text(),
        leases=leases_from_json(json.loads(paths.leases_file.read_text())),
        users={ROUTER_USER: os.urandom(16).hex()},  # key auth only: nobody knows the password
        authorized_keys=paths.private_key.with_suffix(".pub"),
        hostname=site_named(paths.site).router,
    )
    handle.set_on_commit(hook)
    hook(handle.active_tree())
    dns.write_atomic(paths.known_hosts, handle.known_hosts.read_text())
    return RouterLab(handle, LeaseWatcher(handle, paths.leases_file), saved)


def pid_reloader(pid: int | None) -> Callable[[], None] | None:
    """SIGHUP to a dnsmasq running as another process (a vanished one is ignored)."""
    if not pid:
        return None

    def reload() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGHUP)

    return reload


# ----------------------------------------------------------------------------- standalone


def _write_info(paths: Paths, system: str, info: dict[str, Any]) -> None:
    paths.run.mkdir(parents=True, exist_ok=True)
    dns.write_atomic(paths.info(system), json.dumps({**info, "pid": os.getpid()}), mode=0o600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m providers.lab.runner",
                                     description="Run one of the lab's systems until SIGTERM.")
    parser.add_argument("system", choices=SYSTEMS)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--site", choices=[s.name for s in SITES if s.name], default="",
                        help="Run this site's Proxmox or router (default: site 1's).")
    parser.add_argument("--dnsmasq-pid", type=int, default=None)
    args = parser.parse_args(argv)
    if args.site and args.system == "nipap":
        parser.error("NIPAP is one for every site: no --site")
    paths = Paths(args.workdir.resolve(), args.site)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    stop: Callable[[], None]
    if args.system == "proxmox":
        pve = start_proxmox(paths)
        _write_info(paths, paths.process("proxmox"), {"port": pve.port})
        stop = pve.stop
    elif args.system == "nipap":
        ipam = start_nipap(paths)
        _write_info(paths, "nipap", {"port": ipam.port})
        stop = ipam.stop
    else:
        router = start_router(paths, pid_reloader(args.dnsmasq_pid))
        _write_info(paths, paths.process("router"), {"port": router.port})
        stop = router.stop
    while not done.wait(0.5):
        pass
    stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the lab's systems from a prepared lab folder: in this process, or one per process.

Owns: the lab folder's file layout (``Paths``: shared files, and per site its seeds, run info,
router-hosts, router-dhcp.json, router-leases.json, known_hosts, CA and token), starting a part of
the lab (``start_system``: the kind playing it, through its ``LabSystem``, which resumes what its
simulator saved in ``run/`` or starts from the seeds), what every router does for the lab — its commit
hook (``RouterHook``: rewrite its site's ``router-hosts`` from the active config, SIGHUP its dnsmasq,
publish its static mappings to its ``router-dhcp.json``) and its lease file (``LeaseWatcher``: a
router's DHCP leases come from its ``router-leases.json``, the lab's control channel for leases, which
``netsot lab lease add`` writes and the router re-reads) — and the standalone entry
``python -m providers.lab.runner PROCESS --workdir DIR [--site NAME] [--kind KIND]``.
Must not: name a system (each kind's ``sim/lab.py`` holds its part), decide what netsot manages, or be
imported by netsot's engine or providers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.lab import dns, seeds
from providers.lab.homelab import SITES

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


# ----------------------------------------------------------------------------- a router's lab wiring


def dns_setting(dns_port: int | None) -> str:
    """A router's ``dns_server`` line in the lab's config (its resolver, for verify), or a comment."""
    return (f"    dns_server: 127.0.0.1:{dns_port}   # the router's resolver (dnsmasq), for verify\n"
            if dns_port else "    # dns_server: not set: dnsmasq is not installed, no DNS served\n")


class RouterHook:
    """A router's commit hook in the lab: what the router does after a commit for DNS and DHCP — the
    site's hosts file (``hosts_text(tree)``, which dnsmasq serves; ``reload`` tells it) and the static
    mappings the guests' DHCP clients see (``static_of(tree)``: mac → ip, in ``router-dhcp.json``)."""

    def __init__(self, paths: Paths, reload: Callable[[], None] | None, hosts_text: Callable[[Any], str],
                 static_of: Callable[[Any], dict[str, str]]) -> None:
        self.paths, self.reload, self.hosts_text, self.static_of = paths, reload, hosts_text, static_of
        self.lock = threading.Lock()

    def __call__(self, active_tree: Any) -> None:
        with self.lock:
            dns.write_atomic(self.paths.hosts_file, self.hosts_text(active_tree))
            static = self.static_of(active_tree)
            dns.write_atomic(self.paths.dhcp_file, json.dumps({"static": static}, sort_keys=True))
            if self.reload is not None:
                self.reload()


class LeaseWatcher:
    """Re-reads a router's ``router-leases.json`` when it changes (what `lab lease add` writes), and
    expires its leases at their end as the router's DHCP server does (the lab's clock): an expired
    lease leaves the router's lease table, and `lab lease add` may give its address to another device.
    ``convert(rows)`` refuses rows the router cannot take (raising ``ValueError``/``KeyError``/
    ``TypeError``); ``apply(rows)`` hands the active ones to the router."""

    def __init__(self, path: Path, convert: Callable[[list[dict[str, Any]]], Any],
                 apply: Callable[[list[dict[str, Any]]], None], period: float = 0.2) -> None:
        self.path, self.convert, self.apply, self.period = path, convert, apply, period
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
        stamp = self._stamp()
        text = None
        if stamp is not None and stamp != self._seen:
            try:
                text = self.path.read_text()
                rows = [dict(row) for row in json.loads(text)]
                self.convert(rows)
            except (OSError, ValueError, KeyError, TypeError):
                return  # half-written or broken: the next change is read
            self._seen, self._rows = stamp, rows
        now = seeds.lab_now()
        active = [row for row in self._rows if seeds.lease_active(row, now)]
        if text is not None or active != self._active:
            self.apply(active)
            self._active = active
        if text is not None:
            dns.write_atomic(self.path.with_suffix(".applied"), text)  # `lab lease add` waits for this

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            self.check()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


# ----------------------------------------------------------------------------- starting a system


def start_system(role: str, paths: Paths, kind: str | None = None, **options: Any) -> Any:
    """Start the lab's ``role`` (``kind``'s simulator, by default the role's default kind) for ``paths``'s
    site, through the kind's ``LabSystem``; returns what its ``start`` returned (``port``, ``stop()``)."""
    from providers.lab import systems

    return systems.lab_system(kind or systems.default_kind(role)).start(paths, options)


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
    from providers.lab import systems

    parser = argparse.ArgumentParser(prog="python -m providers.lab.runner",
                                     description="Run one of the lab's systems until SIGTERM.")
    parser.add_argument("system", choices=systems.processes(), help="The lab process to run.")
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--site", choices=[s.name for s in SITES if s.name], default="",
                        help="Run this site's system (default: site 1's).")
    parser.add_argument("--kind", default=None,
                        help="The kind whose simulator plays the part (default: the part's default kind).")
    parser.add_argument("--dnsmasq-pid", type=int, default=None)
    args = parser.parse_args(argv)
    role = systems.role_of(args.system)
    kind = args.kind or systems.default_kind(role)
    if systems.lab_system(kind).role != role:
        parser.error(f"{kind} does not play the lab's {role}")
    if args.site and systems.shared(role):
        parser.error(f"the lab's {role} is one for every site: no --site")
    paths = Paths(args.workdir.resolve(), args.site)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    running = start_system(role, paths, kind, reload=pid_reloader(args.dnsmasq_pid))
    _write_info(paths, paths.process(args.system), {"port": running.port, "kind": kind})
    while not done.wait(0.5):
        pass
    running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

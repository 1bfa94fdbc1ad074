"""The embedded lab: `netsot lab up|down|status` and `netsot demo`.

Owns: preparing a lab folder (seeds, secrets, SSH key) for one or two sites, starting the
simulated NIPAP and, per site, a Proxmox cluster and an EdgeRouter (+ a real dnsmasq for that
router's DNS) as separate background processes — resuming what they saved when the lab last
stopped, unless ``--fresh`` — recording their PIDs in ``lab.json``, writing a ready ``netsot.yaml``
(site 2's systems as the instances ``proxmox.cabin`` / ``edgemax.cabin``) and ``netsot-readonly.yaml``
(the same with a Proxmox token lacking the write privileges and NIPAP's read-only user, for
``netsot doctor``'s ✗ side), stopping them by PID,
and the guided demo. Playing with a running lab (guests, leases) is ``control``.
Must not: be imported by the engine except through the CLI's dispatch.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from core.errors import NetsotError
from providers.lab import dns, seeds
from providers.lab.homelab import HOME, SITES, Homelab, LabSite, site_homelab
from providers.lab.runner import (
    NIPAP_READONLY_USER,
    NIPAP_USER,
    PVE_READONLY_TOKEN,
    PVE_TOKEN_NAME,
    PVE_USER,
    ROUTER_USER,
    Paths,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 45.0
STOP_TIMEOUT = 5.0
PROCESS_MARKERS = {"proxmox": "providers.lab.runner", "nipap": "providers.lab.runner",
                   "router": "providers.lab.runner", "dnsmasq": "dnsmasq"}
STOP_ORDER = ("router", "proxmox", "nipap", "dnsmasq")
MAX_SITES = len(SITES)


class LabError(NetsotError):
    """The lab could not be started, stopped or inspected."""


# ----------------------------------------------------------------------------- preparing a folder


def _sites(sites: int) -> tuple[LabSite, ...]:
    if sites < 1 or sites > MAX_SITES:
        raise LabError(f"--sites must be between 1 and {MAX_SITES}, got {sites}")
    return SITES[:sites]


def prepare(workdir: Path, guests: int = 15, sites: int = 1) -> Paths:
    """Write seeds, secrets (0600) and the router SSH key into ``workdir``; return its paths.

    Each site gets its own Proxmox and router seeds and its own API token; NIPAP's seed holds
    every site's prefixes. ``guests`` sizes site 1.
    """
    paths = Paths(Path(workdir).resolve())
    for folder in (paths.root, paths.seeds, paths.run, paths.logs, paths.secrets):
        folder.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.secrets, 0o700)
    labs = [site_homelab(site, guests) for site in _sites(sites)]
    for lab in labs:
        _write_site(paths.for_site(lab.site.name), lab)
    dns.write_atomic(paths.seeds / "nipap.json", json.dumps(seeds.nipap_seed(*labs), indent=1))
    tokens = [name for lab in labs for name in (paths.for_site(lab.site.name).pve_token,
                                                paths.for_site(lab.site.name).pve_token_readonly)]
    for name in ("nipap_password", "nipap_password_readonly", *tokens):
        if not (paths.secrets / name).exists():
            dns.write_atomic(paths.secrets / name, secrets.token_urlsafe(24) + "\n", mode=0o600)
    if not paths.private_key.exists():
        import asyncssh

        key = asyncssh.generate_private_key("ssh-ed25519", comment="netsot-lab")
        key.write_private_key(str(paths.private_key))
        os.chmod(paths.private_key, 0o600)
        key.write_public_key(str(paths.private_key.with_suffix(".pub")))
    return paths


def _write_site(paths: Paths, lab: Homelab) -> None:
    """One site's Proxmox seed, router config.boot and leases; its router's last outputs removed."""
    paths.site_seeds.mkdir(parents=True, exist_ok=True)
    dns.write_atomic(paths.site_seeds / "proxmox.json", json.dumps(seeds.proxmox_seed(lab), indent=1))
    dns.write_atomic(paths.site_seeds / "config.boot", lab.config_boot)
    dns.write_atomic(paths.site_seeds / "leases.json", json.dumps(seeds.router_leases(lab), indent=1))
    for stale in (paths.hosts_file, paths.dhcp_file):
        stale.unlink(missing_ok=True)


def _dns_line(dns_port: int | None) -> str:
    return (f"    dns_server: 127.0.0.1:{dns_port}   # the router's resolver (dnsmasq), for verify\n"
            if dns_port else "    # dns_server: not set: dnsmasq is not installed, no DNS served\n")


def _networks_text(site: LabSite) -> str:
    instance = f"instance: {site.name}, " if site.name else ""
    nets = []
    for n in site.networks:
        vlan = f", vlan: {n.vlan}" if n.vlan else ""
        nets.append(
            f"  - name: {n.name}\n"
            f"    prefix: {n.prefix}\n"
            f"    gateway: {n.gateway}\n"
            f"    domain: {n.domain}\n"
            f"    dhcp_range: {{start: {n.dhcp_start}, stop: {n.dhcp_stop}}}\n"
            f"    proxmox: {{{instance}bridge: {n.bridge}{vlan}}}\n"
            f"    edgemax: {{{instance}shared_network: {n.shared_network}}}\n")
    return "".join(nets)


def _site_providers_text(paths: Paths, site: LabSite, ports: Mapping[str, int]) -> str:
    """``proxmox.<site>`` and ``edgemax.<site>``: a further site's cluster and router, as named instances."""
    own = paths.for_site(site.name)
    return (
        f"  proxmox.{site.name}:   # site 2's own cluster: a second instance of the kind\n"
        "    host: 127.0.0.1\n"
        f"    port: {ports[own.process('proxmox')]}\n"
        f"    user: {PVE_USER}\n"
        f"    token_name: {PVE_TOKEN_NAME}\n"
        f"    token_value: ${{file:secrets/{own.pve_token}}}\n"
        f"    verify_tls: {own.ca}\n"
        "    writeback_tag: netsot-static\n"
        f"  edgemax.{site.name}:   # site 2's own router, with its own DNS\n"
        "    host: 127.0.0.1\n"
        f"    port: {ports[own.process('router')]}\n"
        f"    username: {ROUTER_USER}\n"
        f"    private_key: {paths.private_key}\n"
        f"    known_hosts: {own.known_hosts}\n"
        "    ssh_config: /dev/null\n"
        + _dns_line(ports.get(own.process("dnsmasq")))
    )


def config_text(paths: Paths, ports: Mapping[str, int], dns_port: int | None, sites: int = 1) -> str:
    """The lab's ``netsot.yaml``: every network, every provider instance pointing at the simulators.

    ``ports`` holds the processes' ports by name (``proxmox``, ``nipap``, ``router``; a further
    site's ``proxmox.<site>``, ``router.<site>`` and, when dnsmasq runs, ``dnsmasq.<site>``);
    ``dns_port`` is site 1's dnsmasq.
    """
    more = _sites(sites)[1:]
    nets = [_networks_text(HOME), *(_networks_text(site) for site in more)]
    return (
        f"# yaml-language-server: $schema={REPO_ROOT / 'schemas' / 'config.schema.json'}\n"
        "# netsot.yaml for the embedded lab (written by `netsot lab up`; every system is a simulator\n"
        "# on 127.0.0.1). Secrets are files next to this one, referenced, never copied.\n"
        "version: 1\n\n"
        "state:\n  path: netsot.state.json\n\n"
        "providers:\n"
        "  proxmox:\n"
        "    host: 127.0.0.1\n"
        f"    port: {ports['proxmox']}\n"
        f"    user: {PVE_USER}\n"
        f"    token_name: {PVE_TOKEN_NAME}\n"
        "    token_value: ${file:secrets/pve_token}\n"
        f"    verify_tls: {paths.ca}\n"
        "    writeback_tag: netsot-static\n"
        "  nipap:\n"
        f"    url: http://127.0.0.1:{ports['nipap']}/XMLRPC\n"
        f"    username: {NIPAP_USER}\n"
        "    password: ${file:secrets/nipap_password}\n"
        f"    vrf: {seeds.VRF_NAME}\n"
        "  edgemax:\n"
        "    host: 127.0.0.1\n"
        f"    port: {ports['router']}\n"
        f"    username: {ROUTER_USER}\n"
        f"    private_key: {paths.private_key}\n"
        f"    known_hosts: {paths.known_hosts}\n"
        "    ssh_config: /dev/null\n"
        + _dns_line(dns_port)
        + "".join(_site_providers_text(paths, site, ports) for site in more)
        + "\nnetworks:\n" + "".join(nets) + "\n"
        "# a device that is not a Proxmox guest: the NAS, already in NIPAP and on the router\n"
        "hosts:\n"
        f"  - name: nas\n    network: lan\n    mac: \"{_nas_mac()}\"\n    ip: 192.168.10.20\n"
        "    description: Synology NAS\n\n"
        "policy:\n  delete: plan             # deletes are planned; an approved apply carries them out\n"
    )


def _nas_mac() -> str:
    from providers.lab.homelab import NAS_MAC

    return NAS_MAC


def write_config(paths: Paths, ports: Mapping[str, int], dns_port: int | None, sites: int = 1) -> Path:
    dns.write_atomic(paths.config, config_text(paths, ports, dns_port, sites))
    write_readonly_config(paths)
    return paths.config


def readonly_text(text: str) -> str:
    """The lab's config as a read-only identity: every Proxmox instance with its site's token that lacks
    the write privileges, NIPAP's read-only user, a state of its own. ``netsot doctor`` on it fails,
    naming each missing privilege."""
    head, _, rest = text.partition("\n")
    text = (f"{head}\n# netsot-readonly.yaml: the lab's config below, but as identities that may read and "
            f"not write (Proxmox\n# token {PVE_USER}!{PVE_READONLY_TOKEN}, NIPAP's read-only user "
            f"{NIPAP_READONLY_USER}): `netsot doctor` shows what they lack.\n" + rest)
    text = re.sub(r"(?m)^(    token_name: )" + re.escape(PVE_TOKEN_NAME) + "$", rf"\g<1>{PVE_READONLY_TOKEN}",
                  text)
    text = re.sub(r"\$\{file:secrets/pve_token(-[a-z0-9_-]+)?\}", r"${file:secrets/pve_token_readonly\1}",
                  text)
    text = re.sub(r"(?m)^(    username: )" + re.escape(NIPAP_USER)
                  + r"(\n    password: \$\{file:secrets/)nipap_password\}",
                  rf"\g<1>{NIPAP_READONLY_USER}\g<2>nipap_password_readonly}}", text)
    return re.sub(r"(?m)^(  path: )netsot\.state\.json$", r"\1netsot-readonly.state.json", text)


def write_readonly_config(paths: Paths) -> Path:
    """``netsot-readonly.yaml`` next to the lab's config, derived from it (so its ports are the same)."""
    dns.write_atomic(paths.readonly_config, readonly_text(paths.config.read_text()))
    return paths.readonly_config


# ----------------------------------------------------------------------------- processes


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    with contextlib.suppress(ChildProcessError, OSError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child that exited: reap it
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_ours(pid: int, name: str) -> bool:
    """The PID still runs the program the lab started (never signal a recycled PID)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    base = name.split(".", 1)[0]  # "router.cabin" is site 2's router
    return PROCESS_MARKERS.get(base, base) in cmdline


def _load(paths: Paths) -> dict[str, Any] | None:
    try:
        return json.loads(paths.lab_json.read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise LabError(f"{paths.lab_json} is unreadable ({exc}); remove it after stopping the processes "
                       "it lists") from None


def _stop_pid(pid: int, name: str) -> str:
    if not _alive(pid) or not _is_ours(pid, name):
        return "not running"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if not _alive(pid):
            return "stopped"
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    return "killed" if not _alive(pid) else "still running (could not stop it)"


def _spawn(paths: Paths, system: str, extra: list[str]) -> subprocess.Popen[bytes]:
    """``python -m providers.lab.runner SYSTEM`` for ``paths.site``, logging to ``logs/<process>.log``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    site = ["--site", paths.site] if paths.site else []
    log = open(paths.logs / f"{paths.process(system)}.log", "ab")  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "providers.lab.runner", system, "--workdir", str(paths.root),
             *site, *extra],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO_ROOT), env=env,
            start_new_session=True,  # survives the CLI and the terminal closing
        )
    finally:
        log.close()


def _log_tail(paths: Paths, system: str, lines: int = 5) -> str:
    try:
        text = (paths.logs / f"{system}.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def _wait_ready(paths: Paths, procs: Mapping[str, subprocess.Popen[bytes]]) -> dict[str, int]:
    deadline = time.monotonic() + START_TIMEOUT
    ports: dict[str, int] = {}
    while time.monotonic() < deadline and len(ports) < len(procs):
        for system, proc in procs.items():
            if system in ports:
                continue
            if proc.poll() is not None:
                raise LabError(f"the lab's {system} exited with code {proc.returncode} while starting: "
                               f"{_log_tail(paths, system) or 'no output'}")
            try:
                info = json.loads(paths.info(system).read_text())
            except (OSError, ValueError):
                continue
            if info.get("pid") == proc.pid:
                ports[system] = int(info["port"])
        time.sleep(0.05)
    missing = sorted(set(procs) - set(ports))
    if missing:
        raise LabError(f"the lab's {', '.join(missing)} did not start within {START_TIMEOUT:g} s "
                       f"(see {paths.logs})")
    return ports


# ----------------------------------------------------------------------------- commands


def _start_dnsmasq(binary: str, paths: Paths, site: LabSite) -> dns.Dnsmasq:
    """The site's router resolver: dnsmasq serving that router's hosts file for the site's zones."""
    log = paths.logs / f"{paths.process('dnsmasq')}.log"
    server = dns.Dnsmasq(binary, paths.hosts_file, site.domains, log)
    server.start()
    return server


def _start_all(paths: Paths, chosen: tuple[LabSite, ...],
               started: list[tuple[int, str]]) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Every process of the lab: per site its dnsmasq (when installed), Proxmox and router; one NIPAP.

    ``started`` collects (pid, process name) as each one starts, so a failure can stop them all.
    Returns lab.json's ``processes`` and every process's port by name.
    """
    processes: dict[str, dict[str, Any]] = {}
    binary = dns.find_dnsmasq()
    for site in chosen if binary else ():
        own = paths.for_site(site.name)
        server = _start_dnsmasq(str(binary), own, site)
        assert server.pid is not None
        started.append((server.pid, own.process("dnsmasq")))
        processes[own.process("dnsmasq")] = {"pid": server.pid, "port": server.port}
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(own: Paths, system: str, extra: list[str]) -> None:
        proc = _spawn(own, system, extra)
        procs[own.process(system)] = proc
        started.append((proc.pid, own.process(system)))

    for site in chosen:
        own = paths.for_site(site.name)
        spawn(own, "proxmox", [])
        if not site.name:  # one NIPAP for every site
            spawn(own, "nipap", [])
        resolver = processes.get(own.process("dnsmasq"))
        spawn(own, "router", ["--dnsmasq-pid", str(resolver["pid"])] if resolver else [])
    ports = _wait_ready(paths, procs)
    for name, port in ports.items():
        processes[name] = {"pid": procs[name].pid, "port": port}
    return processes, {name: int(p["port"]) for name, p in processes.items()}


def saved_systems(paths: Paths) -> list[Path]:
    """What the lab's systems saved when they stopped (resumed by the next ``lab up``)."""
    found: list[Path] = []
    if paths.run.exists():
        for pattern in ("proxmox*/proxmox-state.json", "edgemax*/config.boot", "nipap/database.json"):
            found += sorted(paths.run.glob(pattern))
    found += sorted(paths.root.glob("router-leases*.json")) if paths.root.exists() else []
    return found


def _forget_systems(paths: Paths) -> None:
    """``--fresh``: the systems start from the seeds again."""
    for path in saved_systems(paths):
        path.unlink(missing_ok=True)
        path.with_suffix(".applied").unlink(missing_ok=True)


def up(workdir: Path, guests: int = 15, sites: int | None = None, fresh: bool = False) -> str:
    """Start the lab (``sites`` sites) in the background and write ``<workdir>/netsot.yaml``.

    The systems resume what they saved when the lab last stopped (guests added with ``lab guest``,
    leases, netsot's changes); ``fresh`` starts them from the seeds (``--guests`` only counts then).
    Without ``sites`` the lab runs as many sites as it last did (after ``make demo``: two), else one.
    """
    paths = Paths(Path(workdir).resolve())
    resumed_sites = last_sites(paths) if sites is None else None
    if sites is None:
        sites = resumed_sites or 1
    current = _load(paths)
    if current and any(_alive(p.get("pid")) for p in current.get("processes", {}).values()):
        raise LabError(f"the lab in {paths.root} is already running; `netsot lab status --dir {workdir}` "
                       f"shows it, `netsot lab down --dir {workdir}` stops it")
    if guests < 1 or guests > 500:
        raise LabError(f"--guests must be between 1 and 500, got {guests}")
    chosen = _sites(sites)
    for info in paths.run.glob("*.json") if paths.run.exists() else ():
        info.unlink()
    if fresh:
        _forget_systems(paths)
    resumed = saved_systems(paths)
    prepare(paths.root, guests, sites)
    started: list[tuple[int, str]] = []
    try:
        processes, ports = _start_all(paths, chosen, started)
    except BaseException:
        for pid, name in reversed(started):
            _stop_pid(pid, name)
        raise
    dns.write_atomic(paths.lab_json, json.dumps({"workdir": str(paths.root), "guests": guests, "sites": sites,
                                                 "started": time.time(), "processes": processes},
                                                indent=1, sort_keys=True), mode=0o600)
    config, kept = _write_lab_config(paths, ports, sites)
    same = (f"\nRuns {sites} sites, as this lab did last time (`--sites 1` leaves the cabin out)."
            if resumed_sites and resumed_sites > 1 else "")
    return _up_text(paths, config, guests, chosen, ports) + _resume_text(paths, resumed, fresh) + kept + same


def last_sites(paths: Paths) -> int | None:
    """How many sites the lab in ``paths`` ran the last time it was started (None: never started)."""
    try:
        sites = json.loads((paths.root / WRITTEN).read_text()).get("sites")
    except (OSError, ValueError, AttributeError):
        return None
    return sites if isinstance(sites, int) and 1 <= sites <= MAX_SITES else None


WRITTEN = ".netsot-yaml-written.json"  # what `lab up` last wrote: the config's digest and the ports in it


def _write_lab_config(paths: Paths, ports: Mapping[str, int], sites: int) -> tuple[Path, str]:
    """The lab's config with this run's ports. A config edited since the lab wrote it (a host added
    under ``hosts:``) keeps the edits: only its old ports are replaced by the new ones."""
    import hashlib

    record = paths.root / WRITTEN
    try:
        last = json.loads(record.read_text())
        current = paths.config.read_text()
    except (OSError, ValueError):
        last, current = None, None
    edited = (last is not None and current is not None
              and hashlib.sha256(current.encode()).hexdigest() != last.get("sha256"))
    note = ""
    if edited and set(last.get("ports", {})) == set(ports):
        text = current
        for name, old in last["ports"].items():
            text = re.sub(rf"(?<=[: ]){int(old)}(?=\b)", str(ports[name]), text)
        dns.write_atomic(paths.config, text)
        note = f"\nKept your edits of {os.path.relpath(paths.config)} (only the ports changed)."
    else:
        if edited:
            aside = paths.config.with_name("netsot.yaml.edited")
            dns.write_atomic(aside, current or "")
            note = (f"\nYour edited config is kept as {os.path.relpath(aside)}: this lab has other processes "
                    f"(--sites {sites}), so {os.path.relpath(paths.config)} was written anew.")
        write_config(paths, ports, ports.get("dnsmasq"), sites)
    written = paths.config.read_text()
    write_readonly_config(paths)
    dns.write_atomic(record, json.dumps({"sha256": hashlib.sha256(written.encode()).hexdigest(),
                                         "ports": dict(ports), "sites": sites}))
    return paths.config, note


def _resume_text(paths: Paths, resumed: list[Path], fresh: bool) -> str:
    if resumed:
        return (f"\nResumed the systems as they were when the lab stopped ({len(resumed)} saved files in "
                f"{os.path.relpath(paths.run)}/); `netsot lab up --fresh` starts them from the seeds.")
    state = paths.root / "netsot.state.json"
    if fresh and state.exists():
        return (f"\nStarted the systems from the seeds. netsot's state {os.path.relpath(state)} was kept: it "
                "describes the lab before --fresh (remove it to start over).")
    return ""


def _up_text(paths: Paths, config: Path, guests: int, chosen: tuple[LabSite, ...],
             ports: Mapping[str, int]) -> str:
    rel = os.path.relpath(config)
    dns_port = ports.get("dnsmasq")
    prefixes = [n.prefix for site in chosen for n in site.networks]
    lines = [
        f"The lab is running in {paths.root}:",
        f"  Proxmox VE  https://127.0.0.1:{ports['proxmox']}  (3 nodes, {guests} guests + a template)",
        f"  NIPAP       http://127.0.0.1:{ports['nipap']}/XMLRPC  (VRF {seeds.VRF_NAME}: "
        + ", ".join(prefixes) + ")",
        f"  EdgeRouter  ssh ubnt@127.0.0.1 -p {ports['router']}  (DHCP + DNS)",
        f"  DNS         127.0.0.1:{dns_port} (dnsmasq serving the router's host names)" if dns_port else
        "  DNS         not served: dnsmasq is not installed (apt-get install dnsmasq-base); "
        "`netsot verify` will say so",
    ]
    for number, site in enumerate(chosen[1:], start=2):
        lines += _site_lines(paths.for_site(site.name), number, site, ports)
    imports = ["edgemax", *(f"edgemax.{site.name}" for site in chosen[1:])]
    lines += [
        "",
        f"Config: {config}  (and {paths.readonly_config.name}: read-only identities, for `netsot doctor`)",
        "Try:",
        f"  netsot --config {rel} doctor      (netsot-readonly.yaml shows what a read-only identity lacks)",
        f"  netsot --config {rel} plan",
        *(f"  netsot --config {rel} import {key}" for key in imports),
        f"  netsot --config {rel} apply",
        f"  netsot --config {rel} verify",
        f"  netsot lab guest add web03 --dir {os.path.relpath(paths.root)}    "
        "(then plan again; README's tour has more)",
        f"Stop it with: netsot lab down --dir {os.path.relpath(paths.root)}",
    ]
    return "\n".join(lines)


def _site_lines(own: Paths, number: int, site: LabSite, ports: Mapping[str, int]) -> list[str]:
    """A further site's endpoints in the ``lab up`` output."""
    dns_port = ports.get(own.process("dnsmasq"))
    nets = ", ".join(f"{n.name} {n.prefix}" for n in site.networks)
    guests = len(site_homelab(site).guests)
    return [
        f"  Site {number}, {site.name} (providers proxmox.{site.name} and edgemax.{site.name}; "
        f"network {nets}):",
        f"    Proxmox VE  https://127.0.0.1:{ports[own.process('proxmox')]}  "
        f"({len(site.nodes)} nodes, {guests} guests)",
        f"    EdgeRouter  ssh ubnt@127.0.0.1 -p {ports[own.process('router')]}  "
        f"(host name {site.router}: DHCP + DNS)",
        f"    DNS         127.0.0.1:{dns_port} (dnsmasq serving this router's host names)" if dns_port else
        "    DNS         not served: dnsmasq is not installed",
    ]


def _stop_key(name: str) -> tuple[int, str]:
    base = name.split(".", 1)[0]
    return (STOP_ORDER.index(base) if base in STOP_ORDER else len(STOP_ORDER), name)


def down(workdir: Path) -> str:
    """Stop every lab process by PID (SIGTERM, then SIGKILL); safe to run twice."""
    paths = Paths(Path(workdir).resolve())
    current = _load(paths)
    if not current:
        return f"No lab is running in {paths.root}."
    lines = []
    procs = current.get("processes", {})
    width = max([8, *map(len, procs)])
    for name in sorted(procs, key=_stop_key):
        pid = procs[name].get("pid")
        lines.append(f"  {name:{width}} pid {pid}: {_stop_pid(int(pid), name) if pid else 'not running'}")
    if all(not _alive(p.get("pid")) for p in procs.values()):
        paths.lab_json.unlink(missing_ok=True)
    return (f"Stopped the lab in {paths.root}:\n" + "\n".join(lines)
            + "\nIts systems saved their state: `netsot lab up` resumes it, `netsot lab up --fresh` starts "
              "from the seeds.")


def status(workdir: Path) -> str:
    """Each lab process: alive or dead, PID and port."""
    paths = Paths(Path(workdir).resolve())
    current = _load(paths)
    if not current:
        return f"No lab in {paths.root} (start one with `netsot lab up --dir {workdir}`)."
    sites = int(current.get("sites") or 1)
    more = f", {sites} sites" if sites > 1 else ""
    lines = [f"Lab in {paths.root} ({current.get('guests', '?')} guests{more}), config {paths.config}:"]
    procs = current.get("processes", {})
    width = max([8, *map(len, procs)])
    for name, proc in sorted(procs.items()):
        pid = proc.get("pid")
        state = "alive" if _alive(pid) and _is_ours(int(pid), name) else "dead"
        lines.append(f"  {name:{width}} {state:5}  pid {pid}  port {proc.get('port')}")
    if "dnsmasq" not in procs:
        lines.append(f"  {'dnsmasq':{width}} -      not installed: the lab serves no DNS")
    return "\n".join(lines)


def demo(workdir: Path, echo: Callable[..., Any] = print, sites: int = MAX_SITES, fresh: bool = False) -> int:
    from providers.lab.demo import run_demo

    return run_demo(Path(workdir), echo, sites, fresh=fresh)


def guest(action: str, workdir: Path, *args: Any, **options: Any) -> str:
    """``netsot lab guest add|rm|set|restart``: see ``providers.lab.control``."""
    from providers.lab import control

    return str({"add": control.guest_add, "rm": control.guest_rm, "set": control.guest_set,
                "restart": control.guest_restart}[action](workdir, *args, **options))


def ssh(workdir: Path, site: str = "") -> int:
    """``netsot lab ssh``: log in to a router as a person would (see ``providers.lab.control``)."""
    from providers.lab import control

    return control.ssh(workdir, site=site)


def lease(workdir: Path, mac: str, **options: Any) -> str:
    """``netsot lab lease add``: see ``providers.lab.control``."""
    from providers.lab import control

    return control.lease_add(workdir, mac, **options)


__all__ = ["LabError", "config_text", "demo", "down", "guest", "lease", "prepare", "saved_systems", "ssh",
           "status", "up", "write_config"]

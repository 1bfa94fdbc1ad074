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
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from core.errors import NetsotError
from providers.base import LAB_ROLES
from providers.lab import dns, systems
from providers.lab.homelab import HOME, SITES, LabSite, site_homelab
from providers.lab.runner import NIPAP_READONLY_USER, PVE_READONLY_TOKEN, PVE_USER, Paths

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 45.0
STOP_TIMEOUT = 5.0
RUNNER = "providers.lab.runner"  # every simulator process runs it; dnsmasq is itself
STOP_ORDER = ("router", "hypervisor", "ipam")  # parts, then dnsmasq
MAX_SITES = len(SITES)


class LabError(NetsotError):
    """The lab could not be started, stopped or inspected."""


# ----------------------------------------------------------------------------- preparing a folder


def _sites(sites: int) -> tuple[LabSite, ...]:
    if sites < 1 or sites > MAX_SITES:
        raise LabError(f"--sites must be between 1 and {MAX_SITES}, got {sites}")
    return SITES[:sites]


def prepare(workdir: Path, guests: int = 15, sites: int = 1, kinds: Mapping[str, str] | None = None) -> Paths:
    """Write seeds, secrets (0600) and the SSH key into ``workdir``; return its paths.

    Each site's systems write their own seeds and secrets (``LabSystem.seed``: the kinds ``kinds`` names
    per process, by default every part's default kind); the IPAM's seed holds every site's networks.
    ``guests`` sizes site 1.
    """
    paths = Paths(Path(workdir).resolve())
    for folder in (paths.root, paths.seeds, paths.run, paths.logs, paths.secrets):
        folder.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.secrets, 0o700)
    chosen = _sites(sites)
    kinds = dict(kinds or systems.choose([s.name for s in chosen]))
    labs = [site_homelab(site, guests) for site in chosen]
    for lab in labs:
        own = paths.for_site(lab.site.name)
        own.site_seeds.mkdir(parents=True, exist_ok=True)
        for stale in (own.hosts_file, own.dhcp_file):
            stale.unlink(missing_ok=True)
    for process, kind in kinds.items():
        site = process.partition(".")[2]
        system = systems.lab_system(kind)
        mine = labs if systems.shared(system.role) else [lab for lab in labs if lab.site.name == site]
        system.seed(paths.for_site(site), mine)
    if not paths.private_key.exists():  # the lab's SSH key: a router that takes a login trusts it
        import asyncssh

        key = asyncssh.generate_private_key("ssh-ed25519", comment="netsot-lab")
        key.write_private_key(str(paths.private_key))
        os.chmod(paths.private_key, 0o600)
        key.write_public_key(str(paths.private_key.with_suffix(".pub")))
    return paths


def _site_kinds(kinds: Mapping[str, str], site: str) -> list[tuple[str, str]]:
    """(process, kind) of one site's systems (site 1: the shared ones too), in the config's part order."""
    mine = [(p, k) for p, k in kinds.items() if p.partition(".")[2] == site]
    return sorted(mine, key=lambda pk: LAB_ROLES.index(systems.lab_system(pk[1]).role))


def _networks_text(site: LabSite, kinds: Mapping[str, str]) -> str:
    instance = f"instance: {site.name}, " if site.name else ""
    nets = []
    for n in site.networks:
        parts = [(kind, systems.lab_system(kind).network(n)) for _p, kind in _site_kinds(kinds, site.name)]
        nets.append(
            f"  - name: {n.name}\n"
            f"    prefix: {n.prefix}\n"
            f"    gateway: {n.gateway}\n"
            f"    domain: {n.domain}\n"
            f"    dhcp_range: {{start: {n.dhcp_start}, stop: {n.dhcp_stop}}}\n"
            + "".join(f"    {kind}: {{{instance}{body}}}\n" for kind, body in parts if body))
    return "".join(nets)


def _providers_text(paths: Paths, site: LabSite, number: int, ports: Mapping[str, int],
                    dns_port: int | None, kinds: Mapping[str, str]) -> str:
    """One site's systems under ``providers:``; a further site's as named instances (``KIND.<site>``)."""
    own = paths.for_site(site.name)
    out = []
    for process, kind in _site_kinds(kinds, site.name):
        system = systems.lab_system(kind)
        key = f"{kind}.{site.name}" if site.name else kind
        note = f"   # site {number}'s own {system.title}: another instance of the kind" if site.name else ""
        out.append(f"  {key}:{note}\n" + system.provider(own, ports[process], dns_port))
    return "".join(out)


def config_text(paths: Paths, ports: Mapping[str, int], dns_port: int | None, sites: int = 1,
                kinds: Mapping[str, str] | None = None) -> str:
    """The lab's ``netsot.yaml``: every network, every provider instance pointing at the simulators.

    ``ports`` holds the processes' ports by name (``proxmox``, ``nipap``, ``router``; a further
    site's ``proxmox.<site>``, ``router.<site>`` and, when dnsmasq runs, ``dnsmasq.<site>``);
    ``dns_port`` is site 1's dnsmasq; ``kinds`` the kind running each process (default: each part's
    default kind).
    """
    chosen = _sites(sites)
    kinds = dict(kinds or systems.choose([s.name for s in chosen]))
    more = chosen[1:]
    nets = [_networks_text(HOME, kinds), *(_networks_text(site, kinds) for site in more)]
    providers = [_providers_text(paths, HOME, 1, ports, dns_port, kinds),
                 *(_providers_text(paths, site, number, ports, ports.get(paths.for_site(site.name)
                                                                         .process("dnsmasq")), kinds)
                   for number, site in enumerate(more, start=2))]
    return (
        f"# yaml-language-server: $schema={REPO_ROOT / 'schemas' / 'config.schema.json'}\n"
        "# netsot.yaml for the embedded lab (written by `netsot lab up`; every system is a simulator\n"
        "# on 127.0.0.1). Secrets are files next to this one, referenced, never copied.\n"
        "version: 1\n\n"
        "state:\n  path: netsot.state.json\n\n"
        "providers:\n"
        + "".join(providers)
        + "\nnetworks:\n" + "".join(nets) + "\n"
        "# a device that is not a guest: the NAS, already in the IPAM and on the router\n"
        "hosts:\n"
        f"  - name: nas\n    network: lan\n    mac: \"{_nas_mac()}\"\n    ip: 192.168.10.20\n"
        "    description: Synology NAS\n\n"
        "policy:\n  delete: plan             # deletes are planned; an approved apply carries them out\n"
    )


def _nas_mac() -> str:
    from providers.lab.homelab import NAS_MAC

    return NAS_MAC


def write_config(paths: Paths, ports: Mapping[str, int], dns_port: int | None, sites: int = 1,
                 kinds: Mapping[str, str] | None = None) -> Path:
    dns.write_atomic(paths.config, config_text(paths, ports, dns_port, sites, kinds))
    write_readonly_config(paths)
    return paths.config


def readonly_text(text: str) -> str:
    """The lab's config as a read-only identity: each system's identity that may read and not write (its
    ``LabSystem.readonly`` substitutions: Proxmox's token without the write privileges, NIPAP's read-only
    user), a state of its own. ``netsot doctor`` on it fails, naming each missing privilege."""
    head, _, rest = text.partition("\n")
    text = (f"{head}\n# netsot-readonly.yaml: the lab's config below, but as identities that may read and "
            f"not write (Proxmox\n# token {PVE_USER}!{PVE_READONLY_TOKEN}, NIPAP's read-only user "
            f"{NIPAP_READONLY_USER}): `netsot doctor` shows what they lack.\n" + rest)
    for system in systems.lab_systems().values():
        for pattern, replacement in getattr(system, "readonly", ()):
            text = re.sub(pattern, replacement, text)
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
    return (base if base == "dnsmasq" else RUNNER) in cmdline


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


def _start_all(paths: Paths, chosen: tuple[LabSite, ...], kinds: Mapping[str, str],
               started: list[tuple[int, str]]) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Every process of the lab: per site its dnsmasq (when installed) and its systems (``kinds``: the
    kind running each process); the shared ones once.

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
    for site in chosen:
        own = paths.for_site(site.name)
        resolver = processes.get(own.process("dnsmasq"))
        for process, kind in _site_kinds(kinds, site.name):
            system = process.partition(".")[0]
            extra = ["--kind", kind]
            if resolver and systems.lab_system(kind).role == "router":
                extra += ["--dnsmasq-pid", str(resolver["pid"])]
            proc = _spawn(own, system, extra)
            procs[process] = proc
            started.append((proc.pid, process))
    ports = _wait_ready(paths, procs)
    for name, port in ports.items():
        processes[name] = {"pid": procs[name].pid, "port": port, "kind": kinds[name]}
    return processes, {name: int(p["port"]) for name, p in processes.items()}


def saved_systems(paths: Paths) -> list[Path]:
    """What the lab's systems saved when they stopped (resumed by the next ``lab up``)."""
    found: list[Path] = []
    if paths.run.exists():
        for system in systems.lab_systems().values():
            for pattern in system.saves:
                found += sorted(paths.run.glob(pattern))
    found += sorted(paths.root.glob("router-leases*.json")) if paths.root.exists() else []
    return found


def _forget_systems(paths: Paths) -> None:
    """``--fresh``: the systems start from the seeds again."""
    for path in saved_systems(paths):
        path.unlink(missing_ok=True)
        path.with_suffix(".applied").unlink(missing_ok=True)


def up(workdir: Path, guests: int = 15, sites: int | None = None, fresh: bool = False,
       routers: Mapping[str, str] | Sequence[str] | None = None) -> str:
    """Start the lab (``sites`` sites) in the background and write ``<workdir>/netsot.yaml``.

    The systems resume what they saved when the lab last stopped (guests added with ``lab guest``,
    leases, netsot's changes); ``fresh`` starts them from the seeds (``--guests`` only counts then).
    Without ``sites`` the lab runs as many sites as it last did (after ``make demo``: two), else one;
    without ``sites`` and ``routers`` its routers are the kinds it last ran. ``routers`` ({site: kind},
    ``lab up --router cabin=KIND``) runs a site's router as another router kind's simulator.
    """
    paths = Paths(Path(workdir).resolve())
    if routers is not None and not isinstance(routers, Mapping):
        routers = systems.parse_routers(routers)
    resumed_sites = last_sites(paths) if sites is None else None
    if routers is None and sites is None:
        routers = _last_routers(paths)
    if sites is None:
        sites = resumed_sites or 1
    current = _load(paths)
    if current and any(_alive(p.get("pid")) for p in current.get("processes", {}).values()):
        raise LabError(f"the lab in {paths.root} is already running; `netsot lab status --dir {workdir}` "
                       f"shows it, `netsot lab down --dir {workdir}` stops it")
    if guests < 1 or guests > 500:
        raise LabError(f"--guests must be between 1 and 500, got {guests}")
    chosen = _sites(sites)
    kinds = systems.choose([s.name for s in chosen], routers)
    for info in paths.run.glob("*.json") if paths.run.exists() else ():
        info.unlink()
    if fresh:
        _forget_systems(paths)
    resumed = saved_systems(paths)
    prepare(paths.root, guests, sites, kinds)
    started: list[tuple[int, str]] = []
    try:
        processes, ports = _start_all(paths, chosen, kinds, started)
    except BaseException:
        for pid, name in reversed(started):
            _stop_pid(pid, name)
        raise
    dns.write_atomic(paths.lab_json, json.dumps({"workdir": str(paths.root), "guests": guests, "sites": sites,
                                                 "started": time.time(), "processes": processes},
                                                indent=1, sort_keys=True), mode=0o600)
    config, kept = _write_lab_config(paths, ports, sites, kinds)
    same = (f"\nRuns {sites} sites, as this lab did last time (`--sites 1` leaves the cabin out)."
            if resumed_sites and resumed_sites > 1 else "")
    return (_up_text(paths, config, guests, chosen, ports, kinds) + _resume_text(paths, resumed, fresh) + kept
            + same)


def last_sites(paths: Paths) -> int | None:
    """How many sites the lab in ``paths`` ran the last time it was started (None: never started)."""
    try:
        sites = json.loads((paths.root / WRITTEN).read_text()).get("sites")
    except (OSError, ValueError, AttributeError):
        return None
    return sites if isinstance(sites, int) and 1 <= sites <= MAX_SITES else None


def _last_routers(paths: Paths) -> dict[str, str] | None:
    """The router kinds the lab in ``paths`` ran last time, as {site: kind} (None: not recorded)."""
    try:
        kinds = json.loads((paths.root / WRITTEN).read_text()).get("kinds")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(kinds, dict):
        return None
    known = systems.lab_systems()
    return {str(p).partition(".")[2]: str(k) for p, k in kinds.items()
            if str(k) in known and known[str(k)].role == "router"} or None


WRITTEN = ".netsot-yaml-written.json"  # what `lab up` last wrote: the config's digest and the ports in it


def _write_lab_config(paths: Paths, ports: Mapping[str, int], sites: int,
                      kinds: Mapping[str, str]) -> tuple[Path, str]:
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
    same_kinds = last is not None and last.get("kinds", dict(kinds)) == dict(kinds)
    if edited and set(last.get("ports", {})) == set(ports) and same_kinds:
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
                    f"(--sites {sites}, --router), so {os.path.relpath(paths.config)} was written anew.")
        write_config(paths, ports, ports.get("dnsmasq"), sites, kinds)
    written = paths.config.read_text()
    write_readonly_config(paths)
    dns.write_atomic(record, json.dumps({"sha256": hashlib.sha256(written.encode()).hexdigest(),
                                         "ports": dict(ports), "sites": sites, "kinds": dict(kinds)}))
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


_DETAIL = {"hypervisor": "{nodes} nodes, {guests} guests", "ipam": "{prefixes}", "router": "DHCP + DNS"}


def _system_line(paths: Paths, process: str, kind: str, ports: Mapping[str, int], site: LabSite,
                 guests: int, indent: str) -> str:
    system = systems.lab_system(kind)
    sites = [s for s in SITES if not s.name or paths.for_site(s.name).process("router") in ports]
    detail = _DETAIL.get(system.role, "").format(
        nodes=len(site.nodes), guests=guests,
        prefixes="every site's networks: " + ", ".join(n.prefix for s in sites for n in s.networks))
    return f"{indent}{system.title:11} {system.describe(paths, ports[process])}  ({kind}; {detail})"


def _up_text(paths: Paths, config: Path, guests: int, chosen: tuple[LabSite, ...],
             ports: Mapping[str, int], kinds: Mapping[str, str]) -> str:
    rel = os.path.relpath(config)
    dns_port = ports.get("dnsmasq")
    lines = [f"The lab is running in {paths.root}:"]
    lines += [_system_line(paths, p, k, ports, HOME, guests, "  ") for p, k in _site_kinds(kinds, "")]
    lines.append(
        f"  DNS         127.0.0.1:{dns_port} (dnsmasq serving the router's host names)" if dns_port else
        "  DNS         not served: dnsmasq is not installed (apt-get install dnsmasq-base); "
        "`netsot verify` will say so")
    for number, site in enumerate(chosen[1:], start=2):
        lines += _site_lines(paths.for_site(site.name), number, site, ports, kinds)
    routers = [(p.partition(".")[2], k) for p, k in kinds.items()
               if systems.lab_system(k).role == "router"]
    imports = [f"{kind}.{site}" if site else kind for site, kind in routers]
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


def _site_lines(own: Paths, number: int, site: LabSite, ports: Mapping[str, int],
                kinds: Mapping[str, str]) -> list[str]:
    """A further site's endpoints in the ``lab up`` output."""
    dns_port = ports.get(own.process("dnsmasq"))
    nets = ", ".join(f"{n.name} {n.prefix}" for n in site.networks)
    mine = _site_kinds(kinds, site.name)
    instances = " and ".join(f"{k}.{site.name}" for _p, k in mine)
    guests = len(site_homelab(site).guests)
    return [
        f"  Site {number}, {site.name} (providers {instances}; network {nets}; "
        f"router host name {site.router}):",
        *(_system_line(own, p, k, ports, site, guests, "    ") for p, k in mine),
        f"    DNS         127.0.0.1:{dns_port} (dnsmasq serving this router's host names)" if dns_port else
        "    DNS         not served: dnsmasq is not installed",
    ]


def _stop_key(name: str) -> tuple[int, str]:
    base = name.split(".", 1)[0]
    if base == "dnsmasq":
        return (len(STOP_ORDER), name)
    try:
        role = systems.role_of(base)
    except NetsotError:
        return (len(STOP_ORDER), name)
    return (STOP_ORDER.index(role) if role in STOP_ORDER else len(STOP_ORDER), name)


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
        kind = f"  ({proc['kind']})" if proc.get("kind") else ""
        lines.append(f"  {name:{width}} {state:5}  pid {pid}  port {proc.get('port')}{kind}")
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

"""The embedded lab: `netsot lab up|down|status` and `netsot demo`.

Owns: preparing a lab folder (seeds, secrets, SSH key), starting the simulated Proxmox, NIPAP
and EdgeRouter (+ a real dnsmasq for the router's DNS) as separate background processes,
recording their PIDs in ``lab.json``, writing a ready ``netsot.yaml``, stopping them by PID,
and the guided demo. Must not: be imported by the engine except through the CLI's dispatch.
"""

from __future__ import annotations

import contextlib
import json
import os
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
from providers.lab.homelab import DOMAIN, NETWORKS, homelab
from providers.lab.runner import NIPAP_USER, PVE_TOKEN_NAME, PVE_USER, ROUTER_USER, Paths

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 45.0
STOP_TIMEOUT = 5.0
PROCESS_MARKERS = {"proxmox": "providers.lab.runner", "nipap": "providers.lab.runner",
                   "router": "providers.lab.runner", "dnsmasq": "dnsmasq"}


class LabError(NetsotError):
    """The lab could not be started, stopped or inspected."""


# ----------------------------------------------------------------------------- preparing a folder


def prepare(workdir: Path, guests: int = 15) -> Paths:
    """Write seeds, secrets (0600) and the router SSH key into ``workdir``; return its paths."""
    paths = Paths(Path(workdir).resolve())
    for folder in (paths.root, paths.seeds, paths.run, paths.logs, paths.secrets):
        folder.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.secrets, 0o700)
    lab = homelab(guests)
    dns.write_atomic(paths.seeds / "proxmox.json", json.dumps(seeds.proxmox_seed(lab), indent=1))
    dns.write_atomic(paths.seeds / "nipap.json", json.dumps(seeds.nipap_seed(lab), indent=1))
    dns.write_atomic(paths.seeds / "config.boot", lab.config_boot)
    dns.write_atomic(paths.seeds / "leases.json", json.dumps(seeds.router_leases(lab), indent=1))
    for name in ("pve_token", "nipap_password"):
        if not (paths.secrets / name).exists():
            dns.write_atomic(paths.secrets / name, secrets.token_urlsafe(24) + "\n", mode=0o600)
    if not paths.private_key.exists():
        import asyncssh

        key = asyncssh.generate_private_key("ssh-ed25519", comment="netsot-lab")
        key.write_private_key(str(paths.private_key))
        os.chmod(paths.private_key, 0o600)
        key.write_public_key(str(paths.private_key.with_suffix(".pub")))
    for stale in (paths.hosts_file, paths.dhcp_file):
        stale.unlink(missing_ok=True)
    return paths


def config_text(paths: Paths, ports: Mapping[str, int], dns_port: int | None) -> str:
    """The lab's ``netsot.yaml``: both networks, all three providers pointing at the simulators."""
    dns_line = (f"    dns_server: 127.0.0.1:{dns_port}   # the router's resolver (dnsmasq), for verify\n"
                if dns_port else "    # dns_server: not set: dnsmasq is not installed, no DNS served\n")
    nets = []
    for n in NETWORKS:
        vlan = f", vlan: {n.vlan}" if n.vlan else ""
        nets.append(
            f"  - name: {n.name}\n"
            f"    prefix: {n.prefix}\n"
            f"    gateway: {n.gateway}\n"
            f"    domain: {n.domain}\n"
            f"    dhcp_range: {{start: {n.dhcp_start}, stop: {n.dhcp_stop}}}\n"
            f"    proxmox: {{bridge: {n.bridge}{vlan}}}\n"
            f"    edgemax: {{shared_network: {n.shared_network}}}\n")
    return (
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
        f"{dns_line}\n"
        "networks:\n" + "".join(nets) + "\n"
        "# a device that is not a Proxmox guest: the NAS, already in NIPAP and on the router\n"
        "hosts:\n"
        f"  - name: nas\n    network: lan\n    mac: \"{_nas_mac()}\"\n    ip: 192.168.10.20\n"
        "    description: Synology NAS\n\n"
        "policy:\n  delete: plan             # deletes are planned; an approved apply carries them out\n"
    )


def _nas_mac() -> str:
    from providers.lab.homelab import NAS_MAC

    return NAS_MAC


def write_config(paths: Paths, ports: Mapping[str, int], dns_port: int | None) -> Path:
    dns.write_atomic(paths.config, config_text(paths, ports, dns_port))
    return paths.config


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
    return PROCESS_MARKERS.get(name, name) in cmdline


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
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    log = open(paths.logs / f"{system}.log", "ab")  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "providers.lab.runner", system, "--workdir", str(paths.root), *extra],
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


def up(workdir: Path, guests: int = 15) -> str:
    """Start the lab in the background and write ``<workdir>/netsot.yaml``."""
    paths = Paths(Path(workdir).resolve())
    current = _load(paths)
    if current and any(_alive(p.get("pid")) for p in current.get("processes", {}).values()):
        raise LabError(f"the lab in {paths.root} is already running; `netsot lab status --dir {workdir}` "
                       f"shows it, `netsot lab down --dir {workdir}` stops it")
    if guests < 1 or guests > 500:
        raise LabError(f"--guests must be between 1 and 500, got {guests}")
    for info in paths.run.glob("*.json") if paths.run.exists() else ():
        info.unlink()
    prepare(paths.root, guests)
    processes: dict[str, dict[str, Any]] = {}
    started: list[tuple[int, str]] = []
    try:
        binary = dns.find_dnsmasq()
        dns_port = None
        if binary:
            domains = {n.domain for n in NETWORKS} | {DOMAIN}
            server = dns.Dnsmasq(binary, paths.hosts_file, domains, paths.logs / "dnsmasq.log")
            server.start()
            assert server.pid is not None
            dns_port = server.port
            started.append((server.pid, "dnsmasq"))
            processes["dnsmasq"] = {"pid": server.pid, "port": server.port}
        procs = {
            "proxmox": _spawn(paths, "proxmox", []),
            "nipap": _spawn(paths, "nipap", []),
            "router": _spawn(paths, "router", ["--dnsmasq-pid", str(processes["dnsmasq"]["pid"])]
                             if binary else []),
        }
        started += [(p.pid, s) for s, p in procs.items()]
        ports = _wait_ready(paths, procs)
    except BaseException:
        for pid, name in reversed(started):
            _stop_pid(pid, name)
        raise
    for system, port in ports.items():
        processes[system] = {"pid": procs[system].pid, "port": port}
    dns.write_atomic(paths.lab_json, json.dumps({"workdir": str(paths.root), "guests": guests,
                                                 "started": time.time(), "processes": processes},
                                                indent=1, sort_keys=True), mode=0o600)
    config = write_config(paths, ports, dns_port)
    rel = os.path.relpath(config)
    lines = [
        f"The lab is running in {paths.root}:",
        f"  Proxmox VE  https://127.0.0.1:{ports['proxmox']}  (3 nodes, {guests} guests + a template)",
        f"  NIPAP       http://127.0.0.1:{ports['nipap']}/XMLRPC  (VRF {seeds.VRF_NAME}: "
        + ", ".join(n.prefix for n in NETWORKS) + ")",
        f"  EdgeRouter  ssh ubnt@127.0.0.1 -p {ports['router']}  (DHCP + DNS)",
        f"  DNS         127.0.0.1:{dns_port} (dnsmasq serving the router's host names)" if dns_port else
        "  DNS         not served: dnsmasq is not installed (apt-get install dnsmasq-base); "
        "`netsot verify` will say so",
        "",
        f"Config: {config}",
        "Try:",
        f"  netsot --config {rel} plan",
        f"  netsot --config {rel} import edgemax",
        f"  netsot --config {rel} apply",
        f"  netsot --config {rel} verify",
        f"Stop it with: netsot lab down --dir {os.path.relpath(paths.root)}",
    ]
    return "\n".join(lines)


def down(workdir: Path) -> str:
    """Stop every lab process by PID (SIGTERM, then SIGKILL); safe to run twice."""
    paths = Paths(Path(workdir).resolve())
    current = _load(paths)
    if not current:
        return f"No lab is running in {paths.root}."
    lines = []
    order = ("router", "proxmox", "nipap", "dnsmasq")
    procs = current.get("processes", {})
    for name in sorted(procs, key=lambda n: order.index(n) if n in order else len(order)):
        pid = procs[name].get("pid")
        lines.append(f"  {name:8} pid {pid}: {_stop_pid(int(pid), name) if pid else 'not running'}")
    if all(not _alive(p.get("pid")) for p in procs.values()):
        paths.lab_json.unlink(missing_ok=True)
    return f"Stopped the lab in {paths.root}:\n" + "\n".join(lines)


def status(workdir: Path) -> str:
    """Each lab process: alive or dead, PID and port."""
    paths = Paths(Path(workdir).resolve())
    current = _load(paths)
    if not current:
        return f"No lab in {paths.root} (start one with `netsot lab up --dir {workdir}`)."
    lines = [f"Lab in {paths.root} ({current.get('guests', '?')} guests), config {paths.config}:"]
    for name, proc in sorted(current.get("processes", {}).items()):
        pid = proc.get("pid")
        state = "alive" if _alive(pid) and _is_ours(int(pid), name) else "dead"
        lines.append(f"  {name:8} {state:5}  pid {pid}  port {proc.get('port')}")
    if "dnsmasq" not in current.get("processes", {}):
        lines.append("  dnsmasq  -      not installed: the lab serves no DNS")
    return "\n".join(lines)


def demo(workdir: Path, echo: Callable[..., Any] = print) -> int:
    from providers.lab.demo import run_demo

    return run_demo(Path(workdir), echo)


__all__ = ["LabError", "config_text", "demo", "down", "prepare", "status", "up", "write_config"]

"""The fault-test lab: the three simulators in this process, netsot as a subprocess.

Owns: a small conflict-free homelab seed (7 guests on two networks, two of them opted in to
write-back), distinctive secrets, config variants, running the CLI with a fault environment,
and direct read-back of every system and of the state file for the invariants the suites check.
Must not: patch netsot code; faults are injected only through the simulators' knobs and the
documented ``NETSOT_FAULT_AT`` switch.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from providers.edgemax.extract import extract
from providers.edgemax.sim.lab import start_router
from providers.lab import dns as labdns
from providers.lab import prepare, write_config
from providers.lab.homelab import BASE_GUESTS, NETWORKS, Homelab, LabLease, _g, router_config_boot
from providers.lab.runner import Paths
from providers.lab.seeds import VRF_NAME, router_leases
from providers.nipap.sim.lab import nipap_seed, start_nipap
from providers.proxmox.sim.lab import start_proxmox
from providers.proxmox.sim.seed import proxmox_seed
from providers.vyatta.parse import parse_boot
from providers.vyatta.render import render_commands

REPO = Path(__file__).resolve().parents[2]
STATE_FILE = "netsot.state.json"
# distinctive secret values: any of them showing up in output, state or plans is a leak
PVE_SECRET = "pve-7c1e9a52-SECRET-tok3n-d4f0"
NIPAP_SECRET = "nipap-Zq8-SECRET-pw-41b7e2"
SECRETS = (PVE_SECRET, NIPAP_SECRET)
SHAPES_OK = (
    "set service dhcp-server shared-network-name ",
    "delete service dhcp-server shared-network-name ",
    "set system static-host-mapping host-name ",
    "delete system static-host-mapping host-name ",
)


def small_homelab() -> Homelab:
    """Seven guests on three nodes, both networks, two write-back guests (QEMU + LXC), no conflicts."""
    by_name = {g.name: g for g in BASE_GUESTS}
    guests = (
        by_name["debian-12-tpl"],
        by_name["web01"],
        by_name["web02"],
        by_name["db01"],
        by_name["k8s-ctl"],  # qemu, netsot-static: cloud-init write-back
        by_name["grafana"],
        _g(208, "nextcloud", "lxc", "pve3", "running", [("lan", None)], tags=("netsot-static",)),
        _g(209, "wiki", "qemu", "pve3", "running", [("lan", None)], agent="linux"),
    )
    # the lab's router config minus the deliberate conflicts (tv-old, the stale web02 mapping)
    boot = router_config_boot()
    for name in ("tv-old", "web02"):
        start = boot.index(f"                static-mapping {name} {{")
        end = boot.index("                }\n", start) + len("                }\n")
        boot = boot[:start] + boot[end:]
    leases = (LabLease("192.168.10.150", "f0:18:98:aa:01:02", "phone-anna", "LAN"),)
    return Homelab(
        networks=NETWORKS,
        guests=guests,
        config_boot=boot,
        leases=leases,
        ipam_hosts=(("192.168.10.1", "edge", "router"), ("192.168.10.20", "nas", "Synology NAS"),
                     ("10.20.0.1", "edge-srv", "router (servers)")),
    )


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    args: tuple[str, ...] = ()

    @property
    def out(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:  # what an assertion message shows
        head = f"netsot {' '.join(self.args)} -> {self.code}"
        return f"{head}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def free_port() -> int:
    """A loopback TCP port nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FaultLab:
    """A running lab plus the helpers to break it, run netsot and read every system back."""

    def __init__(self, root: Path, lab: Homelab | None = None, dnsmasq: bool = False) -> None:
        self.lab = lab or small_homelab()
        self.paths: Paths = prepare(root, 1)
        self._write_seeds()
        for name, value in (("pve_token", PVE_SECRET), ("nipap_password", NIPAP_SECRET)):
            path = self.paths.secrets / name
            path.write_text(value + "\n")
            os.chmod(path, 0o600)
        self.dnsmasq = None
        if dnsmasq:
            binary = labdns.find_dnsmasq()
            assert binary, "dnsmasq is not installed (apt-get install dnsmasq-base)"
            domains = {n.domain for n in NETWORKS}
            log = self.paths.logs / "dnsmasq.log"
            self.dnsmasq = labdns.Dnsmasq(binary, self.paths.hosts_file, domains, log)
            self.dnsmasq.start()
        self.pve = start_proxmox(self.paths)
        self.nipap = start_nipap(self.paths)
        self.router = start_router(self.paths, self.dnsmasq.reload if self.dnsmasq else None)
        self.ports = {"proxmox": self.pve.port, "nipap": self.nipap.port, "router": self.router.port}
        write_config(self.paths, self.ports, self.dnsmasq.port if self.dnsmasq else None)
        self.base = yaml.safe_load(self.paths.config.read_text())
        # short timeouts so hung systems fail fast
        self.base["providers"]["proxmox"]["timeout"] = 2
        self.base["providers"]["nipap"]["timeout"] = 2
        self.base["providers"]["edgemax"]["timeout"] = 10
        self.config = self.write_config()
        self.initial_router = self.router_entries()
        self.initial_saved = self.router.saved_text()

    def _write_seeds(self) -> None:
        seeds = self.paths.seeds
        seeds.joinpath("proxmox.json").write_text(json.dumps(proxmox_seed(self.lab), indent=1))
        seeds.joinpath("nipap.json").write_text(json.dumps(nipap_seed(self.lab), indent=1))
        seeds.joinpath("config.boot").write_text(self.lab.config_boot)
        seeds.joinpath("leases.json").write_text(json.dumps(router_leases(self.lab), indent=1))

    def stop(self) -> None:
        parts = [self.router.stop, self.nipap.stop, self.pve.stop]
        if self.dnsmasq is not None:
            parts.append(self.dnsmasq.stop)
        for stop in parts:
            with contextlib.suppress(Exception):  # teardown must stop everything else if one part fails
                stop()

    # ------------------------------------------------------------------ config and CLI

    def write_config(self, name: str = "netsot.yaml",
                     edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
        """A config next to the lab's (same state file, same secrets), optionally edited."""
        data = copy.deepcopy(self.base)
        if edit is not None:
            edit(data)
        path = self.paths.root / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def command(self, *args: str, config: Path | None = None) -> list[str]:
        return [sys.executable, "-m", "engine", "--no-color", "--config", str(config or self.config), *args]

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "NETSOT_FAULT_AT"}
        env.update({"NO_COLOR": "1", "PYTHONPATH": str(REPO)})
        env.update(extra or {})
        return env

    def cli(self, *args: str, env: Mapping[str, str] | None = None, config: Path | None = None,
            timeout: float = 60) -> Result:
        proc = subprocess.run(self.command(*args, config=config), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, env=self.env(env),
                              cwd=str(self.paths.root), check=False)
        return Result(proc.returncode, proc.stdout, proc.stderr, args)

    def popen(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(self.command(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env(env),
                                cwd=str(self.paths.root))

    def apply(self, env: Mapping[str, str] | None = None, config: Path | None = None) -> Result:
        return self.cli("apply", "--auto-approve", env=env, config=config)

    def apply_after_crash(self, env: Mapping[str, str] | None = None) -> Result:
        """The next apply after a killed run. A lock left by the dead run is either broken by
        netsot itself or named in a clear error; then the operator's documented step
        (``force-unlock ID``) is taken and the apply repeated."""
        result = self.apply(env=env)
        lock = self.state_path.with_name(STATE_FILE + ".lock")
        if result.code == 1 and "force-unlock" in result.stderr and lock.exists():
            line = error_sentence(result)
            assert "no longer running" in line, line
            lock_id = json.loads(lock.read_text())["id"]
            assert lock_id in line, line
            unlocked = self.cli("force-unlock", "--force", lock_id)
            assert unlocked.code == 0, str(unlocked)
            result = self.apply(env=env)
        return result

    # ------------------------------------------------------------------ reading back

    @property
    def state_path(self) -> Path:
        return self.paths.root / STATE_FILE

    @property
    def backup_path(self) -> Path:
        return self.paths.root / (STATE_FILE + ".backup")

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_path.read_text())

    def state_addresses(self) -> set[str]:
        if not self.state_path.exists():
            return set()
        return {r["address"] for r in self.state()["resources"]}

    def nipap_hosts(self) -> list[dict[str, Any]]:
        """Every host prefix in the lab VRF: ip, node, description, avps, id."""
        rows = [p for p in self.nipap.prefixes() if p["type"] == "host" and p.get("vrf_name") == VRF_NAME]
        return [{"ip": p["prefix"].split("/")[0], "node": p.get("node"), "description": p.get("description"),
                 "avps": dict(p.get("avps") or {}), "id": p["id"]} for p in rows]

    def router_entries(self, saved: bool = False) -> dict[str, Any]:
        """Static mappings (``edgemax_dhcp_mapping.<SN>.<name>``) and host entries
        (``edgemax_host.<name>``) of the active (or saved) config, with their values."""
        tree = parse_boot(self.router.saved_text()) if saved else self.router.active_tree()
        cfg = extract(tree)
        out: dict[str, Any] = {}
        for sn, _subnet, m in cfg.mappings():
            out[f"edgemax_dhcp_mapping.{sn.name}.{m.name}"] = (m.ip, (m.mac or "").lower())
        for h in cfg.host_mappings:
            out[f"edgemax_host.{h.host_name}"] = tuple(h.inet)
        return out

    def saved_equals_active(self) -> bool:
        return render_commands(parse_boot(self.router.saved_text())) == self.router.active_commands()

    def pve_config(self, vmid: int) -> dict[str, Any]:
        return self.pve.handle.config(vmid)

    def writeback_configs(self) -> dict[int, dict[str, Any]]:
        out = {}
        for vmid, g in sorted(self.pve.handle.cluster.guests.items()):
            cfg = self.pve_config(vmid)
            if "netsot-static" in str(cfg.get("tags", "")):
                keys = [k for k in cfg if k.startswith(("ipconfig", "net"))]
                out[vmid] = {k: cfg[k] for k in sorted(keys)} | {"type": g["type"]}
        return out

    def snapshot(self) -> dict[str, Any]:
        """The final contents of all three systems and the state's address set."""
        return {
            "nipap": sorted((h["ip"], h["node"]) for h in self.nipap_hosts()),
            "router": self.router_entries(),
            "proxmox": self.writeback_configs(),
            "state": sorted(self.state_addresses()),
        }

    # ------------------------------------------------------------------ invariants

    def assert_consistent(self, *, after_failure: bool = False) -> None:
        """State vs systems: valid 0600 JSON, no duplicate NIPAP host, no router entry netsot created
        that state does not list, every state object exists, saved == active. The journal is empty
        after a clean run; after a failed one it may keep the failed operations (phase "sent"),
        whose outcome is unknown, for the next run to adopt or revert — nothing else."""
        assert self.state_path.exists(), "no state file"
        assert (self.state_path.stat().st_mode & 0o777) == 0o600, oct(self.state_path.stat().st_mode)
        state = self.state()
        if after_failure:
            assert all(j["phase"] == "sent" for j in state["journal"]), state["journal"]
            pending = {j["address"] for j in state["journal"]}
        else:
            assert state["journal"] == [], state["journal"]
            pending = set()
        addresses = {r["address"] for r in state["resources"]}
        hosts = self.nipap_hosts()
        nodes = Counter(h["node"] for h in hosts)
        assert all(n == 1 for n in nodes.values()), f"duplicate NIPAP hosts: {nodes}"
        ips = {h["ip"] for h in hosts}
        for res in state["resources"]:
            if res["address"].startswith("nipap_address."):
                ip = res["attributes"].get("ip")
                assert ip in ips, f"{res['address']} ({ip}) is in state but not in NIPAP"
        marked = sorted(f"nipap_address.{h['avps']['netsot-binding']}" for h in hosts
                        if h["avps"].get("managed-by") == "netsot" and h["avps"].get("netsot-binding"))
        unrecorded = [a for a in marked if a not in addresses and a not in pending]
        assert not unrecorded, f"NIPAP hosts marked as netsot's that state does not list: {unrecorded}"
        router = self.router_entries()
        created = set(router) - set(self.initial_router)
        orphans = sorted(created - addresses - pending)
        assert not orphans, f"router entries netsot created that state does not list: {orphans}"
        entries = ("edgemax_dhcp_mapping.", "edgemax_host.")
        missing = sorted(a for a in addresses if a.startswith(entries) and a not in router)
        assert not missing, f"state lists router entries that do not exist: {missing}"
        assert self.saved_equals_active(), "the router's saved config differs from its active config"

    def assert_converged(self, reference: Mapping[str, Any] | None = None) -> None:
        self.assert_consistent()
        plan = self.cli("plan", "--detailed-exitcode")
        assert plan.code == 0, str(plan)
        if reference is not None:
            now = self.snapshot()
            assert_same(now, reference, "an unfaulted run")


def lab_at(root: Path, **kw: Any) -> Iterator[FaultLab]:
    lab = FaultLab(root, **kw)
    try:
        yield lab
    finally:
        lab.stop()


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stderr, str(result)
    assert "Internal error" not in result.stderr, str(result)


def error_sentence(result: Result) -> str:
    """The ``Error: …`` line of a failed run (exactly one), for message assertions."""
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error: ")]
    assert len(lines) == 1, str(result)
    return lines[0]


def drop_router_at(lab: FaultLab, prefix: str) -> None:
    """Drop the router's SSH connection when a command starting with ``prefix`` arrives (before
    it runs), using the simulator's drop-connection switch at exactly that command."""
    sim = lab.router.sim
    original = sim.before_command
    fired = []

    def hook() -> None:
        commands = sim.log.commands()
        if not fired and commands and commands[-1].startswith(prefix):
            fired.append(True)
            sim.faults.drop_after_commands = 0
        original()

    sim.before_command = hook


def wait_for(predicate: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def descendants(pid: int) -> list[int]:
    """Child processes (recursively) of ``pid``, read from /proc."""
    out: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                kids = [int(x) for x in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            out += kids
            todo += kids
    return out


def kill_pids(pids: list[int]) -> None:
    """SIGKILL processes the test started (e.g. the ssh child of a killed run), by pid."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def outcome_lines(result: Result) -> dict[str, dict[str, str]]:
    """``{"failed": {address: error}, "skipped": {address: why}}`` from an incomplete apply."""
    out: dict[str, dict[str, str]] = {"failed": {}, "skipped": {}}
    for line in result.stderr.splitlines():
        for kind in ("failed", "skipped"):
            prefix = f"  {kind}: " if kind == "skipped" else f"  {kind}:  "
            if line.startswith(prefix):
                address, _, why = line[len(prefix):].partition(" ")
                out[kind][address.rstrip(":")] = why
    return out


def assert_clear(text: str) -> None:
    """One clear line: no traceback, no Python repr noise, no secret."""
    assert "\n" not in text.strip() and "Traceback" not in text, text
    for secret in SECRETS:
        assert secret not in text, text


def assert_same(now: Mapping[str, Any], before: Mapping[str, Any], what: str) -> None:
    """Snapshots equal, failing with what is missing / extra per system."""
    for key in ("nipap", "router", "proxmox", "state"):
        a, b = now[key], before[key]
        if a == b:
            continue
        if isinstance(a, dict):
            extra = {k: a[k] for k in a if a.get(k) != b.get(k)}
            missing = {k: b[k] for k in b if a.get(k) != b.get(k)}
        else:
            sa, sb = set(map(str, a)), set(map(str, b))
            extra, missing = sorted(sa - sb), sorted(sb - sa)
        raise AssertionError(f"{key} differs from {what}: now has {extra}; lacks {missing}")

"""Run one benchmark scenario: the simulators (one process each, or threads here), then netsot here.

Owns: starting/stopping the three simulators with latency knobs, the read → plan → apply
phases through the real engine entry points (``read_all``, ``make_plan``, ``apply_plan``),
the Proxmox-only concurrency comparison and the socket-free engine measurement.
Must not: print tables or write results (``__main__`` does), or patch any provider.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.measure import (
    Counts,
    Row,
    TimingObserver,
    apply_bound,
    peak_rss_mb,
    plan_bound,
    pve_counts,
    pve_request_split,
    read_bound,
    requests_of,
)
from bench.simproc import SimProcess
from core.config import Config
from engine.apply.applier import apply_plan
from engine.plan.planner import make_plan, read_all
from engine.runtime import build_providers, close_providers
from state.backend import FileBackend

DEFAULT_PVE_WORKERS = 8
DEFAULT_NIPAP_WORKERS = 4


@dataclass(frozen=True)
class Options:
    latency: float = 0.005  # seconds per request (Proxmox, NIPAP; the router too unless router_latency)
    commit: float = 0.2  # seconds per router commit
    router_latency: float | None = None  # seconds per router command; None = ``latency``
    shape: scenarios.Shape = field(default_factory=scenarios.Shape)
    # each simulator in its own process (like real systems on other machines); False = threads of
    # this process, sharing netsot's GIL (the CPU the simulators use then slows netsot down)
    separate: bool = True

    @property
    def per_command(self) -> float:
        return self.latency if self.router_latency is None else self.router_latency


@dataclass
class Sims:
    pve: Any = None
    nipap: Any = None
    edge: Any = None

    def counts(self) -> Counts:
        values: dict[str, int] = {}
        if isinstance(self.pve, SimProcess):
            values.update(self.pve.counts())
        elif self.pve is not None:
            values.update(pve_counts(self.pve.log), pve_connections=self.pve.connections)
        if isinstance(self.nipap, SimProcess):
            values.update(self.nipap.counts())
        elif self.nipap is not None:
            values.update(nipap_calls=sum(self.nipap.counts.values()),
                          nipap_connections=self.nipap.connections)
        if isinstance(self.edge, SimProcess):
            values.update(self.edge.counts())
        elif self.edge is not None:
            log = self.edge.log
            values.update(router_commands=len(log.commands()), sessions=log.sessions, commits=log.commits)
        return Counts(**values)


@contextmanager
def simulators(tmp: Path, specs: list[scenarios.GuestSpec], opts: Options,
               systems: tuple[str, ...] = ("proxmox", "nipap", "edgemax")) -> Iterator[Sims]:
    """The requested simulators, seeded for ``specs``, with the latency knobs set."""
    if opts.separate:
        with _processes(tmp, specs, opts, systems) as sims:
            yield sims
        return
    sims = Sims()
    with ExitStack() as stack:
        if "proxmox" in systems:
            from providers.proxmox.sim.server import start_simulator as start_pve

            sims.pve = start_pve(scenarios.proxmox_seed(specs), tmp / "pve")
            stack.callback(sims.pve.stop)
            sims.pve.knobs.delay = opts.latency
        if "nipap" in systems:
            from providers.nipap.sim.server import start_simulator as start_nipap

            sims.nipap = start_nipap(scenarios.nipap_seed())
            stack.callback(sims.nipap.stop)
            sims.nipap.knobs.latency = opts.latency
        if "edgemax" in systems:
            from providers.edgemax.sim.server import start_simulator as start_edge

            sims.edge = start_edge(tmp / "edge", config_boot=scenarios.config_boot())
            stack.callback(sims.edge.stop)
            sims.edge.faults.command_delay = opts.per_command
            sims.edge.faults.commit_delay = opts.commit
        yield sims


@contextmanager
def _processes(tmp: Path, specs: list[scenarios.GuestSpec], opts: Options,
               systems: tuple[str, ...]) -> Iterator[Sims]:
    """Each simulator in its own process (``bench.simproc``), started in parallel."""
    seeds = tmp / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    wanted = []
    if "proxmox" in systems:
        (seeds / "proxmox.json").write_text(json.dumps(scenarios.proxmox_seed(specs)))
        wanted.append(("proxmox", seeds / "proxmox.json", opts.latency))
    if "nipap" in systems:
        (seeds / "nipap.json").write_text(json.dumps(scenarios.nipap_seed()))
        wanted.append(("nipap", seeds / "nipap.json", opts.latency))
    if "edgemax" in systems:
        (seeds / "config.boot").write_text(scenarios.config_boot())
        wanted.append(("edgemax", seeds / "config.boot", opts.per_command))
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=len(wanted) or 1) as pool:
        futures = {name: pool.submit(SimProcess, name, tmp / f"sim-{name}", seed, latency, opts.commit)
                   for name, seed, latency in wanted}
        started: dict[str, SimProcess] = {}
        for name, future in futures.items():
            if future.exception() is None:
                started[name] = future.result()
                stack.callback(started[name].stop)  # also when another one failed to start
        failed = next((f.exception() for f in futures.values() if f.exception() is not None), None)
        if failed is not None:
            raise failed
        yield Sims(started.get("proxmox"), started.get("nipap"), started.get("edgemax"))


def sim_config(sims: Sims, tmp: Path, pve_workers: int = DEFAULT_PVE_WORKERS) -> Config:
    return scenarios.make_config(**sim_config_parts(sims, tmp, pve_workers))


def sim_config_parts(sims: Sims, tmp: Path, pve_workers: int = DEFAULT_PVE_WORKERS) -> dict[str, Any]:
    proxmox = nipap = edgemax = None
    if sims.pve is not None:
        user, name, value = sims.pve.token
        proxmox = {"host": "127.0.0.1", "port": sims.pve.port, "user": user, "token_name": name,
                   "token_value": value, "verify_tls": str(sims.pve.ca_path), "timeout": 30,
                   "max_workers": pve_workers, "writeback_tag": scenarios.WRITEBACK_TAG}
    if sims.nipap is not None:
        nipap = {"url": sims.nipap.url(), "username": "netsot", "password": "pw", "timeout": 30,
                 "max_workers": DEFAULT_NIPAP_WORKERS}
    if sims.edge is not None:
        edgemax = {"host": "127.0.0.1", "port": sims.edge.port, "username": "ubnt", "password": "password",
                   "known_hosts": str(sims.edge.known_hosts), "timeout": 120}
    return {"state_path": str(tmp / "netsot.state.json"), "proxmox": proxmox, "nipap": nipap,
            "edgemax": edgemax}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def run_scenario(guests: int, opts: Options, name: str | None = None, apply: bool = True,
                 cli: bool = False) -> list[Row]:
    """read → plan → apply (first apply of everything) for ``guests`` guests; one row per phase
    (``apply=False`` stops after the plan; ``cli`` adds `netsot plan` run as a process)."""
    name = name or f"lab-{guests}"
    specs = scenarios.guests(guests, opts.shape)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="netsot-bench-") as tmpdir:
        tmp = Path(tmpdir)
        with simulators(tmp, specs, opts) as sims:
            config = sim_config(sims, tmp)
            pve_w = config.providers["proxmox"].max_workers  # type: ignore[union-attr]
            nipap_w = config.providers["nipap"].max_workers  # type: ignore[union-attr]
            providers = build_providers(config)
            try:
                backend = FileBackend(config.resolve_path(config.state.path))
                state = backend.load()
                c0 = sims.counts()
                timing = TimingObserver()
                cpu = (time.process_time(), _sim_cpu(sims.pve))
                observations, wall = _timed(lambda: read_all(providers, timing))
                cpu = (time.process_time() - cpu[0], _sim_cpu(sims.pve) - cpu[1])
                c1 = sims.counts()
                d = c1 - c0
                facts = sum(len(o.facts) for o in observations.values())
                warnings = sum(len(o.warnings) for o in observations.values())
                needed = scenarios.needed_guest_calls(specs)
                bound = read_bound(d, opts.latency, pve_w, opts.per_command, needed)
                rows.append(Row(name, guests, "read", wall, bound, requests_of(d), d.sessions, d.commits,
                                peak_rss_mb(),
                                f"{facts} facts, {warnings} warnings; pve configs={d.pve_configs} "
                                f"interface calls={d.pve_ifaces} (needed: {needed - len(specs)}); "
                                f"{timing.read_text()}; CPU: netsot {cpu[0]:.2f}s, Proxmox simulator "
                                f"{cpu[1]:.2f}s; load average {os.getloadavg()[0]:.1f}; "
                                f"TCP connections: proxmox {d.pve_connections}, nipap {d.nipap_connections}; "
                                + pve_request_split(d, timing.reads.get("proxmox", wall), pve_w, opts.latency)
                                + _where(opts)))
                plan_cpu = time.process_time()
                plan, wall = _timed(lambda: make_plan(config, providers, state, observations=observations))
                plan_cpu = time.process_time() - plan_cpu
                c2 = sims.counts()
                d = c2 - c1
                counts = plan.counts()
                by_system: dict[str, int] = {}
                for change in plan.changes:
                    by_system[change.system] = by_system.get(change.system, 0) + 1
                rows.append(Row(name, guests, "plan", wall, plan_bound(d, opts.latency), requests_of(d),
                                d.sessions, d.commits, peak_rss_mb(),
                                f"{len(plan.bindings)} bindings; changes {counts} by system {by_system}; "
                                f"{len(plan.conflicts)} conflicts; CPU: netsot {plan_cpu:.2f}s; "
                                f"load average {os.getloadavg()[0]:.1f}"))
                if cli:
                    rows.append(run_cli_plan(name, guests, sims, tmp, opts))
                    c2 = sims.counts()
                if not apply:
                    return rows
                report, wall = _timed(lambda: apply_plan(plan, providers, backend, timing, state=state))
                c3 = sims.counts()
                d = c3 - c2
                total = c3 - c0
                bound = apply_bound(d, opts.latency, opts.commit, pve_w, nipap_w, opts.per_command,
                                    nipap_hosts=by_system.get("nipap", 0))
                rows.append(Row(name, guests, "apply", wall, bound,
                                requests_of(d), d.sessions, d.commits, peak_rss_mb(),
                                f"applied={len(report.applied)} failed={len(report.failed)} "
                                f"skipped={len(report.skipped)}; whole run: {total.sessions} SSH session(s), "
                                f"{total.commits} commit(s); state resources={len(report.state.resources)}; "
                                f"{timing.apply_text()}; TCP connections: proxmox {d.pve_connections}, "
                                f"nipap {d.nipap_connections}"
                                + ("" if opts.router_latency is None else
                                   f"; router command latency {opts.router_latency * 1000:g} ms")
                                + (f"; first failure: {report.failed[0].error}" if report.failed else "")))
            finally:
                close_providers(providers)
    return rows


def run_cli_plan(name: str, guests: int, sims: Sims, tmp: Path, opts: Options) -> Row:
    """`netsot plan` end to end as its own process: start-up, config, read, plan and rendering.

    Its bound is the read's (the plan makes no request); the config is written as JSON, which is YAML.
    """
    import subprocess
    import sys

    config_file = tmp / "netsot.yaml"
    config_file.write_text(json.dumps(scenarios.config_data(**sim_config_parts(sims, tmp))))
    script = Path(sys.executable).with_name("netsot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "engine"]
    c0 = sims.counts()
    start = time.perf_counter()
    proc = subprocess.run([*command, "--config", str(config_file), "plan", "--no-color"],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    d = sims.counts() - c0
    pve_w = DEFAULT_PVE_WORKERS
    last = (proc.stdout.strip().splitlines() or [""])[-1][:120]
    needed = scenarios.needed_guest_calls(scenarios.guests(guests, opts.shape))
    return Row(f"{name}-cli", guests, "cli-plan", wall,
               read_bound(d, opts.latency, pve_w, opts.per_command, needed),
               requests_of(d), d.sessions, d.commits, 0.0,
               f"`netsot plan` as a process (exit {proc.returncode}): {last}"
               + ("" if proc.returncode in (0, 2) else f"; stderr: {proc.stderr.strip()[-200:]}"))


def run_pve_workers(guests: int, opts: Options, workers: int) -> Row:
    """The Proxmox read alone (provider.read) with ``workers`` threads."""
    specs = scenarios.guests(guests, opts.shape)
    with tempfile.TemporaryDirectory(prefix="netsot-bench-") as tmpdir:
        tmp = Path(tmpdir)
        with simulators(tmp, specs, opts, systems=("proxmox",)) as sims:
            config = sim_config(sims, tmp, pve_workers=workers)
            providers = build_providers(config)
            try:
                c0 = sims.counts()
                obs, wall = _timed(providers["proxmox"].read)
                d = sims.counts() - c0
            finally:
                close_providers(providers)
    return Row(f"pve-read-w{workers}", guests, "read", wall,
               read_bound(d, opts.latency, workers, needed=scenarios.needed_guest_calls(specs)),
               requests_of(d), 0, 0, peak_rss_mb(),
               f"proxmox provider read only, max_workers={workers}; {len(obs.facts)} facts; "
               f"{d.pve_connections} TCP connections; {pve_request_split(d, wall, workers, opts.latency)}"
               f"{_where(opts)}")


def _sim_cpu(handle: Any) -> float:
    """CPU seconds a simulator running as its own process has used (0 for one in this process)."""
    return handle.cpu_seconds() if isinstance(handle, SimProcess) else 0.0


def _where(opts: Options) -> str:
    return "" if opts.separate else "; simulators in netsot's process (--in-process)"

"""What one benchmark phase measured, and the lower bounds its request counts imply.

Owns: the result row (the shape of ``bench/results.json``), peak RSS, request counters read
from the simulators' own logs, and the lower-bound formulas (documented in ``FORMULAS``).
Must not: start simulators or run netsot; it only counts and computes.
"""

from __future__ import annotations

import math
import re
import resource
import time
from dataclasses import dataclass, field
from typing import Any

FORMULAS = """\
Lower bounds: the unavoidable work only (L = per-request latency, W = max_workers, C = router commit
              time, Lr = router round-trip latency, = L unless the row's notes say otherwise):
  read   proxmox = L x (1 + ceil((guests + needed interface calls) / W_proxmox))
                   [1 = /cluster/resources; one config per guest; an agent / LXC interface call
                    only for a running guest that reports its address (an LXC, or a VM with the agent)
                    when neither its config (a static address) nor the router's lease table has it;
                    counted from the lab, not from the calls netsot made]
         nipap   = L x calls                                  (sequential reads count fully)
         router  = Lr x commands                              (one session, commands in sequence)
         read    = max(proxmox, nipap, router)                (the systems are read in parallel)
  plan   0 when no request is made (pure engine work)
  cli    the read's bound: `netsot plan` as a process adds only start-up, config and rendering
  apply  nipap   = L x ceil(hosts / W_nipap)                  (one call per new host: no batch API)
         proxmox = L x ceil(PUTs / W_proxmox)                 (write-back, next to the router)
         router  = Lr + C                                     (one batch of lines + one commit)
         apply   = nipap + max(proxmox, router)               (addresses first, then DHCP/DNS/write-back)
  ratio  = wall / lower bound; SSH open/handshake and CPU are NOT in the bound."""

_PVE_CONFIG = re.compile(r"^/nodes/[^/]+/(qemu|lxc)/\d+/config$")
_PVE_IFACE = re.compile(r"^/nodes/[^/]+/(qemu/\d+/agent/network-get-interfaces|lxc/\d+/interfaces)$")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass(frozen=True)
class Counts:
    """Cumulative counters of the three simulators at one moment."""

    pve_total: int = 0
    pve_configs: int = 0  # GET .../config
    pve_ifaces: int = 0  # agent network-get-interfaces + LXC /interfaces
    pve_puts: int = 0
    nipap_calls: int = 0
    router_commands: int = 0
    sessions: int = 0
    commits: int = 0
    pve_connections: int = 0  # TCP connections (= TLS handshakes) the Proxmox simulator accepted
    nipap_connections: int = 0
    pve_server_us: int = 0  # microseconds the Proxmox simulator spent on its requests (latency included)

    def __sub__(self, other: Counts) -> Counts:
        return Counts(**{k: getattr(self, k) - getattr(other, k) for k in self.__dataclass_fields__})


def pve_counts(entries: list[Any]) -> dict[str, int]:
    """Categorise the Proxmox simulator's request log (``LogEntry`` with method/path)."""
    configs = sum(1 for e in entries if e.method == "GET" and _PVE_CONFIG.match(e.path))
    ifaces = sum(1 for e in entries if e.method == "GET" and _PVE_IFACE.match(e.path))
    puts = sum(1 for e in entries if e.method in ("PUT", "POST"))
    server_us = round(sum(max(e.finished - e.started, 0.0) for e in entries) * 1e6)
    return {"pve_total": len(entries), "pve_configs": configs, "pve_ifaces": ifaces, "pve_puts": puts,
            "pve_server_us": server_us}


@dataclass
class Row:
    scenario: str
    guests: int
    phase: str  # read | plan | apply | engine
    wall_s: float
    lower_bound_s: float | None
    requests: dict[str, int] = field(default_factory=dict)
    ssh_sessions: int = 0
    commits: int = 0
    peak_rss_mb: float = 0.0
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.lower_bound_s:
            return None
        return self.wall_s / self.lower_bound_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "guests": self.guests, "phase": self.phase,
            "wall_s": round(self.wall_s, 4),
            "lower_bound_s": None if self.lower_bound_s is None else round(self.lower_bound_s, 4),
            "requests": dict(self.requests), "ssh_sessions": self.ssh_sessions, "commits": self.commits,
            "peak_rss_mb": self.peak_rss_mb, "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        return cls(**{k: data[k] for k in ("scenario", "guests", "phase", "wall_s", "lower_bound_s",
                                            "requests", "ssh_sessions", "commits", "peak_rss_mb")},
                   notes=data.get("notes", ""))


def requests_of(delta: Counts) -> dict[str, int]:
    return {"proxmox": delta.pve_total, "nipap": delta.nipap_calls, "edgemax": delta.router_commands}


# ------------------------------------------------------------------------- lower bounds


def read_bound(d: Counts, latency: float, pve_workers: int, per_command: float | None = None,
               needed: int | None = None) -> float:
    """``needed``: the Proxmox guest calls the lab requires (``bench.scenarios.needed_guest_calls``:
    a config per guest + an interface call only where no other source has the address); without it,
    the config and interface calls netsot made (the Proxmox-only rows, whose lab says nothing else)."""
    pve = 0.0
    if d.pve_total:
        guest_calls = d.pve_configs + d.pve_ifaces if needed is None else needed
        pve = latency * (1 + math.ceil(guest_calls / pve_workers))
    nipap = latency * d.nipap_calls
    router = (latency if per_command is None else per_command) * d.router_commands
    return max(pve, nipap, router)


def apply_bound(d: Counts, latency: float, commit: float, pve_workers: int, nipap_workers: int,
                per_command: float | None = None, nipap_hosts: int | None = None) -> float:
    """The unavoidable apply: NIPAP's one call per new host (``nipap_hosts``, else every call made),
    the Proxmox write-backs, and ONE router batch + ONE commit when the router changes at all."""
    hosts = d.nipap_calls if nipap_hosts is None else nipap_hosts
    nipap = latency * math.ceil(hosts / nipap_workers)
    pve = latency * math.ceil(d.pve_puts / pve_workers)
    router = ((latency if per_command is None else per_command) + commit) if d.commits else 0.0
    return nipap + max(pve, router)


def pve_request_split(d: Counts, wall: float, pve_workers: int, latency: float) -> str:
    """Where a Proxmox request's time went in a read: its round trip as the workers saw it (wall x
    workers / requests, so an upper estimate), the part inside the simulator (the latency, the
    simulated work) and the rest (both sides' HTTP/TLS/JSON CPU, the kernel, waiting for a core)."""
    if not d.pve_total:
        return ""
    round_trip = wall * pve_workers / d.pve_total * 1000
    server = d.pve_server_us / d.pve_total / 1000
    return (f"per Proxmox request: at most {round_trip:.2f} ms round trip ({pve_workers} workers), of which "
            f"{server:.2f} ms in the simulator (latency {latency * 1000:g} ms), {round_trip - server:.2f} ms "
            "client, wire and waiting for a core")


def plan_bound(d: Counts, latency: float) -> float:
    """Planning should make no request; any request it makes counts sequentially."""
    return latency * (d.pve_total + d.nipap_calls + d.router_commands)


class TimingObserver:
    """An engine observer noting per-system read times and apply batch spans (start → last outcome)."""

    def __init__(self) -> None:
        self.reads: dict[str, float] = {}
        self.batches: list[tuple[str, int, float]] = []  # system, changes, seconds
        self._open: dict[str, tuple[int, float, float]] = {}  # system → (changes, start, last outcome)
        self.first_outcome: dict[str, float] = {}  # system → seconds from its batch's start
        self.saves = 0

    def read_started(self, system: str) -> None:
        pass

    def read_finished(self, system: str, seconds: float) -> None:
        self.reads[system] = seconds

    def read_failed(self, system: str, error: BaseException) -> None:
        pass

    def batch_started(self, system: str, changes: Any) -> None:
        self._close(system)
        now = time.perf_counter()
        self._open[system] = (len(changes), now, now)

    def change_finished(self, outcome: Any) -> None:
        system = outcome.address.system
        if system in self._open:
            n, start, _ = self._open[system]
            now = time.perf_counter()
            self._open[system] = (n, start, now)
            # the first outcome comes right after the provider's call returned: the rest of the span
            # is the engine recording each outcome in the state
            self.first_outcome.setdefault(system, now - start)

    def state_saved(self, serial: int) -> None:
        self.saves += 1

    def message(self, text: str) -> None:
        pass

    def _close(self, system: str) -> None:
        entry = self._open.pop(system, None)
        if entry is not None:
            n, start, end = entry
            self.batches.append((system, n, end - start))

    def read_text(self) -> str:
        return "read per system: " + ", ".join(f"{s} {t:.2f}s" for s, t in sorted(self.reads.items()))

    def apply_text(self) -> str:
        for system in list(self._open):
            self._close(system)
        parts = [f"{s} {n} changes {t:.2f}s" + (f" (the system's call {self.first_outcome[s]:.2f}s)"
                                                 if s in self.first_outcome else "")
                 for s, n, t in self.batches]
        return f"batches: {'; '.join(parts)}; {self.saves} state saves"

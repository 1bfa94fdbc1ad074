"""``python -m bench`` (``make bench``): run every scenario in a fresh process, print and save results.

Owns: the command line, one subprocess per scenario (so peak RSS belongs to that scenario), the
child entry point (``--child SPEC``), the table on stdout and ``bench/results.json``.
Must not: assert targets (they are shown as PASS/MISS) or change any module it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.measure import FORMULAS, Row
from bench.report import memory_slopes, notes, table, targets_text

RESULTS = Path(__file__).resolve().parent / "results.json"
CHILD_TIMEOUT = 900  # seconds for one scenario process
# 5,000 new hosts are ~20,000 router commands in ONE session: at 5 ms + ~3 ms scrapli round trip
# each, plus the simulator's per-`set` cost that grows with the config (Node.with_child re-sorts
# every sibling), the apply alone exceeds the 10-minute budget; large scenarios stop after the plan.
LARGE = 1000
CLI_GUESTS = 1000  # the scenario that also runs `netsot plan` as a process (its start-up included)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--scenarios", default="10,100,1000,5000",
                    help="comma-separated guest counts of the scenarios (default %(default)s)")
    ap.add_argument("--latency-ms", type=float, default=5.0, help="per-request latency of every simulator")
    ap.add_argument("--commit-ms", type=float, default=200.0, help="time the router spends in each commit")
    ap.add_argument("--large", type=int, default=LARGE,
                    help="scenarios above this many guests stop after the plan (default %(default)s; "
                         "the budget of `make bench`)")
    ap.add_argument("--full", action="store_true",
                    help="apply in every scenario too (5,000 guests: well over 10 minutes, see README)")
    ap.add_argument("--engine-bindings", type=int, default=10_000,
                    help="guests for the socket-free engine benchmark (0 skips it)")
    ap.add_argument("--concurrency-guests", type=int, default=1000,
                    help="guests for the Proxmox read with max_workers=1 vs the default (0 skips it)")
    ap.add_argument("--page-bindings", type=int, default=1000,
                    help="bindings for the status page render benchmark (0 skips it)")
    ap.add_argument("--event-guests", default="15,1000",
                    help="lab sizes for the event -> DNS latency rows, comma-separated ('' skips them)")
    ap.add_argument("--ansible", action="store_true",
                    help="also push --ansible-mappings mappings with Ansible's edgeos_config against the "
                         "same simulator (Ansible is installed into its own venv under the bench's cache on "
                         "first use: $NETSOT_BENCH_CACHE or ~/.cache/netsot-bench; not a netsot dependency)")
    ap.add_argument("--ansible-mappings", type=int, default=100,
                    help="mappings of the Ansible comparison (default %(default)s)")
    ap.add_argument("--quick", action="store_true",
                    help="development run: scenarios 10,100, engine 1,000, concurrency 100")
    ap.add_argument("--in-process", action="store_true",
                    help="run the simulators as threads of the measured process (sharing its GIL) "
                         "instead of one process each")
    ap.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON rows")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if opts.quick:
        opts.scenarios, opts.engine_bindings, opts.concurrency_guests = "10,100", 1000, 100
    try:
        opts.sizes = [int(s) for s in opts.scenarios.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--scenarios {opts.scenarios!r}: expected comma-separated numbers, e.g. 10,100")
    if any(n < 1 for n in opts.sizes) or opts.latency_ms < 0 or opts.commit_ms < 0:
        ap.error("guest counts must be positive and times not negative")
    return opts


# --------------------------------------------------------------------------------- child side


def child(spec: dict[str, Any]) -> list[Row]:
    from bench.run import DEFAULT_PVE_WORKERS, Options, run_pve_workers, run_scenario

    opts = Options(latency=spec["latency"], commit=spec["commit"], router_latency=spec.get("router_latency"),
                   separate=not spec.get("in_process", False))
    if spec["kind"] == "scenario":
        return run_scenario(spec["guests"], opts, apply=spec.get("apply", True), cli=spec.get("cli", False))
    if spec["kind"] == "engine":
        from bench.engine_only import run_engine

        return [run_engine(spec["guests"])]
    if spec["kind"] == "page":
        from bench.page import run_page

        return [run_page(spec["guests"])]
    if spec["kind"] == "event":
        from bench.events import run_events

        return [run_events(spec["guests"], spec["latency"], spec["commit"])]
    if spec["kind"] == "ansible":
        from bench.ansible import run_ansible

        return run_ansible(spec["guests"], spec["latency"], spec["commit"])
    if spec["kind"] == "pve-workers":
        return [run_pve_workers(spec["guests"], opts, w) for w in (1, DEFAULT_PVE_WORKERS)]
    raise ValueError(f"unknown child kind {spec['kind']!r}")


# -------------------------------------------------------------------------------- parent side


def spawn(spec: dict[str, Any]) -> list[Row]:
    """Run one spec in a fresh interpreter; a failure becomes a row whose notes say why."""
    label = f"{spec['kind']}-{spec['guests']}"
    print(f"  running {label} ...", end="", flush=True)
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "bench", "--child", json.dumps(spec)],
                              capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        print(" timed out")
        return [Row(label, spec["guests"], "failed", CHILD_TIMEOUT, None,
                    notes=f"timed out after {CHILD_TIMEOUT}s")]
    print(f" {time.monotonic() - start:.1f}s")
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:]) or f"exit code {proc.returncode}"
        return [Row(label, spec["guests"], "failed", time.monotonic() - start, None, notes=tail)]
    return [Row.from_dict(d) for d in json.loads(lines[-1])]


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    opts = _parse(argv)
    if opts.child:
        rows = child(json.loads(opts.child))
        print(json.dumps([r.to_dict() for r in rows]))
        return 0
    base = {"latency": opts.latency_ms / 1000, "commit": opts.commit_ms / 1000, "in_process": opts.in_process}
    specs: list[dict[str, Any]] = []
    for n in opts.sizes:
        spec: dict[str, Any] = {"kind": "scenario", "guests": n, **base}
        if n > opts.large and not opts.full:
            spec["apply"] = False
        if n == CLI_GUESTS:
            spec["cli"] = True
        specs.append(spec)
    if opts.engine_bindings:
        specs.append({"kind": "engine", "guests": opts.engine_bindings, **base})
    if opts.page_bindings:
        specs.append({"kind": "page", "guests": opts.page_bindings, **base})
    if opts.concurrency_guests:
        specs.append({"kind": "pve-workers", "guests": opts.concurrency_guests, **base})
    specs += [{"kind": "event", "guests": int(n), **base} for n in opts.event_guests.split(",") if n.strip()]
    if opts.ansible:
        specs.append({"kind": "ansible", "guests": opts.ansible_mappings, **base})
    print(f"netsot bench: latency {opts.latency_ms:g} ms per request, router commit {opts.commit_ms:g} ms; "
          f"load average {_load()} on {os.cpu_count()} CPUs (compare ratios on a busy machine)")
    start = time.monotonic()
    rows: list[Row] = []
    for spec in specs:
        rows += spawn(spec)
    total = time.monotonic() - start
    opts.out.write_text(json.dumps([r.to_dict() for r in rows], indent=2) + "\n")
    print()
    print(table(rows))
    print()
    print(FORMULAS)
    print()
    print("notes:")
    print(notes(rows))
    slopes = memory_slopes(rows)
    if slopes:
        print()
        where = "simulators in the same process" if opts.in_process else "netsot's process only"
        print(f"memory (peak RSS after plan; {where}): "
              + "; ".join(f"{a}->{b} guests: {s:.1f} MB per 1,000 guests" for a, b, s in slopes))
    print()
    print(targets_text(rows))
    print(f"\nwrote {opts.out} ({len(rows)} rows) in {total:.0f}s; load average now {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

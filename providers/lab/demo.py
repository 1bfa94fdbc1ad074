"""`netsot demo` / `make demo`: a guided walk through the whole job against the embedded lab.

Owns: the demo script — lab up (two sites unless told otherwise) in a fresh folder, import each
router, plan, apply, verify, a second plan that must be empty, lab down (always) — each step run
through the real CLI in a subprocess, with a short plain-English heading saying what happens and why.
Must not: reach into netsot's internals; it only runs commands a user could type.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STEP_TIMEOUT = 300
HEAD_LINES, TAIL_LINES = 24, 6  # long outputs are shortened on screen; the full text is in logs/


@dataclass(frozen=True)
class Step:
    title: str
    why: str
    args: tuple[str, ...]
    expect: tuple[int, ...] = (0,)
    sites: int = 1  # the step needs at least this many sites


INTRO = """\
netsot keeps a homelab's IP space and DNS consistent: NIPAP (the IP address manager) is the
source of truth, Proxmox VE is where virtual machines and containers appear, and an EdgeRouter
hands out addresses (DHCP) and answers name lookups (DNS). This demo starts a simulated homelab
on this machine (nothing leaves 127.0.0.1) and lets netsot bring the three systems into line."""

LAB = """\
The lab: a 3-node Proxmox cluster with VMs and containers on two networks (lan 192.168.10.0/24
and servers 10.20.0.0/24 on VLAN 20) - running and stopped guests, a template, a Windows VM,
guests on DHCP and with static addresses, two guests tagged netsot-static (netsot may write
their address back into Proxmox). NIPAP knows the two networks and a few hosts (router, NAS).
The router already has DHCP reservations for the NAS and printer, a stale one for web02 (it
still carries the MAC of the VM web02 replaced), and two reservations tv and tv-old that claim
the same MAC. A real dnsmasq answers DNS for the router's host names."""

SITE2 = """Site 2, the cabin: its own 2-node cluster and router "cabin" (network cabin 192.168.30.0/24, with
its own dnsmasq) against the same NIPAP - the config names them proxmox.cabin and edgemax.cabin."""

STEPS = (
    Step("Adopt what the router already has (netsot import edgemax)",
         "netsot only ever changes what it owns. Import adopts the router's existing reservations and "
         "host names so netsot can manage them from now on. It refuses tv and tv-old: both reserve the "
         "same MAC, so there is no single right answer - those stay untouched until a person decides.",
         ("import", "edgemax")),
    Step("Adopt what the cabin's router has (netsot import edgemax.cabin)",
         "The same for the second router: KIND.INSTANCE names one instance. It adopts the access point's "
         "reservation and host name; its addresses carry the instance, edgemax_dhcp_mapping[cabin].CABIN.ap.",
         ("import", "edgemax.cabin"), sites=2),
    Step("Work out what has to change (netsot plan)",
         "netsot reads all three systems, merges what they say by precedence (ip: config > nipap > "
         "proxmox > edgemax; mac: config > proxmox > edgemax) and shows every change with where each "
         "value came from. New guests get the first free address outside the DHCP range, so the plan "
         "shows real IPs. Each guest gets a NIPAP entry, a DHCP reservation and a DNS name; web02's "
         "stale reservation follows the MAC Proxmox reports. Changes are grouped per system instance: "
         "the cabin's guests go to edgemax.cabin only. Anything precedence cannot settle is "
         "listed under Conflicts and left alone.",
         ("plan",)),
    Step("Make it so (netsot apply --auto-approve)",
         "Changes run in dependency order: NIPAP addresses first, then the router (all in one "
         "configure session: commit, save) and the Proxmox write-backs. The state file records "
         "what netsot now owns, after every batch.",
         ("apply", "--auto-approve")),
    Step("Check the real data path (netsot verify)",
         "Verify asks the systems themselves: every name resolves through its own router's DNS (dnsmasq "
         "re-read the router's host names after the commit), every reservation reads back from the "
         "router, every NIPAP host has the right name, IP and MAC, and guests whose agent reports "
         "addresses really hold the planned IP (they renewed their DHCP lease).",
         ("verify",)),
    Step("Nothing left to do (netsot plan --detailed-exitcode)",
         "Run the plan again: everything agrees now, so it is empty and exits 0 - the same check a CI "
         "job or `netsot serve` uses to see the homelab has not drifted.",
         ("plan", "--detailed-exitcode")),
)


UI_URL = "http://127.0.0.1:9108/"  # `netsot ui`'s default --listen


def _wrap(text: str) -> str:
    return "\n".join(textwrap.fill(p, 96) for p in text.split("\n\n"))


def _prepare_folder(workdir: Path, echo: Callable[..., Any], fresh: bool) -> bool:
    """Stop a lab left running in ``workdir``; with ``fresh`` empty the folder (only a lab folder).

    Without ``fresh`` an earlier lab is kept — its systems, netsot's state and your edits of its
    ``netsot.yaml`` — and the demo continues from it. Returns whether an earlier lab was kept.
    """
    from providers.lab import LabError, down

    if not workdir.exists() or not any(workdir.iterdir()):
        return False
    looks_like_lab = (workdir / "seeds").is_dir() or (workdir / "lab.json").exists()
    if not looks_like_lab:
        raise LabError(f"{workdir} exists and is not a lab folder; choose another --dir")
    if (workdir / "lab.json").exists():
        for line in down(workdir).splitlines():
            echo(f"    {line}")
    if fresh:
        shutil.rmtree(workdir)
        echo(f"    Removed the earlier lab in {os.path.relpath(workdir)}/ (--fresh): the demo starts afresh.")
        return False
    rel = os.path.relpath(workdir)
    text = (f"{rel}/ holds a lab from an earlier run: the demo keeps it (its systems, netsot's state and "
            f"your edits of {rel}/netsot.yaml) and continues from where it stopped, so some steps have "
            "little to do. To start from scratch: make demo FRESH=1 (netsot demo --fresh), which deletes "
            f"{rel}/.")
    for line in textwrap.wrap(text, 92):
        echo(f"    {line}")
    return True


def _shorten(lines: list[str], log: Path) -> list[str]:
    """The head and the tail of a long output, with a pointer to the full text."""
    if len(lines) <= HEAD_LINES + TAIL_LINES + 3:
        return lines
    hidden = len(lines) - HEAD_LINES - TAIL_LINES
    note = f"... ({hidden} more lines; the whole output is in {os.path.relpath(log)})"
    return [*lines[:HEAD_LINES], note, *lines[-TAIL_LINES:]]


def _run_cli(config: Path, args: Sequence[str], echo: Callable[..., Any], log: Path | None = None) -> int:
    cmd = [sys.executable, "-m", "engine", "--no-color", "--config", str(config), *args]
    env = {**os.environ, "NO_COLOR": "1"}
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=STEP_TIMEOUT, env=env, check=False)
    except subprocess.TimeoutExpired:
        echo(f"    (no result within {STEP_TIMEOUT} s)")
        return -1
    lines = proc.stdout.rstrip("\n").splitlines()
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(proc.stdout)
        lines = _shorten(lines, log)
    for line in lines:
        echo(f"    {line}")
    return proc.returncode


def steps(sites: int) -> tuple[Step, ...]:
    """The demo's steps for a lab of ``sites`` sites."""
    return tuple(step for step in STEPS if step.sites <= sites)


def run_demo(workdir: Path, echo: Callable[..., Any] = print, sites: int = 2, fresh: bool = False) -> int:
    """The demo; returns the exit code (0 when every step did what it should)."""
    from providers.lab import down, up

    workdir = Path(workdir).resolve()
    chosen = steps(sites)
    echo(_wrap(INTRO))
    echo("")
    echo(f"== 1. Start the lab (netsot lab up{' --sites 2' if sites > 1 else ''})")
    echo(_wrap(LAB))
    if sites > 1:
        echo(_wrap(SITE2))
    echo("")
    kept = _prepare_folder(workdir, echo, fresh)
    failed: str | None = None
    try:
        for line in up(workdir, sites=sites).splitlines():
            echo(f"    {line}")
        config = workdir / "netsot.yaml"
        rel = os.path.relpath(config)
        for n, step in enumerate(chosen, start=2):
            echo("")
            echo(f"== {n}. {step.title}")
            echo(_wrap(step.why))
            echo(f"  $ netsot --config {rel} {' '.join(step.args)}")
            log = workdir / "logs" / f"demo-{n}-{'-'.join(a.strip('-') for a in step.args)}.txt"
            code = _run_cli(config, step.args, echo, log)
            if code not in step.expect:
                failed = f"step {n} ({' '.join(step.args)}) exited {code}, expected {step.expect[0]}"
                break
    except Exception as exc:  # the lab could not start: say so, still clean up
        failed = f"{type(exc).__name__}: {exc}"
    finally:
        echo("")
        echo(f"== {len(chosen) + 2}. Stop the lab (netsot lab down)")
        for line in down(workdir).splitlines():
            echo(f"    {line}")
    echo("")
    if failed:
        echo(f"The demo did not finish as expected: {failed}.")
        if kept:
            echo("It continued a lab from an earlier run; `make demo FRESH=1` (netsot demo --fresh) starts "
                 "from scratch.")
        return 1
    routers = "each router's DHCP and DNS agree with its Proxmox cluster" if sites > 1 else \
        "the router's DHCP and its DNS agree with Proxmox"
    echo(f"Done: importing and one apply made NIPAP, {routers}, and a second plan has nothing to do.")
    for line in how_to_run(sites):
        echo(line)
    return 0


def how_to_run(sites: int) -> list[str]:
    """The demo's last lines: how to run netsot yourself (the console script is in the virtualenv)."""
    bin_dir = Path(sys.executable).parent
    netsot = bin_dir / "netsot"
    here = os.path.relpath(bin_dir) if bin_dir.is_relative_to(Path.cwd()) else str(bin_dir)
    if not netsot.exists():
        return ["Try it yourself: python -m engine lab up, then the commands above."]
    more = f"{'':<33}(it resumes where the demo stopped: {sites} sites)" if sites > 1 else ""
    return [
        "",
        f"Try it yourself. netsot is installed in {here}/: run it as {here}/netsot, or first",
        f"  source {here}/activate",
        "and then, e.g.:",
        f"  netsot lab up{more}",
        "  export NETSOT_CONFIG=.netsot-lab/netsot.yaml",
        "  netsot plan",
        "  netsot lab guest add web03 && netsot plan     (README's tour has more to try)",
        f"  netsot import edgemax && netsot ui            (the status page: open {UI_URL})",
        "  netsot lab down",
    ]

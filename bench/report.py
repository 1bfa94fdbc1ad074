"""The benchmark's readable output: the result table, derived figures and the targets block.

Owns: formatting rows for stdout and judging the issue's targets (PASS / MISS / n/a) from rows.
Must not: measure anything or fail the run on a MISS — targets are shown, never asserted.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from bench.measure import Row

COLUMNS = ("scenario", "guests", "phase", "wall s", "bound s", "wall/bound", "pve req", "nipap req",
           "router cmd", "ssh", "commits", "rss MB")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: Sequence[Row]) -> str:
    body = []
    for r in rows:
        req = r.requests
        body.append((r.scenario, str(r.guests), r.phase, _fmt(r.wall_s, 3), _fmt(r.lower_bound_s, 3),
                     _fmt(r.ratio, 1), str(req.get("proxmox", "-")), str(req.get("nipap", "-")),
                     str(req.get("edgemax", "-")), str(r.ssh_sessions), str(r.commits),
                     _fmt(r.peak_rss_mb, 1)))
    widths = [max(len(c), *(len(b[i]) for b in body)) if body else len(c) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(COLUMNS, widths,
                                                                                         strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for b in body:
        lines.append("  ".join(v.ljust(w) if i < 3 else v.rjust(w) for i, (v, w) in enumerate(zip(b, widths,
                                                                                               strict=True))))
    return "\n".join(lines)


def notes(rows: Sequence[Row]) -> str:
    return "\n".join(f"  {r.scenario}/{r.phase}: {r.notes}" for r in rows if r.notes)


def _find(rows: Sequence[Row], scenario: str, phase: str) -> Row | None:
    return next((r for r in rows if r.scenario == scenario and r.phase == phase), None)


def speedup(rows: Sequence[Row]) -> tuple[float, Row, Row] | None:
    """(wall with 1 worker / wall with the most workers, those two rows) of the pve-read rows."""
    pve = sorted((r for r in rows if r.scenario.startswith("pve-read-w")), key=lambda r: int(r.scenario[10:]))
    if len(pve) < 2 or not pve[-1].wall_s:
        return None
    return pve[0].wall_s / pve[-1].wall_s, pve[0], pve[-1]


def memory_slopes(rows: Sequence[Row]) -> list[tuple[int, int, float]]:
    """MB per 1,000 guests between consecutive lab scenarios (peak RSS after read + plan: every
    scenario has those phases, large ones stop before the apply)."""
    labs = sorted((r for r in rows if r.scenario.startswith("lab-") and r.phase == "plan"),
                  key=lambda r: r.guests)
    return [(a.guests, b.guests, (b.peak_rss_mb - a.peak_rss_mb) / (b.guests - a.guests) * 1000)
            for a, b in itertools.pairwise(labs) if b.guests > a.guests]


def targets(rows: Sequence[Row]) -> list[tuple[str, str, str]]:
    """(verdict, target, evidence) for each target of the issue."""
    out: list[tuple[str, str, str]] = []
    read, plan = _find(rows, "lab-1000", "read"), _find(rows, "lab-1000", "plan")
    name = "read + plan, 1,000 guests, within 1.5x the bound of the unavoidable calls"
    if read and plan and read.lower_bound_s:
        wall = read.wall_s + plan.wall_s
        bound = read.lower_bound_s + (plan.lower_bound_s or 0)
        out.append(("PASS" if wall <= 1.5 * bound else "MISS", name,
                    f"{wall:.2f}s vs bound {bound:.2f}s = {wall / bound:.1f}x"))
    else:
        out.append(("n/a", name, "scenario lab-1000 not run"))
    cli = _find(rows, "lab-1000-cli", "cli-plan")
    name = "`netsot plan` as a process, 1,000 guests (start-up, config, read, plan, rendering)"
    out.append(("INFO" if cli and cli.lower_bound_s else "n/a", name,
                f"{cli.wall_s:.2f}s vs bound {cli.lower_bound_s:.2f}s = {cli.wall_s / cli.lower_bound_s:.1f}x"
                if cli and cli.lower_bound_s else "not run"))
    apply = _find(rows, "lab-1000", "apply")
    name = "apply of 1,000 new hosts within 10 s"
    out.append((("PASS" if apply.wall_s <= 10 else "MISS") if apply else "n/a", name,
                f"{apply.wall_s:.2f}s (bound {_fmt(apply.lower_bound_s)}s)" if apply else "not run"))
    router = re.search(r"edgemax (\d+) changes ([\d.]+)s(?: \(the system's call ([\d.]+)s\))?", apply.notes) \
        if apply else None
    name = "the router part of applying 1,000 new hosts within 2 s"
    out.append((("PASS" if float(router.group(2)) <= 2 else "MISS") if router else "n/a", name,
                f"{router.group(2)}s for {router.group(1)} router changes in one batch + one commit"
                + (f" (the provider's call {router.group(3)}s, the rest the engine recording outcomes)"
                   if router and router.group(3) else "")
                if router else "not run"))
    name = "apply of 1,000 new hosts = ONE router session and ONE commit"
    if apply and read and plan:
        sessions = read.ssh_sessions + plan.ssh_sessions + apply.ssh_sessions
        ok = sessions == 1 and apply.commits == 1
        out.append(("PASS" if ok else "MISS", name,
                    f"{sessions} SSH session(s) in the whole run (read+plan+apply), "
                    f"{apply.commits} commit(s)"))
    else:
        out.append(("n/a", name, "scenario lab-1000 not run"))
    engine = sorted((r for r in rows if r.phase == "engine"), key=lambda r: r.guests)
    name = "engine-only reconcile + plan of 10,000 bindings within 1.5 s"
    if engine:
        e = engine[-1]
        verdict = ("PASS" if e.wall_s <= 1.5 else "MISS") if e.guests >= 10_000 else "n/a"
        out.append((verdict, name, f"{e.wall_s:.2f}s for {e.guests} guests"))
    else:
        out.append(("n/a", name, "engine benchmark not run"))
    for guests in (15, 1000):
        event = _find(rows, f"event-dns-{guests}", "event")
        name = f"event -> DNS p95 within 5 s, {guests:,} guests"
        if event is None or "p95" not in event.notes:
            out.append(("n/a", name, "not run"))
            continue
        out.append(("PASS" if event.wall_s <= 5 else "MISS", name, event.notes.split("; per event")[0]))
    page = _find(rows, "page-1000", "page")
    name = "status page (matrix + HTML) of 1,000 bindings well under a second"
    out.append((("PASS" if page.wall_s < 0.5 else "MISS") if page else "n/a", name,
                f"{page.wall_s * 1000:.0f} ms ({page.notes})" if page else "page benchmark not run"))
    slopes = memory_slopes(rows)
    name = "memory grows linearly"
    if len(slopes) >= 2:
        text = "; ".join(f"{a}->{b}: {s:.1f} MB/1k guests" for a, b, s in slopes)
        first, last = slopes[-2][2], slopes[-1][2]
        # linear: the slope over the largest step is not much steeper than the one before (+2 MB noise)
        ok = last <= 1.5 * max(first, 0) + 2
        out.append(("PASS" if ok else "MISS", name, text))
    else:
        out.append(("n/a", name, "needs three lab scenarios"))
    out.append(ansible_target(rows))
    sp = speedup(rows)
    name = "Proxmox read concurrency speed-up over one worker (shown)"
    if sp:
        ratio, one, many = sp
        out.append(("INFO", name, f"{ratio:.1f}x ({one.scenario} {one.wall_s:.2f}s vs {many.scenario} "
                                  f"{many.wall_s:.2f}s, {many.guests} guests)"))
    return out


def ansible_target(rows: Sequence[Row]) -> tuple[str, str, str]:
    """netsot's push vs Ansible's edgeos_config of the same mappings (``--ansible``)."""
    ours = next((r for r in rows if r.phase == "netsot" and r.scenario.startswith("ansible-")), None)
    theirs = next((r for r in rows if r.phase == "ansible" and r.scenario.startswith("ansible-")), None)
    name = "netsot >= 40x faster than Ansible's edgeos_config for 100 mappings (same simulator)"
    if theirs is None:
        return "n/a", name, "not run (`make bench ANSIBLE=1` or `python -m bench --ansible`)"
    ratio = re.search(r"Ansible / netsot = ([\d.]+)x for the push.*?, ([\d.]+)x as processes", theirs.notes)
    if ours is None or ratio is None:
        return "n/a", name, theirs.notes
    return ("PASS" if float(ratio.group(1)) >= 40 else "MISS", name,
            f"{ratio.group(1)}x for the push (Ansible's task vs netsot's session), {ratio.group(2)}x as "
            f"processes (Ansible {theirs.wall_s:.2f}s, netsot {ours.wall_s:.2f}s), {theirs.guests} mappings")


def targets_text(rows: Sequence[Row]) -> str:
    lines = ["targets (shown, not asserted):"]
    for verdict, name, evidence in targets(rows):
        lines.append(f"  [{verdict:4}] {name}: {evidence}")
    return "\n".join(lines)

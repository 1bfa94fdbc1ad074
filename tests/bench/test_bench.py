"""Smoke tests of the benchmark harness: the row shape and the report — never timings."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.measure import Counts, Row, apply_bound, pve_request_split, read_bound
from bench.report import table, targets

ROW_KEYS = {"scenario", "guests", "phase", "wall_s", "lower_bound_s", "requests", "ssh_sessions", "commits",
            "peak_rss_mb", "notes"}
ROOT = Path(__file__).resolve().parents[2]


def _check_row(row: dict) -> None:
    assert set(row) == ROW_KEYS
    assert row["phase"] in ("read", "plan", "apply", "engine")
    assert isinstance(row["wall_s"], float) and row["wall_s"] >= 0
    assert row["lower_bound_s"] is None or row["lower_bound_s"] >= 0
    assert isinstance(row["requests"], dict)
    assert all(isinstance(v, int) for v in row["requests"].values())
    assert row["peak_rss_mb"] > 0


@pytest.mark.slow
@pytest.mark.integration
def test_smallest_scenario_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--scenarios", "10", "--engine-bindings", "0",
         "--concurrency-guests", "0", "--page-bindings", "0", "--event-guests", "", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())
    assert [r["phase"] for r in rows] == ["read", "plan", "apply"], rows
    for row in rows:
        _check_row(row)
        assert row["scenario"] == "lab-10" and row["guests"] == 10
        assert set(row["requests"]) == {"proxmox", "nipap", "edgemax"}
    read, plan, apply = rows
    # what the simulators counted: every guest's config was read, the router was asked once per
    # system over one session, planning made no request, and the apply committed once
    assert read["requests"]["proxmox"] >= 1 + 10
    assert read["ssh_sessions"] == 1
    assert sum(plan["requests"].values()) == 0
    assert apply["commits"] == 1 and apply["ssh_sessions"] == 0
    assert "failed=0" in apply["notes"]
    assert re.search(r"per Proxmox request: at most [\d.]+ ms round trip \(8 workers\), of which "
                     r"[\d.]+ ms in the simulator \(latency 5 ms\)", read["notes"]), read["notes"]
    assert "targets (shown, not asserted):" in proc.stdout
    assert "lab-10" in proc.stdout


def test_bounds_follow_the_documented_formulas() -> None:
    d = Counts(pve_total=21, pve_configs=10, pve_ifaces=6, nipap_calls=2, router_commands=4)
    # proxmox 1 + ceil(16 / 8) = 3 latencies; the router's 4 sequential commands dominate
    assert read_bound(d, 0.01, 8) == pytest.approx(0.04)
    assert read_bound(Counts(pve_total=21, pve_configs=10, pve_ifaces=6), 0.01, 8) == pytest.approx(0.03)
    # the honest bound counts what the lab needs, not the calls netsot made (#24)
    made = Counts(pve_total=41, pve_configs=10, pve_ifaces=30)
    assert read_bound(made, 0.01, 8, needed=16) == pytest.approx(0.03)
    d = Counts(pve_puts=3, nipap_calls=9, router_commands=40, commits=1)
    # NIPAP: ceil(9 calls / 4) = 3 latencies; then the router's ONE batch + ONE commit (not 40 commands)
    assert apply_bound(d, 0.01, 0.2, 8, 4) == pytest.approx(0.01 * 3 + 0.01 + 0.2)
    # only the hosts count for NIPAP (one call per new host), not the reads around them
    assert apply_bound(d, 0.01, 0.2, 8, 4, nipap_hosts=4) == pytest.approx(0.01 * 1 + 0.01 + 0.2)


def test_a_proxmox_requests_time_is_split_into_the_simulators_part_and_the_rest() -> None:
    d = Counts(pve_total=100, pve_server_us=600_000)  # 6 ms each inside the simulator
    text = pve_request_split(d, wall=0.1, pve_workers=8, latency=0.005)
    assert text == ("per Proxmox request: at most 8.00 ms round trip (8 workers), of which 6.00 ms in the "
                    "simulator (latency 5 ms), 2.00 ms client, wire and waiting for a core")
    assert pve_request_split(Counts(), wall=0.1, pve_workers=8, latency=0.005) == ""


def test_needed_guest_calls_are_a_config_each_and_interfaces_only_where_nothing_else_tells() -> None:
    from bench.scenarios import guests, needed_guest_calls

    specs = guests(40)
    asked = [g for g in specs if g.running and not g.static_ip and (g.type == "lxc" or g.agent)]
    assert needed_guest_calls(specs) == 40 + len(asked)
    assert 0 < len(asked) < 40
    assert not any(g.static_ip for g in asked) and all(g.running for g in asked)
    assert any(g.type == "qemu" and not g.agent and g.running and not g.static_ip for g in specs)  # not asked


def test_report_judges_targets_from_rows() -> None:
    rows = [
        Row("lab-1000", 1000, "read", 1.5, 1.0, {"proxmox": 1601}, 1, 0, 90.0),
        Row("lab-1000", 1000, "plan", 0.2, 0.0, {}, 0, 0, 95.0),
        Row("lab-1000", 1000, "apply", 30.0, 20.0, {"edgemax": 4005}, 0, 1, 120.0,
            notes="batches: nipap 1000 changes 5.00s; edgemax 3000 changes 1.20s; 3 state saves"),
        Row("engine-10000", 10000, "engine", 3.0, None, {}, 0, 0, 300.0),
        Row("event-dns-15", 15, "event", 1.2, None, {}, 1, 1, 80.0,
            notes="event -> DNS latency over 20 created guests (running, DHCP): p50 1.00 s, p95 1.20 s, "
                  "max 1.30 s; per event (mean, polls included): Proxmox 3 requests"),
        Row("event-dns-1000", 1000, "event", 9.3, None, {}, 1, 1, 100.0, notes="... p95 9.30 s ..."),
    ]
    verdicts = {name: verdict for verdict, name, _ in targets(rows)}
    assert verdicts["read + plan, 1,000 guests, within 1.5x the bound of the unavoidable calls"] == "MISS"
    assert verdicts["apply of 1,000 new hosts = ONE router session and ONE commit"] == "PASS"
    assert verdicts["apply of 1,000 new hosts within 10 s"] == "MISS"
    assert verdicts["the router part of applying 1,000 new hosts within 2 s"] == "PASS"
    assert verdicts["engine-only reconcile + plan of 10,000 bindings within 1.5 s"] == "MISS"
    assert verdicts["memory grows linearly"] == "n/a"
    assert verdicts["event -> DNS p95 within 5 s, 15 guests"] == "PASS"
    assert verdicts["event -> DNS p95 within 5 s, 1,000 guests"] == "MISS"
    text = table(rows)
    assert "lab-1000" in text and "engine-10000" in text


@pytest.mark.slow
@pytest.mark.integration
def test_the_event_row_measures_a_real_service() -> None:
    """The event -> DNS row (#24): a real `serve` against a 15-guest lab, two guests created."""
    from bench.events import run_events

    row = run_events(15, 0.0, 0.0, events=2).to_dict()
    assert set(row) == ROW_KEYS and row["phase"] == "event" and row["scenario"] == "event-dns-15"
    assert row["wall_s"] > 0 and row["requests"]["proxmox"] >= 1 and row["commits"] >= 1, row
    assert "p50" in row["notes"] and "p95" in row["notes"] and "over 2 created guests" in row["notes"]

"""Acceptance of `netsot serve` ("Running it for real"): the service runs as a real subprocess against
the lab and is observed only from outside — HTTP endpoints, JSON log lines, the systems, the state file.

The tests share one lab and run in file order: a `--once` run converges it, one long-running service
(delete: auto, orphan_grace: 3s) sees a guest come and go, holds the lock against the CLI and stops on
SIGTERM mid-apply; then a threshold breach; last, NIPAP goes down for good.
"""

from __future__ import annotations

import itertools
import json
import time
from datetime import datetime
from typing import Any

import pytest

from state.backend import FileBackend
from tests.e2e.conftest import Lab
from tests.service.conftest import ServiceProcess, lock_path, secrets, set_policy, state_of, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(180)]

AUTO_POLICY = "  delete: auto\n  orphan_grace: 3s\n"
GRACE = 3.0
THRESHOLD_POLICY = "  delete: plan\n  max_change_percent: 10\n  min_existing: 3\n"
NEW = (160, "svcnew")
LOCKED = (161, "svclock")
TERM = (162, "svcterm")
_loop: dict[str, ServiceProcess] = {}


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def _addresses(name: str) -> tuple[str, str, str]:
    return (f"nipap_address.lan.{name}", f"edgemax_dhcp_mapping.LAN.{name}",
            f"edgemax_host.{name}.lab.example")


def _present(lab: Lab, name: str) -> dict[str, Any] | None:
    """The guest's NIPAP host, router mapping and DNS host entry — only when all three exist and agree."""
    host = lab.nipap_by_node(name)
    mapping = lab.mappings().get(f"LAN.{name}")
    entry = lab.host_entries().get(f"{name}.lab.example")
    if host and mapping and entry and mapping["ip"] == host["ip"] and entry == (host["ip"],):
        return {"ip": host["ip"], "mac": mapping["mac"]}
    return None


def _none_left(lab: Lab, name: str) -> bool:
    return (lab.nipap_by_node(name) is None and f"LAN.{name}" not in lab.mappings()
            and f"{name}.lab.example" not in lab.host_entries())


def _router_commits_after(lab: Lab, mark: int) -> bool:
    return any(c.startswith("commit") for c in lab.router.log.commands()[mark:])


def _assert_state_matches_systems(lab: Lab) -> None:
    """The state file loads through the codec, and every object it records exists in its system."""
    state = FileBackend(lab.paths.root / "netsot.state.json").load()
    hosts, maps, entries = lab.nipap_hosts(), lab.mappings(), lab.host_entries()
    guests = lab.pve.handle.cluster.guests
    missing = []
    for address, record in state.resources.items():
        a = record.attributes
        kind = address.split(".", 1)[0]
        if kind == "nipap_address":
            ok = a["ip"] in hosts and hosts[a["ip"]]["node"] == a["hostname"]
        elif kind == "edgemax_dhcp_mapping":
            ok = maps.get(f"{a['shared_network']}.{a['name']}", {}).get("ip") == a["ip_address"]
        elif kind == "edgemax_host":
            ok = entries.get(a["host_name"]) == (a["inet"],)
        elif kind == "proxmox_ipconfig":
            ok = int(a["vmid"]) in guests
        else:
            ok = False
        if not ok:
            missing.append(address)
    assert not missing, f"state records objects the systems do not hold: {missing}"


# --------------------------------------------------------------------------------------------- --once


def test_once_exits_zero_after_one_successful_run(lab: Lab, services: list[ServiceProcess]) -> None:
    imported = lab.cli("import", "edgemax")
    assert imported.code == 0, imported.out
    once = ServiceProcess(lab, "once", "--once")
    services.append(once)
    code = once.proc.wait(timeout=60)
    assert code == 0, once.raw()
    runs = once.messages("run finished")
    assert len(runs) == 1, once.raw()
    assert runs[0]["failed"] == 0 and runs[0]["applied"] > 0 and runs[0]["applied"] == runs[0]["planned"]
    assert lab.resolve_eventually("web01.lab.example", lab.nipap_by_node("web01")["ip"]) is not None
    assert not lock_path(lab).exists()


# ------------------------------------------------------------------- one long-running service, in order


def test_health_is_503_until_the_first_run_then_200(lab: Lab, services: list[ServiceProcess]) -> None:
    set_policy(lab, AUTO_POLICY)
    service = ServiceProcess(lab, "loop")
    services.append(service)
    _loop["service"] = service
    code, body = service.health()
    assert (code, body["status"]) == (503, "starting"), body
    assert service.get("/plan")[0] == 503
    code, body = wait_for("a healthy service", lambda: (h := service.health())[0] == 200 and h, timeout=20)
    assert body["status"] == "ok"
    metrics = service.metrics()
    assert metrics['netsot_runs_total{result="ok"}'] >= 1
    # the process series a leak is watched by: this very process's memory, fds, CPU and start
    assert metrics["process_resident_memory_bytes"] > 1_000_000
    assert 3 <= metrics["process_open_fds"] < metrics["process_max_fds"]
    assert metrics["process_cpu_seconds_total"] > 0
    assert abs(metrics["process_start_time_seconds"] - service.started) < 30


def test_new_guest_is_applied_within_one_interval(lab: Lab) -> None:
    service = _loop["service"]
    added = time.time()
    mac = lab.add_guest(*NEW, network="lan", type_="lxc")
    got = wait_for("the new guest in NIPAP, on the router and in DNS", lambda: _present(lab, NEW[1]),
                   timeout=20)
    assert got["mac"] == mac
    assert lab.resolve_eventually(f"{NEW[1]}.lab.example", got["ip"]) == got["ip"]

    # picked up by the run in progress when it appeared, or the one after it (one interval later, or the
    # partial run the watch starts when it sees the guest)
    def runs_until_applied() -> list[dict[str, Any]] | None:
        every = sorted(service.messages("run finished") + service.messages("event run finished"),
                       key=lambda r: r["ts"])
        runs = [r for r in every if _epoch(r["ts"]) > added]
        done = [i for i, r in enumerate(runs) if r["applied"] >= 3]
        return runs[: done[0] + 1] if done else None

    runs = wait_for("the run that applied the guest", runs_until_applied, timeout=5)
    assert len(runs) <= 2, runs
    doc = service.plan()
    assert doc is not None and doc.get("held", []) == []


def test_removed_guest_is_orphaned_then_deleted_only_after_the_grace(lab: Lab) -> None:
    service = _loop["service"]
    name = NEW[1]
    addresses = _addresses(name)
    lab.remove_guest(NEW[0])

    def orphaned() -> dict[str, Any] | None:
        records = {r["address"]: r for r in state_of(lab)["resources"]}
        if all(records.get(a, {}).get("status") == "orphaned" for a in addresses):
            return records
        return None

    records = wait_for("the orphan marks in the state", orphaned, timeout=15)
    stamps = {records[a]["orphaned_since"] for a in addresses}
    assert len(stamps) == 1 and None not in stamps, stamps
    since = _epoch(stamps.pop())
    assert _present(lab, name), "an orphan must not be deleted in the run that marks it"

    def held_in_plan() -> list[dict[str, Any]] | None:
        doc = service.plan() or {}
        held = [h for h in doc.get("held", []) if h["change"]["address"] in addresses]
        return held if len(held) == 3 else None

    held = wait_for("/plan to show the held deletes", held_in_plan, timeout=10, step=0.05)
    assert {h["gate"] for h in held} == {"orphan_grace"}, held
    assert {h["change"]["action"] for h in held} == {"delete"}, held
    gauge = 'netsot_held_changes{gate="orphan_grace"}'
    assert wait_for("the orphan_grace gauge", lambda: service.metrics().get(gauge, 0) >= 3, timeout=3)

    # watch closely: every object stays until the grace has passed, then all go
    last_all_present = time.time()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = time.time()
        if _present(lab, name):
            last_all_present = now
        elif _none_left(lab, name):
            break
        time.sleep(0.05)
    assert _none_left(lab, name), "the orphan was never deleted"
    assert last_all_present + 0.5 >= since + GRACE, (
        f"deleted {since + GRACE - last_all_present:.1f}s before the grace ended")
    # the state is saved right after the last batch returns: give that save a moment
    def forgotten() -> bool | None:
        remaining = {r["address"] for r in state_of(lab)["resources"]}
        return True if not remaining & set(addresses) else None

    assert wait_for("the state to forget the deleted objects", forgotten, timeout=10)
    assert lab.resolve_eventually(f"{name}.lab.example", None) is None


def test_cli_apply_fails_fast_while_the_service_holds_the_lock(lab: Lab) -> None:
    service = _loop["service"]
    mark = len(lab.router.log.commands())
    lab.router.faults.commit_delay = 6.0
    try:
        lab.add_guest(*LOCKED, network="lan", type_="lxc")
        wait_for("the service inside its router commit", lambda: _router_commits_after(lab, mark), timeout=20)
        assert lock_path(lab).exists()
        started = time.monotonic()
        result = lab.cli("apply", "--auto-approve", timeout=30)
        took = time.monotonic() - started
    finally:
        lab.router.faults.commit_delay = 0.0
    assert result.code == 1, result.out
    assert took < 5, f"the CLI waited {took:.1f}s for the lock"
    assert str(service.pid) in result.out and "serve" in result.out, result.out
    wait_for("the service to finish the guest", lambda: _present(lab, LOCKED[1]), timeout=20)


def test_sigterm_mid_apply_stops_cleanly_and_leaves_a_consistent_state(lab: Lab) -> None:
    service = _loop["service"]
    mark = len(lab.router.log.commands())
    lab.router.faults.commit_delay = 3.0
    try:
        lab.add_guest(*TERM, network="lan", type_="lxc")
        wait_for("the service inside its router commit", lambda: _router_commits_after(lab, mark), timeout=20)
        code, took = service.terminate(timeout=30)
    finally:
        lab.router.faults.commit_delay = 0.0
    assert code == 0, service.raw()[-3000:]
    assert took < 15, f"took {took:.1f}s to stop"
    # the signal arrived inside a run; that run finished its apply, then the service stopped
    records = service.records()
    received = next(i for i, r in enumerate(records) if r["msg"].startswith("received SIGTERM"))
    # the run under way: a full one, or a partial one the watch started (`event run finished`)
    after = [r for r in records[received:] if r["msg"] in ("run finished", "event run finished")]
    assert len(after) == 1 and after[0]["failed"] == 0 and after[0]["applied"] >= 1, records[received:]
    assert records[-1]["msg"] == "stopped"
    assert not lock_path(lab).exists(), "the lock file outlived the service"
    _assert_state_matches_systems(lab)
    first = lab.cli("plan", "--detailed-exitcode")
    assert first.code in (0, 2), first.out
    lab.apply()
    again = lab.cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.out
    assert _present(lab, TERM[1])


# -------------------------------------------------------------------------------- threshold breach


def test_threshold_breach_holds_the_changes_and_says_why(lab: Lab, services: list[ServiceProcess]) -> None:
    set_policy(lab, THRESHOLD_POLICY)
    owned = sorted(r["attributes"]["name"] for r in state_of(lab)["resources"]
                   if r["address"].startswith("edgemax_dhcp_mapping.LAN."))
    victims = owned[:6]
    current = lab.mappings()
    # re-IP six owned mappings by hand onto free addresses outside the dynamic range
    lines = [f"set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping {n} "
             f"ip-address 192.168.10.{240 + i}" for i, n in enumerate(victims)]
    lab.router_configure(*lines)
    edited = lab.mappings()
    assert {n: edited[f"LAN.{n}"]["ip"] for n in victims} != {n: current[f"LAN.{n}"]["ip"] for n in victims}
    nipap_before = lab.nipap_hosts()
    commits_before = lab.router.log.commits

    service = ServiceProcess(lab, "threshold")
    services.append(service)

    def threshold_held() -> list[dict[str, Any]] | None:
        service.assert_alive()
        doc = service.plan() or {}
        held = [h for h in doc.get("held", []) if h["gate"] == "threshold"]
        return held or None

    held = wait_for("/plan to hold the changes at the threshold", threshold_held, timeout=20)
    held_addresses = {h["change"]["address"] for h in held}
    assert {f"edgemax_dhcp_mapping.LAN.{n}" for n in victims} <= held_addresses, held_addresses
    assert all("--force" in h["reason"] for h in held), held
    assert service.metrics()['netsot_held_changes{gate="threshold"}'] >= len(victims)
    # another full run later, still nothing of that system changed
    runs = len(service.messages("run finished"))
    wait_for("another run", lambda: len(service.messages("run finished")) > runs, timeout=15)
    assert lab.mappings() == edited
    assert lab.router.log.commits == commits_before
    assert lab.nipap_hosts() == nipap_before
    code, _took = service.terminate()
    assert code == 0


# ------------------------------------------------------------------------- failing runs (NIPAP down)


def test_failing_runs_back_off_and_health_goes_stale(lab: Lab, services: list[ServiceProcess]) -> None:
    service = ServiceProcess(lab, "failing", "--stale-after", "3")
    services.append(service)
    wait_for("a healthy service", lambda: service.health()[0] == 200, timeout=20)
    lab.nipap.stop()

    def failed(n: int) -> Any:
        return lambda: len(service.messages("run failed")) >= n

    wait_for("two failed runs", failed(2), timeout=20, step=0.2)
    errors = service.metrics().get('netsot_errors_total{system="nipap"}', 0)
    assert errors >= 2, service.metrics()
    code, body = wait_for("a stale health check", lambda: (h := service.health())[0] == 503 and h, timeout=10)
    assert body["status"] == "stale" and "nipap" in body["last_error"], body
    wait_for("four failed runs", failed(4), timeout=30, step=0.2)
    assert service.metrics()['netsot_errors_total{system="nipap"}'] >= errors + 2
    records = service.messages("run failed")
    assert all(r["system"] == "nipap" and r["level"] == "error" for r in records), records
    # interval 1 s (no jitter), doubled per consecutive failure: 1, 2, 4 s between the failing runs, as the
    # service says it waits (the log's timestamps would add each failed run's own, varying, duration)
    waits = service.messages("next run in")
    assert [(r["delay_s"], r["failed_runs"]) for r in waits[:3]] == [(1, 1), (2, 2), (4, 3)], waits
    stamps = [_epoch(r["ts"]) for r in records]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(gap >= wait["delay_s"] for gap, wait in zip(gaps, waits, strict=False)), (gaps, waits)
    code, _took = service.terminate()
    assert code == 0


# ---------------------------------------------------------------------------------------- JSON logs


def test_every_log_line_is_json_and_no_secret_leaks(lab: Lab, services: list[ServiceProcess]) -> None:
    assert len(services) >= 4
    for service in services:
        service.kill()
        for path in (service.out_path, service.err_path):
            text = path.read_text()
            for line in text.splitlines():
                record = json.loads(line)  # every line, on stdout and stderr
                assert isinstance(record, dict) and {"ts", "level", "msg"} <= set(record), line
            for secret in secrets(lab):
                assert secret not in text, f"a secret leaked into {path.name}"
    state_text = (lab.paths.root / "netsot.state.json").read_text()
    assert not any(s in state_text for s in secrets(lab))

"""Fault suite: each system misbehaving in the ways real ones do, through real sockets.

Every case checks the operator sees a clear sentence (no traceback), the state stays
consistent with what really happened, what each simulator holds afterwards, and that the
next run converges once the fault is lifted.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.faults.harness import (
    FaultLab,
    assert_clear,
    assert_same,
    drop_router_at,
    error_sentence,
    free_port,
    no_traceback,
    outcome_lines,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _nipap_addresses(lab: FaultLab) -> set[str]:
    return {a for a in lab.state_addresses() if a.startswith("nipap_address.")}


def _converge(lab: FaultLab, reference: dict[str, Any] | None = None) -> None:
    result = lab.apply()
    assert result.code == 0, str(result)
    no_traceback(result)
    lab.assert_converged(reference)


def _incomplete(result: Any) -> dict[str, dict[str, str]]:
    assert result.code == 1, str(result)
    no_traceback(result)
    assert "Apply incomplete" in result.stderr, str(result)
    lines = outcome_lines(result)
    for why in [*lines["failed"].values(), *lines["skipped"].values()]:
        assert_clear(why)
    return lines


# ----------------------------------------------------------------------------- router


def test_router_connection_dropped_at_commit(lab: FaultLab, reference: dict[str, Any]) -> None:
    drop_router_at(lab, "commit")
    lines = _incomplete(lab.apply())
    assert lines["failed"] and all(a.startswith("edgemax_") for a in lines["failed"]), lines
    assert lab.router_entries() == lab.initial_router, "a dropped session must not commit"
    assert lab.router.saved_text() == lab.initial_saved
    assert len(_nipap_addresses(lab)) == 7  # NIPAP's batch ran before and is recorded
    assert not {a for a in lab.state_addresses() if a.startswith("edgemax_")}
    lab.assert_consistent(after_failure=True)
    _converge(lab, reference)


def test_router_connection_dropped_at_save(lab: FaultLab, reference: dict[str, Any]) -> None:
    """Committed but never saved: the next run must leave saved == active and state complete."""
    drop_router_at(lab, "save")
    result = lab.apply()
    assert result.code == 1, str(result)
    no_traceback(result)
    assert lab.router.saved_text() == lab.initial_saved
    _converge(lab, reference)


def test_router_commit_failure_discards_and_saves_nothing(lab: FaultLab, reference: dict[str, Any]) -> None:
    lab.router.faults.fail_next_commit = True
    lines = _incomplete(lab.apply())
    failed = lines["failed"]
    assert failed and all(a.startswith("edgemax_") for a in failed), lines
    assert any("Failed to start DHCP server daemon" in why or "commit" in why.lower()
               for why in failed.values())
    assert lab.router_entries() == lab.initial_router
    assert lab.router.saved_text() == lab.initial_saved
    commands = lab.router.log.commands()
    assert "save" not in commands[commands.index("configure"):], commands
    assert any(c in ("discard", "exit discard") for c in commands), commands
    lab.assert_consistent(after_failure=True)
    _converge(lab, reference)


# ----------------------------------------------------------------------------- NIPAP


def test_nipap_down(lab: FaultLab, reference: dict[str, Any]) -> None:
    port = free_port()
    broken = lab.write_config("down.yaml", lambda d: d["providers"]["nipap"].update(
        url=f"http://127.0.0.1:{port}/XMLRPC"))
    result = lab.apply(config=broken)
    assert result.code == 1, str(result)
    no_traceback(result)
    line = error_sentence(result)
    assert "nipap" in line.lower() and str(port) in line, line
    assert_clear(line)
    assert lab.router_entries() == lab.initial_router and not lab.state_addresses()
    _converge(lab, reference)


def test_nipap_hung_read_times_out(lab: FaultLab, reference: dict[str, Any]) -> None:
    hung = lab.write_config("hung.yaml", lambda d: d["providers"]["nipap"].update(timeout=0.5))
    lab.nipap.knobs.hang_call(1, seconds=3.0)
    started = time.monotonic()
    result = lab.apply(config=hung)
    assert time.monotonic() - started < 10
    assert result.code == 1, str(result)
    no_traceback(result)
    line = error_sentence(result)
    assert "nipap" in line.lower() and "no answer" in line and "0.5 s" in line, line
    assert_clear(line)
    assert lab.router_entries() == lab.initial_router and not lab.state_addresses()
    _converge(lab, reference)


def test_nipap_hung_create_is_adopted_not_duplicated(lab: FaultLab, reference: dict[str, Any]) -> None:
    """A create that times out but lands later must be adopted by the next run, never doubled."""
    hung = lab.write_config("hung.yaml", lambda d: d["providers"]["nipap"].update(timeout=0.5, max_workers=1))
    before = lab.nipap.knobs.calls
    assert lab.cli("plan", config=hung).code == 0
    reads = lab.nipap.knobs.calls - before
    lab.nipap.knobs.hang_call(reads + 1, seconds=1.0)
    lines = _incomplete(lab.apply(config=hung))
    assert [a for a in lines["failed"] if a.startswith("nipap_")], lines
    assert wait_for(lambda: len(lab.nipap_hosts()) == 3 + 7, 5), "the late create never landed"
    lab.assert_consistent(after_failure=True)
    _converge(lab, reference)


def test_nipap_1400_storm_is_retried(lab: FaultLab, reference: dict[str, Any]) -> None:
    lab.nipap.knobs.inject_duplicates(4, manual=True)
    result = lab.apply()
    assert result.code == 0, str(result)
    assert lab.nipap.counts["add_prefix"] >= 7 + 4
    lab.assert_converged(reference)


def test_nipap_1400_storm_beyond_budget_fails_those_items(lab: FaultLab, reference: dict[str, Any]) -> None:
    tight = lab.write_config("tight.yaml", lambda d: d["providers"]["nipap"].update(retries=2, max_workers=1))
    lab.nipap.knobs.inject_duplicates(3, manual=True)  # exactly one item's whole budget
    lines = _incomplete(lab.apply(config=tight))
    failed = [a for a in lines["failed"] if a.startswith("nipap_")]
    assert len(failed) == 1, lines
    assert "duplicate" in lines["failed"][failed[0]].lower(), lines
    assert len(_nipap_addresses(lab)) == 6  # the rest applied
    binding = failed[0].removeprefix("nipap_address.")
    _network, name = binding.split(".", 1)
    assert all(name not in a for a in lab.state_addresses()), lab.state_addresses()
    assert lines["skipped"], "the failed host's router entries must be skipped"
    lab.assert_consistent(after_failure=True)
    _converge(lab, reference)


# ----------------------------------------------------------------------------- Proxmox


def test_proxmox_401_is_a_clear_auth_error(lab: FaultLab, reference: dict[str, Any]) -> None:
    wrong = lab.paths.secrets / "wrong_token"
    wrong.write_text("not-the-token-WRONG-5e1d\n")
    bad = lab.write_config("bad.yaml", lambda d: d["providers"]["proxmox"].update(
        token_value="${file:secrets/wrong_token}"))
    result = lab.apply(config=bad)
    assert result.code == 1, str(result)
    no_traceback(result)
    line = error_sentence(result)
    assert "proxmox" in line.lower() and "auth" in line.lower(), line
    assert "not-the-token-WRONG-5e1d" not in result.out
    assert_clear(line)
    assert lab.router_entries() == lab.initial_router and not lab.state_addresses()
    _converge(lab, reference)


def test_proxmox_500_on_read(lab: FaultLab, reference: dict[str, Any]) -> None:
    lab.pve.handle.knobs.fail_nth = 1
    result = lab.apply()
    assert result.code == 1, str(result)
    no_traceback(result)
    line = error_sentence(result)
    assert "proxmox" in line.lower() and "500" in line, line
    assert_clear(line)
    assert lab.router_entries() == lab.initial_router and not lab.state_addresses()
    _converge(lab, reference)


def test_proxmox_500_on_write_back(lab: FaultLab, reference: dict[str, Any]) -> None:
    lab.pve.handle.set_guest(107, lock="backup")  # PVE answers 500 "VM is locked (backup)"
    lines = _incomplete(lab.apply())
    assert list(lines["failed"]) == ["proxmox_ipconfig.pve1.107.net0"], lines
    assert "locked" in lines["failed"]["proxmox_ipconfig.pve1.107.net0"], lines
    assert lab.pve_config(107)["ipconfig0"] == "ip=dhcp"
    assert "proxmox_ipconfig.pve3.208.net0" in lab.state_addresses()
    lab.assert_consistent(after_failure=True)
    lab.pve.handle.set_guest(107, lock=None)
    _converge(lab, reference)


@pytest.mark.parametrize("status", [595, 596])
def test_node_offline_postpones_deletes(lab: FaultLab, reference: dict[str, Any], status: int) -> None:
    _converge(lab, reference)
    lab.pve.handle.set_node_online("pve3", False, status)
    lab.pve.handle.remove_guest(203)  # grafana (pve2) is gone: its objects would be deleted
    before = lab.snapshot()
    result = lab.apply()
    assert result.code == 0, str(result)
    no_traceback(result)
    assert "pve3" in result.out and "postponed" in result.out, str(result)
    assert_same(lab.snapshot(), before, "before (nothing may be deleted while a node is unreadable)")
    assert any(a.endswith(("nextcloud", "wiki")) for a in lab.state_addresses())
    lab.pve.handle.set_node_online("pve3", True)
    result = lab.apply()
    assert result.code == 0, str(result)
    assert not any("grafana" in a for a in lab.state_addresses())
    assert not any("grafana" in a for a in lab.router_entries())
    assert not any(h["node"] == "grafana" for h in lab.nipap_hosts())
    lab.assert_converged()


def test_proxmox_read_timeouts_postpone_deletes(lab: FaultLab, reference: dict[str, Any]) -> None:
    _converge(lab, reference)
    slow = lab.write_config("slow.yaml", lambda d: d["providers"]["proxmox"].update(timeout=0.5))
    knobs = lab.pve.handle.knobs
    knobs.hang_seconds, knobs.hang_nodes = 2.0, {"pve2"}
    lab.pve.handle.remove_guest(209)  # wiki (pve3) is gone
    before = lab.snapshot()
    result = lab.apply(config=slow)
    assert result.code == 0, str(result)
    no_traceback(result)
    assert "pve2" in result.out and "postponed" in result.out, str(result)
    assert_same(lab.snapshot(), before, "before (nothing may be deleted while a node is unreadable)")
    knobs.hang_nodes = set()
    result = lab.apply(config=slow)
    assert result.code == 0, str(result)
    assert not any("wiki" in a for a in lab.state_addresses() | set(lab.router_entries()))
    lab.assert_converged()


# ----------------------------------------------------------------------------- DNS (verify)


def test_verify_reports_a_closed_dns_port(lab: FaultLab) -> None:
    assert lab.apply().code == 0
    port = free_port()
    cfg = lab.write_config("dns.yaml", lambda d: d["providers"]["edgemax"].update(
        dns_server=f"127.0.0.1:{port}"))
    started = time.monotonic()
    result = lab.cli("verify", config=cfg)
    assert time.monotonic() - started < 20
    assert result.code == 1, str(result)
    no_traceback(result)
    assert f"127.0.0.1:{port}" in result.stdout and "Verify failed" in result.stdout, str(result)


def test_verify_reports_dnsmasq_down(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.faults.harness import lab_at

    for lab in lab_at(tmp_path_factory.mktemp("dnslab"), dnsmasq=True):
        assert lab.apply().code == 0
        ok = lab.cli("verify")
        assert ok.code == 0, str(ok)
        assert lab.dnsmasq is not None
        lab.dnsmasq.stop()
        result = lab.cli("verify")
        assert result.code == 1, str(result)
        no_traceback(result)
        assert "DNS server" in result.stdout and "Verify failed" in result.stdout, str(result)

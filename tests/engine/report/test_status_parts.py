"""The pure parts of #14: the OUI table offline, the history file's cap and mode, the YAML round trip of
`adopt lease`, and the matrix's colours from a plan's facts."""

from __future__ import annotations

import socket
import stat
import time

import pytest

from core.model import Action, Address, Change, ChangeOutcome, Conflict, ConflictKind, Plan
from core.vendors import LOCAL, vendor_of
from engine.apply import history
from engine.config.adopt import add_host, suggested_name
from state.records import FileRecord


def test_vendor_lookups_work_without_a_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_a: object, **_k: object) -> None:
        raise AssertionError("the OUI lookup tried to open a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    vendor_of.cache_clear()
    assert vendor_of("BC-24-11-72-53-1F") == "Proxmox Server Solutions GmbH"
    assert vendor_of("f0:18:98:aa:01:02") == "Apple, Inc."
    assert vendor_of("02:00:00:00:00:01") == LOCAL  # a random / virtual MAC has no vendor
    assert vendor_of("not a mac") == "" and vendor_of(None) == ""


def test_history_keeps_the_last_runs_privately(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "netsot.state.json.history.jsonl"
    rec = FileRecord(path)
    address = Address.parse("nipap_address.lan.web01")
    change = Change(Action.UPDATE, address, {"ip": "10.0.0.1", "hostname": "web01"},
                    {"ip": "10.0.0.2", "hostname": "web01"}, reason="moved")
    plan = Plan(changes=(change,))
    monkeypatch.setattr(history, "MAX_RUNS", 3)
    for run in range(5):
        history.record(rec, history.entries_of(plan, [ChangeOutcome(address, "applied")], f"run{run}", "t"))
    entries = history.read(rec)
    assert [e.run for e in entries] == ["run2", "run3", "run4"]
    assert entries[0].changed == {"ip": {"before": "10.0.0.1", "after": "10.0.0.2"}}  # changed keys only
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text(path.read_text() + "{torn\n")
    assert len(history.read(rec)) == 3  # a torn line is skipped
    assert [e.run for e in history.for_addresses(entries, [str(address)], limit=2)] == ["run4", "run3"]


CONFIG = """\
version: 1   # netsot
networks:
  - name: lan        # the house
    prefix: 192.168.10.0/24

# things that are not guests
hosts:
  - name: nas
    network: lan
    mac: '00:11:32:aa:bb:cc'   # Synology
    description: "NAS"

policy:
  delete: plan
"""


def test_adopt_writes_the_entry_and_keeps_comments_quotes_and_layout() -> None:
    out = add_host(CONFIG, {"name": "phone-anna", "network": "lan", "mac": "f0:18:98:aa:01:02",
                            "description": "adopted from lease 192.168.10.150, Apple, Inc."})
    before, _, after = CONFIG.partition("\npolicy:")
    assert out.startswith(before + "  - name: phone-anna\n    network: lan\n    mac: \"f0:18:98:aa:01:02\"\n")
    assert out.endswith("\n\npolicy:" + after)
    assert "mac: '00:11:32:aa:bb:cc'   # Synology" in out and 'description: "NAS"' in out
    fresh = add_host("version: 1\nnetworks: []\n",
                     {"name": "tv", "network": "lan", "mac": "00:00:00:00:00:01"})
    assert "hosts:\n- name: tv\n" in fresh or "hosts:\n  - name: tv\n" in fresh


def test_a_hostname_hint_becomes_a_dns_label() -> None:
    assert suggested_name("Anna's iPhone") == "anna-s-iphone"
    assert suggested_name("printer.local") == "printer"
    assert suggested_name("<script>") == "script"
    assert suggested_name("---") is None and suggested_name(None) is None


def test_matrix_colours_come_from_changes_conflicts_and_reads(tmp_path, monkeypatch) -> None:
    from engine.config.load import load_config
    from engine.report import status
    from tests.engine._fake import CONFIG as FAKE
    from tests.engine._fake import PASSWORD

    monkeypatch.setenv("NETSOT_TEST_NIPAP_PASSWORD", PASSWORD)
    (tmp_path / "netsot.yaml").write_text(FAKE)
    config = load_config(tmp_path / "netsot.yaml")
    from core.model import Binding

    net = config.networks[0].name
    names = (("ok1", "192.168.1.11"), ("new1", "192.168.1.12"), ("bad1", "192.168.1.13"))
    a, b, c = (Binding(net, name, None, ip) for name, ip in names)
    addr = {x.hostname: Address.parse(f"nipap_address.{net}.{x.hostname}") for x in (a, b, c)}
    create = Change(Action.CREATE, addr["new1"], None, {"ip": "192.168.1.12"}, reason="new host")
    plan = Plan(changes=(create,),
                conflicts=(Conflict(ConflictKind.IP_CLAIMED_TWICE, "two claim it", ("x", "y"), net,
                                    (addr["bad1"],), (f"{net}.bad1",)),),
                fingerprints={str(addr["ok1"]): "f"}, bindings=(a, b, c))
    matrix = status.build(status.Snapshot(config, plan, {}, time.time()))
    states = {r.name: r.state for r in matrix.rows}
    assert states == {"ok1": "ok", "new1": "amber", "bad1": "red"}
    new = matrix.row(net, "new1")
    assert new is not None and any("new host" in r for r in new.reasons)
    assert any("two claim it" in r for r in matrix.row(net, "bad1").reasons)


def test_a_write_back_pending_restart_is_amber_and_says_where_the_host_answers() -> None:
    from core.model import Binding, OriginRef
    from engine.report.status import AMBER, OK, Cell, _waiting_cells

    written = Address.parse("proxmox_ipconfig.pve1.100.net0")
    ref = OriginRef("proxmox", "", "pve1/100", "proxmox pve1/100 net0", "guest", written)
    b = Binding("lan", "web09", None, "192.168.10.9", origin="proxmox", origin_refs=(ref,),
                answers_at="192.168.10.100", waiting="pending restart")
    cells = [Cell("proxmox:proxmox_ipconfig", OK, "✓", "in sync", str(written)),
             Cell("nipap:nipap_address", OK, "✓", "in sync", "nipap_address.lan.web09")]
    pending_cell, other = _waiting_cells(b, cells)
    assert (pending_cell.state, pending_cell.text) == (AMBER, "pending restart")
    assert pending_cell.reason == ("pending restart: the system holds 192.168.10.9 for the host's next "
                                   "start; it still answers at 192.168.10.100, where its DNS name points")
    assert other == cells[1]

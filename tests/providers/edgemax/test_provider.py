"""EdgemaxProvider end to end over real SSH (scrapli → OpenSSH → simulator)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from core.errors import ProviderUnavailable
from core.model import Action, Binding, Change, Desired, ManagedResource, frozen_map
from engine.plan.planner import context_for
from providers.edgemax.leases import Lease
from providers.edgemax.provider import EdgemaxProvider
from providers.edgemax.sim.server import SimHandle
from tests import addresses as A
from tests.providers.edgemax import sim_fixtures as fx
from tests.providers.edgemax.conftest import CONFIG_FILES
from tests.providers.edgemax.sim_fixtures import edgemax_settings, lab_config

# pytest fixtures shared with the other I/O test modules (conftest.py belongs to the pure-part tests)
client_key, host_key_dir, make_sim, sim = fx.client_key, fx.host_key_dir, fx.make_sim, fx.sim

pytestmark = pytest.mark.integration

SUBNET = "192.168.1.0/24"
FIXTURES = Path("/work/shared/fixtures/edgeos")


def provider_for(sim: SimHandle, **overrides: object) -> EdgemaxProvider:
    settings = edgemax_settings(sim, **overrides)
    return EdgemaxProvider(lab_config(settings), settings)


def mapping_change(name: str, ip: str, mac: str, action: Action = Action.CREATE) -> Change:
    attrs = {"shared_network": "LAN", "subnet": SUBNET, "name": name, "ip_address": ip, "mac_address": mac}
    return Change(
        action=action,
        address=A.edgemax_dhcp_mapping("LAN", name),
        before=frozen_map(attrs) if action is Action.DELETE else None,
        after=None if action is Action.DELETE else frozen_map(attrs),
    )


def host_change(fqdn: str, ip: str) -> Change:
    return Change(Action.CREATE, A.edgemax_host(fqdn), None,
                  frozen_map({"host_name": fqdn, "inet": ip, "aliases": []}))


def test_apply_fifty_changes_one_session_one_commit(sim: SimHandle) -> None:
    changes = []
    for i in range(25):
        changes.append(mapping_change(f"h{i:02d}", f"192.168.1.{20 + i}", f"52:54:00:00:01:{i:02x}"))
        changes.append(host_change(f"h{i:02d}.lab.example", f"192.168.1.{20 + i}"))
    prov = provider_for(sim)
    try:
        start = time.monotonic()
        result = prov.apply(changes)
        elapsed = time.monotonic() - start
    finally:
        prov.close()
    assert [o.status for o in result.outcomes] == ["applied"] * 50
    assert {o.address for o in result.outcomes} == {c.address for c in changes}
    assert sim.log.sessions == 1 and sim.log.commits == 1
    assert sim.log.commands().count("configure") == 1
    assert any("+static-mapping h00 {" in entry for entry in result.log)  # the router's compare
    active = sim.active_commands()
    assert active.count("static-mapping h") == 50 and active.count("host-name h") == 25
    assert "static-mapping h24 {" in sim.saved_text()
    assert elapsed < 5


def test_apply_commit_failure_fails_every_change_and_saves_nothing(sim: SimHandle) -> None:
    saved = sim.saved_text()
    sim.faults.fail_next_commit = True
    prov = provider_for(sim)
    try:
        result = prov.apply([mapping_change("web01", "192.168.1.20", "52:54:00:12:34:56"),
                             host_change("web01.lab.example", "192.168.1.20")])
    finally:
        prov.close()
    assert [o.status for o in result.outcomes] == ["failed", "failed"]
    assert all(o.error and "Commit failed" in o.error for o in result.outcomes)
    assert sim.saved_text() == saved and "web01" not in sim.active_commands()
    cmds = sim.log.commands()
    assert "save" not in cmds and cmds[cmds.index("discard") + 1] == "exit discard"


def test_our_validation_rejects_before_anything_is_sent(sim: SimHandle) -> None:
    prov = provider_for(sim)
    try:
        result = prov.apply([mapping_change("far", "10.9.9.9", "52:54:00:12:34:56"),
                             mapping_change("ok", "192.168.1.9", "52:54:00:12:34:57")])
    finally:
        prov.close()
    assert [o.status for o in result.outcomes] == ["failed", "failed"]
    assert "10.9.9.9 is outside subnet 192.168.1.0/24" in (result.outcomes[0].error or "")
    assert sim.log.sessions == 0 and sim.log.commits == 0


def test_router_refusal_is_quoted_in_every_outcome(sim: SimHandle) -> None:
    sim.faults.fail_next_commit = True
    sim.faults.commit_failure = "[ service dhcp-server ]\nDHCP server daemon refused the lease file"
    prov = provider_for(sim)
    try:
        result = prov.apply([mapping_change("web01", "192.168.1.20", "52:54:00:12:34:56")])
    finally:
        prov.close()
    (outcome,) = result.outcomes
    assert outcome.status == "failed"
    assert outcome.error == (
        "edgemax: the router refused 'commit comment \"netsot\"': \"[ service dhcp-server ] / DHCP server "
        "daemon refused the lease file / Commit failed\" — the configure session was discarded and nothing "
        "was saved"
    )


def test_dropped_connection_mid_apply_then_a_fresh_run_converges(sim: SimHandle) -> None:
    changes = [mapping_change(f"d{i}", f"192.168.1.{30 + i}", f"52:54:00:00:02:0{i}") for i in range(4)]
    prov = provider_for(sim)
    prov.session.open()
    sim.faults.drop_after_commands = 3  # `configure` + two set lines, then the connection drops
    try:
        result = prov.apply(changes)
    finally:
        prov.close()
    assert {o.status for o in result.outcomes} == {"failed"}
    error = result.outcomes[0].error or ""
    assert "127.0.0.1" in error and "Traceback" not in error
    assert sim.log.commits == 0 and "static-mapping d0" not in sim.active_commands()

    fresh = provider_for(sim)
    try:
        again = fresh.apply(changes)
    finally:
        fresh.close()
    assert {o.status for o in again.outcomes} == {"applied"}
    assert sim.active_commands().count("static-mapping d") == 8


def test_dead_router_is_unavailable_within_the_timeout(sim: SimHandle) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    prov = provider_for(sim, port=port, timeout=2)
    start = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        prov.read()
    with pytest.raises(ProviderUnavailable):
        prov.apply([mapping_change("x", "192.168.1.40", "52:54:00:00:00:40")])
    prov.close()
    prov.close()  # safe twice
    assert time.monotonic() - start < 4


def test_read_plan_apply_replan_converges(make_sim: Any) -> None:
    lease = Lease("192.168.1.150", "52:54:00:aa:bb:01", "2026/11/29 10:00:00", "LAN", "laptop")
    sim = make_sim(leases=[lease])
    web = Binding(network="lan", hostname="web01", mac="52:54:00:12:34:56", ip="192.168.1.20",
                  origin="config")
    desired = Desired(bindings=(web,))
    prov = provider_for(sim)
    try:
        observed = prov.read()
        assert observed.system == "edgemax"
        assert A.edgemax_dhcp_mapping("LAN", "nas") in observed.resources
        assert [dict(x)["hostname"] for x in observed.data["leases"]] == ["laptop"]
        changes = prov.plan(desired, observed, context_for(prov.config))
        assert changes and {c.action for c in changes} == {Action.CREATE}
        assert A.edgemax_dhcp_mapping("LAN", "web01") in {c.address for c in changes}
        result = prov.apply(changes)
        assert {o.status for o in result.outcomes} == {"applied"}
        again = prov.read()
        owned = {o.address: ManagedResource(o.address, o.provider_id, o.attributes or {})
                 for o in result.outcomes}
        assert prov.plan(desired, again, context_for(prov.config, owned=owned)) == []
    finally:
        prov.close()
    assert sim.log.sessions == 1 and sim.log.commits == 1
    assert sim.log.commands().count("show dhcp leases") == 2
    assert "static-mapping web01 ip-address 192.168.1.20" in sim.active_commands()


@pytest.mark.parametrize("name", [p.name for p in CONFIG_FILES])
def test_read_real_router_configs(make_sim: Any, name: str) -> None:
    sim = make_sim((FIXTURES / name).read_text())
    prov = provider_for(sim)
    try:
        observed = prov.read()
    finally:
        prov.close()
    mappings = [a for a in observed.resources if a.type == "edgemax_dhcp_mapping"]
    expected = sim.active_commands().count(" ip-address ")
    assert len(mappings) <= expected and (expected == 0 or mappings)

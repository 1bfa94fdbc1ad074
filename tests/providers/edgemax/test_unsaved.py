"""Committed-but-unsaved router config (an apply killed between `commit` and `save`): read finds it
with `compare saved`, the plan saves it, the re-plan is empty. Real SSH against the simulator."""

from __future__ import annotations

import pytest

from core.model import Action, Change, Desired, ManagedResource, frozen_map
from engine.plan.planner import context_for
from providers.edgemax.planner import SAVED, UNSAVED_REASON
from providers.edgemax.provider import EdgemaxProvider
from providers.edgemax.session import EdgeSession, drop_echo, saved_diff
from providers.edgemax.sim.server import SimHandle
from providers.edgemax.sim.store import parse_boot, render_commands
from tests import addresses as A
from tests.providers.edgemax import sim_fixtures as fx
from tests.providers.edgemax.sim_fixtures import edgemax_settings, lab_config

client_key, host_key_dir, make_sim, sim = fx.client_key, fx.host_key_dir, fx.make_sim, fx.sim

pytestmark = pytest.mark.integration

LAN = "service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"
SUBNET = "192.168.1.0/24"
NOTHING = Desired(())


def provider_for(sim: SimHandle) -> EdgemaxProvider:
    settings = edgemax_settings(sim)
    return EdgemaxProvider(lab_config(settings), settings)


def session_for(sim: SimHandle) -> EdgeSession:
    settings = edgemax_settings(sim)
    return EdgeSession(settings, lab_config(settings))


def saved_equals_active(sim: SimHandle) -> bool:
    return render_commands(parse_boot(sim.saved_text())) == sim.active_commands()


def mapping_change(name: str, ip: str, mac: str) -> Change:
    attrs = {"shared_network": "LAN", "subnet": SUBNET, "name": name, "ip_address": ip, "mac_address": mac}
    return Change(Action.CREATE, A.edgemax_dhcp_mapping("LAN", name), None, frozen_map(attrs))


def commit_without_save(sim: SimHandle, *changes: Change) -> None:
    """An apply whose connection drops right when it sends `save` (after the commit succeeded)."""
    prov = provider_for(sim)
    try:
        prov.session.open()
        # `show configuration commands` (no read before: the intended change needs the config),
        # `configure`, two set lines per mapping, `compare`, `commit …`: then `save` is never answered
        sim.faults.drop_after_commands = 1 + 1 + 2 * len(changes) + 2
        result = prov.apply(list(changes))
    finally:
        prov.close()
    assert {o.status for o in result.outcomes} == {"failed"}
    assert sim.log.commits == 1 and sim.log.kinds("save") == []
    assert not saved_equals_active(sim)


def test_saved_router_reads_as_saved_and_plans_nothing(sim: SimHandle) -> None:
    prov = provider_for(sim)
    try:
        obs = prov.read()
        assert obs.data["unsaved"] == ""
        assert dict(obs.resources[SAVED].attributes) == {"saved": True}
        assert prov.plan(NOTHING, obs, context_for(prov.config)) == []
    finally:
        prov.close()
    cmds = sim.log.commands()
    assert cmds[cmds.index("configure") :][:3] == ["configure", "compare saved", "exit discard"]
    assert sim.log.commits == 0 and sim.log.kinds("save") == []


def test_commit_without_save_is_found_planned_saved_and_converges(sim: SimHandle) -> None:
    commit_without_save(sim, mapping_change("web01", "192.168.1.20", "52:54:00:12:34:56"))
    prov = provider_for(sim)
    try:
        obs = prov.read()
        assert "+static-mapping web01 {" in obs.data["unsaved"]
        assert f"[edit {LAN}]" in obs.data["unsaved"]  # the diff keeps its context lines
        assert dict(obs.resources[SAVED].attributes) == {"saved": False}
        (change,) = prov.plan(NOTHING, obs, context_for(prov.config))
        before, after = frozen_map({"saved": False}), frozen_map({"saved": True})
        assert change == Change(Action.UPDATE, SAVED, before, after, UNSAVED_REASON)
        assert change.depends_on == ()
        sim.log.clear()
        result = prov.apply([change])
        assert [(o.address, o.status) for o in result.outcomes] == [(SAVED, "applied")]
        # no line and nothing to commit: configure → save → exit, in the one session
        assert sim.log.commands() == ["configure", "save", "exit discard"]
        assert sim.log.commits == 0 and sim.log.kinds("save") == [""]
        assert saved_equals_active(sim) and "static-mapping web01 {" in sim.saved_text()
        again = prov.read()
        assert again.data["unsaved"] == ""
        owned = {SAVED: ManagedResource(SAVED, None, frozen_map({"saved": True}))}
        assert prov.plan(NOTHING, again, context_for(prov.config, owned=owned)) == []
    finally:
        prov.close()
    assert sim.log.sessions == 0  # apply and re-read reused the read's SSH session (log cleared after it)


def test_unsaved_plus_new_changes_is_one_session_one_commit_one_save(sim: SimHandle) -> None:
    commit_without_save(sim, mapping_change("web01", "192.168.1.20", "52:54:00:12:34:56"))
    sim.log.clear()
    prov = provider_for(sim)
    saved = Change(Action.UPDATE, SAVED, frozen_map({"saved": False}), frozen_map({"saved": True}))
    try:
        result = prov.apply([saved, mapping_change("web02", "192.168.1.21", "52:54:00:12:34:57")])
    finally:
        prov.close()
    assert {o.status for o in result.outcomes} == {"applied"}
    assert sim.log.sessions == 1 and sim.log.commits == 1 and sim.log.kinds("save") == [""]
    assert sim.log.commands().count("configure") == 1
    assert saved_equals_active(sim)
    assert "static-mapping web01 {" in sim.saved_text() and "static-mapping web02 {" in sim.saved_text()


def test_lines_already_in_place_still_save_when_asked(sim: SimHandle) -> None:
    commit_without_save(sim, mapping_change("web01", "192.168.1.20", "52:54:00:12:34:56"))
    sim.log.clear()
    line = f"set {LAN} static-mapping web01 ip-address 192.168.1.20"
    with session_for(sim) as s:
        result = s.configure([line], save=True)
        assert s.compare_saved().diff == ""
    assert not result.committed
    assert result.notes == (f"{line}: The specified configuration node already exists",)  # no echo
    assert sim.log.commits == 0 and sim.log.kinds("save") == [""] and saved_equals_active(sim)
    with session_for(sim) as s:
        assert s.configure([]).committed is False  # nothing to do: no session work at all
    assert sim.log.sessions == 1


def test_drop_echo_and_saved_diff() -> None:
    cmd = "set system static-host-mapping host-name ab.lab.example inet 10.0.0.1"
    assert drop_echo(f" {cmd}\nThe specified configuration node already exists\n[edit]", cmd) == (
        "\nThe specified configuration node already exists\n[edit]"
    )
    # a mangled echo keeps every line: a router message is never lost
    assert drop_echo("set sys\u0007tem…\nSet failed\n[edit]", cmd) == "set sys\u0007tem…\nSet failed\n[edit]"
    assert drop_echo(f"{cmd}", cmd) == ""
    assert saved_diff("[edit]") == "" and saved_diff("") == "" and saved_diff("\r\n[edit]\r\n") == ""
    diff = "[edit system]\n+host-name edge2\n[edit]"
    assert saved_diff(diff) == "[edit system]\n+host-name edge2"


def test_a_router_that_refuses_compare_saved_reads_with_a_warning(sim: SimHandle) -> None:
    """An older firmware or a restricted user refuses the check: the read still succeeds (issue #13)."""
    sim.faults.refuse_compare_saved = "\n  Invalid command: compare [saved]\n"
    prov = provider_for(sim)
    try:
        obs = prov.read()
        assert SAVED not in obs.resources and "unsaved" not in obs.data
        (warning,) = obs.warnings
        assert warning.startswith("edgemax: cannot tell whether the running config is saved (the router "
                                  "refused 'compare saved': Invalid command: compare [saved])")
        assert any(r.type == "edgemax_dhcp_mapping" for r in obs.resources)  # the rest was read
        assert prov.plan(NOTHING, obs, context_for(prov.config)) == []
        # the session is still usable after the refusal (the configure session was left)
        result = prov.apply([mapping_change("web01", "192.168.1.20", "52:54:00:12:34:56")])
        assert {o.status for o in result.outcomes} == {"applied"}
    finally:
        prov.close()
    cmds = sim.log.commands()
    assert cmds[cmds.index("compare saved") + 1 :][:2] == ["discard", "exit discard"]

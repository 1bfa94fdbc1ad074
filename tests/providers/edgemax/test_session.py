"""EdgeSession through the real scrapli 2.x client (OpenSSH bin transport) against the simulator."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from scrapli import AuthOptions, Cli, SessionOptions, TransportBinOptions
from scrapli.cli import LoadedDefinition
from scrapli.exceptions import ScrapliException

from core.errors import ProviderAuthError, ProviderRejected, ProviderTimeout, ProviderUnavailable
from providers.edgemax.session import DEFINITION, EdgeSession, clean
from providers.edgemax.sim.server import SimHandle
from tests.providers.edgemax import sim_fixtures as fx
from tests.providers.edgemax.sim_fixtures import edgemax_settings, lab_config

# pytest fixtures shared with the other I/O test modules (conftest.py belongs to the pure-part tests)
client_key, host_key_dir, make_sim, sim = fx.client_key, fx.host_key_dir, fx.make_sim, fx.sim

pytestmark = pytest.mark.integration

FIXTURES = Path("/work/shared/fixtures/edgeos")
LAN = "service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"


def session_for(sim: SimHandle, **overrides: object) -> EdgeSession:
    settings = edgemax_settings(sim, **overrides)
    return EdgeSession(settings, lab_config(settings))


def test_clean_strips_edit_lines_and_crs() -> None:
    assert clean("a\r\nb\r\n[edit]\r\n") == "a\nb"
    assert clean("[edit service dhcp-server]\nx") == "x"


def test_open_with_password_reads_commands(sim: SimHandle) -> None:
    with session_for(sim) as s:
        text = s.show_commands()
        assert s.open_seconds is not None and s.open_seconds < 3
    assert f"set {LAN} static-mapping nas ip-address 192.168.1.10" in text
    assert "[edit]" not in text and "\r" not in text and "show configuration" not in text
    # paging was disabled by our on_open, before anything else
    assert sim.log.commands()[:2] == ["terminal length 0", "terminal width 512"]
    assert sim.log.kinds("auth") == ["password ubnt ok"]


def test_open_with_ed25519_key(sim: SimHandle, client_key: tuple[Path, str]) -> None:
    with session_for(sim, private_key=str(client_key[0])) as s:
        assert "Version:" in s.run_op("show version")
    assert set(sim.log.kinds("auth")) == {"publickey ubnt ok"}  # asked once to probe, once to sign


def test_wrong_host_key_is_refused_with_a_clear_error(sim: SimHandle) -> None:
    s = session_for(sim, known_hosts=str(sim.known_hosts_wrong))
    with pytest.raises(ProviderAuthError) as err:
        s.open()
    assert "host key verification failed" in str(err.value)
    assert f"127.0.0.1:{sim.port}" in str(err.value) and "known_hosts" in str(err.value)
    assert sim.log.sessions == 0 and sim.log.commands() == []


def test_missing_known_hosts_file(sim: SimHandle, tmp_path: Path) -> None:
    with pytest.raises(ProviderAuthError, match="does not exist"):
        session_for(sim, known_hosts=str(tmp_path / "nope")).open()


def test_bad_password_is_an_auth_error(sim: SimHandle) -> None:
    start = time.monotonic()
    with pytest.raises(ProviderAuthError) as err:
        session_for(sim, password="wrong", timeout=3).open()
    assert "wrong" not in str(err.value)
    assert time.monotonic() - start < 10


def test_dead_router_is_unavailable_quickly(tmp_path: Path, sim: SimHandle) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="connection refused"):
        session_for(sim, port=port, timeout=3).open()
    assert time.monotonic() - start < 3


def test_configure_commits_and_saves_in_one_session(sim: SimHandle) -> None:
    lines = [
        f"set {LAN} static-mapping web01 ip-address 192.168.1.20",
        f"set {LAN} static-mapping web01 mac-address 52:54:00:12:34:56",
        "set system static-host-mapping host-name web01.lab.example inet 192.168.1.20",
        f"delete {LAN} static-mapping nas",
    ]
    with session_for(sim) as s:
        result = s.configure(lines)
        assert result.committed
        assert "+static-mapping web01 {" in result.compare and "-static-mapping nas {" in result.compare
        # the session is back in op mode and usable
        assert "web01" in s.show_commands()
    active = sim.active_commands()
    assert f"set {LAN} static-mapping web01 mac-address '52:54:00:12:34:56'" in active
    assert "static-mapping nas " not in active
    assert "static-mapping web01 {" in sim.saved_text()
    assert sim.log.commits == 1 and sim.log.sessions == 1
    assert sim.log.kinds("save") == [""]
    assert 'commit comment "netsot"' in sim.log.commands()


def test_already_exists_and_nothing_to_delete_are_success(sim: SimHandle) -> None:
    with session_for(sim) as s:
        result = s.configure([
            f"set {LAN} static-mapping nas ip-address 192.168.1.10",
            f"delete {LAN} static-mapping ghost",
        ])
    assert not result.committed
    assert any("already exists" in n for n in result.notes)
    assert any("Nothing to delete" in n for n in result.notes)
    assert sim.log.commits == 0
    assert "exit discard" in sim.log.commands()


def test_invalid_value_is_rejected_quoting_the_router(sim: SimHandle) -> None:
    before = sim.saved_text()
    with session_for(sim) as s, pytest.raises(ProviderRejected) as err:
        s.configure([
            f"set {LAN} static-mapping web01 ip-address 192.168.1.20",
            f"set {LAN} static-mapping web01 mac-address 52-54-00-12-34-56",
        ])
    msg = str(err.value)
    assert '"52-54-00-12-34-56" is not a valid value of type "macaddr"' in msg
    assert "Value validation failed" in msg and "nothing was saved" in msg
    assert sim.log.commits == 0 and sim.saved_text() == before
    assert "web01" not in sim.active_commands()
    cmds = sim.log.commands()
    assert cmds[cmds.index("discard") + 1] == "exit discard" and "commit" not in " ".join(cmds)


def test_commit_rejected_by_router_validation(sim: SimHandle) -> None:
    with session_for(sim) as s, pytest.raises(ProviderRejected) as err:
        s.configure([
            f"set {LAN} static-mapping far ip-address 10.9.9.9",
            f"set {LAN} static-mapping far mac-address 52:54:00:00:00:01",
        ])
    assert "is outside of the DHCP lease network '192.168.1.0/24'" in str(err.value)
    assert "far" not in sim.active_commands()


def test_failing_commit_leaves_saved_config_and_discards(sim: SimHandle) -> None:
    before_saved, before_active = sim.saved_text(), sim.active_commands()
    sim.faults.fail_next_commit = True
    with session_for(sim) as s:
        with pytest.raises(ProviderRejected, match="Commit failed"):
            s.configure([f"set {LAN} static-mapping web01 ip-address 192.168.1.20",
                         f"set {LAN} static-mapping web01 mac-address 52:54:00:12:34:56"])
        # the same session is still usable and in op mode: no pending changes were left behind
        assert "web01" not in s.show_commands()
    assert sim.saved_text() == before_saved and sim.active_commands() == before_active
    assert sim.log.commits == 0 and sim.log.kinds("commit_failed") == ["fault"]
    cmds = sim.log.commands()
    assert cmds[cmds.index("discard") + 1] == "exit discard"
    assert "save" not in cmds


def test_dropped_connection_mid_apply_then_fresh_session_converges(sim: SimHandle) -> None:
    lines = [f"set {LAN} static-mapping web01 ip-address 192.168.1.20",
             f"set {LAN} static-mapping web01 mac-address 52:54:00:12:34:56"]
    with session_for(sim) as s:
        s.open()
        sim.faults.drop_after_commands = 2  # `configure` and the first set, then the line drops
        with pytest.raises((ProviderUnavailable, ProviderTimeout)) as err:
            s.configure(lines)
        assert "127.0.0.1" in str(err.value)
    assert sim.log.commits == 0 and "web01" not in sim.active_commands()
    with session_for(sim) as fresh:
        assert fresh.configure(lines).committed
    assert "static-mapping web01 mac-address" in sim.active_commands()


def test_slow_router_times_out(sim: SimHandle) -> None:
    sim.faults.command_delay = 3
    start = time.monotonic()
    with session_for(sim, timeout=1) as s, pytest.raises(ProviderTimeout, match="within 1s"):
        s.run_op("show version")
    assert time.monotonic() - start < 8


def test_many_changes_one_session_one_commit(sim: SimHandle) -> None:
    lines = []
    for i in range(25):
        lines.append(f"set {LAN} static-mapping h{i:02d} ip-address 192.168.1.{20 + i}")
        lines.append(f"set {LAN} static-mapping h{i:02d} mac-address 52:54:00:00:01:{i:02x}")
    with session_for(sim) as s:
        s.show_commands()
        s.configure(lines)
        s.show_commands()
    assert sim.log.sessions == 1 and sim.log.commits == 1
    assert sim.active_commands().count("static-mapping h") == 50


def _cli(sim: SimHandle, definition: str | LoadedDefinition, timeout_s: int) -> Cli:
    return Cli(
        "127.0.0.1", port=sim.port, definition_file_or_name=definition,
        auth_options=AuthOptions(username="ubnt", password="password"),
        session_options=SessionOptions(operation_timeout_s=timeout_s),
        transport_options=TransportBinOptions(known_hosts_path=str(sim.known_hosts), enable_strict_key=True,
                                              ssh_config_path="/dev/null", term_height=24),
    )


@pytest.mark.slow
def test_paging_would_hang_without_our_on_open(make_sim: Any) -> None:
    sim = make_sim((FIXTURES / "hotogoma__config.boot").read_text())
    ours = DEFINITION.read_text()
    no_paging_off = ours.replace("      input: 'terminal length 0'", "      input: 'terminal width 512'")
    assert no_paging_off != ours
    cli = _cli(sim, LoadedDefinition("edgeos", no_paging_off), 2)
    cli.open()
    try:
        with pytest.raises(ScrapliException, match="TimeoutExceeded"):
            cli.send_input("show configuration commands")  # stuck at the `:` pager prompt
    finally:
        cli.close(force=True)
    cli = _cli(sim, str(DEFINITION), 5)
    cli.open()
    try:
        out = cli.send_input("show configuration commands").result
    finally:
        cli.close()
    assert out.count("\nset ") + 1 == len(sim.active_commands().splitlines())


def test_show_leases_renders_the_seeded_table(make_sim: Any) -> None:
    from providers.edgemax.leases import Lease, parse_show_leases

    leases = [Lease("192.168.1.150", "52:54:00:aa:bb:01", "2026/11/29 10:00:00", "LAN", "laptop"),
              Lease("192.168.1.151", "52:54:00:aa:bb:02", "2026/11/29 11:00:00", "LAN", None)]
    sim = make_sim(leases=leases)
    with session_for(sim) as s:
        text = s.show_leases()
    assert text.splitlines()[0].startswith("IP address      Hardware Address   Lease expiration")
    assert parse_show_leases(text) == leases

"""The EdgeOS simulator as a raw SSH client sees it: prompts, echo, pager, exact EdgeOS strings."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from providers.edgemax.sim.server import SimHandle, commit_errors, diff, parse_boot, validate_path
from tests.providers.edgemax import sim_fixtures as fx
from tests.providers.edgemax.sim_fixtures import LAB_BOOT

# pytest fixtures shared with the other I/O test modules (conftest.py belongs to the pure-part tests)
client_key, host_key_dir, make_sim, sim = fx.client_key, fx.host_key_dir, fx.make_sim, fx.sim

FIXTURES = Path("/work/shared/fixtures/edgeos")
LAN = "service dhcp-server shared-network-name LAN subnet 192.168.1.0/24"
OP_PROMPT = "ubnt@edge:~$ "
CFG_PROMPT = "[edit]\r\nubnt@edge# "


class Term:
    """A raw interactive PTY session (what OpenSSH gives a human), driven line by line."""

    def __init__(self, proc: asyncssh.SSHClientProcess) -> None:
        self.proc = proc

    async def read_until(self, *endings: str, timeout: float = 3) -> str:
        buf = ""
        deadline = time.monotonic() + timeout
        while not buf.endswith(endings):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {endings!r} in {buf[-200:]!r}")
            try:
                buf += await asyncio.wait_for(self.proc.stdout.read(65536), left)
            except TimeoutError:
                raise TimeoutError(f"no {endings!r} in {buf[-200:]!r}") from None
        return buf

    async def cmd(self, line: str, *endings: str) -> str:
        self.proc.stdin.write(line + "\r")
        return await self.read_until(*(endings or (OP_PROMPT, "# ")))


async def _session(sim: SimHandle, script: Any, rows: int = 24) -> Any:
    async with asyncssh.connect(
        "127.0.0.1", sim.port, username="ubnt", password="password",
        known_hosts=str(sim.known_hosts), client_keys=None,
    ) as conn:
        proc = await conn.create_process(term_type="xterm", term_size=(80, rows))
        term = Term(proc)
        await term.read_until(OP_PROMPT)
        return await script(term)


def run(sim: SimHandle, script: Any, rows: int = 24) -> Any:
    return asyncio.run(asyncio.wait_for(_session(sim, script, rows), 20))


pytestmark = pytest.mark.integration


def test_prompts_echo_and_config_mode(sim: SimHandle) -> None:
    async def script(t: Term) -> list[str]:
        return [
            await t.cmd("show host name"),
            await t.cmd("configure"),
            await t.cmd(f"set {LAN} static-mapping web01 ip-address 192.168.1.20"),
            await t.cmd(f"set {LAN} static-mapping nas ip-address 192.168.1.10"),
            await t.cmd("delete system static-host-mapping host-name ghost.lab.example"),
            await t.cmd("exit"),
            await t.cmd("discard"),
            await t.cmd("exit"),
        ]

    host, conf, set_ok, exists, nothing, refused, discarded, left = run(sim, script)
    assert host == f"show host name\r\nedge\r\n{OP_PROMPT}"  # echo, CRLF, output, prompt
    assert conf == f"configure\r\n{CFG_PROMPT}"
    assert set_ok.endswith(f"192.168.1.20\r\n{CFG_PROMPT}")
    assert exists.endswith(f"\r\nThe specified configuration node already exists\r\n{CFG_PROMPT}")
    assert "Nothing to delete (the specified node does not exist)\r\n[edit]" in nothing
    assert refused == ("exit\r\nCannot exit: configuration modified.\r\n"
                       f"Use 'exit discard' to discard the changes and exit.\r\n{CFG_PROMPT}")
    assert discarded == f"discard\r\nChanges have been discarded\r\n{CFG_PROMPT}"
    assert left == f"exit\r\n{OP_PROMPT}"


def test_pager_until_terminal_length_0(make_sim: Any) -> None:
    sim = make_sim((FIXTURES / "hotogoma__config.boot").read_text())

    async def script(t: Term) -> tuple[str, str, str, str]:
        paged = await t.cmd("show configuration commands", ":")
        t.proc.stdin.write("q")
        after_q = await t.read_until(OP_PROMPT)
        piped = await t.cmd("show configuration commands | cat")
        await t.cmd("terminal length 0")
        full = await t.cmd("show configuration commands")
        return paged, after_q, piped, full

    paged, after_q, piped, full = run(sim, script, rows=24)
    assert paged.count("\r\n") == 24 and paged.endswith(":")  # echo line + 23 lines + pager prompt
    assert OP_PROMPT in after_q
    total = len(sim.active_commands().splitlines())
    assert total > 100
    assert piped.count("\r\nset ") == total and full.count("\r\nset ") == total


def test_commit_save_compare_and_exact_messages(sim: SimHandle) -> None:
    async def script(t: Term) -> list[str]:
        out = [await t.cmd("configure"), await t.cmd("commit")]
        out.append(await t.cmd(f"set {LAN} static-mapping web01 ip-address 192.168.1.20"))
        out.append(await t.cmd(f"set {LAN} static-mapping web01 mac-address 52:54:00:12:34:56"))
        out.append(await t.cmd("compare"))
        out.append(await t.cmd('commit comment "netsot"'))
        out.append(await t.cmd("save"))
        out.append(await t.cmd("compare"))
        out.append(await t.cmd("exit"))
        return out

    _, nothing, _, _, compare, commit, save, compare2, leave = run(sim, script)
    assert "\r\nNo configuration changes to commit\r\n[edit]" in nothing
    assert ("[edit service dhcp-server shared-network-name LAN subnet 192.168.1.0/24]\r\n"
            "+static-mapping web01 {\r\n+    ip-address 192.168.1.20\r\n"
            "+    mac-address 52:54:00:12:34:56\r\n+}\r\n[edit]") in compare
    assert "[ service dhcp-server ]" in commit and "Commit failed" not in commit
    assert save == f"save\r\nSaving configuration to '/config/config.boot'...\r\nDone\r\n{CFG_PROMPT}"
    assert "No changes between working and active configurations" in compare2
    assert leave.endswith(OP_PROMPT)
    assert sim.log.commits == 1 and sim.log.kinds("commit") == ["netsot"]
    assert "static-mapping web01 {" in sim.saved_text()
    assert sim.saved_text().rstrip().endswith("*/")  # the version trailer


def test_unsaved_commit_warns_on_exit(sim: SimHandle) -> None:
    async def script(t: Term) -> str:
        await t.cmd("configure")
        await t.cmd("set system domain-name other.example")
        await t.cmd("commit")
        return await t.cmd("exit")

    assert "Warning: configuration changes have not been saved." in run(sim, script)
    assert "set system domain-name other.example" in sim.active_commands()
    assert "domain-name lab.example" in sim.saved_text()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"set {LAN} static-mapping w mac-address 52-54-00-12-34-56",
         ['"52-54-00-12-34-56" is not a valid value of type "macaddr"', "Value validation failed",
          "Set failed"]),
        (f"set {LAN} static-mapping w ip-address 192.168.1.300",
         ['"192.168.1.300" is not a valid value of type "ipv4"', "Value validation failed", "Set failed"]),
        (f"set {LAN} static-mapping 'bad name' ip-address 192.168.1.3",
         ['invalid static-mapping name "bad name"', "", "Value validation failed", "Set failed"]),
        (f"set {LAN} lease forever", ['"forever" is not a valid value of type "u32"',
                                      "Value validation failed", "Set failed"]),
        (f"set {LAN} static-mapping w colour blue",
         ["The specified configuration node is not valid", "Set failed"]),
        ("set bogus thing", ["The specified configuration node is not valid", "Set failed"]),
        ("set system static-host-mapping host-name bad_name inet 1.2.3.4",
         ["invalid host name bad_name", "", "Value validation failed", "Set failed"]),
        (f"set {LAN} static-mapping w ip-address", ["The specified configuration node requires a value",
                                                    "Set failed"]),
        ("delete service dhcp-server colour",
         ["The specified configuration node is not valid", "Delete failed"]),
    ],
)
def test_validation_messages(sim: SimHandle, line: str, expected: list[str]) -> None:
    async def script(t: Term) -> str:
        await t.cmd("configure")
        return await t.cmd(line)

    out = run(sim, script)
    assert out.endswith("\r\n".join(expected) + f"\r\n{CFG_PROMPT}")


def test_quotes_in_values_are_refused() -> None:
    with pytest.raises(Exception) as err:
        validate_path(["system", "static-host-mapping", "host-name", "a.b", "alias", "x'y"], "Set")
    assert err.value.lines[0] == "Cannot use the single quote (') character in a value string"  # type: ignore[attr-defined]
    validate_path(["service", "gui", "http-port", "80"], "Set")  # unmodelled service subtrees pass


def test_commit_validation_blocks() -> None:
    tree = parse_boot(LAB_BOOT)
    tree = tree.set([*LAN.split(), "static-mapping", "far", "ip-address", "10.0.0.5"])
    tree = tree.set(["system", "static-host-mapping", "host-name", "x.lab.example", "alias", "x"])
    errors = dict(commit_errors(tree))
    assert errors["service dhcp-server"] == [
        "Static DHCP lease IP '10.0.0.5' under static mapping 'far'",
        "under shared network name 'LAN' is outside of the DHCP lease network '192.168.1.0/24'.",
        "No static DHCP lease mac address specified for static mapping 'far'",
        "under shared network name 'LAN'.",
        "DHCP server configuration commit aborted due to error(s).",
    ]
    assert errors["system static-host-mapping host-name x.lab.example"] == [
        "IP address for the static mapping must be set"]
    assert diff(tree, tree) == ""


def test_failed_commit_block_and_on_commit_hook(sim: SimHandle) -> None:
    seen: list[str] = []
    sim.set_on_commit(lambda tree: seen.append(str(tree.value(["system", "domain-name"]))))

    async def script(t: Term) -> tuple[str, str]:
        await t.cmd("configure")
        await t.cmd(f"set {LAN} static-mapping far ip-address 10.0.0.5")
        await t.cmd(f"set {LAN} static-mapping far mac-address 52:54:00:00:00:09")
        failed = await t.cmd("commit")
        await t.cmd("discard")
        await t.cmd("set system domain-name new.example")
        ok = await t.cmd("commit")
        return failed, ok

    failed, _ = run(sim, script)
    assert failed.startswith(
        "commit\r\n[ service dhcp-server ]\r\nStatic DHCP lease IP '10.0.0.5' under static mapping 'far'\r\n")
    assert failed.endswith(f"aborted due to error(s).\r\n\r\nCommit failed\r\n{CFG_PROMPT}")
    assert seen == ["new.example"] and sim.log.commits == 1


def test_show_configuration_masks_and_cat_shows_saved(sim: SimHandle) -> None:
    async def script(t: Term) -> tuple[str, str, str]:
        await t.cmd("terminal length 0")
        return (await t.cmd("show configuration"), await t.cmd("cat /config/config.boot"),
                await t.cmd("show foo"))

    shown, cat, bad = run(sim, script)
    assert "encrypted-password ****************" in shown and "REDACTED" not in shown
    assert "encrypted-password $6$REDACTEDsalt$REDACTEDhash" in cat
    assert "Invalid command: show [foo]" in bad


def test_drop_fault_closes_the_connection(sim: SimHandle) -> None:
    sim.faults.drop_after_commands = 1

    async def script(t: Term) -> str:
        await t.cmd("show version")
        t.proc.stdin.write("show version\r")
        try:  # EOF (or a reset): the router hung up without answering
            return await asyncio.wait_for(t.proc.stdout.read(), 5)
        except (asyncssh.Error, ConnectionError):
            return ""

    assert "Version:" not in run(sim, script)
    assert sim.log.kinds("dropped") == ["fault"] and sim.faults.drop_after_commands is None


def test_exec_channel_without_pty(sim: SimHandle) -> None:
    async def go() -> tuple[Any, Any]:
        async with asyncssh.connect("127.0.0.1", sim.port, username="ubnt", password="password",
                                    known_hosts=str(sim.known_hosts), client_keys=None) as conn:
            good = await conn.run("/opt/vyatta/bin/vyatta-op-cmd-wrapper show host name")
            bad = await conn.run("show host name")
            return good, bad

    good, bad = asyncio.run(go())
    assert (good.exit_status, good.stdout) == (0, "edge\n")
    assert bad.exit_status == 1 and "Invalid command" in bad.stdout


def test_wrong_known_hosts_is_refused_by_a_strict_client(sim: SimHandle) -> None:
    async def go() -> None:
        async with asyncssh.connect("127.0.0.1", sim.port, username="ubnt", password="password",
                                    known_hosts=str(sim.known_hosts_wrong), client_keys=None):
            pass

    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        asyncio.run(go())
    lines = sim.known_hosts.read_text().splitlines()
    assert sorted(ln.split()[1] for ln in lines) == ["ssh-ed25519", "ssh-rsa"]
    assert all(ln.startswith(f"[127.0.0.1]:{sim.port} ") for ln in lines)


@pytest.mark.slow
def test_standalone_process(tmp_path: Path, host_key_dir: Path) -> None:
    boot = tmp_path / "config.boot"
    boot.write_text(LAB_BOOT)
    state = tmp_path / "state"
    state.mkdir()
    for key in host_key_dir.iterdir():
        (state / key.name).write_bytes(key.read_bytes())
    proc = subprocess.Popen([sys.executable, "-m", "providers.edgemax.sim.server", "--state-dir", str(state),
                             "--config-boot", str(boot)], cwd=Path(__file__).resolve().parents[3])
    try:
        info_file = state / "edgemax.json"
        deadline = time.monotonic() + 20
        while not info_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        info = json.loads(info_file.read_text())
        assert info["pid"] == proc.pid and info["known_hosts"] == str(state / "known_hosts")

        async def go() -> str:
            async with asyncssh.connect("127.0.0.1", info["port"], username="ubnt", password="password",
                                        known_hosts=info["known_hosts"], client_keys=None) as conn:
                return (await conn.run("/opt/vyatta/bin/vyatta-op-cmd-wrapper show host name")).stdout

        assert asyncio.run(go()) == "edge\n"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(10) == 0


def test_real_names_multi_inet_parameters_and_disable_as_edgeos_takes_them(sim: SimHandle) -> None:
    """edgeos.md §4.2 (issue #13): names with capitals, '_' and '.', a second inet, parameters and
    disable are accepted; a name or value outside the rule is refused with EdgeOS's words."""
    host = "system static-host-mapping host-name nas.lab.example"

    async def script(t: Term) -> list[str]:
        out = [await t.cmd("configure")]
        lines = (f"set {LAN} static-mapping ROOM_1_SWITCH ip-address 192.168.1.60",
                     f"set {LAN} static-mapping ROOM_1_SWITCH mac-address 'F0:9F:C2:0:0:1'",
                     f"set {LAN} static-mapping ROOM_1_SWITCH static-mapping-parameters 'option a 1;'",
                     f"set {LAN} static-mapping ROOM_1_SWITCH static-mapping-parameters 'option b 2;'",
                     f"set {LAN} static-mapping ROOM_1_SWITCH disable",
                     f"set {LAN} static-mapping pi.iot.je.home ip-address 192.168.1.61",
                     f"set {LAN} static-mapping pi.iot.je.home mac-address 'b8:27:eb:0:0:1'",
                     f"set {host} inet '2001:db8::10'",
                     f"delete {host} inet 192.168.1.10",
                     f"set {host} inet 192.168.1.11",
                     f"set {LAN} static-mapping 'a b' ip-address 192.168.1.62",
                     "set system static-host-mapping host-name a_b.lab.example inet 192.168.1.63",
                 f"set {host} inet 192.168.1.999")
        for line in lines:
            echoed = await t.cmd(line)
            out.append(echoed.split("\r\n", 1)[1])  # without the terminal's echo of the line
        out.append(await t.cmd("commit"))
        return out

    out = run(sim, script)
    assert all(text == CFG_PROMPT for text in out[1:11]), out[1:11]
    refused = "\r\n\r\nValue validation failed\r\nSet failed"
    assert out[11].startswith(f'invalid static-mapping name "a b"{refused}')
    assert out[12].startswith(f"invalid host name a_b.lab.example{refused}")
    assert out[13].startswith('"192.168.1.999" is not a valid value of type "ipv4,ipv6"')
    commands = sim.active_commands().splitlines()
    for line in (f"set {LAN} static-mapping ROOM_1_SWITCH disable",
                 f"set {LAN} static-mapping ROOM_1_SWITCH static-mapping-parameters 'option a 1;'",
                 f"set {LAN} static-mapping ROOM_1_SWITCH static-mapping-parameters 'option b 2;'",
                 f"set {LAN} static-mapping pi.iot.je.home ip-address 192.168.1.61"):
        assert line in commands, line
    # inet is multi-valued on EdgeOS: one line per value, in the order they were set
    assert [ln for ln in commands if ln.startswith(f"set {host} inet")] == [
        f"set {host} inet '2001:db8::10'", f"set {host} inet 192.168.1.11"]

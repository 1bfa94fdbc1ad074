"""The netsot CLI in-process (click's CliRunner) over a fake provider registered as ``nipap``.

The fake is a real Provider implementation over an in-memory system; the engine (plan,
apply, policy, state file backend, saved plans) runs for real.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine.cli.app as cli_app
import engine.reconcile.bindings as reconcile_module
from core.errors import ProviderUnavailable
from core.model import Conflict, ConflictKind
from engine.cli.main import cli
from providers.registry import register, unregister
from schemas import validator
from state.backend import FileBackend
from state.model import ResourceState
from tests import addresses as A
from tests.engine._fake import CONFIG, PASSWORD, FakeSystem, fake_provider
from tests.state.conftest import Holder, as_if_held_elsewhere

NAS = "nipap_address.lan.nas"
PRINTER = "nipap_address.lan.printer"
OTHER = "nipap_address.lan.other"


@dataclass
class Env:
    root: Path
    config: Path
    system: FakeSystem
    runner: CliRunner

    def run(self, *args: str, input: str | None = None):
        return self.runner.invoke(cli, ["--config", str(self.config), *args], input=input,
                                  catch_exceptions=False)

    @property
    def backend(self) -> FileBackend:
        return FileBackend(self.root / "netsot.state.json")

    def state_addresses(self) -> list[str]:
        return sorted(self.backend.load().resources)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSOT_TEST_NIPAP_PASSWORD", PASSWORD)
    monkeypatch.delenv("NETSOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "netsot.yaml"
    config.write_text(CONFIG)
    system = FakeSystem()
    register("nipap", fake_provider(system))
    try:
        yield Env(tmp_path, config, system, CliRunner())
    finally:
        unregister("nipap")


@pytest.fixture
def tty(monkeypatch):
    monkeypatch.setattr(cli_app, "_stdin_is_interactive", lambda: True)


def with_conflict(monkeypatch):
    """Make reconcile report one conflict (blocking an unrelated object) on top of its real result."""
    real = reconcile_module.reconcile

    def reconcile(config, observations, owned, *rest):
        desired = real(config, observations, owned, *rest)
        conflict = Conflict(ConflictKind.IP_CLAIMED_TWICE, "192.168.1.50 is claimed twice",
                            ("proxmox pve1/105 net0 (app05)", "config host lamp"), network="lan",
                            blocked=(A.nipap_address("lan", "app05"),))
        return replace(desired, conflicts=(*desired.conflicts, conflict))

    monkeypatch.setattr(reconcile_module, "reconcile", reconcile)


# ----------------------------------------------------------------------------- help / validate


def test_help_lists_every_command(env):
    result = env.runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("validate", "plan", "apply", "show", "inventory", "import", "verify", "state",
                 "force-unlock", "serve", "lab", "version"):
        assert f"  {name} " in result.output, name
    sub = env.runner.invoke(cli, ["state", "--help"]).output
    assert all(f"  {n} " in sub for n in ("list", "show", "rm"))
    lab = env.runner.invoke(cli, ["lab", "--help"]).output
    assert all(f"  {n} " in lab for n in ("up", "down", "status"))
    assert "import [OPTIONS] SYSTEM" in env.runner.invoke(cli, ["import", "--help"]).output


def test_python_dash_m_engine_works():
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-m", "engine", "version"], cwd=root, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.startswith("netsot ")


@pytest.mark.parametrize("args", [
    ("plan", "--detailed-exitcode", "--bogus"),  # an unknown option of a command
    ("--bogus", "plan"),  # an unknown global option
    ("plna",),  # an unknown command
    ("plan", "--format", "yaml"),  # a bad value
    ("state", "bogus"),  # an unknown subcommand
    ("show", "a", "b"),  # an extra argument
    (),  # no command at all
])
def test_usage_errors_exit_1_not_the_changes_code(env, args):
    """--detailed-exitcode uses 2 for "changes present": a typo in CI must not read as changes."""
    result = env.run(*args)
    assert result.exit_code == 1, result.output
    assert "Usage:" in result.output


def test_usage_error_exits_1_through_the_console_entry(tmp_path):
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-m", "engine", "plan", "--detailed-exitcode", "--detailed"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 1, out.stderr
    assert "No such option '--detailed'" in out.stderr and out.stdout == ""


def test_validate_refuses_overlapping_networks_and_an_unowned_shared_domain(env):
    env.config.write_text(CONFIG.replace("hosts:\n", """\
  - name: lan-half
    prefix: 192.168.1.128/25
  - name: iot
    prefix: 192.168.2.0/24
    domain: lab.example
hosts:
"""))
    result = env.run("validate")
    assert result.exit_code == 1
    assert (f"{env.config}:14:13: networks[1].prefix: 192.168.1.128/25 overlaps network lan "
            "(192.168.1.0/24, line 9); networks must not overlap") in result.stderr
    assert (f"{env.config}:17:13: networks[2].domain: networks lan and iot share domain lab.example: "
            "set dns_owner: true on the one that owns names in it") in result.stderr


def test_validate_warns_about_unchecked_tls_and_checks_the_commit_comment(env):
    proxmox = ("providers:\n  proxmox:\n    host: pve\n    user: u\n    token_name: t\n    token_value: v\n"
               "    verify_tls: false\n")
    env.config.write_text(CONFIG.replace("providers:\n", proxmox))
    result = env.run("validate")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == ["Warning: providers.proxmox.verify_tls is false: the Proxmox API's certificate is "
                        "not checked, so anyone on the path can impersonate it and read the API token"]
    edgemax = ("providers:\n  edgemax:\n    host: r\n    username: u\n    password: p\n"
               "    commit_comment: \"a`b\"\n")
    env.config.write_text(CONFIG.replace("providers:\n", edgemax))
    bad = env.run("validate")
    assert bad.exit_code == 1 and f"{env.config}:7:21: providers.edgemax.commit_comment:" in bad.stderr


def test_validate_ok(env):
    result = env.run("validate")
    assert result.exit_code == 0
    assert result.output.strip() == (f"Configuration OK: {env.config} (1 network, 2 hosts, systems: nipap)")


def test_validate_missing_secret_is_one_clear_error(env, monkeypatch):
    monkeypatch.delenv("NETSOT_TEST_NIPAP_PASSWORD")
    result = env.run("validate")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invalid configuration")
    assert "NETSOT_TEST_NIPAP_PASSWORD" in result.stderr
    assert "Traceback" not in result.output


def test_missing_config_file(env):
    result = env.runner.invoke(cli, ["--config", str(env.root / "nope.yaml"), "plan"])
    assert result.exit_code == 1
    assert "Error: configuration file" in result.stderr


# ----------------------------------------------------------------------------- plan + exit codes


def test_plan_shows_changes_and_detailed_exit_code_2(env):
    result = env.run("plan")
    assert result.exit_code == 0
    assert f"+ {NAS}" in result.output
    assert "ip       = 192.168.1.10  (config, rule ip: config > nipap > proxmox > edgemax" in result.output
    assert result.output.rstrip().endswith("Plan: 2 to add, 0 to change, 0 to destroy.")
    assert env.run("plan", "--detailed-exitcode").exit_code == 2
    assert env.system.writes == []
    assert not (env.root / "netsot.state.json").exists()


def test_plan_no_changes_exit_0(env):
    env.system.objects[NAS] = {"ip": "192.168.1.10", "hostname": "nas", "mac": "00:11:32:aa:bb:cc"}
    env.system.objects[PRINTER] = {"ip": "192.168.1.11", "hostname": "printer", "mac": "3c:2a:f4:01:02:03"}
    result = env.run("plan", "--detailed-exitcode")
    assert result.exit_code == 0
    assert result.output.strip() == "No changes. The systems match the configuration."


def test_plan_conflict_exit_3_even_with_changes(env, monkeypatch):
    with_conflict(monkeypatch)
    result = env.run("plan", "--detailed-exitcode")
    assert result.exit_code == 3
    assert result.output.startswith("Conflicts (1)")
    # it lists one object under "not touched", so it blocks one (the two it names are not all netsot's)
    assert "      not touched: nipap_address.lan.app05" in result.output
    assert "Plan: 2 to add, 0 to change, 0 to destroy. 1 conflict blocks 1 object." in result.output
    assert env.run("plan").exit_code == 0  # without the flag: 0 unless error


def test_plan_error_exit_1(env):
    env.system.fail_read = ProviderUnavailable("nipap", "connection refused by 127.0.0.1:9")
    result = env.run("plan", "--detailed-exitcode")
    assert result.exit_code == 1
    assert result.stderr == "Error: nipap: connection refused by 127.0.0.1:9\n"
    assert PASSWORD not in result.output


def test_unexpected_error_is_internal_error_and_debug_shows_traceback(env):
    env.system.fail_init = RuntimeError("boom")
    result = env.run("plan")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Internal error: RuntimeError: boom; run with --debug for details"
    debug = env.runner.invoke(cli, ["--debug", "--config", str(env.config), "plan"])
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr


def test_keyboard_interrupt_exits_130(env):
    env.system.fail_read = KeyboardInterrupt()
    result = env.run("plan")
    assert result.exit_code == 130
    assert "Interrupted." in result.stderr


def test_plan_json_validates_and_is_pure_json(env):
    result = env.run("plan", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert list(validator("plan.v1").iter_errors(doc)) == []
    assert doc["summary"]["create"] == 2
    assert PASSWORD not in result.stdout
    same = json.loads(env.run("plan", "--format", "json").stdout)
    assert same["changes"] == doc["changes"]


def test_only_a_saved_or_json_plan_digests_what_was_read(env, monkeypatch):
    """The fingerprints (a sha256 per object read) are for comparing a saved plan: the text and Markdown
    plans never make them; ``--json`` and ``--out`` carry them as before."""
    import core.model as model

    made: list[int] = []
    merged = model.merged_fingerprints

    def counting(observations):  # type: ignore[no-untyped-def]
        made.append(1)
        return merged(observations)

    monkeypatch.setattr(model, "merged_fingerprints", counting)
    env.system.objects[OTHER] = {"ip": "192.168.1.20", "hostname": "other", "mac": None}  # one object read
    assert env.run("plan").exit_code == 0 and env.run("plan", "--format", "markdown").exit_code == 0
    assert made == []
    doc = json.loads(env.run("plan", "--json").stdout)
    assert made and doc["fingerprints"] and all(len(v) == 64 for v in doc["fingerprints"].values())
    made.clear()
    assert env.run("plan", "--out", "tfplan").exit_code == 0
    saved = json.loads((env.root / "tfplan").read_text())
    assert made and saved["fingerprints"].keys() == doc["fingerprints"].keys()


def test_plan_markdown(env):
    result = env.run("plan", "--format", "markdown")
    assert result.exit_code == 0
    assert result.output.startswith("### netsot plan")
    assert f"`{NAS}`" in result.output


def test_plan_target(env):
    result = env.run("plan", "--target", NAS, "--json")
    doc = json.loads(result.stdout)
    assert [c["address"] for c in doc["changes"]] == [NAS]
    bad = env.run("plan", "--target", "nonsense")
    assert bad.exit_code == 1
    assert "--target 'nonsense' is not a resource address" in bad.stderr


# ----------------------------------------------------------------------------- apply + prompt


def test_apply_yes_proceeds(env, tty):
    result = env.run("apply", input="yes\n")
    assert result.exit_code == 0, result.output
    assert "Do you want to perform these actions? Only 'yes' will be accepted:" in result.output
    assert f"{NAS}: Creation complete" in result.output
    assert result.output.rstrip().endswith("Apply complete! Resources: 2 added, 0 changed, 0 destroyed.")
    assert sorted(env.system.objects) == [NAS, PRINTER]
    assert env.state_addresses() == [NAS, PRINTER]
    state_file = env.root / "netsot.state.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert PASSWORD not in state_file.read_text()
    assert env.run("plan", "--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("answer", ["no", "y", "YES", "", " yes", "yes please"])
def test_apply_anything_but_yes_cancels(env, tty, answer):
    result = env.run("apply", input=answer + "\n")
    assert result.exit_code == 1
    assert "Apply cancelled." in result.output
    assert env.system.writes == [] and env.system.objects == {}
    assert not (env.root / "netsot.state.json").exists()
    assert env.backend.lock_info() is None


def test_apply_eof_at_prompt_cancels(env, tty):
    result = env.run("apply", input="")
    assert result.exit_code == 1
    assert "Apply cancelled." in result.output
    assert env.system.writes == []


def test_apply_refuses_without_tty(env):
    result = env.run("apply")
    assert result.exit_code == 1
    assert "stdin is not a terminal" in result.stderr
    assert env.system.reads == 0 and env.system.writes == []


def test_apply_auto_approve_without_tty(env):
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 0
    assert "Do you want" not in result.output
    assert env.state_addresses() == [NAS, PRINTER]
    assert env.system.closed >= 1


def test_apply_no_changes(env):
    assert env.run("apply", "--auto-approve").exit_code == 0
    again = env.run("apply", "--auto-approve")
    assert again.exit_code == 0
    assert "No changes." in again.output
    assert "Apply complete! Resources: 0 added, 0 changed, 0 destroyed." in again.output


def test_apply_fails_fast_when_locked(env):
    with env.backend.lock("apply"):
        result = env.run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "is locked" in result.stderr and "pid" in result.stderr
    assert env.system.writes == [] and env.system.reads == 0


def test_force_flag_is_accepted(env):
    assert env.run("apply", "--auto-approve", "--force").exit_code == 0
    assert env.run("plan", "--force").exit_code == 0


# ----------------------------------------------------------------------------- saved plans


def test_saved_plan_round_trip(env):
    planned = env.run("plan", "--out", "tfplan")
    assert planned.exit_code == 0
    path = env.root / "tfplan"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PASSWORD not in path.read_text()
    assert "netsot apply tfplan" in planned.output
    shown = env.run("show", "tfplan")
    assert shown.output.rstrip().endswith("Plan: 2 to add, 0 to change, 0 to destroy.")
    assert json.loads(env.run("show", "tfplan", "--json").stdout) == json.loads(path.read_text())
    applied = env.run("apply", "tfplan")  # a saved plan is the approval: no prompt, no TTY needed
    assert applied.exit_code == 0, applied.output
    assert "Do you want" not in applied.output
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in applied.output
    assert env.state_addresses() == [NAS, PRINTER]


def test_saved_plan_refused_when_an_object_changed(env):
    env.system.objects[OTHER] = {"ip": "192.168.1.20", "hostname": "other", "mac": None}
    assert env.run("plan", "--out", "tfplan").exit_code == 0
    env.system.objects[OTHER]["ip"] = "192.168.1.21"  # edited by hand after the plan
    result = env.run("apply", "tfplan")
    assert result.exit_code == 1
    assert "stale" in result.stderr and f"{OTHER} changed" in result.stderr
    assert env.system.writes == []
    assert not (env.root / "netsot.state.json").exists()


def test_saved_plan_refused_when_an_object_appeared(env):
    assert env.run("plan", "--out", "tfplan").exit_code == 0
    env.system.objects[OTHER] = {"ip": "192.168.1.20", "hostname": "other", "mac": None}
    result = env.run("apply", "tfplan")
    assert result.exit_code == 1
    assert f"{OTHER} appeared" in result.stderr


def test_saved_plan_survives_unrelated_state_change(env):
    # an object netsot owns in another system (not configured here, so this plan never read it)
    backend = env.backend
    backend.save(backend.load().with_resource(
        ResourceState("edgemax_host.old.lab.example", "edgemax", "old", {"ip": "192.168.1.40"})))
    assert env.run("plan", "--out", "tfplan").exit_code == 0
    removed = env.run("state", "rm", "edgemax_host.old.lab.example")
    assert removed.exit_code == 0
    assert env.backend.load().serial == 2  # the serial moved …
    result = env.run("apply", "tfplan")  # … and the plan is still good
    assert result.exit_code == 0, result.output
    assert env.state_addresses() == [NAS, PRINTER]


def test_saved_plan_refused_when_config_changed(env):
    assert env.run("plan", "--out", "tfplan").exit_code == 0
    env.config.write_text(CONFIG.replace("192.168.1.11", "192.168.1.12"))
    result = env.run("apply", "tfplan")
    assert result.exit_code == 1
    assert "the configuration changed since the plan was made" in result.stderr
    assert env.system.writes == []


def test_garbage_plan_file_is_a_clear_error(env):
    (env.root / "junk").write_text("this is not json")
    result = env.run("apply", "junk")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: junk is not a netsot plan file")
    assert env.run("show", "missing").stderr.startswith("Error: plan file missing does not exist")


# ----------------------------------------------------------------------------- state / show / unlock


def test_state_list_and_show_say_who_made_each_object(env):
    """#20.1: made (created by an apply) is the bare address; adopted and an old state's unknown say so."""
    assert env.run("apply", "--auto-approve").exit_code == 0
    assert "ownership   = made" in env.run("state", "show", NAS).output
    state = env.backend.load()
    state = state.with_resource(replace(state.resources[PRINTER], ownership="adopted"))
    env.backend.save(state.with_resource(ResourceState(OTHER, "nipap", None, {}, ownership="unknown")))
    assert env.run("state", "list").output.splitlines() == [
        NAS, OTHER + "  (unknown: made or adopted, read as adopted)", PRINTER + "  (adopted)"]
    shown = env.run("state", "show", PRINTER).output
    assert "ownership   = adopted (netsot never deletes it on its own" in shown


def test_state_list_show_rm(env):
    assert env.run("apply", "--auto-approve").exit_code == 0
    assert env.run("state", "list").output.splitlines() == [NAS, PRINTER]
    shown = env.run("state", "show", NAS)
    assert shown.exit_code == 0
    assert shown.output.startswith(f"# {NAS}\n")
    assert "ip" in shown.output and "192.168.1.10" in shown.output
    missing = env.run("state", "show", "nipap_address.lan.ghost")
    assert missing.exit_code == 1 and "is not in the state" in missing.stderr
    writes = list(env.system.writes)
    removed = env.run("state", "rm", NAS)
    assert removed.exit_code == 0
    assert "No system was changed" in removed.output
    assert env.state_addresses() == [PRINTER]
    assert env.system.writes == writes and NAS in env.system.objects
    bad = env.run("state", "rm", PRINTER, "nipap_address.lan.ghost")
    assert bad.exit_code == 1 and "nothing was removed" in bad.stderr
    assert env.state_addresses() == [PRINTER]


def test_show_state(env):
    empty = env.run("show")
    assert "The state is empty" in empty.output
    env.run("apply", "--auto-approve")
    text = env.run("show").output
    assert f"# {NAS}" in text and f"# {PRINTER}" in text
    data = json.loads(env.run("show", "--json").stdout)
    assert [r["address"] for r in data["resources"]] == [NAS, PRINTER]


def test_force_unlock(env):
    backend = env.backend
    with backend.lock("apply") as info:
        wrong = env.run("force-unlock", "not-the-id", "--force")
        assert wrong.exit_code == 1 and "does not match" in wrong.stderr
        as_if_held_elsewhere(backend.lock_path)  # a live holder on this host is never broken
        refused = env.run("force-unlock", info.id)  # no TTY, no --force
        assert refused.exit_code == 1 and backend.lock_info() is not None
        ok = env.run("force-unlock", info.id, "--force")
        assert ok.exit_code == 0, ok.output
        assert "unlocked" in ok.output
        assert backend.lock_info() is None
    nothing = env.run("force-unlock", info.id, "--force")
    assert nothing.exit_code == 1 and "not locked" in nothing.stderr


def test_force_unlock_asks(env, tty):
    backend = env.backend
    with backend.lock("apply") as info:
        as_if_held_elsewhere(backend.lock_path)
        no = env.run("force-unlock", info.id, input="no\n")
        assert no.exit_code == 1 and "Force-unlock cancelled." in no.output
        assert backend.lock_info() is not None
        yes = env.run("force-unlock", info.id, input="yes\n")
        assert yes.exit_code == 0
        assert backend.lock_info() is None


def test_a_state_older_than_its_backup_is_refused_until_forced(env):
    assert env.run("apply", "--auto-approve").exit_code == 0
    assert env.run("state", "rm", PRINTER).exit_code == 0  # the backup holds the state before the rm
    path = env.root / "netsot.state.json"
    backup = path.with_name(path.name + ".backup")
    serial = json.loads(backup.read_text())["serial"]
    doc = json.loads(path.read_text())
    lineage, doc["serial"] = doc["lineage"], 0  # set lower than the backup's by hand
    path.write_text(json.dumps(doc))
    backup_text = backup.read_text()
    for args in (("plan",), ("state", "list"), ("apply", "--auto-approve"), ("state", "rm", NAS)):
        result = env.run(*args)
        assert result.exit_code == 1, result.output
        assert (f"Error: the state in {path} (lineage {lineage}, serial 0) is older than its backup {backup} "
                f"(lineage {lineage}, serial {serial})") in result.stderr
        assert "--force-state" in result.stderr
    assert env.system.writes == [f"create {NAS}", f"create {PRINTER}"]  # the refused apply wrote nothing
    assert backup.read_text() == backup_text and json.loads(path.read_text())["serial"] == 0
    forced = env.run("--force-state", "state", "rm", NAS)
    assert forced.exit_code == 0, forced.output
    assert path.with_name(f"{path.name}.backup.{serial}").read_text() == backup_text  # kept aside
    assert env.run("state", "list").exit_code == 0  # consistent again


@pytest.mark.slow
def test_force_unlock_refuses_a_live_holder_even_with_force(env, tty):
    """A second process on this host holds the lock: --force must not break it (two applies
    would then run together); the message names the holder and nothing is asked."""
    holder = Holder(["file", str(env.root / "netsot.state.json"), "apply"])
    try:
        for args in (("--force",), ()):
            result = env.run("force-unlock", holder.info.id, *args, input="yes\n")
            assert result.exit_code == 1, result.output
            assert "refusing to force-unlock" in result.stderr and f"pid {holder.pid}" in result.stderr
            assert "'apply'" in result.stderr and "Only 'yes'" not in result.output
            assert env.backend.lock_info() == holder.info
        holder.release()
    finally:
        holder.close()


# ----------------------------------------------------------------------------- output injection


def test_error_text_from_a_system_cannot_forge_lines(env):
    env.system.fail_read = ProviderUnavailable("nipap", "node 'x\r\nError: all good\u2028Plan: 0 to add'")
    result = env.run("plan")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()  # every Unicode line boundary
    assert len(lines) == 1 and lines[0].startswith("Error: nipap: node 'x\\r\\nError: all good\\u2028Plan")


def test_apply_lines_cannot_forge_lines(capsys):
    from core.model import Address, ChangeOutcome
    from engine.cli.output import CliObserver

    observer = CliObserver({"nipap_address.lan.x": "create"})
    forged = "\r\nApply complete! Resources: 9 added, 0 changed, 0 destroyed."
    x, y = Address.parse("nipap_address.lan.x" + forged), Address.parse("nipap_address.lan.y")
    observer.change_finished(ChangeOutcome(x, "failed", "no" + forged))
    observer.change_finished(ChangeOutcome(y, "skipped", "\x1b[2J" + forged))
    observer.message("warning" + forged)
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 3 and "\x1b" not in out and "\r" not in out
    assert not any(line.startswith("Apply complete!") for line in out.splitlines())


# ----------------------------------------------------------------------------- misc


def test_version(env):
    result = env.runner.invoke(cli, ["version"])
    assert result.exit_code == 0 and result.output.startswith("netsot ")


def test_no_color_strips_ansi(env):
    result = env.runner.invoke(cli, ["--no-color", "--config", str(env.config), "plan"], color=True)
    assert "\033[" not in result.output
    colored = env.runner.invoke(cli, ["--config", str(env.config), "plan"], color=True)
    assert "\033[" in colored.output


def test_env_config_is_used(env, monkeypatch):
    monkeypatch.setenv("NETSOT_CONFIG", str(env.config))
    os.chdir("/")
    result = env.runner.invoke(cli, ["validate"])
    assert result.exit_code == 0

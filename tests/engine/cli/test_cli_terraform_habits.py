"""More Terraform habits through the real CLI (issue #26): -input=false, -lock=false, -chdir, -var /
-var-file / -destroy refused with what netsot does instead, apply --json's stream of JSON lines,
version --json, `netsot providers`, shell completion, the conflicts exit code for 0/1/2 wrappers, and
the plan's note about state objects of an instance the config no longer names.

In-process (click's runner with the real root group) over the fake ``nipap`` provider of ``test_cli``;
shell completion runs the console script as a subprocess, as a shell does.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.app import value_options
from engine.cli.args import TerraformFlagError, terraform_globals
from engine.cli.main import cli
from state.model import ResourceState
from tests.engine.cli.test_cli import NAS, PRINTER, env, tty, with_conflict  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[3]


# ----------------------------------------------------------------------------- -input, -lock, -chdir


def test_input_false_never_prompts_even_on_a_terminal(env, tty):  # noqa: F811
    result = env.run("apply", "-input=false")
    assert result.exit_code == 1
    assert "-input=false means netsot asks nothing; pass --auto-approve" in result.stderr
    assert "Do you want to perform" not in result.output
    assert env.state_addresses() == []
    done = env.run("apply", "-input=false", "-auto-approve")
    assert done.exit_code == 0, done.output
    assert env.state_addresses() == [NAS, PRINTER]
    unlock = env.run("force-unlock", "abc", "-input=false")
    assert unlock.exit_code == 1 and "No such option" not in unlock.output


def test_without_a_terminal_apply_says_why_it_does_not_ask(env):  # noqa: F811
    result = env.run("apply")
    assert result.exit_code == 1
    assert "stdin is not a terminal, so netsot does not ask" in result.stderr


def test_input_true_and_both_dash_spellings_are_accepted(env, tty):  # noqa: F811
    for word in ("-input=true", "--input=true", "-input"):
        result = env.run("plan", word)
        assert result.exit_code == 0, (word, result.output)
    bad = env.run("plan", "-input=maybe")
    assert bad.exit_code == 1 and "-input=maybe: the value must be true or false" in bad.output


def test_lock_false_is_accepted_with_a_warning_and_the_lock_is_still_taken(env):  # noqa: F811
    result = env.run("apply", "-lock=false", "-auto-approve")
    assert result.exit_code == 0, result.output
    assert "No such option" not in result.output
    assert result.stderr.startswith("Warning: -lock=false is ignored: netsot always takes the state lock")
    assert "force-unlock" in result.stderr
    with env.backend.lock("apply"):
        locked = env.run("state", "rm", NAS, "-lock=false")
    assert locked.exit_code == 1 and "is locked" in locked.stderr
    assert env.run("plan", "-lock=true").stderr == ""


def test_chdir_runs_as_if_started_in_that_folder(env, tmp_path_factory, monkeypatch):  # noqa: F811
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    result = env.runner.invoke(cli, [f"-chdir={env.root}", "plan", "-out=tfplan"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (env.root / "tfplan").is_file() and not (elsewhere / "tfplan").exists()
    assert Path.cwd() == env.root
    monkeypatch.chdir(elsewhere)
    missing = env.runner.invoke(cli, ["-chdir=" + str(elsewhere / "nope"), "plan"])
    assert missing.exit_code == 1 and "-chdir=" in missing.output
    assert "No such file or directory" in missing.output


@pytest.mark.parametrize(("args", "says"), [
    (("plan", "-var", "x=1"), "-var is not a netsot option: netsot has no input variables"),
    (("plan", "-var=x=1"), "${env:NAME}"),
    (("apply", "-var-file=prod.tfvars"), "-var-file is not a netsot option"),
    (("plan", "-destroy"), "netsot state rm ADDR"),
    (("apply", "--destroy"), "-destroy is not a netsot option"),
])
def test_var_and_destroy_are_refused_with_what_netsot_does_instead(env, args, says):  # noqa: F811
    result = env.run(*args)
    assert result.exit_code == 1
    assert says in result.output
    assert "No such option" not in result.output
    assert env.state_addresses() == []


def test_terraform_flags_are_never_taken_from_an_options_value_or_after_double_dash():
    values = value_options(cli)
    assert terraform_globals(["plan", "--target", "-destroy", "--", "-var"], values) == \
        (["plan", "--target", "-destroy", "--", "-var"], {})
    assert terraform_globals(["-chdir", "/x", "apply", "-input=false", "-lock=0"], values) == \
        (["apply"], {"chdir": "/x", "input": False, "lock": False})
    with pytest.raises(TerraformFlagError, match="-chdir needs a folder"):
        terraform_globals(["-chdir="], values)


# ----------------------------------------------------------------------------- machine-readable output


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_apply_json_streams_one_line_per_change_started_and_finished_and_a_summary(env):  # noqa: F811
    result = env.run("apply", "-json", "-auto-approve")
    assert result.exit_code == 0, result.output
    lines = _lines(result.stdout)  # every line of stdout is one JSON object
    assert all({"@level", "@message", "@module", "@timestamp", "type"} <= set(x) for x in lines)
    types = [x["type"] for x in lines]
    assert types[0] == "version"
    assert types.count("planned_change") == 2
    assert types.count("apply_start") == 2 and types.count("apply_complete") == 2
    assert types[-1] == "change_summary"
    started = [x["hook"]["resource"]["addr"] for x in lines if x["type"] == "apply_start"]
    finished = [x["hook"]["resource"]["addr"] for x in lines if x["type"] == "apply_complete"]
    assert sorted(started) == sorted(finished) == [NAS, PRINTER]
    assert all(x["hook"]["action"] == "create" for x in lines if x["type"] == "apply_complete")
    summary = lines[-1]
    assert summary["changes"] == {"add": 2, "change": 0, "remove": 0, "operation": "apply", "failed": 0,
                                  "skipped": 0, "retries": {}, "notes": []}
    assert summary["@message"] == "Apply complete! Resources: 2 added, 0 changed, 0 destroyed."
    assert env.state_addresses() == [NAS, PRINTER]


def test_apply_json_of_a_saved_plan_and_without_approval(env, tty):  # noqa: F811
    refused = env.run("apply", "--json")
    assert refused.exit_code == 1 and "apply --json asks nothing" in refused.stderr
    assert env.run("plan", "-out=tfplan").exit_code == 0
    result = env.run("apply", "--json", "tfplan")
    assert result.exit_code == 0, result.output
    assert _lines(result.stdout)[-1]["changes"]["add"] == 2


def test_version_json_is_a_document(env):  # noqa: F811
    result = env.run("version", "-json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["netsot_version"] and doc["python_version"] == sys.version.split()[0]
    assert "nipap" in doc["kinds"]


def test_providers_lists_the_kinds_and_the_configured_instances(env):  # noqa: F811
    result = env.run("providers")
    assert result.exit_code == 0, result.output
    assert "Kinds netsot knows (registered):" in result.stdout
    assert "Instances in the configuration (providers:):" in result.stdout
    assert "  nipap  nipap, serves lan" in result.stdout
    doc = json.loads(env.run("providers", "--json").stdout)
    assert {k["kind"] for k in doc["kinds"]} >= {"nipap", "edgemax", "proxmox"}
    assert doc["instances"] == [{"instance": "nipap", "kind": "nipap", "networks": ["lan"]}]
    os.rename(env.config, env.root / "other.yaml")
    bare = env.runner.invoke(cli, ["providers"], catch_exceptions=False)  # no config in the folder
    assert bare.exit_code == 0 and "No configuration found" in bare.stdout


def test_conflicts_exit_code_maps_to_2_for_wrappers_that_expect_terraforms_codes(env, monkeypatch):  # noqa: F811
    with_conflict(monkeypatch)
    assert env.run("plan", "--detailed-exitcode").exit_code == 3
    assert env.run("plan", "-detailed-exitcode", "--conflicts-exitcode", "2").exit_code == 2
    monkeypatch.setenv("NETSOT_CONFLICTS_EXITCODE", "2")
    assert env.run("plan", "--detailed-exitcode").exit_code == 2


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_scripts_are_generated_by_the_console_script(shell, tmp_path):
    netsot = Path(sys.executable).parent / "netsot"
    script = subprocess.run([str(netsot)], env={**os.environ, "_NETSOT_COMPLETE": f"{shell}_source"},
                            capture_output=True, text=True, timeout=60, check=False)
    assert script.returncode == 0, script.stderr
    assert "_NETSOT_COMPLETE" in script.stdout
    words = subprocess.run([str(netsot)], env={**os.environ, "_NETSOT_COMPLETE": "bash_complete",
                                               "COMP_WORDS": "netsot pro", "COMP_CWORD": "1"},
                           capture_output=True, text=True, timeout=60, check=False)
    assert "providers" in words.stdout, words.stdout


# ----------------------------------------------------------------------------- unconfigured instances


def test_the_plan_names_state_objects_of_an_instance_no_longer_configured_and_how_to_forget_them(env):  # noqa: F811
    assert env.run("apply", "--auto-approve").exit_code == 0
    state = env.backend.load()
    stray = ["edgemax_host[cabin].ap.cabin.lab.example", "edgemax_dhcp_mapping[cabin].CABIN.ap"]
    for address in stray:
        state = state.with_resource(ResourceState(address, "edgemax", address, {"ip": "192.168.30.2"}))
    env.backend.save(state)
    result = env.run("plan", "-no-color")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "the state holds 2 objects of edgemax.cabin, which the configuration does not name" in text
    command = "netsot state rm " + " ".join(shlex.quote(a) for a in sorted(stray))
    assert command in text
    forget = env.run("state", "rm", *shlex.split(command)[3:])
    assert forget.exit_code == 0, forget.output
    assert "edgemax.cabin" not in env.run("plan").output
    assert env.state_addresses() == [NAS, PRINTER]

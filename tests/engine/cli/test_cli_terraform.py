"""Terraform habits through the CLI (issue #16): single-dash flags, --no-color everywhere, targeting
that warns and errors, apply --target, --replace, state mv/pull/push, --lock-timeout, --parallelism,
a plan beside a running apply, graph, schema config, a closed pipe, the service's text log.

In-process (click's runner with the real root group) over the fake ``nipap`` provider of
``test_cli``; the closed-pipe test runs the console entry as a subprocess behind a real pipe.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

import engine.reconcile.bindings as reconcile_module
from core.model import Address, Conflict, ConflictKind
from engine.cli.app import value_options
from engine.cli.args import rewrite
from engine.cli.main import cli
from state.backend import FileBackend
from state.model import ResourceState, State
from tests.engine.cli.test_cli import NAS, PRINTER, env, tty  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[3]


def applied(env) -> None:  # noqa: F811
    result = env.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output


# ----------------------------------------------------------------------------- single-dash flags


def test_terraform_single_dash_flags_are_aliases_of_the_documented_ones(env):  # noqa: F811
    result = env.run("plan", "-out", "tfplan", "-no-color", "-detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert (env.root / "tfplan").is_file()
    assert "Saved the plan to tfplan" in result.output
    result = env.run("plan", "-out=other.plan", "-target=" + NAS, "-json")
    assert result.exit_code == 0, result.output
    assert [c["address"] for c in json.loads(result.stdout)["changes"]] == [NAS]
    assert (env.root / "other.plan").is_file()
    done = env.run("apply", "-auto-approve", "tfplan")
    assert done.exit_code == 0, done.output
    assert "Apply complete! Resources: 2 added" in done.output


def test_a_value_after_an_option_is_never_rewritten_and_unknown_single_dash_words_stay_errors(env):  # noqa: F811
    values = value_options(cli)
    assert {"--out", "--target", "--config", "--lock-timeout"} <= values
    assert rewrite(["plan", "-target", "-out", "-out=x", "--", "-json"], values) == \
        ["plan", "--target", "-out", "--out=x", "--", "-json"]
    assert rewrite(["--config", "-json", "plan"], values) == ["--config", "-json", "plan"]
    bad = env.run("plan", "-bogus")
    assert bad.exit_code == 1 and "Usage:" in bad.output


@pytest.mark.parametrize("args", [("plan",), ("state", "list"), ("validate",), ("show",), ("version",),
                                  ("state", "--no-color", "list")])
def test_no_color_is_accepted_by_every_command(env, args):  # noqa: F811
    applied(env)
    result = env.run(*args, "--no-color") if "--no-color" not in args else env.run(*args)
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.output


# ----------------------------------------------------------------------------- targeting


def test_a_target_that_matches_nothing_is_an_error_naming_close_addresses(env):  # noqa: F811
    result = env.run("plan", "--target", "nipap_address.lan.nass")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: --target nipap_address.lan.nass matches no planned change and "
                                     "no object netsot read or owns; did you mean nipap_address.lan.nas?")
    far = env.run("apply", "--auto-approve", "--target", "edgemax_host.nothing")
    assert far.exit_code == 1 and "matches no planned change" in far.stderr
    assert env.system.writes == []


def test_targeting_in_effect_is_a_warning_on_stderr_even_when_nothing_changes(env):  # noqa: F811
    applied(env)
    result = env.run("plan", "--target", NAS, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changes"] == []  # stdout stays pure JSON
    assert result.stderr.startswith("Warning: Resource targeting is in effect\n\n")
    assert "--target " + NAS in result.stderr


def test_apply_target_plans_and_applies_only_the_targeted_subset(env):  # noqa: F811
    result = env.run("apply", "--auto-approve", "--target", PRINTER)
    assert result.exit_code == 0, result.output
    assert env.system.writes == [f"create {PRINTER}"]
    assert env.state_addresses() == [PRINTER]
    assert "Warning: Resource targeting is in effect" in result.stderr
    assert "Warning: Applied changes may be incomplete" in result.stderr
    assert "Apply complete! Resources: 1 added, 0 changed, 0 destroyed." in result.stdout
    saved = env.run("plan", "--out", "p")
    assert saved.exit_code == 0
    refused = env.run("apply", "p", "--target", NAS)
    assert refused.exit_code == 1 and "a saved plan already says what it does" in refused.stderr


# ----------------------------------------------------------------------------- --replace


def test_replace_deletes_and_creates_an_owned_object_again(env):  # noqa: F811
    applied(env)
    env.system.writes.clear()
    doc = json.loads(env.run("plan", "--replace", NAS, "--json").stdout)
    assert [(c["action"], c["address"], c["reason"]) for c in doc["changes"]] == [
        ("delete", NAS, "replaced on request (--replace)"),
        ("create", NAS, "replaced on request (--replace)")]
    result = env.run("apply", "--auto-approve", "--replace", NAS)
    assert result.exit_code == 0, result.output
    assert env.system.writes == [f"delete {NAS}", f"create {NAS}"]
    assert re.search(f"{NAS}: Destruction complete\nnipap: applying 1 change...\n{NAS}: Creation complete",
                     result.stdout), result.stdout
    assert "Apply complete! Resources: 1 added, 0 changed, 1 destroyed." in result.stdout
    assert env.state_addresses() == [NAS, PRINTER]
    assert env.run("plan", "--detailed-exitcode").exit_code == 0


def test_replace_refuses_what_netsot_does_not_own(env):  # noqa: F811
    env.system.objects["nipap_address.lan.other"] = {"ip": "192.168.1.50", "hostname": "other", "mac": None}
    result = env.run("plan", "--replace", "nipap_address.lan.other")
    assert result.exit_code == 1
    assert "Error: --replace nipap_address.lan.other: netsot does not own it" in result.stderr


def test_a_saved_plan_with_a_replace_applies_in_order(env):  # noqa: F811
    applied(env)
    env.system.writes.clear()
    assert env.run("plan", "--replace", PRINTER, "--out", "r.plan").exit_code == 0
    result = env.run("apply", "r.plan")
    assert result.exit_code == 0, result.output
    assert env.system.writes == [f"delete {PRINTER}", f"create {PRINTER}"]


# ----------------------------------------------------------------------------- state mv / pull / push


def test_state_mv_renames_with_a_backup_and_refuses_what_cannot_move(env):  # noqa: F811
    applied(env)
    result = env.run("state", "mv", NAS, "nipap_address.lan.nas2")
    assert result.exit_code == 0, result.output
    assert f'Move "{NAS}" to "nipap_address.lan.nas2"' in result.stdout
    assert f"The previous state is kept in {env.root / 'netsot.state.json.backup'}." in result.stdout
    assert env.state_addresses() == ["nipap_address.lan.nas2", PRINTER]
    backup = FileBackend(env.root / "netsot.state.json.backup").load()
    assert NAS in backup.resources
    other_type = env.run("state", "mv", PRINTER, "edgemax_host.printer.lab.example")
    assert other_type.exit_code == 1 and "an object keeps its system and type" in other_type.stderr
    taken = env.run("state", "mv", PRINTER, "nipap_address.lan.nas2")
    assert taken.exit_code == 1 and "is already in the state" in taken.stderr
    missing = env.run("state", "mv", NAS, "nipap_address.lan.x")
    assert missing.exit_code == 1 and f"{NAS} is not in the state" in missing.stderr
    assert env.state_addresses() == ["nipap_address.lan.nas2", PRINTER]


def test_state_pull_prints_the_document_and_push_follows_terraforms_rules(env):  # noqa: F811
    applied(env)
    pulled = env.run("state", "pull")
    assert pulled.exit_code == 0
    doc = json.loads(pulled.stdout)
    assert doc["serial"] == env.backend.load().serial and len(doc["resources"]) == 2
    copy = env.root / "pulled.json"
    copy.write_text(pulled.stdout)
    # the same content: nothing to do
    same = env.run("state", "push", str(copy))
    assert same.exit_code == 0 and "nothing to push" in same.stdout
    # an older copy, once the state moved on: refused without --force
    assert env.run("state", "rm", NAS).exit_code == 0
    older = env.run("state", "push", str(copy))
    assert older.exit_code == 1
    assert "the stored state changed after FILE was taken" in older.stderr
    assert "nothing was pushed" in older.stderr
    assert env.state_addresses() == [PRINTER]
    forced = env.run("state", "push", "--force", str(copy))
    assert forced.exit_code == 0, forced.output
    assert env.state_addresses() == [NAS, PRINTER]
    # another lineage: refused without --force; with it, the replaced state is kept aside
    foreign = State(resources={NAS: ResourceState(NAS, "nipap", "x", {"ip": "192.168.1.10"})}, serial=99)
    other = env.root / "foreign.json"
    other.write_text(json.dumps(foreign.to_dict()))
    refused = env.run("state", "push", str(other))
    assert refused.exit_code == 1 and "it is another state, not a copy of this one" in refused.stderr
    moved = env.run("state", "push", "--force", str(other))
    assert moved.exit_code == 0, moved.output
    assert env.backend.load().lineage == foreign.lineage
    assert "is kept in" in moved.stdout
    assert env.run("plan").exit_code == 0  # the file backend accepts the new lineage afterwards


def test_state_push_refuses_an_invalid_document(env):  # noqa: F811
    applied(env)
    bad = env.root / "bad.json"
    bad.write_text(json.dumps({"version": 2, "lineage": "x", "serial": "one", "resources": []}))
    result = env.run("state", "push", "--force", str(bad))
    assert result.exit_code == 1 and "is invalid" in result.stderr
    assert env.state_addresses() == [NAS, PRINTER]


# ----------------------------------------------------------------------------- locks


def _hold_lock(backend: FileBackend, seconds: float) -> threading.Thread:
    taken = threading.Event()

    def hold() -> None:
        with backend.lock("apply"):
            taken.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5)
    return thread


def test_lock_timeout_waits_for_the_holder_and_gives_up_after_the_duration(env):  # noqa: F811
    holder = _hold_lock(env.backend, 0.6)
    started = time.monotonic()
    result = env.run("apply", "--auto-approve", "--lock-timeout", "10s")
    holder.join()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.4
    holder = _hold_lock(env.backend, 2.0)
    try:
        short = env.run("state", "rm", NAS, "--lock-timeout", "300ms")
        at_once = env.run("state", "rm", NAS)
    finally:
        holder.join()
    assert short.exit_code == 1 and "gave up after waiting 0.3 s (--lock-timeout)" in short.stderr
    assert at_once.exit_code == 1 and "is locked" in at_once.stderr and "gave up" not in at_once.stderr
    bad = env.run("apply", "--lock-timeout", "soon")
    assert bad.exit_code == 1 and "'soon' is not a duration" in bad.output


def test_plan_says_when_another_run_is_applying(env):  # noqa: F811
    with env.backend.lock("apply"):
        result = env.run("plan")
    assert result.exit_code == 0, result.output
    assert re.search(r"^Note: \S+@\S+ \(pid \d+\) is running 'apply' on this state right now \(since .*\); "
                     r"this plan may be out of date\.$", result.stderr, re.M), result.stderr
    assert "Note:" not in env.run("plan").stderr


def test_parallelism_caps_each_systems_concurrency(env):  # noqa: F811
    assert env.run("plan", "--parallelism", "2").exit_code == 0
    assert env.system.settings[-1].max_workers == 2
    assert env.run("plan", "-parallelism=64").exit_code == 0
    assert env.system.settings[-1].max_workers == 4  # a cap never raises the configured value
    assert env.run("plan", "--parallelism", "0").exit_code == 1


# ----------------------------------------------------------------------------- graph / schema


def test_graph_prints_the_plans_dependency_graph_as_stable_dot(env):  # noqa: F811
    first = env.run("graph")
    assert first.exit_code == 0, first.output
    text = first.stdout
    assert text.startswith("digraph netsot {") and text.rstrip().endswith("}")
    nodes = dict(re.findall(r'^\s+"([^"]+)" \[label = "([^"]+)"\];$', text, re.M))
    assert nodes == {NAS: f"+ {NAS}", PRINTER: f"+ {PRINTER}"}
    assert re.findall(r'^  subgraph "cluster_(\w+)"', text, re.M) == ["nipap"]
    assert env.run("graph", "--type", "plan").stdout == text  # stable
    applied(env)
    assert env.run("plan", "--replace", NAS, "--out", "r.plan").exit_code == 0
    saved = env.run("graph", "--plan", "r.plan").stdout
    edges = re.findall(r'^  "([^"]+)" -> "([^"]+)";$', saved, re.M)
    assert edges == [(NAS, f"{NAS} (replaced: delete)")]


def test_schema_config_prints_and_writes_the_editor_schema(env):  # noqa: F811
    printed = env.run("schema", "config")
    assert printed.exit_code == 0
    schema = json.loads(printed.stdout)
    assert schema["$id"] == "urn:netsot:schema:config:1"
    assert printed.stdout == (REPO / "schemas" / "config.schema.json").read_text()
    written = env.run("schema", "config", "--write", "netsot.schema.json")
    assert written.exit_code == 0
    assert "# yaml-language-server: $schema=netsot.schema.json" in written.stdout
    assert json.loads((env.root / "netsot.schema.json").read_text()) == schema
    # the example config carries the modeline yaml-language-server reads, pointing at that schema
    example = REPO / "examples" / "netsot.yaml"
    modeline = example.read_text().splitlines()[0]
    assert modeline.startswith("# yaml-language-server: $schema=")
    assert (example.parent / modeline.split("=", 1)[1]).resolve() == REPO / "schemas" / "config.schema.json"


def test_a_replace_of_a_protected_object_is_refused(env):  # noqa: F811
    applied(env)
    env.config.write_text(env.config.read_text() + "policy:\n  protected: [\"nipap_address.lan.n*\"]\n")
    result = env.run("plan", "--replace", NAS)
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: --replace {NAS}: it matches policy.protected, so it is never "
                                     "deleted and cannot be replaced")


# ----------------------------------------------------------------------------- conflicts


def _many_without_an_address(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    real = reconcile_module.reconcile

    def reconcile(config, observations, owned, *rest):
        desired = real(config, observations, owned, *rest)
        fix = ("free an address in 10.20.0.0/24: delete hosts nobody uses in NIPAP (IPAM), shrink "
               "networks[1].dhcp_range, or give the network a larger networks[1].prefix")
        extra = tuple(
            Conflict(ConflictKind.NO_FREE_ADDRESS, f"servers.h{i:03}: no free address left in 10.20.0.0/24 "
                     "outside the DHCP range", (f"proxmox pve1/{500 + i} net0",), network="servers",
                     blocked=(Address("nipap_address", f"servers.h{i:03}"),
                              Address("edgemax_host", f"h{i:03}.lab.example")), fix=fix)
            for i in range(n))
        return replace(desired, conflicts=(*desired.conflicts, *extra))

    monkeypatch.setattr(reconcile_module, "reconcile", reconcile)


def test_conflicts_of_one_cause_are_one_item_with_the_count_and_say_how_to_fix_them(env, monkeypatch):  # noqa: F811
    _many_without_an_address(monkeypatch, 185)
    result = env.run("plan")
    text = result.stdout
    assert text.count("! no_free_address") == 1
    assert ("  ! no_free_address (185 conflicts): no free address left in 10.20.0.0/24 outside the DHCP range"
            in text)
    assert "      hosts: servers.h000, servers.h001," in text
    assert "(175 more; the JSON plan lists them all)" in text
    assert "      not touched (370): " in text
    assert "      to fix: free an address in 10.20.0.0/24: delete hosts nobody uses in NIPAP (IPAM)" in text
    assert "185 conflicts block 370 objects." in text  # exactly what "not touched" counts
    doc = json.loads(env.run("plan", "--json").stdout)
    assert len(doc["conflicts"]) == 185 and doc["conflicts"][0]["fix"].startswith("free an address")


def test_text_output_wraps_to_columns_with_hanging_indents(env, monkeypatch):  # noqa: F811
    _many_without_an_address(monkeypatch, 1)
    monkeypatch.setenv("COLUMNS", "60")
    wrapped = env.run("plan").stdout
    assert max(len(line) for line in wrapped.splitlines()) <= 60
    fix = [line for line in wrapped.splitlines() if line.startswith("      to fix:")]
    follow = wrapped.splitlines()[wrapped.splitlines().index(fix[0]) + 1]
    assert follow.startswith(" " * 14) and follow.strip()  # continues under the text after "to fix: "
    monkeypatch.delenv("COLUMNS")
    plain = env.run("plan").stdout  # not a terminal, no COLUMNS: long lines stay whole (grep, CI logs)
    assert any(len(line) > 60 for line in plain.splitlines())
    assert " ".join(plain.split()) == " ".join(wrapped.split())


# ----------------------------------------------------------------------------- pipes and the service


def test_show_into_a_closed_pipe_exits_quietly_with_141(tmp_path):
    backend = FileBackend(tmp_path / "netsot.state.json")
    resources = {f"nipap_address.lan.h{i:04}": ResourceState(f"nipap_address.lan.h{i:04}", "nipap", str(i),
                                                              {"ip": f"10.0.{i // 250}.{i % 250}"})
                 for i in range(2000)}
    backend.save(State(resources=resources))
    (tmp_path / "netsot.yaml").write_text("version: 1\nstate: {path: netsot.state.json}\n")
    script = (f"{sys.executable} -m engine --config netsot.yaml show | head -1; "
              "echo \"rc=${PIPESTATUS[0]}\" >&2")
    out = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.stdout.startswith("# state: file ") and out.stdout.count("\n") == 1
    assert out.stderr == "rc=141\n", out.stderr  # no "Internal error: BrokenPipeError", no traceback


def test_the_services_text_log_counts_what_a_run_did(env):  # noqa: F811
    result = env.run("serve", "--once")
    assert result.exit_code == 0, result.output
    assert re.search(r"run finished: planned 2, applied 2, held 0, conflicts 0, duration \d+\.\ds$",
                     result.stderr, re.M), result.stderr


def test_serve_and_import_take_the_lock_timeout_too(env):  # noqa: F811
    holder = _hold_lock(env.backend, 0.5)
    result = env.run("serve", "--once", "--lock-timeout", "10s")
    holder.join()
    assert result.exit_code == 0, result.output
    assert "run finished: planned 2, applied 2" in result.stderr
    holder = _hold_lock(env.backend, 1.0)
    try:
        waited = env.run("serve", "--once", "--lock-timeout", "200ms")
    finally:
        holder.join()
    assert "gave up after waiting 0.2 s (--lock-timeout)" in waited.stderr
    assert "--lock-timeout DURATION" in env.run("import", "--help").output

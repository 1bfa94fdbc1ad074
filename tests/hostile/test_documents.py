"""Every document netsot writes validates against its own schema, whatever names the systems hold.

Hostile guest and NIPAP host names (whitespace, control characters, Unicode separators, quotes,
brackets, Markdown, very long) go through the real engine: the providers' own read mapping turns
raw API data into observations, reconcile and the real providers plan, the policy runs, and the
plan document, the saved plan file, ``netsot show FILE`` and the state file after an apply are
checked. Only the systems' I/O is left out: apply goes to an in-memory system at the provider
boundary. ``test_hostile_lab_documents`` does the same over the simulators through the CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.model import Action, ApplyResult, Change, ChangeOutcome
from engine.apply.applier import apply_plan
from engine.cli.main import cli
from engine.config.load import load_config
from engine.plan.document import plan_document, render_json
from engine.plan.planner import make_plan, owned_from_state
from engine.plan.policy import apply_policy
from engine.plan.saved import load_plan, save_plan
from engine.report.render import render_markdown, render_text
from providers.edgemax import planner
from providers.edgemax.extract import extract
from providers.edgemax.provider import EdgemaxProvider
from providers.lab.homelab import NETWORKS, LabGuest, LabNic, mac_for, router_config_boot
from providers.nipap import mapping as nipap_mapping
from providers.nipap.provider import NipapProvider
from providers.proxmox import mapping as pve_mapping
from providers.proxmox.provider import Discovery, ProxmoxProvider
from providers.proxmox.sim.seed import guest_config
from providers.vyatta.parse import parse_boot
from schemas import validator
from state.backend import FileBackend
from tests.faults.harness import FaultLab
from tests.hostile.inert import assert_inert_markdown, assert_inert_text

# Names an attacker who can create a VM (or a NIPAP host) would try.
NASTY = [
    "sp ace", "tab\there", "new\nline", "cr\rreturn", "\r\nPlan: 0 to add, 0 to change, 0 to destroy.",
    "nul\x00byte", "esc\x1b[31mred", "del\x7f", "c1\x85next", "line\u2028sep", "para\u2029sep",
    "bidi\u202eevil", "zw\u200bsp", "ünïcödé", "日本語", 'evil"quote', "o'brien", "back\\slash",
    "[x](http://evil.example)", "](http://evil)", "<b>html</b>", "&amp;", "`id`", "$(reboot)",
    "**bold**", "|pipe|", "http://evil.example", "www.evil.example", "x" * 300, " lead", "trail ",
    "", "-dash", "a}b{c", "#hash", "~~strike~~", "!img",
]
NAMES = st.one_of(st.sampled_from(NASTY), st.text(min_size=0, max_size=80))

CONFIG = """\
version: 1
state: {path: netsot.state.json}
providers:
  proxmox: {host: 127.0.0.1, port: 9, user: root@pam, token_name: t, token_value: x,
            writeback_tag: netsot-static}
  nipap: {url: "http://127.0.0.1:9/XMLRPC", username: u, password: x, vrf: lab}
  edgemax: {host: 127.0.0.1, port: 9, username: ubnt, password: x, known_hosts: /dev/null}
networks:
"""
for _n in NETWORKS:
    CONFIG += (f"  - {{name: {_n.name}, prefix: {_n.prefix}, gateway: {_n.gateway}, domain: {_n.domain},\n"
               f"     dhcp_range: {{start: {_n.dhcp_start}, stop: {_n.dhcp_stop}}},\n"
               f"     proxmox: {{bridge: {_n.bridge}{f', vlan: {_n.vlan}' if _n.vlan else ''}}},\n"
               f"     edgemax: {{shared_network: {_n.shared_network}}}}}\n")
VRF = {"id": 1, "rt": "65000:1", "name": "lab"}


class AppliedSystem:
    """The provider boundary for apply: every change succeeds, as a system that accepted it would."""

    def __init__(self, name: str) -> None:
        self.name = name

    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        return ApplyResult(tuple(
            ChangeOutcome(c.address, "applied") if c.action is Action.DELETE
            else ChangeOutcome(c.address, "applied", provider_id=f"id-{c.address.name}", attributes=c.after)
            for c in changes
        ))


def _guests(names: Sequence[str]) -> Discovery:
    guests = []
    for i, name in enumerate([*names, "web01", "db01"]):
        vmid = 700 + i
        tags = ("netsot-static",) if i % 3 == 0 else ()
        lab = LabGuest(vmid, name, "qemu" if i % 2 else "lxc", "pve1", "running",
                       (LabNic("lan", mac_for(vmid)),), tags=tags)
        resource = {"vmid": vmid, "type": lab.type, "node": "pve1", "status": "running", "name": name}
        guests.append(pve_mapping.guest_nics(resource, guest_config(lab), None, None))
    return Discovery(guests=guests)


def _nipap_rows(names: Sequence[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"id": 1, "prefix": "192.168.10.0/24", "type": "assignment", "description": "LAN", "vrf_id": 1},
        {"id": 2, "prefix": "10.20.0.0/24", "type": "assignment", "description": "servers", "vrf_id": 1},
    ]
    for i, name in enumerate(names):
        rows.append({"id": 10 + i, "prefix": f"192.168.10.{60 + i}/32", "type": "host", "node": name,
                     "description": name, "vrf_id": 1,
                     "avps": {"mac": mac_for(900 + i).lower(), "note": name}})
    return rows


def _errors(schema: str, doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator(schema).iter_errors(doc)]


def check_documents(root: Path, guest_names: Sequence[str], host_names: Sequence[str]) -> None:
    config = load_config(_write(root / "netsot.yaml", CONFIG))
    settings_ = config.providers
    pve = ProxmoxProvider(config, settings_["proxmox"])
    providers = {"proxmox": pve, "nipap": NipapProvider(config, settings_["nipap"]),
                 "edgemax": EdgemaxProvider(config, settings_["edgemax"])}
    boot = extract(parse_boot(router_config_boot()))
    observations = {
        "proxmox": pve.observation(_guests(guest_names)),
        "nipap": nipap_mapping.observe(config, VRF, _nipap_rows(host_names)),
        "edgemax": planner.observation_from_config(boot, config, (), unsaved=""),
    }
    backend = FileBackend(root / "netsot.state.json")
    state = backend.load()
    plan = make_plan(config, providers, state, observations=observations)
    result = apply_policy(plan, config.policy, owned_from_state(state), force=False, service=False)
    doc = plan_document(result.plan, netsot_version="0.1.0")

    assert _errors("plan.v1", doc) == []
    assert json.loads(render_json(doc)) == doc  # what `plan --json` prints
    assert_inert_text(render_text(doc))
    assert_inert_text(re.sub(r"\x1b\[[0-9;]*m", "", render_text(doc, color=True)))  # our colours aside
    assert_inert_markdown(render_markdown(doc))
    saved = save_plan(root / "tfplan", doc)
    assert load_plan(saved) == doc
    shown = CliRunner().invoke(cli, ["--no-color", "show", str(saved)], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output

    systems = {name: AppliedSystem(name) for name in providers}
    report = apply_plan(result.plan, systems, backend, state=state)  # type: ignore[arg-type]
    assert not report.failed
    if backend.path.exists():
        assert _errors("state.v3", json.loads(backend.path.read_text(encoding="utf-8"))) == []


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", NASTY)
def test_each_nasty_name_makes_valid_documents(tmp_path: Path, name: str) -> None:
    check_documents(tmp_path, [name], [name])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(guests=st.lists(NAMES, min_size=1, max_size=4), hosts=st.lists(NAMES, max_size=3))
def test_hostile_names_make_valid_documents(tmp_path_factory: pytest.TempPathFactory,
                                            guests: list[str], hosts: list[str]) -> None:
    check_documents(tmp_path_factory.mktemp("docs"), guests, hosts)


@pytest.mark.integration
@pytest.mark.slow
def test_hostile_lab_documents(lab: FaultLab) -> None:
    """Over the simulators, through the CLI: `plan --json`, a saved plan, `show FILE`, `apply FILE`,
    the state file and the inventories all validate with hostile guest names in Proxmox."""
    from tests.hostile.test_injection import _seed_hostile

    _seed_hostile(lab)
    planned = lab.cli("plan", "--json")
    assert planned.code == 0, str(planned)
    assert _errors("plan.v1", json.loads(planned.stdout)) == []
    plan_file = lab.paths.root / "tfplan"
    assert lab.cli("plan", "--out", str(plan_file)).code == 0
    assert _errors("plan.v1", json.loads(plan_file.read_text(encoding="utf-8"))) == []
    for args in (("show", str(plan_file)), ("show", "--json", str(plan_file)), ("apply", str(plan_file))):
        result = lab.cli(*args)
        assert result.code == 0, str(result)
    assert _errors("state.v3", lab.state()) == []
    for system in ("proxmox", "edgemax"):
        inventory = lab.cli("inventory", system, "--json")
        assert inventory.code == 0, str(inventory)
        assert _errors(f"{system}.inventory", json.loads(inventory.stdout)) == []

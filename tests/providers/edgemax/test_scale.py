"""Scale of the pure parts: 20,000 lines parse, apply in the simulator's store and plan in near-linear time.

No timing assertion (the machine may be busy); the old quadratic code took minutes here, so a
regression shows as a suite that stops being quick. Ordering must stay Debian-version order.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.config import Config, Network
from core.model import Action, Binding, Change, Desired, frozen_map
from providers.base import PlanContext
from providers.edgemax.commands import apply_script
from providers.edgemax.extract import extract
from providers.edgemax.planner import SAVED, observation_from_config, plan_edgemax
from providers.edgemax.settings import EdgemaxNetwork
from providers.edgemax.sim.rules import validate_path
from providers.edgemax.sim.store import delete_path, diff, set_path
from providers.vyatta.parse import parse_commands, split_command_words
from providers.vyatta.render import render_commands
from providers.vyatta.tree import Kind, Tree, deb_version_key, make_node
from tests import addresses as A

N = 20_000
HOSTS = ("system", "static-host-mapping", "host-name")


def _host_lines(n: int) -> list[str]:
    base = "set system static-host-mapping host-name"
    return [f"{base} h{i}.lab.example inet 10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(n)]


@pytest.mark.slow
def test_twenty_thousand_lines_parse_and_apply_in_the_simulator_store() -> None:
    lines = _host_lines(N)
    parsed = parse_commands("\n".join(lines))
    names = [v.name for v in parsed.tag_values(HOSTS)]
    assert len(names) == N
    assert names == sorted(names, key=deb_version_key)
    assert names[:3] == ["h0.lab.example", "h1.lab.example", "h2.lab.example"]  # h2 < h10: versions
    assert names.index("h10.lab.example") > names.index("h9.lab.example")

    # the simulator's `set` path, one line at a time, in a shuffled order
    holder = SimpleNamespace(working=Tree.empty())
    shuffled = lines[:]
    random.Random(7).shuffle(shuffled)
    for line in shuffled:
        words = split_command_words(line[4:])
        validate_path(words, "Set")
        assert set_path(holder, words)  # type: ignore[arg-type]
    assert holder.working == parsed
    assert render_commands(holder.working) == render_commands(parsed)

    # `set` of an existing line is a no-op; delete and compare stay cheap on the big tag node
    assert not set_path(holder, split_command_words(lines[5][4:]))  # type: ignore[arg-type]
    before = holder.working
    assert delete_path(holder, [*HOSTS, "h12345.lab.example"]) is None  # type: ignore[arg-type]
    assert "-host-name h12345.lab.example {" in diff(before, holder.working)
    assert holder.working.node([*HOSTS, "h12345.lab.example"]) is None
    assert len(holder.working.tag_values(HOSTS)) == N - 1


def test_plan_and_apply_script_for_five_thousand_guests_is_20000_lines() -> None:
    lan = Network(name="lan", prefix="10.0.0.0/16", domain="lab.example",  # type: ignore[arg-type]
                  edgemax=EdgemaxNetwork(shared_network="LAN"))  # type: ignore[arg-type]
    config = Config(networks=(lan,))
    sn = "set service dhcp-server shared-network-name LAN subnet 10.0.0.0/16 lease 9"
    cfg = extract(parse_commands(sn))
    bindings = tuple(
        Binding("lan", f"g{i}", f"52:54:00:00:{i // 256:02x}:{i % 256:02x}", f"10.0.{i // 250}.{i % 250 + 1}",
                origin="config")
        for i in range(5000)
    )
    obs = observation_from_config(cfg, config, unsaved="")
    changes = plan_edgemax(config, Desired(bindings), cfg, obs, PlanContext())
    assert len(changes) == 10_000 and {c.action for c in changes} == {Action.CREATE}
    lines = apply_script(changes)
    assert len(lines) == 20_000 and len(set(lines)) == len(lines)
    assert lines == apply_script(list(reversed(changes)))  # deterministic


def test_apply_script_keeps_first_occurrence_order_and_skips_the_saved_pseudo_resource() -> None:
    attrs = {"host_name": "ab.lab.example", "inet": "192.168.1.5", "aliases": ["ab"]}
    create = Change(Action.CREATE, A.edgemax_host("ab.lab.example"), None, frozen_map(attrs))
    saved = Change(Action.UPDATE, SAVED, frozen_map({"saved": False}), frozen_map({"saved": True}))
    lines = apply_script([create, create, saved])
    assert lines == [
        "set system static-host-mapping host-name ab.lab.example alias ab",
        "set system static-host-mapping host-name ab.lab.example inet 192.168.1.5",
    ]
    assert apply_script([saved]) == []


@given(st.lists(st.text(alphabet="abAB019.-~", min_size=1, max_size=6), max_size=40, unique=True))
def test_siblings_stay_sorted_and_findable_whatever_the_insertion_order(names: list[str]) -> None:
    node = make_node("x", Kind.NODE)
    for name in names:
        node = node.with_child(make_node(name, Kind.FLAG))
    assert [c.name for c in node.children] == sorted(names, key=deb_version_key)
    assert all(node.child(n) is not None and node.child(n).name == n for n in names)  # type: ignore[union-attr]
    assert node.child("zzz-absent") is None
    for name in names[::2]:
        node = node.without_child(name)
    assert [c.name for c in node.children] == sorted(names[1::2], key=deb_version_key)
    assert node.without_child("zzz-absent") is node

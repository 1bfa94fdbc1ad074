"""Property (issue #13): for any real or generated router config, applying any netsot plan leaves
every path netsot does not own byte-for-byte as it was.

A config is one of the real fixtures plus generated static mappings and host names with what
netsot does not model (parameters with shell and ISC punctuation, ``disable``, IPv6 ``inet``
values, extra aliases) and hostile-but-valid names (capitals, ``_``, ``.``, leading ``-``). It is
imported, then every adopted binding is kept, readdressed, given a new MAC, renamed or dropped;
the real planner and policy plan it, ``commands.apply_script`` writes it, and the simulator's
router model (EdgeOS's set/delete and validation) applies it. Checked: no line is refused, no
commit check newly fails, nothing unowned changed (`show configuration commands` before/after),
and a second plan is empty.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import Config, Network
from core.model import Binding
from providers.edgemax.settings import EdgemaxNetwork
from providers.vyatta.parse import parse_any
from providers.vyatta.tree import Tree
from tests.providers.edgemax.conftest import CONFIG_FILES
from tests.providers.edgemax.lossless import (
    Router,
    adopt_all,
    apply_changes,
    assert_commits,
    assert_nothing_unowned_changed,
    owned_after,
    plan_for,
    run_lines,
)

GEN_SN, GEN_NET, GEN_DOMAIN = "NETSOT_GEN", ipaddress.IPv4Network("10.250.0.0/16"), "gen.example"
BASE = {p.name: parse_any(p.read_text(), p.name) for p in CONFIG_FILES}

MAPPING_NAME = st.from_regex(r"\A[-_a-zA-Z0-9.]{1,12}\Z")
HOST_LABEL = st.from_regex(r"\A[A-Za-z0-9](?:[-A-Za-z0-9]{0,8}[A-Za-z0-9])?\Z")
# values EdgeOS stores: no quotes, no newline; printable (shell and ISC punctuation included)
FREE_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126, blacklist_characters="'\""),
                    min_size=1, max_size=24)
IPV6 = st.integers(1, 0xFFFF).map(lambda i: f"2001:db8:{i:x}::{i % 250 + 1:x}")
MAC = st.integers(0, 2**40 - 1).map(lambda i: ":".join(f"{b:02x}" for b in (0x02, *i.to_bytes(5, "big"))))
ACTION = st.sampled_from(["keep", "readdress", "new-mac", "rename", "drop"])


def _fixture_networks(tree: Tree) -> list[Network]:
    """A network per shared network of the fixture whose first subnet is IPv4 (theirs to plan)."""
    out: list[Network] = []
    for i, sn in enumerate(tree.tag_values(["service", "dhcp-server", "shared-network-name"])):
        subnets = sn.child("subnet")
        first = subnets.children[0].name if subnets is not None and subnets.children else None
        try:
            prefix = ipaddress.IPv4Network(first or "", strict=False)
        except ValueError:
            continue
        if prefix.overlaps(GEN_NET) or any(prefix.overlaps(n.prefix) for n in out):
            continue
        out.append(Network(name=f"fx{i}", prefix=prefix, domain=f"fx{i}.example",  # type: ignore[arg-type]
                           edgemax=EdgemaxNetwork(shared_network=sn.name)))
    return out


@st.composite
def routers(draw: st.DrawFn) -> tuple[Router, str]:
    base_name = draw(st.sampled_from(sorted(BASE)))
    tree = BASE[base_name]
    networks = [*_fixture_networks(tree), Network(
        name="gen", prefix=GEN_NET, domain=GEN_DOMAIN,  # type: ignore[arg-type]
        edgemax=EdgemaxNetwork(shared_network=GEN_SN))]
    sn = f"service dhcp-server shared-network-name {GEN_SN} subnet {GEN_NET}"
    lines = [f"set {sn} default-router 10.250.0.1", f"set {sn} start 10.250.200.1 stop 10.250.200.200"]
    names = draw(st.lists(MAPPING_NAME, max_size=6, unique_by=str.lower))
    for i, name in enumerate(names):
        node = f"{sn} static-mapping {name}"
        lines += [f"set {node} ip-address 10.250.1.{i + 1}", f"set {node} mac-address '{draw(MAC)}'"]
        if draw(st.booleans()):
            lines.append(f"set {node} disable")
        lines += [f"set {node} static-mapping-parameters '{p}'"
                  for p in draw(st.lists(FREE_TEXT, max_size=2, unique=True))]
    for i, label in enumerate(draw(st.lists(HOST_LABEL, max_size=5, unique_by=str.lower))):
        host = f"system static-host-mapping host-name {label}.{GEN_DOMAIN}"
        lines.append(f"set {host} inet 10.250.2.{i + 1}")
        lines += [f"set {host} inet '{v}'" for v in draw(st.lists(IPV6, max_size=2, unique=True))]
        lines += [f"set {host} alias '{a}'" for a in draw(st.lists(FREE_TEXT, max_size=2, unique=True))]
    return Router(Config(networks=tuple(networks)), run_lines(tree, lines)), base_name


def _mutate(bindings: list[Binding], actions: list[str], networks: dict[str, Network]) -> list[Binding]:
    out: list[Binding] = []
    for i, (b, action) in enumerate(zip(bindings, actions, strict=False)):
        hosts = list(networks[b.network].prefix.hosts())
        if action == "drop":
            continue
        if action == "readdress":
            b = replace(b, ip=str(hosts[-(i + 2)]))  # the top of the prefix: nobody else's
        elif action == "new-mac" and b.mac is not None:
            b = replace(b, mac=f"02:ee:00:00:{i // 256:02x}:{i % 256:02x}")
        elif action == "rename" and "." not in b.hostname:
            b = replace(b, hostname=f"renamed{i}")
        out.append(b)
    return out + bindings[len(actions):]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routers(), st.lists(ACTION, max_size=24))
def test_any_plan_leaves_every_unowned_path_as_it_was(world: tuple[Router, str], actions: list[str]) -> None:
    router, _base = world
    owned, bindings, _plan = adopt_all(router)
    nets = {n.name: n for n in router.config.networks}
    wanted = _mutate(sorted(bindings, key=lambda b: (b.network, b.hostname)), actions, nets)
    runnable, held = plan_for(router, wanted, owned)
    tree = apply_changes(router.tree, runnable)  # a line EdgeOS refuses raises here
    assert_nothing_unowned_changed(router, tree, runnable)
    assert_commits(router.tree, tree)
    after = Router(router.config, tree)
    again, still = plan_for(after, wanted, owned_after(owned, runnable))
    assert again == [], [f"{c.action.value} {c.address}: {c.reason}" for c in again]
    assert {c.address for c in still} == {c.address for c in held}

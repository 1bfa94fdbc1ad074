"""`static-host-mapping … inet`: single- or multi-valued (edgeos.md §11.5), over real SSH.

A host name holds only an IPv6 ``inet``; netsot wants its IPv4 beside it. On a router not known to
keep several values netsot holds that as a ``commit_rule`` conflict, because a single-valued
router would silently replace the IPv6 value (shown on a single-valued simulator); with
``inet_values: multi``, or a router whose config already shows two values, it applies and the
router keeps both.
"""

from __future__ import annotations

from typing import Any

from core.model import Binding, Desired, ManagedResource, frozen_map
from engine.plan.foresight import hold_foreseen
from engine.plan.planner import context_for
from providers.edgemax.planner import host_attrs, mapping_attrs
from providers.edgemax.provider import EdgemaxProvider
from providers.edgemax.sim.server import SimHandle
from tests import addresses as A
from tests.providers.edgemax import sim_fixtures as fx
from tests.providers.edgemax.sim_fixtures import LAB_BOOT, edgemax_settings, lab_config

client_key, host_key_dir, make_sim, sim = fx.client_key, fx.host_key_dir, fx.make_sim, fx.sim

V6_ONLY = LAB_BOOT.replace("inet 192.168.1.10", "inet 2001:db8::10")
NAS = Binding("lan", "nas", "00:11:32:aa:bb:cc", "192.168.1.10", origin="import")
HOST = A.edgemax_host("nas.lab.example")
MAP = A.edgemax_dhcp_mapping("LAN", "nas")
OWNED = {
    HOST: ManagedResource(HOST, None, frozen_map(host_attrs("nas.lab.example", None, [])), origin="import"),
    MAP: ManagedResource(MAP, None, frozen_map(mapping_attrs("LAN", "192.168.1.0/24", "nas", "192.168.1.10",
                                                             "00:11:32:aa:bb:cc")), origin="import"),
}
INET = "system static-host-mapping host-name nas.lab.example inet"


def plan(router: SimHandle, **settings: Any) -> tuple[EdgemaxProvider, list, Desired]:
    s = edgemax_settings(router, **settings)
    config = lab_config(s)
    prov = EdgemaxProvider(config, s)
    observed = prov.read()
    changes = prov.plan(Desired((NAS,)), observed, context_for(config, OWNED))
    going, desired = hold_foreseen({"edgemax": prov}, changes, Desired())
    return prov, going, desired


def inet_lines(router: SimHandle) -> list[str]:
    return [ln for ln in router.active_commands().splitlines() if INET in ln]


def test_an_ipv4_inet_beside_an_ipv6_one_is_held_on_a_router_not_known_to_keep_both(make_sim: Any) -> None:
    router = make_sim(V6_ONLY)
    prov, going, desired = plan(router)
    try:
        (conflict,) = desired.conflicts
        assert conflict.kind.value == "commit_rule" and conflict.blocked == (HOST,)
        assert "silently replaces the first" in conflict.reason
        assert conflict.fix == (
            "remove inet 2001:db8::10 from host name nas.lab.example on the router, or, if this router keeps "
            "several inet values, set providers.edgemax.inet_values: multi")
        assert HOST not in {c.address for c in going}
    finally:
        prov.close()
    assert inet_lines(router) == [f"set {INET} '2001:db8::10'"]


def test_with_inet_values_multi_it_applies_and_the_router_keeps_both(make_sim: Any) -> None:
    router = make_sim(V6_ONLY)
    prov, going, desired = plan(router, inet_values="multi")
    try:
        assert desired.conflicts == ()
        result = prov.apply([c for c in going if c.address == HOST])
    finally:
        prov.close()
    assert [o.status for o in result.outcomes] == ["applied"]
    assert inet_lines(router) == [f"set {INET} '2001:db8::10'", f"set {INET} 192.168.1.10"]


def test_a_router_showing_two_values_is_known_multi(make_sim: Any) -> None:
    two = V6_ONLY.replace("host-name nas.lab.example {", "host-name other.lab.example {\n"
                          "            inet 192.168.1.77\n            inet 2001:db8::77\n        }\n"
                          "        host-name nas.lab.example {")
    router = make_sim(two)
    prov, going, desired = plan(router)
    prov.close()
    assert desired.conflicts == () and HOST in {c.address for c in going}


def test_what_the_hold_prevents_a_single_valued_router_would_replace_but_compare_stops_it(
        make_sim: Any) -> None:
    router = make_sim(V6_ONLY, inet_multi=False)
    prov, going, _ = plan(router, inet_values="multi")  # a wrong setting: the router is single-valued
    try:
        result = prov.apply([c for c in going if c.address == HOST])
    finally:
        prov.close()
    # the router accepted every line and would have replaced the IPv6 value silently; the check of
    # `compare` against the intended change (which keeps it) refuses to commit and discards
    assert [o.status for o in result.outcomes] == ["failed"]
    assert "not the intended one" in (result.outcomes[0].error or "")
    assert "2001:db8::10" in (result.outcomes[0].error or "")
    assert inet_lines(router) == [f"set {INET} '2001:db8::10'"] and router.log.commits == 0

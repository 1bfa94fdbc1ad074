"""``lost._Sources``: an owned delete's source fact, found from indexes, is the one a scan finds."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import split_key
from core.ipv4 import ip_int
from core.model import Action, Address, Change, Fact, Observation, frozen_map
from engine.plan.lost import _Sources
from engine.plan.units import mac_in

OBJECTS = [Address("nipap_address", f"lan.h{n}") for n in range(4)]
MACS = ["52:54:00:00:00:01", "52:54:00:00:00:02", None]
IPS = ["10.0.0.1", "10.0.0.2", "10.0.0.3", None]


def scanned(c: Change, origin: str, observations: Mapping[str, Observation]) -> tuple[str, Fact] | None:
    """The rule as ``lost`` stated it before the indexes: a scan of the origin's facts per delete."""
    before = c.before or {}
    mac = mac_in(before)
    ips = {v for v in before.values() if isinstance(v, str) and ip_int(v) is not None}
    deps = set(c.depends_on)
    for key in sorted(observations):
        if split_key(key)[0] != origin:
            continue
        facts = [f for f in observations[key].facts if f.address is not None and not f.owned]
        for test in (lambda f: f.address in deps, lambda f: mac is not None and f.mac == mac,
                     lambda f: f.ip in ips):
            hit = next((f for f in facts if test(f)), None)
            if hit is not None:
                return key, hit
    return None


facts = st.builds(
    lambda n, address, mac, ip, owned: Fact("nipap", f"nipap {n}", "lan", f"h{n}", mac, ip, address=address,
                                             owned=owned),
    st.integers(0, 99), st.none() | st.sampled_from(OBJECTS), st.sampled_from(MACS), st.sampled_from(IPS),
    st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(facts, max_size=8), st.lists(facts, max_size=4),
       st.lists(st.sampled_from(OBJECTS), max_size=2), st.sampled_from(MACS), st.sampled_from(IPS))
def test_the_indexed_search_finds_the_fact_the_scan_finds(first: list[Fact], second: list[Fact],
                                                          deps: list[Address], mac: str | None,
                                                          ip: str | None) -> None:
    observations = {"nipap": Observation("nipap", facts=tuple(first)),
                    "nipap.b": Observation("nipap", facts=tuple(second))}
    before = {"mac_address": mac, "ip_address": ip}
    delete = Change(Action.DELETE, Address("edgemax_dhcp_mapping", "LAN.x"),
                    frozen_map({k: v for k, v in before.items() if v}), None, depends_on=tuple(deps))
    sources = _Sources(observations)
    for origin in ("nipap", "proxmox", ""):
        assert sources.find(delete, origin) == (scanned(delete, origin, observations) if origin else None)

"""NipapProvider against the simulator (and a real nipapd with NETSOT_TEST_NIPAP_URL), via pynipap."""

from __future__ import annotations

import ipaddress
import socket
import time
from typing import Any

import pytest

from core.config import Network
from core.errors import PlanError, ProviderAuthError, ProviderError, ProviderTimeout, ProviderUnavailable
from core.model import Action, Binding, Desired, ManagedResource
from engine.plan.planner import context_for
from providers.base import PlanContext, Provider
from providers.nipap.provider import NipapProvider
from tests import addresses as A
from tests.providers.nipap.conftest import Target

pytestmark = pytest.mark.integration


def ip_in(target: Target, n: int) -> str:
    return str(ipaddress.ip_network(target.network).network_address + n)


def binding(
    target: Target,
    name: str,
    n: int,
    mac_n: int | None = None,
    vmid: int | None = None,
    description: str = "",
) -> Binding:
    mac = f"02:00:00:00:00:{(mac_n if mac_n is not None else n):02x}"
    ref = A.proxmox_ref("pve1", vmid, "qemu", "net0") if vmid else None
    return Binding(
        "lan",
        name,
        mac,
        ip_in(target, n),
        origin="proxmox" if vmid else "config",
        origin_refs=(ref,) if ref else (),
        description=description,
    )


def make(target: Target, **overrides: object) -> NipapProvider:
    settings = target.settings(**overrides)
    return NipapProvider(target.config(settings), settings)


def test_is_a_provider(target: Target) -> None:
    assert isinstance(make(target), Provider)


def test_read_observes_prefix_and_hosts(target: Target) -> None:
    obs = make(target).read()
    prefix = obs.resources[A.nipap_prefix("lan")]
    assert prefix.attributes["type"] == "assignment"
    printer = obs.resources[A.nipap_address("lan", "printer")]
    assert printer.attributes["ip"] == ip_in(target, 5)
    assert printer.owned_marker is False
    fact = next(f for f in obs.facts if f.hostname == "printer")
    assert (fact.source, fact.origin, fact.network, fact.ip) == ("nipap", False, "lan", ip_in(target, 5))
    assert fact.extra["owned"] is False and fact.extra["prefix_id"] == int(printer.provider_id)


def test_create_update_remove_cycle(target: Target) -> None:
    provider = make(target)
    desired = Desired(
        bindings=(
            binding(target, "web", 20, vmid=101),
            binding(target, "db", 21, vmid=102),
            binding(target, "nas", 22, description="the NAS"),
        )
    )
    changes = provider.plan(desired, provider.read(), context_for(provider.config))
    assert [(c.action, str(c.address)) for c in changes] == [
        (Action.CREATE, "nipap_address.lan.db"),
        (Action.CREATE, "nipap_address.lan.nas"),
        (Action.CREATE, "nipap_address.lan.web"),
    ]
    result = provider.apply(changes)
    assert [o.status for o in result.outcomes] == ["applied"] * 3, result.outcomes
    assert all(o.provider_id and o.provider_id.isdigit() for o in result.outcomes)
    hosts = {h["node"]: h for h in target.hosts()}
    assert set(hosts) == {"printer", "web", "db", "nas"}
    web = hosts["web"]
    assert web["prefix"] == f"{ip_in(target, 20)}/32"
    assert web["authoritative_source"] == "netsot"
    assert web["avps"] == {
        "managed-by": "netsot",
        "mac": "02:00:00:00:00:14",
        "proxmox-vmid": "101",
        "netsot-binding": "lan.web",
    }
    assert web["description"] == "proxmox pve1/101 net0" and hosts["nas"]["description"] == "the NAS"

    # idempotent: a re-plan right after apply is empty
    assert provider.plan(desired, provider.read(), context_for(provider.config)) == []

    # rename db → database (same MAC keeps the IP), edit nas' description, drop web
    desired2 = Desired(
        bindings=(
            binding(target, "database", 21, vmid=102),
            binding(target, "nas", 22, description="the big NAS"),
        )
    )
    obs = provider.read()
    changes = provider.plan(desired2, obs, context_for(provider.config))
    summary = {(c.action, str(c.address)): c for c in changes}
    assert set(summary) == {
        (Action.UPDATE, "nipap_address.lan.database"),
        (Action.UPDATE, "nipap_address.lan.nas"),
        (Action.DELETE, "nipap_address.lan.web"),
    }
    moved = summary[(Action.UPDATE, "nipap_address.lan.database")]
    assert moved.moved_from == A.nipap_address("lan", "db")
    assert moved.after["ip"] == ip_in(target, 21)
    assert summary[(Action.UPDATE, "nipap_address.lan.nas")].changed_attributes() == ("description",)
    result = provider.apply(changes)
    assert [o.status for o in result.outcomes] == ["applied"] * 3, result
    hosts = {h["node"]: h for h in target.hosts()}
    assert set(hosts) == {"printer", "database", "nas"}
    assert hosts["database"]["prefix"] == f"{ip_in(target, 21)}/32"
    assert hosts["database"]["avps"]["netsot-binding"] == "lan.database"
    assert hosts["nas"]["description"] == "the big NAS"
    assert hosts["printer"]["description"] == "office printer"  # never touched
    assert provider.plan(desired2, provider.read(), context_for(provider.config)) == []

    # everything unbound: only owned hosts are deleted
    changes = provider.plan(Desired(), provider.read(), context_for(provider.config))
    assert {(c.action, str(c.address)) for c in changes} == {
        (Action.DELETE, "nipap_address.lan.database"),
        (Action.DELETE, "nipap_address.lan.nas"),
    }
    provider.apply(changes)
    assert [h["node"] for h in target.hosts()] == ["printer"]


def test_unowned_and_blocked_are_never_touched(target: Target) -> None:
    provider = make(target)
    obs = provider.read()
    # a binding named like the unowned printer but with other data → no change
    other = Binding("lan", "printer", "02:00:00:00:00:99", ip_in(target, 5), description="mine now")
    assert provider.plan(Desired(bindings=(other,)), obs, context_for(provider.config)) == []
    # owned via state (ctx.owned) even without the marker → deletable; blocked → not
    addr = A.nipap_address("lan", "printer")
    res = obs.resources[addr]
    owned = PlanContext(owned={addr: ManagedResource(addr, res.provider_id, res.attributes)})
    changes = provider.plan(Desired(), obs, owned)
    assert [(c.action, c.address) for c in changes] == [(Action.DELETE, addr)]
    from core.model import Conflict, ConflictKind

    blocked = Desired(conflicts=(Conflict(ConflictKind.IP_CLAIMED_TWICE, "x", ("a", "b"), "lan", (addr,)),))
    assert provider.plan(blocked, obs, owned) == []


def test_wrong_password_is_a_clear_authentication_error(target: Target) -> None:
    provider = make(target, password="definitely-wrong-pw")
    with pytest.raises(ProviderAuthError) as info:
        provider.read()
    text = str(info.value)
    assert f"authentication failed for user {target.username}" in text
    assert "definitely-wrong-pw" not in text


def test_address_taken_between_plan_and_apply(target: Target) -> None:
    provider = make(target)
    desired = Desired(bindings=tuple(binding(target, f"vm{i}", 30 + i) for i in range(4)))
    changes = provider.plan(desired, provider.read(), context_for(provider.config))
    assert len(changes) == 4
    target.add_host(ip_in(target, 32), "intruder")  # someone takes vm2's address meanwhile
    result = provider.apply(changes)
    by_addr = {str(o.address): o for o in result.outcomes}
    failed = by_addr["nipap_address.lan.vm2"]
    assert failed.status == "failed"
    assert failed.error == (
        f"nipap: address {ip_in(target, 32)} was taken in NIPAP since the plan "
        "(by node intruder); run plan again to pick another address"
    )
    assert [by_addr[f"nipap_address.lan.vm{i}"].status for i in (0, 1, 3)] == ["applied"] * 3
    hosts = target.hosts()
    assert sorted(h["node"] for h in hosts) == ["intruder", "printer", "vm0", "vm1", "vm3"]
    assert len({h["prefix"] for h in hosts}) == len(hosts)  # no duplicates


# ---------------------------------------------------------------------- simulator-only scenarios
def test_read_only_user_gets_a_clear_authorisation_error(simtarget: Target) -> None:
    provider = make(simtarget, username="reader", password="pw2")
    obs = provider.read()  # reading is allowed
    desired = Desired(bindings=(binding(simtarget, "web", 20),))
    changes = provider.plan(desired, obs, context_for(provider.config))
    result = provider.apply(changes)
    (outcome,) = result.outcomes
    assert outcome.status == "failed"
    assert "user reader is not authorised to add" in outcome.error
    assert "read-only user 'reader' is not authorized to run function 'add_prefix'" in outcome.error
    assert "pw2" not in outcome.error


def test_server_down_is_unavailable_quickly() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    from core.config import Config
    from providers.nipap.settings import NipapSettings

    settings = NipapSettings(
        url=f"http://127.0.0.1:{port}/XMLRPC", username="netsot", password="s3cret-pw", timeout=5
    )
    provider = NipapProvider(
        Config(networks=(Network(name="lan", prefix="192.168.1.0/24"),), providers={"nipap": settings}),
        settings,
    )
    start = time.monotonic()
    with pytest.raises(ProviderUnavailable) as info:
        provider.read()
    assert time.monotonic() - start < 1.0
    assert "cannot reach http://127.0.0.1" in str(info.value) and "s3cret-pw" not in str(info.value)


def test_hung_server_times_out_on_reads_and_pynipap_writes(simtarget: Target) -> None:
    provider = make(simtarget, timeout=0.5)
    simtarget.sim.knobs.hang_call(1, seconds=3)
    start = time.monotonic()
    with pytest.raises(ProviderTimeout) as info:
        provider.read()
    elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 1.5, elapsed
    assert "within 0.5 s" in str(info.value)
    obs = provider.read()
    desired = Desired(bindings=(binding(simtarget, "web", 20),))
    changes = provider.plan(desired, obs, context_for(provider.config))
    simtarget.sim.knobs.hang_call(1, seconds=3)  # the pynipap add_prefix call
    start = time.monotonic()
    (outcome,) = provider.apply(changes).outcomes
    assert time.monotonic() - start < 1.5
    assert outcome.status == "failed" and "no answer" in outcome.error


def test_injected_1400_is_retried_while_the_address_is_free(simtarget: Target) -> None:
    provider = make(simtarget, retries=5)
    provider.backoff = 0.001
    changes = provider.plan(
        Desired(bindings=(binding(simtarget, "web", 20),)), provider.read(), PlanContext()
    )
    sim = simtarget.sim
    sim.knobs.inject_duplicates(2, manual=True)
    sim.clear_log()
    (outcome,) = provider.apply(changes).outcomes
    assert outcome.status == "applied"
    assert sim.counts["add_prefix"] == 3 and sim.counts["list_prefix"] == 2
    assert [h["node"] for h in simtarget.hosts()].count("web") == 1


def test_retries_are_bounded(simtarget: Target) -> None:
    provider = make(simtarget, retries=2)
    provider.backoff = 0.001
    changes = provider.plan(
        Desired(bindings=(binding(simtarget, "web", 20),)), provider.read(), PlanContext()
    )
    simtarget.sim.knobs.inject_duplicates(10, manual=True)
    (outcome,) = provider.apply(changes).outcomes
    assert outcome.status == "failed" and "after 3 attempts" in outcome.error


def test_backend_failure_fails_only_that_change(simtarget: Target) -> None:
    provider = make(simtarget, max_workers=1)
    changes = provider.plan(
        Desired(bindings=(binding(simtarget, "a", 20), binding(simtarget, "b", 21))),
        provider.read(),
        PlanContext(),
    )
    simtarget.sim.knobs.fail_call(1)
    outcomes = provider.apply(changes).outcomes
    assert sorted(o.status for o in outcomes) == ["applied", "failed"]
    assert any("Backend unable to connect to database" in (o.error or "") for o in outcomes)


def test_missing_prefix_needs_manage_prefixes(simtarget: Target) -> None:
    nets = (Network(name="lan", prefix="192.168.1.0/24"), Network(name="iot", prefix="192.168.50.0/24"))
    settings = simtarget.settings()
    provider = NipapProvider(simtarget.config(settings, nets), settings)
    obs = provider.read()
    assert any("192.168.50.0/24 does not exist in VRF 65000:1 (lab)" in w for w in obs.warnings)
    iot = Binding("iot", "cam", "02:00:00:00:00:aa", "192.168.50.10")
    with pytest.raises(PlanError, match="manage_prefixes"):
        provider.plan(Desired(bindings=(iot,)), obs, context_for(provider.config))
    settings = simtarget.settings(manage_prefixes=True)
    provider = NipapProvider(simtarget.config(settings, nets), settings)
    changes = provider.plan(Desired(bindings=(iot,)), provider.read(), context_for(provider.config))
    prefix, host = sorted(changes, key=lambda c: c.address.type, reverse=True)
    assert prefix.address == A.nipap_prefix("iot") and prefix.action is Action.CREATE
    assert host.depends_on == (A.nipap_prefix("iot"),)
    assert [o.status for o in provider.apply([prefix]).outcomes] == ["applied"]
    assert [o.status for o in provider.apply([host]).outcomes] == ["applied"]
    assert provider.plan(Desired(bindings=(iot,)), provider.read(), context_for(provider.config)) == []


def test_unknown_vrf_is_a_clear_error(simtarget: Target) -> None:
    with pytest.raises(ProviderError, match=r"VRF 'nope' .* does not exist in NIPAP"):
        make(simtarget, vrf="nope").read()


def test_mis_cased_vrf_name_is_refused_with_a_hint(simtarget: Target) -> None:
    """Real nipapd matches VRF names exactly: 'LAB' is not 'lab', and the error says so."""
    with pytest.raises(ProviderError, match=r"VRF 'LAB' .* does not exist .*did you mean 'lab'\?"):
        make(simtarget, vrf="LAB").read()
    assert make(simtarget, vrf="lab").read().resources


def test_call_counts_for_100_hosts(simtarget: Target) -> None:
    provider = make(simtarget)
    sim = simtarget.sim
    desired = Desired(bindings=tuple(binding(simtarget, f"vm{i}", 20 + i, vmid=200 + i) for i in range(100)))
    sim.clear_log()
    obs = provider.read()
    assert sum(sim.counts.values()) == 2  # list_vrf + one search_prefix
    changes = provider.plan(desired, obs, context_for(provider.config))
    sim.clear_log()
    outcomes = provider.apply(changes).outcomes
    assert {o.status for o in outcomes} == {"applied"}
    assert sim.counts["add_prefix"] == 100
    assert sim.counts["list_vrf"] <= provider.settings.max_workers  # pynipap's refresh, cached per run
    sim.clear_log()
    assert provider.plan(desired, provider.read(), context_for(provider.config)) == []
    assert sum(sim.counts.values()) == 2


def _hand_made(target: Target, n: int, node: str | None, **attr: Any) -> str:
    """A host made in NIPAP by someone else (its web UI), with tags / avps as given."""
    ip = ip_in(target, n)
    target.rpc("add_prefix", attr={"prefix": f"{ip}/32", "type": "host", "vrf_id": target.vrf_id,
                                   "description": "made by hand", **({"node": node} if node else {}), **attr})
    return ip


def test_hand_made_hosts_are_bindings_when_tagged_and_named_with_a_mac(target: Target) -> None:
    """#15: NIPAP is where bindings are born. Safe default: only tagged hosts (a tag on the host, or
    on its prefix, inherited) with a node name and a MAC avp; every other one says why not."""
    tagged = _hand_made(target, 40, "camera", tags=["netsot"], avps={"mac": "0C:8B:95:00:11:22"})
    plain = _hand_made(target, 41, "laptop", avps={"mac": "0c:8b:95:00:11:23"})
    nameless = _hand_made(target, 42, None, tags=["netsot"], avps={"mac": "0c:8b:95:00:11:24"})
    macless = _hand_made(target, 43, "switch", tags=["netsot"])
    obs = make(target).read()
    facts = {f.ip: f for f in obs.facts}
    camera = facts[tagged]
    assert (camera.origin, camera.mac, camera.hostname) == (True, "0c:8b:95:00:11:22", "camera")
    assert camera.origin_ref is not None and camera.origin_ref.label == camera.ref == (
        f"nipap {tagged} (id {obs.resources[camera.address].provider_id})")
    assert camera.description == "made by hand"
    reasons = {f.ip: obs.resources[f.address].unmanaged_reason for f in obs.facts if f.address}
    assert not facts[plain].origin and reasons[plain] == "is not tagged netsot"
    assert "tag the host (or its prefix) netsot" in obs.resources[facts[plain].address].adopt_hint
    assert not facts[nameless].origin and "no node name" in reasons[nameless]
    assert not facts[macless].origin and reasons[macless] == "has no MAC (avp mac), so it cannot be a binding"
    everything = make(target, bindings="all").read()
    assert {f.ip for f in everything.facts if f.origin} >= {tagged, plain}
    assert not [f for f in make(target, bindings="none").read().facts if f.origin]


def test_a_tag_on_the_prefix_makes_its_hosts_bindings(simtarget: Target) -> None:
    """Tags are inherited in NIPAP (inherited_tags): tagging a prefix opts in every host of it."""
    ip = _hand_made(simtarget, 44, "printer2", avps={"mac": "0c:8b:95:00:11:25"})
    (lan,) = [p for p in simtarget.rpc("list_prefix", prefix={"vrf_id": simtarget.vrf_id})
              if p["prefix"] == simtarget.network]
    simtarget.rpc("edit_prefix", prefix={"id": lan["id"]},
                  attr={"vrf_id": simtarget.vrf_id, "tags": ["netsot"]})
    obs = make(simtarget).read()
    assert next(f for f in obs.facts if f.ip == ip).origin is True

"""ProxmoxProvider read / plan / apply against the simulator (real proxmoxer, HTTPS, TLS verified)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from core.errors import ProviderError, ProviderTimeout
from core.model import (
    Action,
    Binding,
    Conflict,
    ConflictKind,
    Desired,
    Fact,
    Observation,
    OriginRef,
    to_jsonable,
)
from engine.plan.planner import context_for
from providers.proxmox.provider import ProxmoxProvider
from providers.proxmox.sim.server import SimHandle
from tests import addresses as A
from tests.providers.proxmox.conftest import make_config

pytestmark = pytest.mark.integration


def provider(h: SimHandle, **kw: Any) -> ProxmoxProvider:
    config = make_config(h, **kw)
    assert config.providers.get("proxmox") is not None
    return ProxmoxProvider(config, config.providers.get("proxmox"))


def facts_by_ref(obs: Observation) -> dict[str, Fact]:
    return {f.ref: f for f in obs.facts}


def kinds(h: SimHandle) -> Counter[str]:
    """Requests by kind: resources / config / agent / lxc-interfaces."""
    out: Counter[str] = Counter()
    for e in h.log:
        if e.path == "/cluster/resources":
            out["resources"] += 1
        elif e.path.endswith("/config"):
            out["config"] += 1
        elif e.path.endswith("/network-get-interfaces"):
            out["agent"] += 1
        elif e.path.endswith("/interfaces"):
            out["lxc"] += 1
        else:
            out["other"] += 1
    return out


def test_read_three_node_cluster(sim: SimHandle) -> None:
    obs = provider(sim).read()
    f = facts_by_ref(obs)
    assert set(f) == {
        "proxmox pve1/101 net0",
        "proxmox pve1/102 net0",
        "proxmox pve1/102 net1",
        "proxmox pve1/103 net0",
        "proxmox pve1/104 net0",
        "proxmox pve1/105 net0",
        "proxmox pve2/201 net0",
        "proxmox pve2/202 net0",
        "proxmox pve2/203 net0",
        "proxmox pve2/204 net0",
    }  # fmt: skip  (102 net2 is on an unmapped bridge; 9000 is a template; pve3 is offline)
    web = f["proxmox pve1/101 net0"]
    assert (web.source, web.origin, web.network, web.hostname, web.mac, web.ip) == (
        "proxmox",
        True,
        "lan",
        "web01",
        "bc:24:11:00:01:01",
        "192.168.1.10",
    )
    assert dict(web.extra) == {
        "node": "pve1",
        "vmid": 101,
        "type": "qemu",
        "nic": "net0",
        "tags": ("netsot-static", "prod"),
        "status": "running",
        "ip_mode": "static",
        "configured_ip": "192.168.1.10/24",
        "gateway": "192.168.1.1",
        "agent_ips": ("192.168.1.10",),  # tagged for write-back: its agent is always asked
        "writeback": True,
        "digest": sim.config(101)["digest"],
    }
    assert web.address == A.proxmox_ipconfig("pve1", 101, "net0")
    db0, db1 = f["proxmox pve1/102 net0"], f["proxmox pve1/102 net1"]
    assert (db0.hostname, db0.network, db0.ip, db0.extra["ip_mode"], db0.extra["agent_ips"]) == (
        "db01",
        "lan",
        None,
        "dhcp",
        ("192.168.1.57",),
    )
    # VLAN 20 → iot; agent MAC in upper case still matched; 169.254/16 dropped
    assert (db1.network, db1.ip, db1.extra["agent_ips"], db1.extra["writeback"]) == (
        "iot",
        "10.20.0.5",
        ("10.20.0.5",),
        False,
    )
    ct = f["proxmox pve2/201 net0"]
    assert (ct.extra["type"], ct.ip, ct.extra["gateway"], ct.extra["agent_ips"]) == (
        "lxc",
        "192.168.1.20",
        "192.168.1.1",
        (),  # its config gives the address: its interfaces are not asked
    )
    assert (
        f["proxmox pve2/202 net0"].network == "iot" and f["proxmox pve2/202 net0"].extra["ip_mode"] == "dhcp"
    )
    assert f["proxmox pve2/203 net0"].extra["agent_ips"] == ("192.168.1.30",)  # Windows answer
    assert f["proxmox pve1/105 net0"].extra["agent_ips"] == ()  # agent not running: no data, no warning
    assert f["proxmox pve2/204 net0"].extra["status"] == "unknown"  # no RRD data yet
    # the offline node is a warning naming it; everything else was read
    assert (
        len(obs.warnings) == 1 and "pve3" in obs.warnings[0] and "595 Connection refused" in obs.warnings[0]
    )
    assert obs.data["unread_nodes"] == ("pve3",)
    assert {u["vmid"] for u in obs.data["unread"]} == {301, 302}
    # resources: only opted-in guests (tag netsot-static), one per NIC, digest as provider id
    assert set(obs.resources) == {
        A.proxmox_ipconfig("pve1", 101, "net0"),
        A.proxmox_ipconfig("pve2", 201, "net0"),
    }
    res = obs.resources[A.proxmox_ipconfig("pve2", 201, "net0")]
    assert dict(res.attributes) == {
        "node": "pve2",
        "vmid": 201,
        "type": "lxc",
        "nic": "net0",
        "ip": "192.168.1.20/24",
        "gateway": "192.168.1.1",
    }
    assert res.owned_marker and res.provider_id == sim.config(201)["digest"]
    assert [g["vmid"] for g in obs.data["guests"]] == [101, 102, 103, 104, 105, 201, 202, 203, 204]


def test_read_request_count_is_1_plus_configs_plus_interfaces(sim: SimHandle) -> None:
    sim.set_node_online("pve3", True)
    obs = provider(sim).read()
    assert obs.warnings == ()
    # 11 non-template guests → 11 configs; agent for running QEMU with agent enabled whose config does
    # not give every address: 102, 105, 203, and 101, tagged for write-back (only its agent says whether
    # it runs with its config's address); CT 201's config is static: not asked; nothing for stopped
    # guests, 104 (no agent), 204 (status unknown)
    assert kinds(sim) == Counter({"resources": 1, "config": 11, "agent": 4})
    assert len(sim.log) == 16
    failed = [(e.path, e.status) for e in sim.log if e.status != 200]
    assert failed == [("/nodes/pve1/qemu/105/agent/network-get-interfaces", 500)]  # agent not running


def test_offline_node_request_count(sim: SimHandle) -> None:
    provider(sim).read()
    k = kinds(sim)
    pve3 = [e for e in sim.log if e.path.startswith("/nodes/pve3/")]
    assert all(e.status == 595 for e in pve3) and 1 <= len(pve3) <= 2  # later pve3 guests are skipped
    assert (k["resources"], k["config"] - len(pve3), k["agent"], k["lxc"]) == (1, 9, 4, 0)


def test_hung_node_is_a_warning_and_other_nodes_are_read(sim: SimHandle) -> None:
    sim.set_node_online("pve3", True)
    sim.knobs.hang_nodes = {"pve2"}
    sim.knobs.hang_seconds = 10
    t0 = time.monotonic()
    obs = provider(sim, timeout=0.3).read()
    assert time.monotonic() - t0 < 5
    assert len(obs.warnings) == 1 and "node pve2" in obs.warnings[0] and "within 0.3 s" in obs.warnings[0]
    assert {f.extra["node"] for f in obs.facts} == {"pve1", "pve3"}
    assert obs.data["unread_nodes"] == ("pve2",)


def test_slow_agent_is_a_warning_the_guest_is_still_read(sim: SimHandle) -> None:
    sim.set_guest(102, agent_delay=1.0)  # a DHCP guest: only its agent knows the address
    obs = provider(sim, agent_timeout=0.2).read()
    db = facts_by_ref(obs)["proxmox pve1/102 net0"]
    assert db.hostname == "db01" and db.extra["agent_ips"] == ()
    assert any("pve1/102" in w and "within 0.2 s" in w for w in obs.warnings)


def test_failing_cluster_resources_is_fatal(sim: SimHandle) -> None:
    sim.knobs.fail_nth = 1
    with pytest.raises(ProviderError, match="GET /cluster/resources failed: 500"):
        provider(sim).read()
    sim.knobs.hang_paths = {"/cluster/resources"}
    with pytest.raises(ProviderTimeout):
        provider(sim, timeout=0.3).read()


def test_garbage_config_is_a_warning_naming_guest_and_key(sim: SimHandle) -> None:
    sim.set_config(104, "net0", "virtio=BC:24:11:00:01:04,bridge=vmbr0,tag=99999")
    obs = provider(sim).read()
    assert any("guest pve1/104 (noagent)" in w and "net0.tag" in w for w in obs.warnings)
    assert {"node": "pve1", "vmid": 104} in [{k: u[k] for k in ("node", "vmid")} for u in obs.data["unread"]]


def _guest_ids(n: int) -> list[dict[str, Any]]:
    return [
        {
            "vmid": 1000 + i,
            "type": "qemu",
            "node": f"pve{1 + i % 3}",
            "status": "running",
            "config": {"name": f"vm{i}", "agent": "1", "net0": f"virtio=BC:24:11:00:10:{i:02X},bridge=vmbr0"},
            "agent": [
                {
                    "name": "eth0",
                    "hardware-address": f"bc:24:11:00:10:{i:02x}",
                    "ip-addresses": [
                        {"ip-address-type": "ipv4", "ip-address": f"192.168.1.{100 + i}", "prefix": 24}
                    ],
                }
            ],
        }
        for i in range(n)
    ]


@pytest.mark.slow
def test_concurrency_bounded_pool(start_sim: Any) -> None:
    seed = {"nodes": [{"name": "pve1"}, {"name": "pve2"}, {"name": "pve3"}], "guests": _guest_ids(40)}
    h = start_sim(seed)
    h.knobs.delay = 0.02
    timings = {}
    for workers in (1, 8):
        h.clear_log()
        t0 = time.monotonic()
        obs = provider(h, max_workers=workers).read()
        timings[workers] = time.monotonic() - t0
        assert len(obs.facts) == 40 and len(h.log) == 81  # 1 + 40 configs + 40 agent calls
        if workers == 1:
            assert h.max_inflight == 1
        else:
            assert 1 < h.max_inflight <= 8
    print(f"40 guests, 20 ms/request: 1 worker {timings[1]:.2f} s, 8 workers {timings[8]:.2f} s")


def test_a_token_revoked_during_the_read_fails_it_and_the_guests_not_asked_yet_are_not_asked(
        start_sim: Any) -> None:
    seed = {"nodes": [{"name": "pve1"}, {"name": "pve2"}, {"name": "pve3"}], "guests": _guest_ids(60)}
    h = start_sim(seed)
    h.knobs.delay = 0.01
    p = provider(h, max_workers=2)
    listed = p.client.cluster_resources_vms

    def list_then_revoke() -> Any:
        answer = listed()
        h.sim.tokens.clear()  # revoked right after the guests were listed
        return answer

    p.client.cluster_resources_vms = list_then_revoke  # type: ignore[method-assign]
    with pytest.raises(ProviderError, match="authentication failed"):
        p.read()
    refused = [e for e in h.log if e.status == 401]
    assert refused and len(refused) <= 4  # the 2 workers' requests in flight, not one per guest


def test_the_read_workers_connect_while_the_guest_list_is_asked_for(start_sim: Any) -> None:
    seed = {"nodes": [{"name": "pve1"}, {"name": "pve2"}, {"name": "pve3"}], "guests": _guest_ids(20)}
    h = start_sim(seed)
    h.knobs.hang_paths = {"/cluster/resources"}  # the guest list takes this long: every worker has
    h.knobs.hang_seconds = 1.0  # its connection by the time it comes
    p = provider(h, max_workers=4)
    listed = p.client.cluster_resources_vms
    seen: list[int] = []

    def list_and_count() -> Any:
        answer = listed()
        seen.append(h.connections)
        return answer

    p.client.cluster_resources_vms = list_and_count  # type: ignore[method-assign]
    obs = p.read()
    assert len(obs.facts) == 20
    assert seen == [4]  # one per worker (one of them asked for the list), before any guest was asked for
    assert h.connections == 4  # and none more after


# ------------------------------------------------------------------------ plan / apply


def binding(ref: OriginRef, ip: str, network: str = "lan", hostname: str = "web01") -> Binding:
    return Binding(network=network, hostname=hostname, mac=None, ip=ip, origin="proxmox",
                   origin_refs=(ref,))


def web_ref(writeback: bool = True) -> OriginRef:
    return A.proxmox_ref("pve1", 101, "qemu", "net0", writeback, "192.168.1.10/24", "192.168.1.1")


def ct_ref() -> OriginRef:
    return A.proxmox_ref("pve2", 201, "lxc", "net0", True, "192.168.1.20/24", "192.168.1.1")


def test_plan_writeback(sim: SimHandle) -> None:
    p = provider(sim)
    obs = p.read()
    desired = Desired(
        bindings=(
            binding(web_ref(), "192.168.1.50"),
            binding(ct_ref(), "192.168.1.20", hostname="ct01"),  # already right: no change
            binding(
                A.proxmox_ref("pve1", 104, "qemu", "net0", False), "192.168.1.77", hostname="noagent"
            ),  # no opt-in
        )
    )
    (change,) = p.plan(desired, obs, context_for(p.config))
    assert change.action is Action.UPDATE and change.address == A.proxmox_ipconfig("pve1", 101, "net0")
    assert change.before["ip"] == "192.168.1.10/24" and change.after["ip"] == "192.168.1.50/24"  # type: ignore[index]
    assert change.after["gateway"] == "192.168.1.1"  # type: ignore[index]
    assert change.depends_on == (A.nipap_address("lan", "web01"),)
    assert change.reason.startswith("cloud-init ipconfig0 follows NIPAP")
    assert change.provider_id == sim.config(101)["digest"]
    conflict = Conflict(ConflictKind.IP_CLAIMED_TWICE, "x", ("a",), "lan",
                        blocked=(A.proxmox_ipconfig("pve1", 101, "net0"),))
    assert p.plan(Desired(bindings=desired.bindings, conflicts=(conflict,)), obs, context_for(p.config)) == []


def test_apply_writeback_qemu_and_lxc(sim: SimHandle) -> None:
    p = provider(sim)
    obs = p.read()
    digest_101 = sim.config(101)["digest"]
    changes = p.plan(
        Desired(
            bindings=(
                binding(web_ref(), "192.168.1.50"),
                binding(ct_ref(), "192.168.1.60", hostname="ct01"),
            )
        ),
        obs,
        context_for(p.config),
    )
    assert len(changes) == 2
    sim.clear_log()
    result = p.apply(changes)
    assert [o.status for o in result.outcomes] == ["applied", "applied"]
    cfg = sim.config(101)
    assert cfg["ipconfig0"] == "ip=192.168.1.50/24,gw=192.168.1.1,ip6=auto"  # ip6 and order kept
    assert cfg["net0"] == "virtio=BC:24:11:00:01:01,bridge=vmbr0,firewall=1"  # untouched
    assert sim.config(201)["net0"] == (
        "name=eth0,bridge=vmbr0,firewall=1,gw=192.168.1.1,hwaddr=BC:24:11:00:02:01,ip=192.168.1.60/24,"
        "ip6=auto,type=veth"
    )
    puts = [e for e in sim.log if e.method == "PUT"]
    # the running VM's cloud-init drive is regenerated after its config is written
    assert [e.path for e in puts if "qemu" in e.path] == ["/nodes/pve1/qemu/101/config",
                                                           "/nodes/pve1/qemu/101/cloudinit"]
    assert {e.path for e in puts} == {"/nodes/pve1/qemu/101/config", "/nodes/pve1/qemu/101/cloudinit",
                                      "/nodes/pve2/lxc/201/config"}
    assert next(e for e in puts if "qemu" in e.path).params == {
        "ipconfig0": "ip=192.168.1.50/24,gw=192.168.1.1,ip6=auto",
        "digest": digest_101,
    }
    # one PUT + one GET (fresh digest) per guest, + the drive's PUT; configs from the read were reused
    assert Counter(e.method for e in sim.log) == Counter({"PUT": 3, "GET": 2})
    out = {str(o.address): o for o in result.outcomes}
    assert out["proxmox_ipconfig.pve1.101.net0"].provider_id == sim.config(101)["digest"]
    # the running VM keeps its old address until restarted: recorded for the state, said in the log
    record = out["proxmox_ipconfig.pve1.101.net0"].attributes["pending_restart"]  # type: ignore[index]
    assert record["answers_at"] == "192.168.1.10" and record["since"].endswith("Z")
    assert any(line.startswith("note: pve1/101 (web01): pending restart") for line in result.log)
    # the running container took its address at once: nothing pending
    assert "pending_restart" not in out["proxmox_ipconfig.pve2.201.net0"].attributes  # type: ignore[operator]
    assert "note: pve2/201 (ct01): the running container took 192.168.1.60/24 at once (Proxmox changed it " \
        "live)" in result.log
    ct = next(f for f in p.read().facts if f.ref.endswith("pve2/201 net0"))
    assert ct.ip == "192.168.1.60" and not ct.waiting
    # a second read + plan shows nothing left to do
    again = Desired(bindings=(binding(web_ref(), "192.168.1.50"),))
    assert p.plan(again, p.read(), context_for(p.config)) == []


def test_apply_digest_mismatch_fails_that_change_only(sim: SimHandle) -> None:
    p = provider(sim)
    obs = p.read()
    changes = p.plan(
        Desired(
            bindings=(
                binding(web_ref(), "192.168.1.50"),
                binding(ct_ref(), "192.168.1.60", hostname="ct01"),
            )
        ),
        obs,
        context_for(p.config),
    )
    sim.set_config(101, "description", "edited by hand after the plan")
    result = p.apply(changes)
    out = {str(o.address): o for o in result.outcomes}
    failed = out["proxmox_ipconfig.pve1.101.net0"]
    assert failed.status == "failed" and "changed underneath us" in (failed.error or "")
    assert "checksum mismatch" in (failed.error or "") and "run plan again" in (failed.error or "")
    assert out["proxmox_ipconfig.pve2.201.net0"].status == "applied"
    assert sim.config(101)["ipconfig0"] == "ip=192.168.1.10/24,gw=192.168.1.1,ip6=auto"


def test_apply_two_nics_of_one_guest_in_one_put(sim: SimHandle) -> None:
    sim.set_config(102, "tags", "netsot-static")
    sim.set_config(102, "ide2", "local-lvm:vm-102-cloudinit,media=cdrom")
    p = provider(sim)
    obs = p.read()
    ref0 = A.proxmox_ref("pve1", 102, "qemu", "net0", True, "dhcp", None)
    ref1 = A.proxmox_ref("pve1", 102, "qemu", "net1", True, "10.20.0.5/24", "10.20.0.1")
    changes = p.plan(
        Desired(
            bindings=(
                binding(ref0, "192.168.1.57", hostname="db01"),
                binding(ref1, "10.20.0.6", network="iot", hostname="db01"),
            )
        ),
        obs,
        context_for(p.config),
    )
    assert len(changes) == 2 and "follows NIPAP: dhcp -> 192.168.1.57/24" in changes[0].reason
    sim.clear_log()
    assert [o.status for o in p.apply(changes).outcomes] == ["applied", "applied"]
    assert [e.path for e in sim.log if e.method == "PUT"] == ["/nodes/pve1/qemu/102/config",
                                                               "/nodes/pve1/qemu/102/cloudinit"]
    cfg = sim.config(102)
    assert cfg["ipconfig0"] == "ip=192.168.1.57/24,gw=192.168.1.1"
    assert cfg["ipconfig1"] == "gw=10.20.0.1,ip=10.20.0.6/24"  # key order as the last writer left it


def test_read_of_the_served_fixtures(start_sim: Any) -> None:
    from providers.proxmox.sim.server import seed_from_fixtures

    h = start_sim(seed_from_fixtures())
    obs = provider(h).read()
    by_vmid = {g["vmid"]: g for g in to_jsonable(obs.data["guests"])}
    assert set(by_vmid) == {100, 101, 102, 103, 104, 111}  # 9001 is a template
    assert by_vmid[111]["nics"][0]["ip"] == "10.100.1.174/24"
    assert by_vmid[100]["nics"][0] | {"agent_ips": []} == {
        "id": "net0",
        "mac": "ff:ff:ff:ff:ff:ff",
        "bridge": "vmbr0",
        "vlan": None,
        "ip": "10.1.1.3/24",
        "gateway": "10.1.1.1",
        "agent_ips": [],
    }
    assert by_vmid[102]["nics"][0]["agent_ips"] == ["10.1.2.50"]  # Windows answer, fe80::%6 dropped
    assert by_vmid[104]["nics"][0]["agent_ips"] == []  # 200 with result.error
    assert [n["bridge"] for n in by_vmid[103]["nics"]] == ["vmbr0", "vmbr1"]
    assert obs.warnings == ()
    # 1 resources + 6 configs + agent of the 4 running agent-enabled VMs (111 has no agent key); the
    # LXC's config gives its address, so its interfaces are not asked
    assert kinds(h) == Counter({"resources": 1, "config": 6, "agent": 4})


def _agent_paths(h: SimHandle, since: int) -> list[str]:
    ends = ("/network-get-interfaces", "/interfaces")
    return sorted(e.path for e in h.log[since:] if e.path.endswith(ends))


def test_interfaces_are_asked_only_where_the_config_does_not_give_the_address(sim: SimHandle) -> None:
    sim.set_node_online("pve3", True)
    provider(sim).read()
    # 101 is tagged for write-back: only its agent says whether it runs with its config's address
    assert "/nodes/pve1/qemu/101/agent/network-get-interfaces" in _agent_paths(sim, 0)
    sim.set_guest(101, config={k: v for k, v in sim.config(101).items() if k != "tags"})
    mark = len(sim.log)
    provider(sim).read()
    asked = _agent_paths(sim, mark)
    assert "/nodes/pve1/qemu/102/agent/network-get-interfaces" in asked  # ipconfig0 ip=dhcp
    assert "/nodes/pve1/qemu/101/agent/network-get-interfaces" not in asked  # ip=192.168.1.10/24
    assert "/nodes/pve2/lxc/201/interfaces" not in asked  # net0 ip=192.168.1.20/24
    # the same guest with its static address removed is asked again
    sim.set_guest(101, config={**sim.config(101), "ipconfig0": "ip=dhcp"})
    mark = len(sim.log)
    provider(sim).read()
    assert "/nodes/pve1/qemu/101/agent/network-get-interfaces" in _agent_paths(sim, mark)


def test_interface_answers_are_kept_by_config_digest_between_reads(sim: SimHandle) -> None:
    config = make_config(sim)
    first = ProxmoxProvider(config, config.providers.get("proxmox")).read()
    # `serve` opens its providers anew every cycle, with the same config
    prov = ProxmoxProvider(config, config.providers.get("proxmox"))
    calls = prov.interface_calls
    mark = len(sim.log)
    again = prov.read()  # a second `serve` cycle: nothing changed, no interface call is made …
    # … except for 105, whose agent is not running: there is no answer to keep, it is asked again, and
    # 101, tagged for write-back, whose agent is always asked (it says whether the VM took its address)
    assert _agent_paths(sim, mark) == ["/nodes/pve1/qemu/101/agent/network-get-interfaces",
                                       "/nodes/pve1/qemu/105/agent/network-get-interfaces"]
    assert prov.interface_calls == calls + 2
    assert facts_by_ref(again)["proxmox pve1/102 net0"].extra["agent_ips"] == \
        facts_by_ref(first)["proxmox pve1/102 net0"].extra["agent_ips"] == ("192.168.1.57",)
    # a changed config (new digest) invalidates the kept answer of that guest only
    prov.client.set_qemu_config("pve1", 102, None, description="moved")
    mark = len(sim.log)
    prov.read()
    assert _agent_paths(sim, mark) == ["/nodes/pve1/qemu/101/agent/network-get-interfaces",
                                       "/nodes/pve1/qemu/102/agent/network-get-interfaces",
                                       "/nodes/pve1/qemu/105/agent/network-get-interfaces"]
    # a guest that stopped is asked afresh once it runs again (a new boot, maybe a new address)
    sim.set_guest(102, status="stopped")
    prov.read()
    sim.set_guest(102, status="running")
    mark = len(sim.log)
    prov.read()
    assert _agent_paths(sim, mark) == ["/nodes/pve1/qemu/101/agent/network-get-interfaces",
                                       "/nodes/pve1/qemu/102/agent/network-get-interfaces",
                                       "/nodes/pve1/qemu/105/agent/network-get-interfaces"]


def test_each_guests_observation_is_made_by_its_read_worker_and_only_for_that_guest(sim: SimHandle) -> None:
    """#24: the read workers make each guest's facts while other requests are in flight; the
    observation reuses them only for the very guest read (a guest from elsewhere, e.g. the watch's
    re-read or a changed copy, gets its own), and says the same as made afresh."""
    import dataclasses

    p = provider(sim)
    found = p.discover()
    assert {(g.node, g.vmid) for g in found.guests} == set(p._views)
    assert all(p._views[(g.node, g.vmid)][0] is g for g in found.guests)
    obs = p.observation(found)
    fresh = provider(sim)
    assert to_jsonable(fresh.observation(found).facts) == to_jsonable(obs.facts)  # no views: made here
    guest = next(g for g in found.guests if g.nics)
    renamed = dataclasses.replace(guest, name="renamed-guest")
    changed = dataclasses.replace(found, guests=[renamed if g is guest else g for g in found.guests])
    names = {f.hostname for f in p.observation(changed).facts}
    assert "renamed-guest" in names and guest.name.lower() not in names

"""A written-back address and a guest's cloud-init drive (issue 19, part 1), through the real clients:
proxmoxer against the HTTPS simulator (the drive, pending vs booted cloud-init, regenerate, reboot) and
the provider (detection, ``pending restart`` recorded and recalled, ``writeback.restart``)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from core.model import Desired, ManagedResource, Observation, frozen_map
from engine.plan.planner import context_for
from providers.proxmox import pending
from providers.proxmox.provider import ProxmoxProvider
from providers.proxmox.sim.server import SimHandle
from tests import addresses as A
from tests.providers.proxmox.conftest import make_config
from tests.providers.proxmox.test_provider import binding

pytestmark = pytest.mark.integration


def api(h: SimHandle) -> ProxmoxAPI:
    user, name, value = h.token
    return ProxmoxAPI("127.0.0.1", port=h.port, user=user, token_name=name, token_value=value,
                      verify_ssl=str(h.ca_path), timeout=5)


def provider(h: SimHandle, **kw: Any) -> ProxmoxProvider:
    config = make_config(h, **kw)
    return ProxmoxProvider(config, config.providers.get("proxmox"))


def web_ref() -> Any:
    return A.proxmox_ref("pve1", 101, "qemu", "net0", True, "192.168.1.10/24", "192.168.1.1")


def fact_of(obs: Observation, vmid: int) -> Any:
    return next(f for f in obs.facts if f.ref.endswith(f"/{vmid} net0"))


# ----------------------------------------------------------------------------- the simulator


def test_a_cloudinit_drive_is_allocated_and_only_one_is_allowed(sim: SimHandle) -> None:
    pve = api(sim)
    pve.nodes("pve1").qemu.post(vmid=150, name="ci01", net0="virtio,bridge=vmbr0", ide2="local-lvm:cloudinit",
                                ipconfig0="ip=dhcp", start=1)
    cfg = pve.nodes("pve1").qemu(150).config.get()
    assert cfg["ide2"] == "local-lvm:vm-150-cloudinit,media=cdrom"
    with pytest.raises(ResourceException) as err:
        pve.nodes("pve1").qemu(150).config.put(sata0="local-lvm:cloudinit")
    assert (err.value.status_code, err.value.content) == (
        500, "sata0 - cloud-init drive is already attached at 'ide2'")


def test_cloudinit_pending_lists_ci_keys_but_not_a_modified_ipconfig(sim: SimHandle) -> None:
    pve = api(sim)
    vm = pve.nodes("pve1").qemu(101)
    assert {"key": "ipconfig0", "value": "ip=192.168.1.10/24,gw=192.168.1.1,ip6=auto"} in vm.cloudinit.get()
    vm.config.put(ipconfig0="ip=192.168.1.50/24,gw=192.168.1.1", nameserver="192.168.1.1")
    items = {i["key"]: i for i in vm.cloudinit.get()}
    # PVE's gap: a modified ipconfigN looks in sync; an added key is listed as pending
    assert items["ipconfig0"] == {"key": "ipconfig0", "value": "ip=192.168.1.50/24,gw=192.168.1.1"}
    assert items["nameserver"] == {"key": "nameserver", "pending": "192.168.1.1"}
    guest = sim.cluster.guests[101]
    assert guest["ci_drive"]["ipconfig0"].startswith("ip=192.168.1.10/24")  # the drive still has the old
    assert vm.cloudinit.put() is None  # regenerate
    assert guest["ci_drive"]["ipconfig0"] == "ip=192.168.1.50/24,gw=192.168.1.1"
    assert guest["ci_active"]["ipconfig0"].startswith("ip=192.168.1.10/24")  # the guest has not booted
    with pytest.raises(ResourceException) as err:
        vm.cloudinit.put(force=1)
    assert err.value.status_code == 400 and "force" in err.value.errors


def test_only_a_start_or_an_api_reboot_boots_the_guest_from_the_new_drive(sim: SimHandle) -> None:
    pve = api(sim)
    vm = pve.nodes("pve1").qemu(101)
    vm.config.put(ipconfig0="ip=192.168.1.50/24,gw=192.168.1.1")
    guest = sim.cluster.guests[101]
    boot = guest["boot"]
    upid = vm.status.reboot.post(timeout=30)
    assert ":qmreboot:101:" in upid
    assert pve.nodes("pve1").tasks(upid).status.get()["exitstatus"] == "OK"
    assert guest["boot"] == boot + 1
    assert guest["ci_active"]["ipconfig0"] == guest["ci_drive"]["ipconfig0"] == \
        "ip=192.168.1.50/24,gw=192.168.1.1"
    assert vm.status.current.get()["uptime"] <= 1
    vm.status.shutdown.post()
    with pytest.raises(ResourceException) as err:
        vm.status.reboot.post()
    assert (err.value.status_code, err.value.content) == (500, "VM 101 not running")
    with pytest.raises(ResourceException) as err:
        vm.status.reboot.post(timeout="soon")
    assert err.value.errors == {"timeout": "type check ('integer') failed - got 'soon'"}


def test_a_running_container_takes_a_new_ip_at_once(sim: SimHandle) -> None:
    pve = api(sim)
    ct = pve.nodes("pve2").lxc(201)
    net0 = ct.config.get()["net0"].replace("ip=192.168.1.20/24", "ip=192.168.1.21/24")
    ct.config.put(net0=net0)
    eth0 = next(i for i in ct.interfaces.get() if i["name"] == "eth0")
    assert eth0["inet"] == "192.168.1.21/24"


# ----------------------------------------------------------------------------- the provider


def test_a_tagged_vm_without_a_cloudinit_drive_is_not_written_and_the_plan_says_why(sim: SimHandle) -> None:
    sim.set_config(101, "ide2", None)
    obs = provider(sim).read()
    assert A.proxmox_ipconfig("pve1", 101, "net0") not in obs.resources
    fact = fact_of(obs, 101)
    assert not fact.ip_writable and fact.extra["writeback"] is False
    (note,) = fact.notes
    assert "is tagged netsot-static but has no cloud-init drive" in note
    assert ". to fix: add a drive (`qm set 101 --ide2 <storage>:cloudinit`)" in note


def _written(p: ProxmoxProvider, sim: SimHandle, **kw: Any) -> tuple[Any, Any]:
    obs = p.read()
    changes = p.plan(Desired(bindings=(binding(web_ref(), "192.168.1.50"),)), obs, context_for(p.config))
    (change,) = changes
    result = p.apply(changes)
    return change, result


def _owned(outcome: Any) -> dict[Any, ManagedResource]:
    return {outcome.address: ManagedResource(outcome.address, outcome.provider_id,
                                              frozen_map(dict(outcome.attributes)))}


def test_without_an_agent_the_state_keeps_the_vm_pending_until_it_restarts(sim: SimHandle) -> None:
    sim.set_config(101, "agent", None)  # no agent: nothing reports the address the guest has
    p = provider(sim)
    change, result = _written(p, sim)
    assert "the VM runs: netsot regenerates its cloud-init drive, and it keeps 192.168.1.10" in change.reason
    (outcome,) = result.outcomes
    assert outcome.attributes[pending.RECORD]["answers_at"] == "192.168.1.10"
    owned = _owned(outcome)
    fact = fact_of(p.recall(p.read(), owned), 101)
    assert (fact.answers_at, fact.waiting) == ("192.168.1.10", "pending restart")
    assert any("pending restart — Proxmox holds ipconfig0 ip=192.168.1.50/24" in n for n in fact.notes)
    # without the state's record nothing says so: Proxmox's API cannot tell
    assert not fact_of(p.read(), 101).waiting
    time.sleep(1.2)  # Proxmox's uptime has a one-second resolution
    api(sim).nodes("pve1").qemu(101).status.reboot.post()
    fact = fact_of(p.recall(p.read(), owned), 101)
    assert (fact.answers_at, fact.waiting) == ("192.168.1.50", "")  # it booted from the rebuilt drive


def test_with_an_agent_the_old_address_it_reports_is_pending_restart(sim: SimHandle) -> None:
    p = provider(sim)
    _change, result = _written(p, sim)
    fact = fact_of(p.read(), 101)  # the agent still reports .10; the config holds .50
    assert (fact.answers_at, fact.waiting) == ("192.168.1.10", "pending restart")
    agent = sim.cluster.guests[101]["agent"]
    eth0 = next(i for i in agent if i["name"] == "eth0")
    eth0["ip-addresses"][0]["ip-address"] = "192.168.1.50"
    sim.set_guest(101, agent=agent)
    fact = fact_of(p.recall(p.read(), _owned(result.outcomes[0])), 101)
    assert fact.answers_at == "192.168.1.50" and not fact.waiting


def test_restart_now_reboots_through_the_api(sim: SimHandle) -> None:
    p = provider(sim, writeback={"restart": "now", "restart_timeout": 30})
    boot = sim.cluster.guests[101]["boot"]
    change, result = _written(p, sim)
    assert "then netsot restarts web01 through Proxmox (writeback.restart: now, up to 30 s)" in change.reason
    assert "regenerate its SSH host keys" in change.reason
    assert pending.RECORD not in result.outcomes[0].attributes
    assert [e.path for e in sim.log if e.method == "POST"] == ["/nodes/pve1/qemu/101/status/reboot"]
    assert sim.cluster.guests[101]["boot"] == boot + 1
    assert sim.cluster.guests[101]["ci_active"]["ipconfig0"].startswith("ip=192.168.1.50/24")
    assert any(x.startswith("note: pve1/101 (web01) restarted through Proxmox") for x in result.log)


def test_when_stopped_writes_nothing_to_a_running_vm(sim: SimHandle) -> None:
    p = provider(sim, writeback={"restart": "when-stopped"})
    desired = Desired(bindings=(binding(web_ref(), "192.168.1.50"),))
    assert p.plan(desired, p.read(), context_for(p.config)) == []
    sim.set_guest(101, status="stopped")
    (change,) = p.plan(desired, p.read(), context_for(p.config))
    assert "the VM runs" not in change.reason


def test_a_binding_points_its_name_where_the_guest_answers(sim: SimHandle) -> None:
    from engine.reconcile.bindings import reconcile

    p = provider(sim)
    _written(p, sim)
    obs = p.read()
    bindings = reconcile(p.config, {"proxmox": obs}, {}).bindings
    web = next(b for b in bindings if b.hostname == "web01")
    assert (web.ip, web.answers_at, web.dns_ip, web.waiting) == (
        "192.168.1.50", "192.168.1.10", "192.168.1.10", "pending restart")


def test_verify_reports_a_vm_pending_restart_as_ok_and_a_wrong_address_as_a_failure(sim: SimHandle) -> None:
    from engine.apply import verify
    from engine.reconcile.bindings import reconcile
    from state.model import ResourceState, State

    sim.set_config(101, "agent", None)
    p = provider(sim)
    _change, result = _written(p, sim)
    owned = _owned(result.outcomes[0])
    obs = {"proxmox": p.recall(p.read(), owned)}
    nipap = A.nipap_address("lan", "web01")
    state = State().with_resource(ResourceState(str(nipap), "nipap", "1", {"ip": "192.168.1.50"}))
    web = next(b for b in reconcile(p.config, obs, owned).bindings if b.hostname == "web01")
    web = replace(web, mac="bc:24:11:00:01:01")
    (check,) = verify.in_use(p.config, state, obs, [web])
    assert check.ok and check.detail == (
        "pending restart: nothing reports its address (it answered at 192.168.1.10 when the change was "
        "written); nipap_address.lan.web01 planned 192.168.1.50, which it takes when restarted")
    assert "1 still waiting (not a failure)" in verify.render_table([check])
    # a guest waiting for another address than the planned one is a failure
    sim.set_config(101, "agent", "1")
    (check,) = verify.in_use(p.config, state, {"proxmox": p.read()}, [replace(web, ip="192.168.1.77")])
    assert not check.ok


def test_import_of_a_tagged_vm_without_a_drive_says_what_is_missing(sim: SimHandle) -> None:
    from providers.proxmox.importone import import_one

    sim.set_config(101, "ide2", None)
    p = provider(sim)
    address = A.proxmox_ipconfig("pve1", 101, "net0")
    item = import_one(p.config, "proxmox", p.read(), address, "pve1/101/net0", {}, (), None)
    assert item.status == "conflict"
    assert "has no cloud-init drive, so an address netsot writes would never reach it" in item.reason

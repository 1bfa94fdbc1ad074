"""The Proxmox watch against the simulator (real proxmoxer over HTTPS): the task log and the guest list
name what changed, and only those guests are read again into the last full read."""

from __future__ import annotations

from typing import Any

import pytest

from core.model import Observation
from providers.proxmox.provider import ProxmoxProvider
from providers.proxmox.sim.server import SimHandle
from providers.proxmox.watch import ProxmoxWatch
from tests.providers.proxmox.conftest import make_config
from tests.providers.proxmox.test_simulator import call

pytestmark = pytest.mark.integration


def _provider(h: SimHandle) -> ProxmoxProvider:
    config = make_config(h)
    return ProxmoxProvider(config, config.providers.get("proxmox"))


def _started(sim: SimHandle) -> tuple[ProxmoxWatch, Observation]:
    """A watch with its baseline poll, then a full read (what serve does at its start)."""
    watch = ProxmoxWatch(_provider(sim))
    assert watch.poll() == []
    reader = _provider(sim)
    observation = reader.read()
    watch.full_read(reader, observation)
    return watch, observation


def _requests(sim: SimHandle, mark: int) -> list[str]:
    return [f"{e.method} {e.path}" for e in sim.log[mark:]]


def _vmids(observation: Observation) -> set[int]:
    return {int(g["vmid"]) for g in observation.data["guests"]}


def _facts(observation: Observation, vmid: int) -> list[Any]:
    return [f for f in observation.facts if f.extra["vmid"] == vmid]


def test_a_quiet_cluster_costs_two_requests_per_poll_and_no_refresh(sim: SimHandle) -> None:
    watch, observation = _started(sim)
    mark = len(sim.log)
    assert watch.poll() == []
    assert _requests(sim, mark) == ["GET /cluster/tasks", "GET /cluster/resources"]
    assert watch.refresh(observation) is None
    assert len(sim.log) == mark + 2


def test_a_created_guest_is_read_and_only_it(sim: SimHandle) -> None:
    watch, observation = _started(sim)
    made = call(sim, "POST", "/nodes/pve1/qemu", data={"vmid": "160", "name": "new01", "start": "1",
                                                       "net0": "virtio=BC:24:11:00:16:00,bridge=vmbr0"})
    assert made.status_code == 200
    notes = watch.poll()
    assert notes == ["proxmox: guest 160 listed in /cluster/resources",
                     "proxmox: task qmcreate of guest 160 on pve1"]
    mark = len(sim.log)
    fresh = watch.refresh(observation)
    assert fresh is not None
    assert _requests(sim, mark) == ["GET /nodes/pve1/qemu/160/config"]  # no agent: not enabled
    assert _vmids(fresh) == _vmids(observation) | {160}
    assert [f.mac for f in _facts(fresh, 160)] == ["bc:24:11:00:16:00"]
    for vmid in _vmids(observation):  # every other guest exactly as the full read saw it
        assert _facts(fresh, vmid) == _facts(observation, vmid)
    assert watch.poll() == [] and watch.refresh(fresh) is None  # taken into account: no second event


def test_a_renamed_guest_without_a_task_shows_in_the_list(sim: SimHandle) -> None:
    watch, observation = _started(sim)
    digest = call(sim, "GET", "/nodes/pve1/qemu/102/config").json()["data"]["digest"]
    assert call(sim, "PUT", "/nodes/pve1/qemu/102/config", data={"digest": digest, "name": "db02"}).ok
    assert watch.poll() == ["proxmox: guest 102 changed in /cluster/resources"]
    mark = len(sim.log)
    fresh = watch.refresh(observation)
    assert fresh is not None
    assert [r for r in _requests(sim, mark) if r.endswith("/config")] == ["GET /nodes/pve1/qemu/102/config"]
    assert {f.hostname for f in _facts(fresh, 102)} == {"db02"}


def test_a_nic_edit_by_put_makes_no_task_and_waits_for_the_full_read(sim: SimHandle) -> None:
    """proxmox.md §3.12: a synchronous PUT …/config creates no task; the list does not show a MAC."""
    watch, _observation = _started(sim)
    cfg = call(sim, "GET", "/nodes/pve1/qemu/102/config").json()["data"]
    net0 = cfg["net0"].split(",", 1)
    assert call(sim, "PUT", "/nodes/pve1/qemu/102/config",
                data={"digest": cfg["digest"], "net0": f"virtio=BC:24:11:00:99:99,{net0[1]}"}).ok
    assert watch.poll() == []


def test_a_destroyed_guest_leaves_the_cache(sim: SimHandle) -> None:
    watch, observation = _started(sim)
    assert call(sim, "POST", "/nodes/pve1/qemu/101/status/stop").ok
    assert call(sim, "DELETE", "/nodes/pve1/qemu/101").ok
    notes = watch.poll()
    assert "proxmox: guest 101 gone in /cluster/resources" in notes
    assert "proxmox: task qmdestroy of guest 101 on pve1" in notes
    mark = len(sim.log)
    fresh = watch.refresh(observation)
    assert fresh is not None and len(sim.log) == mark  # nothing to read: it is gone
    assert _vmids(fresh) == _vmids(observation) - {101}
    assert not _facts(fresh, 101) and not [a for a in fresh.resources if ".101." in str(a)]


def test_a_locked_guest_is_read_once_its_lock_is_gone(sim: SimHandle) -> None:
    watch, observation = _started(sim)
    sim.set_guest(102, lock="backup")
    assert watch.poll() == []
    assert watch.refresh(observation) is None
    sim.set_guest(102, lock=None)
    assert watch.poll() == ["proxmox: guest 102 changed in /cluster/resources"]
    assert watch.refresh(observation) is not None


def test_a_guest_that_could_not_be_read_is_read_again_next_time(sim: SimHandle) -> None:
    watch, observation = _started(sim)
    assert call(sim, "POST", "/nodes/pve1/qemu/101/status/stop").ok
    assert watch.poll()
    sim.knobs.fail_nth = 1  # its config read answers 500 once
    fresh = watch.refresh(observation)
    assert fresh is not None and fresh.incomplete != observation.incomplete  # one more guest unread
    assert any("101" in w for w in fresh.warnings)
    assert 101 not in _vmids(fresh)
    mark = len(sim.log)
    again = watch.refresh(fresh)  # no new event: it is still pending
    assert again is not None and again.incomplete == observation.incomplete and 101 in _vmids(again)
    assert _requests(sim, mark) == ["GET /nodes/pve1/qemu/101/config"]
    assert again.warnings == observation.warnings

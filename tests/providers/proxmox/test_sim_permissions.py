"""The simulator's API tokens: ``GET /access/permissions`` and the 403s of a token without a privilege
(reference proxmox.md §1.3, §12), driven through proxmoxer over HTTPS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from providers.proxmox.sim.perms import READ_PRIVILEGES, SimToken
from providers.proxmox.sim.server import SimHandle
from tests.providers.proxmox.conftest import lab_seed

pytestmark = pytest.mark.integration

READONLY = SimToken("netsot@pve", "readonly", "11111111-2222-3333-4444-555555555555",
                    {"/vms": READ_PRIVILEGES})


def _api(sim: SimHandle, token: SimToken | None = None) -> ProxmoxAPI:
    user, name, value = (token.user, token.name, token.value) if token else sim.token
    return ProxmoxAPI("127.0.0.1", port=sim.port, user=user, token_name=name, token_value=value,
                      verify_ssl=str(sim.ca_path))


@pytest.fixture
def both(start_sim: Callable[..., SimHandle]) -> SimHandle:
    return start_sim(more_tokens=(READONLY,))


def _first_qemu(sim: SimHandle) -> dict[str, Any]:
    return next(g for g in sim.cluster.guests.values() if g["type"] == "qemu")


def test_permissions_of_the_full_and_the_readonly_token(both: SimHandle) -> None:
    full = _api(both).access.permissions.get(path="/vms")
    assert set(full) == {"/vms"} and {"VM.Audit", "VM.Config.Network", "VM.Monitor"} <= set(full["/vms"])
    assert "VM.GuestAgent.Audit" not in full["/vms"]  # a PVE 8 cluster: that name does not exist there
    ro = _api(both, READONLY).access.permissions
    assert ro.get(path="/vms") == {"/vms": {"VM.Audit": 1, "VM.Monitor": 1}}
    assert ro.get(path="/sdn/zones/localnetwork") == {"/sdn/zones/localnetwork": {}}
    assert ro.get() == {"/vms": {"VM.Audit": 1, "VM.Monitor": 1}}  # only paths with something on them
    assert ro.get(userid="netsot@pve!readonly") == ro.get()


def test_permissions_refuses_unknown_parameters_and_other_users(both: SimHandle) -> None:
    ro = _api(both, READONLY).access.permissions
    with pytest.raises(ResourceException) as bad:
        ro.get(paht="/vms")
    assert bad.value.status_code == 400 and "paht" in str(bad.value.errors)
    with pytest.raises(ResourceException) as other:
        ro.get(userid="root@pam")
    assert other.value.status_code == 403
    assert other.value.content == "Permission check failed (/access, Sys.Audit)"


def test_a_token_without_write_privileges_gets_pves_403(both: SimHandle) -> None:
    g = _first_qemu(both)
    node, vmid = g["node"], g["vmid"]
    ro = _api(both, READONLY)
    assert ro.nodes(node).qemu(vmid).config.get()["digest"]  # reading is allowed
    before = both.config(vmid)
    with pytest.raises(ResourceException) as denied:
        ro.nodes(node).qemu(vmid).config.put(ipconfig0="ip=dhcp")
    assert denied.value.status_code == 403
    assert denied.value.content == (f"Permission check failed (/vms/{vmid}, "
                                           "VM.Config.Cloudinit|VM.Config.Network)")
    assert both.config(vmid) == before
    _api(both).nodes(node).qemu(vmid).config.put(ipconfig0="ip=dhcp")  # the full token may
    assert both.config(vmid)["ipconfig0"] == "ip=dhcp"


def test_pve9_names_the_guest_agent_privileges(start_sim: Callable[..., SimHandle]) -> None:
    seed = lab_seed()
    seed["version"] = {"version": "9.0.3", "release": "9.0", "repoid": "0123456789abcdef"}
    sim = start_sim(seed, more_tokens=(READONLY,))
    assert _api(sim, READONLY).access.permissions.get(path="/vms/101") == {
        "/vms/101": {"VM.Audit": 1, "VM.GuestAgent.Audit": 1}}

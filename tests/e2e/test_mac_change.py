"""#11 item 1 through the CLI: a managed guest whose NIC gets a new MAC (a NIC replaced, a VM
restored from backup) keeps its binding — one MAC update on NIPAP and on the router, same IP —
instead of a conflict between the guest and its own old NIPAP host that no apply resolves.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

@pytest.mark.parametrize(("vmid", "node", "name", "new_mac"), [
    (206, "pve1", "nextcloud", "BC:24:11:0F:0F:01"),  # an LXC container
    (101, "pve1", "web01", "BC:24:11:0F:0F:02"),  # a VM with a guest agent
])
def test_a_new_mac_updates_the_binding_and_keeps_its_address(lab: Lab, vmid: int, node: str, name: str,
                                                             new_mac: str) -> None:
    lab.apply()
    before = lab.nipap_by_node(name)
    assert before is not None
    guest = lab.pve.handle.cluster.guests[vmid]
    old = guest["config"]["net0"]
    mac_key = "hwaddr" if guest["type"] == "lxc" else old.split("=", 1)[0]
    old_mac = next(p.split("=", 1)[1] for p in old.split(",") if p.startswith(f"{mac_key}="))
    lab.pve.handle.set_config(vmid, "net0", old.replace(old_mac, new_mac))
    lab.pve.guests.refresh()

    doc = lab.plan_json()
    mixed_in = [c["reason"] for c in doc["conflicts"] if any(name in b for b in c["blocked"])]
    assert mixed_in == []  # (the lab's own web02 conflict is not about this guest)
    ref = f"proxmox {node}/{vmid} net0"
    mine = {c["address"]: c for c in doc["changes"] if name in c["address"]}
    assert {a: c["action"] for a, c in mine.items()} == {
        f"nipap_address.lan.{name}": "update", f"edgemax_dhcp_mapping.LAN.{name}": "update"}
    for change in mine.values():
        assert change["reason"].startswith(f"MAC changed on {ref}"), change["reason"]
    nipap = mine[f"nipap_address.lan.{name}"]
    assert nipap["after"]["ip"] == before["ip"] and nipap["after"]["mac"] == new_mac.lower()
    assert mine[f"edgemax_dhcp_mapping.LAN.{name}"]["after"]["ip_address"] == before["ip"]

    lab.apply()
    assert lab.mappings()[f"LAN.{name}"] == {"ip": before["ip"], "mac": new_mac.lower()}
    again = lab.cli("plan", "--detailed-exitcode")
    assert again.code in (0, 3) and name not in again.out.split("Plan:")[0].split("Conflicts")[-1], again.out

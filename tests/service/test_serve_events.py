"""#24 part 3: `netsot serve` reacts to events. A real service (subprocess) runs against the lab with a
full read only every 600 s; the world acts through the systems' real APIs (Proxmox's HTTPS API makes
the worker tasks, NIPAP's XML-RPC as its web UI) and the router's DHCP/DNS follow without waiting for
the interval. What the service asked Proxmox for is counted in the simulator's request log. No
latency is asserted (the bench shows it); the waits are generous.

The tests share one lab and run in file order.
"""

from __future__ import annotations

import re
import time
import xmlrpc.client
from typing import Any

import pytest

from providers.lab.seeds import VRF_NAME
from providers.proxmox.sim.guests import Proxmox
from tests.e2e.conftest import Lab
from tests.service.conftest import ServiceProcess, set_policy, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(240)]

NAME, MAC, MAC2 = "evnew", "bc:24:11:7e:00:01", "bc:24:11:7e:00:02"
CONFIG_PATH = re.compile(r"^/nodes/[^/]+/(qemu|lxc)/(\d+)/config$")
WAIT = 30.0
_run: dict[str, Any] = {}


def _pve(lab: Lab) -> Proxmox:
    return Proxmox(lab.paths, lab.pve.port)


def _present(lab: Lab, name: str) -> dict[str, Any] | None:
    host = lab.nipap_by_node(name)
    mapping = lab.mappings().get(f"LAN.{name}")
    entry = lab.host_entries().get(f"{name}.lab.example")
    if host and mapping and entry and mapping["ip"] == host["ip"] and entry == (host["ip"],):
        return {"ip": host["ip"], "mac": mapping["mac"]}
    return None


def _none_left(lab: Lab, name: str) -> bool:
    return (lab.nipap_by_node(name) is None and f"LAN.{name}" not in lab.mappings()
            and f"{name}.lab.example" not in lab.host_entries())


def _config_reads(lab: Lab, mark: int) -> list[int]:
    """The vmids whose config was read since ``mark`` (an index into the simulator's request log)."""
    return [int(m.group(2)) for e in lab.pve.handle.log[mark:]
            if e.method == "GET" and (m := CONFIG_PATH.match(e.path))]


def _event_runs(service: ServiceProcess, after: int, needle: str = "") -> list[dict[str, Any]]:
    """The event runs logged after the first ``after`` ones; with ``needle``, waits for one whose trigger
    names it (the systems change before the run's log line is written)."""
    def runs() -> list[dict[str, Any]] | None:
        found = service.messages("event run finished")[after:]
        return found if not needle or any(needle in " ".join(r["trigger"]) for r in found) else None

    return wait_for(f"an event run on {needle!r}", runs, timeout=WAIT) if needle else runs() or []


def _lan(lab: Lab) -> tuple[str, int | None]:
    net = lab.home.spec.networks[0]
    return net.bridge, net.vlan


def _create(lab: Lab, name: str, mac: str) -> int:
    """A running QEMU guest on DHCP, as the web UI or Terraform makes one (``POST /nodes/{node}/qemu``)."""
    pve = _pve(lab)
    vmid = int(pve.call("GET", "/cluster/nextid"))
    bridge, vlan = _lan(lab)
    tag = f",tag={vlan}" if vlan else ""
    pve.call("POST", f"/nodes/{lab.home.spec.nodes[0]}/qemu", {
        "vmid": vmid, "name": name, "start": 1, "cores": 1, "memory": 1024,
        "net0": f"virtio={mac.upper()},bridge={bridge}{tag}"})
    return vmid


def _remove(lab: Lab, vmid: int) -> None:
    pve = _pve(lab)
    where = f"/nodes/{lab.home.spec.nodes[0]}/qemu/{vmid}"
    pve.call("POST", f"{where}/status/stop")
    pve.call("DELETE", where, {"purge": 1})


def _nipap_ui(lab: Lab) -> Any:
    password = lab.paths.secret("nipap_password")
    proxy = xmlrpc.client.ServerProxy(f"http://netsot:{password}@127.0.0.1:{lab.nipap.port}/XMLRPC",
                                      allow_none=True)

    def call(method: str, **args: Any) -> Any:
        return getattr(proxy, method)({"auth": {"authoritative_source": "nipap-www"}, **args})

    return call


def _start(lab: Lab, services: list[ServiceProcess], name: str) -> ServiceProcess:
    service = ServiceProcess(lab, name, "--watch-interval", "0.5", interval=600)
    services.append(service)
    wait_for("the first full run", lambda: service.messages("run finished"), timeout=60)
    wait_for("the watch", lambda: service.messages("watching "), timeout=10)
    return service


# --------------------------------------------------------------------------- a service that deletes


def test_the_service_watches_after_its_full_read(lab: Lab, services: list[ServiceProcess]) -> None:
    set_policy(lab, "  delete: auto\n  orphan_grace: 2s\n")
    lab.apply()
    service = _start(lab, services, "events")
    _run["service"] = service
    watching = service.messages("watching ")[0]
    assert sorted(watching["watch"]) == ["nipap", "proxmox"], watching
    assert watching["watch_interval"] == 0.5


def test_a_created_guest_reaches_dhcp_and_dns_without_a_full_read(lab: Lab) -> None:
    service = _run["service"]
    before = dict(lab.mappings())
    full_runs, events = len(service.messages("run finished")), len(service.messages("event run finished"))
    mark = len(lab.pve.handle.log)
    vmid = _create(lab, NAME, MAC)
    _run["vmid"] = vmid
    got = wait_for("the new guest in NIPAP, on the router and in DNS", lambda: _present(lab, NAME),
                   timeout=WAIT)
    assert got["mac"] == MAC
    assert lab.resolve_eventually(f"{NAME}.lab.example", got["ip"], seconds=WAIT) == got["ip"]

    assert len(service.messages("run finished")) == full_runs, "a full read ran: the event was not used"
    runs = _event_runs(service, events, f"guest {vmid}")
    assert sum(r["applied"] for r in runs) >= 3, runs
    # only the new guest's config was read: the other guests came from the cache
    assert set(_config_reads(lab, mark)) == {vmid}
    # planned against the cache, not an empty Proxmox: nothing else was deleted or changed
    after = lab.mappings()
    assert {k: v for k, v in after.items() if k != f"LAN.{NAME}"} == before
    assert all(r["failed"] == 0 for r in runs), runs


def test_a_changed_guest_is_read_again_and_an_unchanged_one_is_not(lab: Lab) -> None:
    service = _run["service"]
    vmid = _run["vmid"]
    events = len(service.messages("event run finished"))
    pve = _pve(lab)
    where = f"/nodes/{lab.home.spec.nodes[0]}/qemu/{vmid}"
    config = pve.call("GET", f"{where}/config")
    bridge, vlan = _lan(lab)
    mark = len(lab.pve.handle.log)
    # the async config update (a `qmconfig` worker in the task log), as the web UI sends a NIC edit
    pve.call("POST", f"{where}/config", {"digest": config["digest"],
                                          "net0": f"virtio={MAC2.upper()},bridge={bridge}"
                                                  + (f",tag={vlan}" if vlan else "")})
    wait_for("the router's reservation to follow the new MAC",
             lambda: (lab.mappings().get(f"LAN.{NAME}") or {}).get("mac") == MAC2, timeout=WAIT)
    _event_runs(service, events, f"qmconfig of guest {vmid}")
    reads = _config_reads(lab, mark)
    assert reads and set(reads) == {vmid}, reads  # re-read: the changed guest, and only it
    assert _present(lab, NAME)


def test_a_removed_guest_leaves_dhcp_and_dns_after_the_grace(lab: Lab) -> None:
    service = _run["service"]
    before = {k: v for k, v in lab.mappings().items() if k != f"LAN.{NAME}"}
    full_runs, events = len(service.messages("run finished")), len(service.messages("event run finished"))
    _remove(lab, _run["vmid"])
    runs = _event_runs(service, events, f"guest {_run['vmid']}")
    assert runs[0]["held"] >= 3 and runs[0]["applied"] == 0, runs  # orphaned: held for the grace
    _event_runs(service, events, "orphan_grace of held deletes has passed")  # its own run, no full read
    wait_for("the guest's address, reservation and DNS name to go", lambda: _none_left(lab, NAME),
             timeout=WAIT)
    assert lab.resolve_eventually(f"{NAME}.lab.example", None, seconds=WAIT) is None
    assert lab.mappings() == before  # only the removed guest's objects went
    assert len(service.messages("run finished")) == full_runs


def test_a_host_made_in_nipap_reaches_the_router_without_a_full_read(lab: Lab) -> None:
    service = _run["service"]
    full_runs, events = len(service.messages("run finished")), len(service.messages("event run finished"))
    call = _nipap_ui(lab)
    vrf = call("list_vrf", vrf={"name": VRF_NAME})[0]
    call("add_prefix", attr={"prefix": "192.168.10.79/32", "type": "host", "node": "evcam",
                             "vrf_id": vrf["id"], "description": "porch camera", "tags": ["netsot"],
                             "avps": {"mac": "0c:8b:95:00:44:55"}})
    wait_for("the NIPAP host's reservation on the router",
             lambda: (lab.mappings().get("LAN.evcam") or {}).get("ip") == "192.168.10.79", timeout=WAIT)
    _event_runs(service, events, "nipap: 192.168.10.79/32 changed")
    assert len(service.messages("run finished")) == full_runs


def test_the_service_stops_cleanly(lab: Lab) -> None:
    code, _took = _run["service"].terminate()
    assert code == 0


# --------------------------------------------------------------------------- the gates hold for events


def test_an_event_run_holds_what_the_policy_holds(lab: Lab, services: list[ServiceProcess]) -> None:
    set_policy(lab, "  delete: plan\n")
    service = _start(lab, services, "events-gated")
    vmid = _create(lab, "evgate", "bc:24:11:7e:00:03")
    wait_for("the guest on the router", lambda: _present(lab, "evgate"), timeout=WAIT)
    events = len(service.messages("event run finished"))
    _remove(lab, vmid)

    def held() -> list[dict[str, Any]] | None:
        runs = [r for r in _event_runs(service, events) if f"guest {vmid}" in " ".join(r["trigger"])]
        return runs if runs and runs[-1]["held"] >= 3 else None

    runs = wait_for("the event run that holds the deletes", held, timeout=WAIT)
    assert runs[-1]["applied"] == 0, runs
    time.sleep(1.5)  # three more polls: nothing may delete them
    assert _present(lab, "evgate"), "delete: plan must hold deletes in an event run too"
    doc = service.plan() or {}
    gates = {h["gate"] for h in doc.get("held", []) if "evgate" in h["change"]["address"]}
    assert gates == {"delete_policy"}, doc.get("held")
    code, _took = service.terminate()
    assert code == 0

"""#20.2: DNS and DHCP move together. Renaming and readdressing a tagged NIPAP host changes its DHCP
reservation and its DNS name; those changes are one unit for every safety gate — all applied or all held,
with one reason — so the router never serves the new name while DHCP still hands out the old address.
Through the CLI (a protected old name holds the whole binding; `explain` shows it held) and under
`serve` with `delete: plan` (the service holds the binding whole). The tests share one lab."""

from __future__ import annotations

import json
import xmlrpc.client
from typing import Any

import pytest

from providers.lab.seeds import VRF_NAME
from tests.e2e.conftest import Lab
from tests.service.conftest import ServiceProcess, set_policy, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

MAC = "0c:8b:95:00:30:01"
_host: dict[str, Any] = {}


def _person(lab: Lab, method: str, **args: Any) -> Any:
    password = lab.paths.secret("nipap_password")
    proxy = xmlrpc.client.ServerProxy(f"http://netsot:{password}@127.0.0.1:{lab.nipap.port}/XMLRPC",
                                      allow_none=True)
    return getattr(proxy, method)({"auth": {"authoritative_source": "nipap-www"}, **args})


def _move(lab: Lab, node: str, ip: str) -> None:
    """The person renames and readdresses the host in NIPAP in one edit."""
    _person(lab, "edit_prefix", prefix={"id": _host["id"]},
            attr={"vrf_id": _host["vrf_id"], "node": node, "prefix": f"{ip}/32"})


def _router(lab: Lab) -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
    maps = {k: v for k, v in lab.mappings().items() if v["mac"] == MAC}
    hosts = {k: v for k, v in lab.host_entries().items() if k.startswith("cam")}
    return maps, hosts


def test_the_host_made_in_nipap_reaches_the_router(lab: Lab) -> None:
    set_policy(lab, "  delete: plan\n")
    lab.apply()
    vrf = _person(lab, "list_vrf", vrf={"name": VRF_NAME})[0]
    row = _person(lab, "add_prefix", attr={"prefix": "192.168.10.77/32", "type": "host", "node": "camera",
                                           "vrf_id": vrf["id"], "tags": ["netsot"], "avps": {"mac": MAC},
                                           "description": "garden camera"})
    _host.update(id=row["id"], vrf_id=vrf["id"])
    lab.apply()
    assert _router(lab) == ({"LAN.camera": {"ip": "192.168.10.77", "mac": MAC}},
                            {"camera.lab.example": ("192.168.10.77",)})


def test_a_gate_on_one_object_holds_the_whole_binding_with_one_reason(lab: Lab) -> None:
    set_policy(lab, "  delete: plan\n  protected: [edgemax_host.camera.lab.example]\n")
    _move(lab, "cam1", "192.168.10.78")
    before = _router(lab)
    doc = lab.plan_json()
    held = {h["change"]["address"]: h for h in doc["held"]}
    moving = {"edgemax_dhcp_mapping.LAN.cam1", "edgemax_dhcp_mapping.LAN.camera",
              "edgemax_host.cam1.lab.example", "edgemax_host.camera.lab.example"}
    assert moving <= set(held), sorted(held)
    assert not moving & {c["address"] for c in doc["changes"]}
    assert {held[a]["gate"] for a in moving} == {"protected"}
    assert {held[a]["unit"] for a in moving} == {"lan/cam1"}
    reasons = {held[a]["reason"] for a in moving}
    assert len(reasons) == 1, reasons
    (reason,) = reasons
    assert reason.startswith("binding lan/cam1 moves as one") and "never deleted" in reason
    result = lab.cli("apply", "--auto-approve", "--force")
    assert result.code == 0, result.out
    assert _router(lab) == before  # neither the new name nor the new reservation went ahead
    explained = json.loads(lab.cli("explain", "cam1", "--json").stdout)
    assert moving <= {h["address"] for h in explained["held"]}
    text = lab.cli("explain", "cam1").stdout
    assert "binding lan/cam1 moves as one" in text

    set_policy(lab, "  delete: plan\n")
    lab.apply()  # the person approves: all of it goes together
    assert _router(lab) == ({"LAN.cam1": {"ip": "192.168.10.78", "mac": MAC}},
                            {"cam1.lab.example": ("192.168.10.78",)})


def test_the_service_holds_dns_with_dhcp(lab: Lab, services: list[ServiceProcess]) -> None:
    _move(lab, "cam2", "192.168.10.79")
    before = _router(lab)
    service = ServiceProcess(lab, "unit", interval=60)
    services.append(service)
    run = wait_for("the service's first run", lambda: service.messages("run finished"), timeout=60)[-1]
    assert _router(lab) == before  # DNS did not move ahead of DHCP (delete: plan holds the old ones)
    assert run["held"] >= 4, service.raw()
    doc = service.plan()
    assert doc is not None
    held = [h for h in doc["held"] if h.get("unit") == "lan/cam2"]
    assert {h["change"]["address"] for h in held} >= {
        "edgemax_dhcp_mapping.LAN.cam2", "edgemax_dhcp_mapping.LAN.cam1",
        "edgemax_host.cam2.lab.example", "edgemax_host.cam1.lab.example"}
    assert len({h["reason"] for h in held}) == 1
    code, page = service.get("/host/lan/cam2")  # the status page's view of the binding
    assert code == 200 and "binding lan/cam2 moves as one" in page
    code, matrix = service.get("/")
    assert code == 200 and "held" in matrix
    assert service.terminate()[0] == 0
    lab.apply()
    assert _router(lab) == ({"LAN.cam2": {"ip": "192.168.10.79", "mac": MAC}},
                            {"cam2.lab.example": ("192.168.10.79",)})

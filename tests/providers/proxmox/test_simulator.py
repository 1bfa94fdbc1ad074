"""The simulator speaks PVE's HTTP dialect (checked with raw requests over HTTPS, TLS verified)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from providers.proxmox.sim.server import SimHandle, config_digest, seed_from_fixtures

pytestmark = pytest.mark.integration


def call(h: SimHandle, method: str, path: str, auth: str | None = "ok", **kw: Any) -> requests.Response:
    headers = {}
    if auth == "ok":
        user, name, value = h.token
        headers["Authorization"] = f"PVEAPIToken={user}!{name}={value}"
    elif auth is not None:
        headers["Authorization"] = auth
    kw.setdefault("timeout", 5)
    return requests.request(method, h.url + path, headers=headers, verify=str(h.ca_path), **kw)


def test_token_auth_forms_and_401s(sim: SimHandle) -> None:
    user, name, value = sim.token
    assert call(sim, "GET", "/version").json() == {
        "data": {"version": "8.4.1", "release": "8.4", "repoid": "2a5fa54a8503f96d"}
    }
    assert call(sim, "GET", "/version", auth=f"PVEAPIToken {user}!{name}={value}").status_code == 200
    r = call(sim, "GET", "/version", auth=None)
    assert (r.status_code, r.reason, r.content) == (401, "No ticket", b"")
    r = call(sim, "GET", "/version", auth=f"PVEAPIToken={user}!{name}=wrong")
    assert (r.status_code, r.reason, r.content) == (401, "Authentication failed!", b"")
    assert r.headers["Server"] == "pve-api-daemon/3.0"


def test_cluster_resources_shapes(sim: SimHandle) -> None:
    data = call(sim, "GET", "/cluster/resources", params={"type": "vm"}).json()["data"]
    by_id = {e["id"]: e for e in data}
    web = by_id["qemu/101"]
    assert web["vmid"] == 101 and isinstance(web["vmid"], int)
    assert (web["name"], web["status"], web["template"], web["tags"]) == (
        "web01",
        "running",
        0,
        "netsot-static;prod",
    )
    assert by_id["qemu/9000"]["template"] == 1
    assert by_id["lxc/201"]["type"] == "lxc"
    assert by_id["qemu/204"] == {
        "id": "qemu/204",
        "vmid": 204,
        "node": "pve2",
        "type": "qemu",
        "status": "unknown",
    }
    assert all(e["type"] in ("qemu", "lxc") for e in data)
    assert [e["vmid"] for e in data] == sorted((e["vmid"] for e in data), key=str)
    nodes = call(sim, "GET", "/nodes").json()["data"]
    assert {n["node"]: n["status"] for n in nodes} == {"pve1": "online", "pve2": "online", "pve3": "offline"}
    assert call(sim, "GET", "/cluster/nextid").json() == {"data": "100"}
    r = call(sim, "GET", "/cluster/nextid", params={"vmid": 101})
    assert r.status_code == 400 and r.json()["errors"] == {"vmid": "VM 101 already exists"}
    status = call(sim, "GET", "/cluster/status").json()["data"]
    assert status[0]["type"] == "cluster" and {s.get("name") for s in status[1:]} == {"pve1", "pve2", "pve3"}
    qemu = call(sim, "GET", "/nodes/pve1/qemu").json()["data"]
    assert {e["vmid"] for e in qemu} == {101, 102, 103, 104, 105, 9000} and "type" not in qemu[0]


def test_errors_reason_phrase_message_field_501_595(sim: SimHandle) -> None:
    r = call(sim, "GET", "/nodes/pve1/qemu/999/config")
    assert r.status_code == 500
    assert r.reason == "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"
    assert r.json() == {"data": None, "message": r.reason + "\n"}
    sim.knobs.message_field = False  # PVE < 8.3: the message is only in the reason phrase
    assert call(sim, "GET", "/nodes/pve1/qemu/999/config").json() == {"data": None}
    r = call(sim, "GET", "/nodes/pve1/foo")
    assert (r.status_code, r.reason) == (501, "Method 'GET /nodes/pve1/foo' not implemented")
    r = call(sim, "GET", "/nodes/pve3/qemu/301/config")
    assert (r.status_code, r.reason, r.content) == (595, "Connection refused", b"")
    sim.set_node_online("pve3", False, 596)
    assert call(sim, "GET", "/nodes/pve3/lxc").status_code == 596


def test_config_get_digest_and_cipassword(sim: SimHandle) -> None:
    sim.set_config(101, "cipassword", "secret")
    cfg = call(sim, "GET", "/nodes/pve1/qemu/101/config").json()["data"]
    assert cfg["cipassword"] == "**********"
    assert len(cfg["digest"]) == 40 and cfg["digest"] == sim.config(101)["digest"]
    assert cfg["onboot"] == 1  # typed as seeded
    r = call(sim, "GET", "/nodes/pve2/qemu/101/config")  # guest lives on pve1
    assert r.status_code == 500 and "nodes/pve2/qemu-server/101.conf" in r.reason


def test_put_qemu_validation_and_canonical_print(sim: SimHandle) -> None:
    digest = sim.config(101)["digest"]
    r = call(sim, "PUT", "/nodes/pve1/qemu/101/config", data={"onboot": "True"})
    assert (r.status_code, r.reason) == (400, "Parameter verification failed.")
    assert r.json()["errors"] == {"onboot": "type check ('boolean') failed - got 'True'"}
    r = call(
        sim, "PUT", "/nodes/pve1/qemu/101/config", data={"net1": "virtio=FF:FF:FF:FF:FF:FF,bridge=vmbr0"}
    )
    assert r.status_code == 400 and "net1.macaddr" in r.json()["errors"]["net1"]
    r = call(sim, "PUT", "/nodes/pve1/qemu/101/config", data={"ipconfig1": "gw=192.168.1.1"})
    assert r.status_code == 400 and "requires" in r.json()["errors"]["ipconfig1"]
    r = call(sim, "PUT", "/nodes/pve1/qemu/101/config", data={"ipconfig1": "ip=192.168.1.9/7"})
    assert r.status_code == 400
    assert sim.config(101)["digest"] == digest  # nothing was written
    r = call(
        sim,
        "PUT",
        "/nodes/pve1/qemu/101/config",
        data={
            "net1": "virtio,tag=30,firewall=yes,bridge=vmbr0",
            "tags": "Web,prod web",
            "delete": "onboot",
            "ipconfig1": "gw=10.0.0.1,ip=10.0.0.2/24",
            "digest": digest,
        },
    )
    assert (r.status_code, r.json()) == (200, {"data": None})
    cfg = sim.config(101)
    assert cfg["net1"].startswith("virtio=BC:24:11:") and cfg["net1"].endswith(
        ",bridge=vmbr0,firewall=1,tag=30"
    )
    assert cfg["tags"] == "prod;web" and "onboot" not in cfg
    assert cfg["ipconfig1"] == "gw=10.0.0.1,ip=10.0.0.2/24"  # stored as sent
    assert cfg["digest"] != digest
    r = call(sim, "PUT", "/nodes/pve1/qemu/101/config", data={"name": "x", "digest": digest})
    assert (r.status_code, r.reason) == (500, "checksum mismatch (file change by other user?)")


def test_put_lxc_mismatch_text_and_reprint(sim: SimHandle) -> None:
    r = call(sim, "PUT", "/nodes/pve2/lxc/202/config", data={"hostname": "x", "digest": "0" * 40})
    assert r.reason == "detected modified configuration - file changed by other user? Try again."
    assert call(sim, "PUT", "/nodes/pve2/lxc/202/config", data={}).reason == "no options specified"
    r = call(sim, "PUT", "/nodes/pve2/lxc/202/config", data={"net1": "bridge=vmbr0,name=eth1,ip=10.0.0.3/24"})
    assert r.status_code == 200
    net1 = sim.config(202)["net1"]
    assert net1.startswith("name=eth1,bridge=vmbr0,hwaddr=BC:24:11:") and net1.endswith(
        ",ip=10.0.0.3/24,type=veth"
    )


def test_agent_cases(sim: SimHandle) -> None:
    ok = call(sim, "GET", "/nodes/pve1/qemu/101/agent/network-get-interfaces").json()["data"]
    assert ok["result"][1]["hardware-address"] == "bc:24:11:00:01:01"
    for vmid, node, text in [
        (104, "pve1", "No QEMU guest agent configured"),
        (103, "pve1", "VM 103 is not running"),
        (105, "pve1", "QEMU guest agent is not running"),
    ]:
        r = call(sim, "GET", f"/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces")
        assert (r.status_code, r.reason) == (500, text)
    sim.set_guest(105, agent_error="timeout")
    r = call(sim, "GET", "/nodes/pve1/qemu/105/agent/network-get-interfaces")
    assert r.reason == "VM 105 qmp command 'guest-network-get-interfaces' failed - got timeout"
    sim.set_guest(105, agent_error="forbidden")
    r = call(sim, "GET", "/nodes/pve1/qemu/105/agent/network-get-interfaces")
    assert (r.status_code, r.reason) == (403, "Permission check failed (/vms/105, VM.Monitor)")
    sim.set_guest(105, agent_error=None, agent={"error": {"class": "Unsupported", "desc": "not supported"}})
    r = call(sim, "GET", "/nodes/pve1/qemu/105/agent/network-get-interfaces")
    assert r.status_code == 200 and r.json()["data"]["result"]["error"]["class"] == "Unsupported"


def test_lxc_interfaces_running_stopped_501(sim: SimHandle) -> None:
    data = call(sim, "GET", "/nodes/pve2/lxc/201/interfaces").json()["data"]
    assert data[1]["inet"] == "192.168.1.20/24" and data[1]["ip-addresses"][0]["ip-address-type"] == "inet"
    assert call(sim, "GET", "/nodes/pve2/lxc/202/interfaces").json() == {"data": None}
    sim.knobs.lxc_interfaces_501 = True
    r = call(sim, "GET", "/nodes/pve2/lxc/201/interfaces")
    assert (r.status_code, r.reason) == (501, "Method 'GET /nodes/pve2/lxc/201/interfaces' not implemented")


def test_knobs_fail_nth_and_log(sim: SimHandle) -> None:
    sim.knobs.fail_nth = 2
    assert call(sim, "GET", "/version").status_code == 200
    assert call(sim, "GET", "/version").status_code == 500
    assert call(sim, "GET", "/version").status_code == 200
    assert [(e.method, e.path, e.status) for e in sim.log] == [
        ("GET", "/version", s) for s in (200, 500, 200)
    ]
    assert sim.counters["GET /version"] == 3


def test_hang_is_bounded_and_woken_by_stop(start_sim: Any) -> None:
    h = start_sim()
    h.knobs.hang_nodes = {"pve2"}
    h.knobs.hang_seconds = 0.3
    t0 = time.monotonic()
    assert call(h, "GET", "/nodes/pve2/lxc").status_code == 200
    assert time.monotonic() - t0 >= 0.3
    h.knobs.hang_seconds = 30
    with pytest.raises(requests.exceptions.ReadTimeout):
        call(h, "GET", "/nodes/pve2/lxc", timeout=0.2)
    t0 = time.monotonic()
    h.stop()
    assert time.monotonic() - t0 < 5


def test_fixture_seed_serves_samples(start_sim: Any) -> None:
    h = start_sim(seed_from_fixtures())
    cfg = call(h, "GET", "/nodes/testnode/qemu/111/config").json()["data"]
    assert cfg["ipconfig0"] == "ip=10.100.1.174/24,gw=10.100.1.1,ip6=auto"
    assert cfg["digest"] == config_digest({k: v for k, v in cfg.items() if k != "digest"})
    r = call(h, "GET", "/nodes/testnode/qemu/104/agent/network-get-interfaces")
    assert r.json()["data"]["result"]["error"]["class"] == "Unsupported"
    legacy = call(h, "GET", "/nodes/testnode/lxc/100/interfaces").json()["data"]
    assert legacy[1] == {
        "hwaddr": "bc:24:11:89:67:07",
        "inet": "192.168.3.95/22",
        "inet6": "fe80::be24:11ff:fe89:6707/64",
        "name": "eth0",
    }


@pytest.mark.slow
def test_standalone_process(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"nodes": [{"name": "pve1"}], "guests": []}))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "providers.proxmox.sim.server",
            "--state-dir",
            str(tmp_path),
            "--seed",
            str(seed),
        ],
        env=env,
    )
    try:
        info_path = tmp_path / "proxmox.json"
        deadline = time.monotonic() + 20
        while not info_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        info = json.loads(info_path.read_text())
        assert info["pid"] == proc.pid and oct(info_path.stat().st_mode & 0o777) == "0o600"
        tok = info["token"]
        r = requests.get(
            f"https://127.0.0.1:{info['port']}/api2/json/nodes",
            verify=info["ca"],
            timeout=5,
            headers={"Authorization": f"PVEAPIToken={tok['user']}!{tok['name']}={tok['value']}"},
        )
        assert r.json()["data"][0]["node"] == "pve1"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


# ---------------------------------------------------------------------------- create / destroy (#16)


def test_create_a_qemu_guest_returns_a_task_and_the_guest_appears(sim: SimHandle) -> None:
    r = call(sim, "POST", "/nodes/pve1/qemu", data={"vmid": "150", "name": "web03", "start": "1",
                                                    "net0": "virtio,bridge=vmbr0", "agent": "1"})
    assert r.status_code == 200, r.reason
    upid = r.json()["data"]
    parts = upid.split(":")
    assert upid.startswith("UPID:pve1:") and upid.endswith(":") and len(parts) == 9
    assert parts[5:8] == ["qmcreate", "150", "netsot@pve!netsot"]
    status = call(sim, "GET", f"/nodes/pve1/tasks/{upid}/status").json()["data"]
    assert (status["status"], status["exitstatus"], status["type"], status["id"]) == ("stopped", "OK",
                                                                                      "qmcreate", "150")
    assert status["user"] == "netsot@pve" and status["tokenid"] == "netsot"
    config = call(sim, "GET", "/nodes/pve1/qemu/150/config").json()["data"]
    assert config["name"] == "web03" and config["net0"].startswith("virtio=BC:24:11:")  # Proxmox picks a MAC
    entry = {e["id"]: e for e in call(sim, "GET", "/cluster/resources", params={"type": "vm"}).json()["data"]}
    assert entry["qemu/150"]["status"] == "running"
    bad = call(sim, "GET", "/nodes/pve1/tasks/UPID:nope/status")
    assert bad.status_code == 400 and bad.json()["errors"] == {"upid": "unable to parse worker upid"}


def test_create_refuses_what_proxmox_refuses(sim: SimHandle) -> None:
    taken = call(sim, "POST", "/nodes/pve2/qemu", data={"vmid": "101", "name": "again"})
    assert (taken.status_code, taken.reason) == (500, "VM 101 already exists on node 'pve1'")
    missing = call(sim, "POST", "/nodes/pve1/qemu", data={"name": "x"})
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"vmid": "property is missing and it is not optional"}
    low = call(sim, "POST", "/nodes/pve1/qemu", data={"vmid": "99"})
    assert low.json()["errors"] == {"vmid": "value must have a minimum value of 100"}
    no_template = call(sim, "POST", "/nodes/pve1/lxc", data={"vmid": "151", "hostname": "c1"})
    assert no_template.json()["errors"] == {"ostemplate": "property is missing and it is not optional"}
    bad_net = call(sim, "POST", "/nodes/pve1/lxc", data={"vmid": "151", "ostemplate": "local:vztmpl/x.zst",
                                                         "net0": "name=eth0,bridge=vmbr0,hwaddr=zz"})
    assert bad_net.status_code == 400 and "net0.hwaddr" in json.dumps(bad_net.json()["errors"])
    assert 151 not in sim.cluster.guests


def test_destroy_needs_a_stopped_guest(sim: SimHandle) -> None:
    made = call(sim, "POST", "/nodes/pve1/lxc", data={"vmid": "152", "hostname": "c2", "start": "1",
                                                      "ostemplate": "local:vztmpl/debian.tar.zst",
                                                      "net0": "name=eth0,bridge=vmbr0,ip=dhcp"})
    assert made.status_code == 200 and ":vzcreate:152:" in made.json()["data"]
    running = call(sim, "DELETE", "/nodes/pve1/lxc/152")
    assert (running.status_code, running.reason) == (500, "CT 152 is running - destroy failed")
    stop = call(sim, "POST", "/nodes/pve1/lxc/152/status/stop")
    assert stop.status_code == 200 and ":vzstop:152:" in stop.json()["data"]
    gone = call(sim, "DELETE", "/nodes/pve1/lxc/152", params={"purge": "1"})
    assert gone.status_code == 200 and ":vzdestroy:152:" in gone.json()["data"]
    again = call(sim, "GET", "/nodes/pve1/lxc/152/config")
    assert (again.status_code, again.reason) == (500, "Configuration file 'nodes/pve1/lxc/152.conf' does not "
                                                      "exist")


def test_cluster_tasks_lists_every_worker_newest_first(sim: SimHandle) -> None:
    assert call(sim, "GET", "/cluster/tasks").json()["data"] == []
    made = call(sim, "POST", "/nodes/pve1/qemu", data={"vmid": "153", "name": "t1", "start": "1",
                                                       "net0": "virtio,bridge=vmbr0"}).json()["data"]
    stopped = call(sim, "POST", "/nodes/pve1/qemu/153/status/stop").json()["data"]
    tasks = call(sim, "GET", "/cluster/tasks").json()["data"]
    assert {t["upid"] for t in tasks} == {made, stopped}
    task = next(t for t in tasks if t["upid"] == made)
    assert (task["type"], task["id"], task["node"], task["status"]) == ("qmcreate", "153", "pve1", "OK")
    assert task["user"] == "netsot@pve" and task["tokenid"] == "netsot"
    assert isinstance(task["endtime"], int) and task["endtime"] >= task["starttime"]
    assert "exitstatus" not in task
    assert [t["starttime"] for t in tasks] == sorted((t["starttime"] for t in tasks), reverse=True)
    # the endpoint takes no parameters at all (additionalProperties 0)
    bad = call(sim, "GET", "/cluster/tasks", params={"since": "1"})
    assert (bad.status_code, bad.reason) == (400, "Parameter verification failed.")
    assert bad.json()["errors"] == {
        "since": "property is not defined in schema and the schema does not allow additional properties"}


def test_async_qemu_config_update_is_a_qmconfig_task(sim: SimHandle) -> None:
    digest = call(sim, "GET", "/nodes/pve1/qemu/101/config").json()["data"]["digest"]
    r = call(sim, "POST", "/nodes/pve1/qemu/101/config", data={"digest": digest, "tags": "prod;b"})
    assert r.status_code == 200 and ":qmconfig:101:" in r.json()["data"]
    assert sim.config(101)["tags"] == "b;prod"
    stale = call(sim, "POST", "/nodes/pve1/qemu/101/config", data={"digest": digest, "tags": "x"})
    assert (stale.status_code, stale.reason) == (500, "checksum mismatch (file change by other user?)")
    waited = call(sim, "POST", "/nodes/pve1/qemu/101/config", data={"tags": "c", "background_delay": "5"})
    assert waited.status_code == 200 and waited.json()["data"] is None
    assert sum(t["type"] == "qmconfig" for t in call(sim, "GET", "/cluster/tasks").json()["data"]) == 2
    too_long = call(sim, "POST", "/nodes/pve1/qemu/101/config", data={"tags": "c", "background_delay": "31"})
    assert too_long.json()["errors"] == {"background_delay": "value must have a maximum value of 30"}
    lxc = call(sim, "POST", "/nodes/pve1/lxc/201/config", data={"hostname": "x"})
    assert (lxc.status_code, lxc.reason) == (501, "Method 'POST /nodes/pve1/lxc/201/config' not implemented")

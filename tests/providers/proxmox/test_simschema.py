"""The simulator is as strict as Proxmox: requests checked against the real API schema
(``pve-api-subset.json``), refused with Proxmox's own error body, through proxmoxer; and a walk over
every endpoint of the subset checks what the simulator serves, request and answer, against it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from providers.proxmox.sim import schema as simschema
from providers.proxmox.sim.server import SimHandle

from .conftest import lab_seed

pytestmark = pytest.mark.integration

UNKNOWN = "property is not defined in schema and the schema does not allow additional properties"
REFERENCE = "/work/shared/reference/proxmox-api-subset.json"


def api(h: SimHandle) -> ProxmoxAPI:
    user, name, value = h.token
    return ProxmoxAPI("127.0.0.1", port=h.port, user=user, token_name=name, token_value=value,
                      verify_ssl=str(h.ca_path), timeout=10)


def refused(call: Callable[[], Any]) -> ResourceException:
    with pytest.raises(ResourceException) as err:
        call()
    return err.value


def raw(h: SimHandle, method: str, path: str, **kw: Any) -> requests.Response:
    user, name, value = h.token
    headers = {"Authorization": f"PVEAPIToken={user}!{name}={value}"}
    return requests.request(method, h.url + path, headers=headers, verify=str(h.ca_path), timeout=10, **kw)


# ----------------------------------------------------------------------------- refusals


def test_an_unknown_parameter_is_refused_with_proxmoxs_body(sim: SimHandle) -> None:
    before = copy.deepcopy(sim.config(101))
    err = refused(lambda: api(sim).nodes("pve1").qemu(101).config.put(pool="prod", name="web01"))
    assert (err.status_code, err.content) == (400, "Parameter verification failed.")
    assert err.errors == {"pool": UNKNOWN}
    body = raw(sim, "PUT", "/nodes/pve1/qemu/101/config", data={"pool": "prod"})
    assert (body.status_code, body.reason) == (400, "Parameter verification failed.")
    assert body.json() == {"data": None, "errors": {"pool": UNKNOWN},
                           "message": "Parameter verification failed.\n"}
    assert sim.config(101) == before  # nothing stored
    # indexes are plain decimal within the key's range; LXC has no `name`, QEMU no `hostname`
    err = refused(lambda: api(sim).nodes("pve1").qemu(101).config.put(net32="virtio,bridge=vmbr0",
                                                                       net01="virtio,bridge=vmbr0"))
    assert err.errors == {"net32": UNKNOWN, "net01": UNKNOWN}
    assert refused(lambda: api(sim).nodes("pve2").lxc(202).config.put(name="x")).errors == {"name": UNKNOWN}
    assert refused(lambda: api(sim).cluster.resources.get(type="vm", full=1)).errors == {"full": UNKNOWN}


def test_a_bad_format_is_refused_with_proxmoxs_texts(sim: SimHandle) -> None:
    pve = api(sim)
    err = refused(lambda: pve.nodes("pve1").qemu(101).config.put(
        net0="virtio=01:24:11:00:01:01,bridge=vmbr0", ipconfig0="gw=192.168.1.1", tags="a b", delete="9x"))
    assert err.errors["net0"] == ("invalid format - format error\nnet0.macaddr: invalid format - value "
                                  "does not look like a valid unicast MAC address\n\n")
    assert err.errors["ipconfig0"] == ("invalid format - format error\nipconfig0.ip: missing property - "
                                       "'ipconfig0.gw' requires this property\n\n")
    assert err.errors["delete"] == "invalid format - invalid configuration ID '9x'\n"
    assert "tags" not in err.errors  # "a b" is a list of two good tags
    err = refused(lambda: pve.nodes("pve1").qemu(101).config.put(net0="virtio,bridge=vmbr0,speed=10",
                                                                  onboot="yes", cores="two", name="web_01"))
    assert err.errors == {
        "net0": "invalid format - invalid key in comma-separated list property: speed\n",
        "onboot": "type check ('boolean') failed - got 'yes'",
        "cores": "type check ('integer') failed - got 'two'",
        "name": "invalid format - value does not look like a valid DNS name\n",
    }
    assert refused(lambda: pve.nodes("pve_1").qemu.get()).errors == {
        "node": "invalid format - value does not look like a valid node name\n"}
    assert refused(lambda: pve.nodes("pve1").qemu(99).config.get()).errors == {
        "vmid": "value must have a minimum value of 100"}
    assert refused(lambda: pve.nodes("pve1").lxc(202).config.put(net0="bridge=vmbr0,ip=dhcp")).errors == {
        "net0": "invalid format - format error\nnet0.name: property is missing and it is not optional\n\n"}
    assert refused(lambda: pve.cluster.resources.get(type="vms")).errors == {
        "type": "value 'vms' does not have a value in the enumeration 'vm, storage, node, sdn'"}


def test_pve9_texts_and_parameters_follow_the_version(start_sim: Callable[..., SimHandle]) -> None:
    seed = lab_seed() | {"version": {"version": "9.1.1", "release": "9.1", "repoid": "0123456789abcdef"}}
    pve9 = api(start_sim(seed))
    err = refused(lambda: pve9.nodes("pve1").qemu(101).config.put(ipconfig0="gw=192.168.1.1"))
    assert err.errors == {"ipconfig0": "invalid format - format error\nipconfig0.ip: missing property "
                                       "required by 'ipconfig0.gw'\n\n"}
    pve9.nodes("pve1").qemu(101).config.put(**{"allow-ksm": 1})  # new in PVE 9
    pve8 = api(start_sim(lab_seed()))
    assert refused(lambda: pve8.nodes("pve1").qemu(101).config.put(**{"allow-ksm": 1})).errors == {
        "allow-ksm": UNKNOWN}
    err = refused(lambda: pve8.nodes("pve1").lxc(201).config.put(
        net0="name=eth0,bridge=vmbr0,ip=dhcp,host-managed=1"))
    assert err.errors == {
        "net0": "invalid format - invalid key in comma-separated list property: host-managed\n"}


def test_answers_carry_the_schemas_types(sim: SimHandle) -> None:
    pve = api(sim)
    pve.nodes("pve1").qemu(101).config.put(cores="4", onboot="0", memory="2048")
    config = pve.nodes("pve1").qemu(101).config.get()
    # numbers where the schema says integer or boolean; memory is a property string
    assert (config["cores"], config["onboot"], config["memory"]) == (4, 0, "2048")
    assert pve.cluster.nextid.get() == "100"  # a string on the wire, as PVE sends it (reference §3.11)
    (eth0,) = [i for i in pve.nodes("pve2").lxc(201).interfaces.get() if i["name"] == "eth0"]
    assert eth0["hardware-address"] == eth0["hwaddr"] and eth0["inet"] == "192.168.1.20/24"
    assert [a["ip-address"] for a in eth0["ip-addresses"] if a["ip-address-type"] == "inet"] == [
        "192.168.1.20", "192.168.1.21"]


def test_a_create_allocates_its_volumes_as_proxmox_does(sim: SimHandle) -> None:
    pve = api(sim)
    pve.nodes("pve1").qemu.post(vmid=160, name="vol01", scsi0="local-lvm:16,ssd=1",
                                ide2="local-lvm:cloudinit", virtio1="local-lvm:vm-160-disk-9")
    config = pve.nodes("pve1").qemu(160).config.get()
    assert config["scsi0"] == "local-lvm:vm-160-disk-0,size=16G,ssd=1"
    assert config["ide2"] == "local-lvm:vm-160-cloudinit,media=cdrom"
    assert config["virtio1"] == "local-lvm:vm-160-disk-9"  # an existing volume, named
    pve.nodes("pve1").lxc.post(vmid=161, hostname="ct9", ostemplate="local:vztmpl/x.tar.zst",
                               rootfs="local-lvm:4")
    assert pve.nodes("pve1").lxc(161).config.get()["rootfs"] == "local-lvm:vm-161-disk-0,size=4G"


def test_the_lab_seed_holds_configs_proxmox_accepts() -> None:
    """Every seeded guest's config, written back as it is, passes the schema (the lab is no looser)."""
    from providers.lab.homelab import homelab
    from providers.proxmox.sim.seed import proxmox_seed

    for seed in (proxmox_seed(homelab(200)), lab_seed()):
        for g in seed["guests"]:
            ep = simschema.endpoint("PUT", ["nodes", g["node"], g["type"], str(g["vmid"]), "config"])
            assert ep is not None
            params = {k: str(v) for k, v in g["config"].items()}
            assert simschema.check_request(ep, params, "8.4.1") == {}, g["vmid"]


def test_the_simulators_subset_is_the_references() -> None:
    """The simulator's copy of the schema is the reference's file (a new reference: copy it again)."""
    from pathlib import Path

    reference = Path(REFERENCE)
    if reference.exists():
        assert json.loads(reference.read_text()) == simschema.schema()
    assert len(list(simschema.templates())) >= 40


# ----------------------------------------------------------------------------- the walk

# the endpoints netsot, `netsot lab` and the tests use: the simulator must serve each one
SERVED = {
    "GET /version", "GET /nodes", "GET /cluster/resources", "GET /cluster/status", "GET /cluster/nextid",
    "GET /nodes/{node}", "GET /nodes/{node}/version", "GET /nodes/{node}/qemu", "GET /nodes/{node}/lxc",
    "POST /nodes/{node}/qemu", "POST /nodes/{node}/lxc", "DELETE /nodes/{node}/qemu/{vmid}",
    "DELETE /nodes/{node}/lxc/{vmid}", "GET /nodes/{node}/qemu/{vmid}/config",
    "PUT /nodes/{node}/qemu/{vmid}/config",
    "GET /nodes/{node}/lxc/{vmid}/config", "PUT /nodes/{node}/lxc/{vmid}/config",
    "GET /nodes/{node}/qemu/{vmid}/status/current", "GET /nodes/{node}/lxc/{vmid}/status/current",
    "POST /nodes/{node}/qemu/{vmid}/status/start", "POST /nodes/{node}/qemu/{vmid}/status/stop",
    "POST /nodes/{node}/lxc/{vmid}/status/start", "POST /nodes/{node}/lxc/{vmid}/status/stop",
    "GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", "GET /nodes/{node}/lxc/{vmid}/interfaces",
    "GET /nodes/{node}/tasks/{upid}/status",
}
WALK_QEMU, WALK_LXC = 150, 151
CREATE = {
    "qemu": {"vmid": WALK_QEMU, "name": "walk01", "cores": 1, "memory": 1024, "agent": 1, "ostype": "l26",
             "net0": "virtio,bridge=vmbr0,tag=20", "scsi0": "local-lvm:16",
             "ide2": "local-lvm:cloudinit", "ipconfig0": "ip=dhcp", "tags": "walk"},
    "lxc": {"vmid": WALK_LXC, "hostname": "walk02", "ostemplate": "local:vztmpl/debian-12.tar.zst",
            "unprivileged": 1, "cores": 1, "memory": 512, "net0": "name=eth0,bridge=vmbr0,ip=dhcp"},
}
ORDER = {"GET": 0, "PUT": 1, "POST": 2, "DELETE": 3}


def _sample(name: str, prop: dict[str, Any]) -> Any:
    """A good value for a required parameter, from its schema (the walk fills only required ones)."""
    if "enum" in prop:
        return prop["enum"][0]
    if prop.get("type") in ("integer", "number"):
        return prop.get("minimum", 1)
    if prop.get("type") == "boolean":
        return 0
    return {"ostemplate": CREATE["lxc"]["ostemplate"]}.get(name, "walk")


def _walk_order(item: tuple[str, str]) -> tuple[int, int, str]:
    method, template = item
    power = 0 if template.endswith("/status/start") else 2 if template.endswith(("/stop", "/shutdown")) else 1
    return ORDER[method], power, template  # a walk guest is started first, stopped last


def test_walk_every_endpoint_of_the_subset(sim: SimHandle) -> None:
    """Each endpoint of the subset, called through proxmoxer with its required parameters: one the
    simulator serves answers data of the schema's ``returns``; one it does not is a 501 (PVE's "not
    implemented") and never an endpoint netsot or the lab needs. Every request the simulator answered
    passes the schema check; every served path is in the subset."""
    pve = api(sim)
    tasks: list[str] = []
    for gtype in ("qemu", "lxc"):
        tasks.append(pve.nodes("pve1")(gtype).post(**CREATE[gtype]))
    guest = {("qemu", True): 101, ("lxc", True): 201, ("qemu", False): WALK_QEMU, ("lxc", False): WALK_LXC}
    node_of = {101: "pve1", 201: "pve2", WALK_QEMU: "pve1", WALK_LXC: "pve1"}
    served: set[str] = set()
    unserved: set[str] = set()
    problems: list[str] = []
    for method, template in sorted(simschema.templates(), key=_walk_order):
        if method == "POST" and template in ("/nodes/{node}/qemu", "/nodes/{node}/lxc"):
            served.add(f"{method} {template}")  # walked above: the walk's own guests
            continue
        gtype = "lxc" if "/lxc" in template else "qemu"
        vmid = guest[(gtype, method == "GET")]
        values = {"node": node_of[vmid] if "{vmid}" in template else "pve1", "vmid": str(vmid),
                  "upid": tasks[0]}
        path = "/".join(values.get(seg[1:-1], seg) if seg.startswith("{") else seg
                        for seg in template.strip("/").split("/"))
        spec = simschema.schema()["paths"][template][method]
        props = (spec.get("parameters") or {}).get("properties") or {}
        params = {k: _sample(k, p) for k, p in props.items()
                  if not p.get("optional") and "[n]" not in k and k not in values}
        if method in ("PUT", "POST") and template.endswith("/config"):
            params = {"description": "walked", "digest": pve(path).get()["digest"]}
        if method == "DELETE":
            pve(f"nodes/{values['node']}/{gtype}/{vmid}/status/stop").post()
            params = {"purge": 1}
        try:
            data = getattr(pve(path), method.lower())(**params)
        except ResourceException as exc:
            if exc.status_code == 501:
                unserved.add(f"{method} {template}")
                continue
            problems.append(f"{method} /{path} {params}: {exc}")
            continue
        served.add(f"{method} {template}")
        problems += [f"{method} {template}: {p}" for p in simschema.check_response(method, template, data)]
    assert problems == []
    assert served >= SERVED, f"the simulator does not serve {sorted(SERVED - served)}"
    assert served | unserved == {f"{m} {t}" for m, t in simschema.templates()}
    # every request the simulator answered: an endpoint of the subset, its parameters good
    for entry in sim.log:
        parts = [unquote(p) for p in entry.path.strip("/").split("/")]
        ep = simschema.endpoint(entry.method, parts)
        assert ep is not None or entry.status == 501, entry
        if entry.status == 200 and ep is not None:
            assert simschema.check_request(ep, {**entry.params, **entry.query}, "8.4.1") == {}, entry


def test_netsots_client_sends_only_what_proxmox_accepts(sim: SimHandle) -> None:
    """A full read and a write-back through our client: each request in the subset and valid."""
    from providers.proxmox.client import ProxmoxClient

    from .conftest import make_config

    config = make_config(sim)
    client = ProxmoxClient(config.providers.get("proxmox"))  # type: ignore[arg-type]
    for entry in client.cluster_resources_vms():
        node, vmid = entry["node"], entry["vmid"]
        if node == "pve3":
            continue  # offline
        client.guest_config(entry["type"], node, vmid)
    digest = client.qemu_config("pve1", 101)["digest"]
    client.set_qemu_config("pve1", 101, digest, ipconfig0="ip=192.168.1.11/24,gw=192.168.1.1")
    client.lxc_interfaces("pve2", 201)
    client.agent_interfaces("pve1", 101)
    assert sim.log
    for entry in sim.log:
        parts = [unquote(p) for p in entry.path.strip("/").split("/")]
        ep = simschema.endpoint(entry.method, parts)
        assert ep is not None, entry
        assert simschema.check_request(ep, {**entry.params, **entry.query}, "8.4.1") == {}, entry
        assert entry.status == 200, entry

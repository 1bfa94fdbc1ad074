"""The simulator's per-request shortcuts answer as the general code they stand for: the request target
split by hand (``urlsplit``), the answer's head in one piece (``http.server``'s calls), the permission
check (``effective``), the schema's remembered verdicts and key specs, the Authorization claim; and
what a test changes (tokens, ACLs, configs, the version) counts on the very next request."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from providers.proxmox.sim import perms as simperms
from providers.proxmox.sim import schema as simschema
from providers.proxmox.sim import server
from providers.proxmox.sim.server import SimHandle

TARGETS = [
    "/api2/json/version", "/api2/json/nodes/pve1/qemu/101/config?current=1&x=", "/a?b?c", "/a#f?q",
    "/a?q#f", "/", "/?", "/#", "/a%20b?c=%41", "/nodes/pve1/tasks/UPID:pve1:0:0:0:x:1:y:/status",
    "/a:b", "//host/path?q", "///x", "http://h/api2/json/version?q=1", "api2/json/version", "",
    " /api2/json", "/a\tb", "/a\r\nb?q", "*", "/x?a=1#", "/\x00/x",
]


@pytest.mark.parametrize("target", TARGETS)
def test_the_target_is_split_as_urlsplit_splits_it(target: str) -> None:
    split = urlsplit(target)
    assert server._split_target(target) == (split.path, split.query)


def _handler(version: str = "HTTP/1.1") -> server._Handler:
    h = server._Handler.__new__(server._Handler)
    h.request_version = version
    h.wfile = io.BytesIO()
    h.date_time_string = lambda timestamp=None: "Mon, 07 Dec 2026 19:00:00 GMT"  # type: ignore[method-assign]
    return h


@pytest.mark.parametrize(("status", "reason", "body"), [
    (200, "OK", b'{"data": 1}'), (401, "No ticket", None), (595, "Connection refused", None),
    (400, "Parameter verification failed.\nmore", b"{}"), (200, "", b""), (500, "caf\xe9", b"x"),
])
def test_the_answers_head_is_the_one_http_server_writes(status: int, reason: str, body: bytes | None) -> None:
    ours, theirs = _handler(), _handler()
    ours.answer(status, reason, body)
    theirs._answer_by_header(status, reason.splitlines()[0] if reason else "", body)
    assert ours.wfile.getvalue() == theirs.wfile.getvalue()
    assert ours.wfile.getvalue().startswith(f"HTTP/1.1 {status} ".encode())


def test_a_reason_latin_1_cannot_carry_is_refused_as_http_server_refuses_it() -> None:
    ours, theirs = _handler(), _handler()
    with pytest.raises(UnicodeEncodeError) as ours_error:
        ours.answer(501, "Method 'GET /x/\u20ac' not implemented", b"{}")
    with pytest.raises(UnicodeEncodeError) as theirs_error:
        theirs._answer_by_header(501, "Method 'GET /x/\u20ac' not implemented", b"{}")
    assert str(ours_error.value) == str(theirs_error.value)
    assert ours.wfile.getvalue() == theirs.wfile.getvalue() == b""


TOKENS = [
    simperms.SimToken("u@pve", "full", "s"),
    simperms.SimToken("u@pve", "ro", "s", {"/vms": simperms.READ_PRIVILEGES}),
    simperms.SimToken("u@pve", "one", "s", {"/vms/101": ("VM.Audit", "VM.Monitor"),
                                            "/vms/2": ("VM.PowerMgmt",)}),
    simperms.SimToken("u@pve", "nine", "s", {"/vms/": ("VM.GuestAgent.Audit",), "/": ("Sys.Audit",)}),
    simperms.SimToken("u@pve", "none", "s", {}),
]
CALLS = [("GET", "/nodes/pve1/qemu/101/config", {}), ("GET", "/nodes/pve1/qemu/1011/config", {}),
         ("GET", "/nodes/pve1/qemu/2/agent/network-get-interfaces", {}),
         ("GET", "/nodes/pve1/qemu/101/agent/network-get-interfaces", {}),
         ("PUT", "/nodes/pve1/qemu/101/config", {"ipconfig0": "ip=dhcp"}),
         ("PUT", "/nodes/pve1/lxc/2/config", {"net0": "x"}), ("POST", "/nodes/pve1/qemu/2/status/start", {}),
         ("POST", "/nodes/pve1/qemu", {"vmid": "101"}), ("DELETE", "/nodes/pve1/qemu/101", {}),
         ("GET", "/version", {})]


@pytest.mark.parametrize("token", TOKENS, ids=lambda t: t.name)
@pytest.mark.parametrize("pve9", [False, True])
def test_authorize_refuses_exactly_when_the_effective_privileges_lack_the_call(
        token: simperms.SimToken, pve9: bool) -> None:
    for method, path, params in CALLS:
        need = simperms.required(method, path, params, pve9)
        lacking = need is not None and not set(need[1]) & set(simperms.effective(token, need[0], pve9))
        if lacking:
            with pytest.raises(simperms.Denied):
                simperms.authorize(token, method, path, params, pve9)
        else:
            simperms.authorize(token, method, path, params, pve9)


def _config_endpoint() -> simschema.Endpoint:
    ep = simschema.endpoint("GET", ["nodes", "pve1", "qemu", "101", "config"])
    assert ep is not None
    return ep


def test_a_remembered_verdict_is_the_one_for_its_endpoint_and_version() -> None:
    ep = _config_endpoint()
    bad = {"current": "2"}
    first = simschema.check_request(ep, bad, "8.4.1")
    assert first == {"current": "type check ('boolean') failed - got '2'"}
    assert simschema.check_request(ep, bad, "8.4.1") == first  # the remembered verdict
    other = simschema.endpoint("GET", ["nodes", "pve1", "qemu"])
    assert other is not None
    assert simschema.check_request(other, bad, "8.4.1") == {"current": simschema.UNKNOWN}
    start = simschema.endpoint("POST", ["nodes", "pve1", "qemu", "101", "status", "start"])
    assert start is not None
    nine_only = {"with-conntrack-state": "1"}  # a PVE 9 parameter of start
    assert simschema.check_request(start, nine_only, "9.0.3") == {}
    assert simschema.check_request(start, nine_only, "8.4.1") == {"with-conntrack-state": simschema.UNKNOWN}
    assert simschema.check_request(start, nine_only, "9.0.3") == {}


def test_an_endpoint_with_its_own_parameters_is_not_answered_from_the_schemas_verdicts() -> None:
    ep = _config_endpoint()
    assert simschema.check_request(ep, {"extra": "1"}, "8.4.1") == {"extra": simschema.UNKNOWN}
    props = {"node": {"type": "string"}, "vmid": {"type": "integer"}, "current": {"type": "string"}}
    params = {"additionalProperties": 1, "properties": props}
    own = simschema.Endpoint(ep.template, ep.method, {"parameters": params}, dict(ep.path_params))
    assert simschema.check_request(own, {"extra": "1", "current": "2"}, "8.4.1") == {}


def test_an_answers_keys_get_the_type_their_endpoint_gives() -> None:
    ep = _config_endpoint()
    data = {"cores": "2", "name": "12", "net0": "virtio", "onboot": True, "unknown9": "7", "memory": 2048}
    assert simschema.wire_types(ep, data) == {"cores": 2, "name": "12", "net0": "virtio", "onboot": 1,
                                              "unknown9": "7", "memory": 2048}
    assert simschema.wire_types(ep, data) == simschema.wire_types(ep, dict(data))  # again, remembered specs
    status = simschema.endpoint("GET", ["nodes", "pve1", "qemu", "101", "status", "current"])
    assert status is not None
    assert simschema.wire_types(status, {"name": "12", "uptime": "5"}) == {"name": "12", "uptime": 5}


def _get(h: SimHandle, path: str, token: tuple[str, str, str]) -> requests.Response:
    user, name, value = token
    return requests.get(h.url + path, headers={"Authorization": f"PVEAPIToken={user}!{name}={value}"},
                        verify=str(h.ca_path), timeout=5)


@pytest.mark.integration
def test_what_a_test_changes_counts_on_the_next_request(start_sim: Callable[..., SimHandle]) -> None:
    ro = simperms.SimToken("netsot@pve", "ro", "secret-ro", {"/vms": ("VM.Audit",)})
    h = start_sim(more_tokens=(ro,))
    g: dict[str, Any] = next(g for g in h.cluster.guests.values() if g["type"] == "qemu")
    path = f"/nodes/{g['node']}/qemu/{g['vmid']}/config"
    ro_id = (ro.user, ro.name, ro.value)
    assert _get(h, path, ro_id).status_code == 200
    h.sim.tokens[ro.tokenid].acl.pop("/vms")  # the ACL changed in place
    denied = _get(h, path, ro_id)
    assert (denied.status_code, denied.reason) == (
        403, f"Permission check failed (/vms/{g['vmid']}, VM.Audit)")
    h.sim.tokens[ro.tokenid].acl[f"/vms/{g['vmid']}"] = ("VM.Audit",)
    assert _get(h, path, ro_id).status_code == 200
    del h.sim.tokens[ro.tokenid]  # revoked
    assert (_get(h, path, ro_id).status_code, _get(h, path, ro_id).reason) == (401, "Authentication failed!")
    h.sim.tokens[ro.tokenid] = simperms.SimToken(ro.user, ro.name, "another secret", {"/": ("VM.Audit",)})
    assert _get(h, path, ro_id).status_code == 401  # the same header, a token with another secret now
    assert _get(h, path, (ro.user, ro.name, "another secret")).status_code == 200
    before = _get(h, path, h.token).json()["data"]
    h.set_config(g["vmid"], "cores", "7")
    after = _get(h, path, h.token).json()["data"]
    assert after["cores"] == 7 and after["digest"] != before["digest"]
    h.set_config(g["vmid"], "description", "hand edit")
    assert _get(h, path, h.token).json()["data"]["digest"] != after["digest"]
    agent = f"/nodes/{g['node']}/qemu/{g['vmid']}/agent/network-get-interfaces"
    ro9 = simperms.SimToken("netsot@pve", "ro9", "s9", {"/vms": ("VM.Monitor",)})
    h.sim.tokens[ro9.tokenid] = ro9
    assert _get(h, agent, ("netsot@pve", "ro9", "s9")).status_code != 403  # PVE 8: VM.Monitor suffices
    h.cluster.version["version"] = "9.0.3"
    refused = _get(h, agent, ("netsot@pve", "ro9", "s9"))
    assert (refused.status_code, refused.reason) == (
        403, f"Permission check failed (/vms/{g['vmid']}, VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted)")

"""The VyOS API simulator, driven over HTTPS with a real HTTP client (requests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from providers.vyos.sim.api import Lease
from providers.vyos.sim.server import SimHandle, start
from tests.providers.vyos.seeds import V14, V15

SUB = ["service", "dhcp-server", "shared-network-name", "LAN", "subnet", "192.168.10.0/24"]
HOST = ["system", "static-host-mapping", "host-name"]


def _dir(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).mkdir()
    return tmp_path / name


@pytest.fixture(params=["1.4", "1.5"])
def sim(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimHandle]:
    handle = start(V14 if request.param == "1.4" else V15, dialect=request.param, state_dir=tmp_path)
    yield handle
    handle.stop()


@pytest.fixture
def v14(tmp_path: Path) -> Iterator[SimHandle]:
    handle = start(V14, dialect="1.4", state_dir=_dir(tmp_path, "v14"))
    yield handle
    handle.stop()


@pytest.fixture
def v15(tmp_path: Path) -> Iterator[SimHandle]:
    handle = start(V15, dialect="1.5", state_dir=_dir(tmp_path, "v15"),
                   leases=[Lease("192.168.10.101", "52:54:00:aa:00:09", hostname="laptop")])
    yield handle
    handle.stop()


def post(sim: SimHandle, endpoint: str, body: dict[str, Any], *, form: bool = False) -> requests.Response:
    if form:
        fields = {"data": json.dumps(body.get("commands", body)), "key": sim.key}
        return requests.post(sim.url + endpoint, data=fields, verify=str(sim.ca_path), timeout=10)
    payload = {"key": sim.key, **body}
    return requests.post(sim.url + endpoint, json=payload, verify=str(sim.ca_path), timeout=10)


def configure(sim: SimHandle, *ops: tuple[str, list[str]], **extra: Any) -> requests.Response:
    return post(sim, "/configure", {"commands": [{"op": op, "path": path} for op, path in ops], **extra})


def show(sim: SimHandle, path: list[str]) -> Any:
    reply = post(sim, "/retrieve", {"op": "showConfig", "path": path})
    return reply.json()["data"] if reply.status_code == 200 else None


def test_an_unknown_or_missing_key_is_refused(sim: SimHandle) -> None:
    reply = requests.post(sim.url + "/retrieve", json={"key": "nope", "op": "showConfig", "path": []},
                          verify=str(sim.ca_path), timeout=10)
    assert reply.status_code == 401
    assert reply.json() == {"success": False, "data": None, "error": "Valid API key is required"}
    assert reply.headers["Content-Type"].startswith("text/html")


def test_a_form_without_data_and_bad_shapes(sim: SimHandle) -> None:
    reply = requests.post(sim.url + "/configure", data={"key": sim.key}, verify=str(sim.ca_path), timeout=10)
    assert (reply.status_code, reply.json()["error"]) == (422, "Non-empty data field is required")
    reply = post(sim, "/configure", {"commands": [{"path": ["system"]}]})
    assert reply.status_code == 400 and "missing 'op' field" in reply.json()["error"]
    reply = post(sim, "/configure", {"commands": [{"op": "set", "path": []}]})
    assert "'path' list must be non-empty" in reply.json()["error"]
    reply = post(sim, "/configure", {"commands": [{"op": "frob", "path": ["system"]}]})
    assert reply.json()["error"] == "'frob' is not a valid operation"


def test_the_tls_certificate_must_be_trusted(sim: SimHandle) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(sim.url + "/retrieve", json={"key": sim.key, "op": "exists", "path": []}, timeout=10)


def test_show_config_json_shape(v14: SimHandle) -> None:
    data = show(v14, ["service", "dhcp-server"])
    assert data["hostfile-update"] == {}
    subnet = data["shared-network-name"]["LAN"]["subnet"]["192.168.10.0/24"]
    assert subnet["static-mapping"]["nas"] == {
        "description": "the NAS", "ip-address": "192.168.10.20", "mac-address": "52:54:00:aa:00:01"}
    assert subnet["name-server"] == ["192.168.10.1"]  # a multi leaf is always a list
    assert show(v14, [*HOST, "nas"]) == {"alias": ["files"], "inet": ["192.168.10.20"]}
    reply = post(v14, "/retrieve", {"op": "showConfig", "path": ["service", "nowhere"]})
    assert reply.status_code == 400 and reply.json()["success"] is False


def test_the_dialects_name_the_mac_differently(v14: SimHandle, v15: SimHandle) -> None:
    new14 = [*SUB, "static-mapping", "tv", "mac", "52:54:00:aa:00:02"]
    reply = configure(v14, ("set", new14))
    assert reply.status_code == 400 and "is not valid" in reply.json()["error"]
    assert reply.json()["error"].rstrip().endswith("Set failed")
    reply = configure(v15, ("set", [*SUB, "static-mapping", "tv", "mac-address", "52:54:00:aa:00:02"]))
    assert reply.status_code == 400 and "is not valid" in reply.json()["error"]
    reply = configure(v15, ("set", [*SUB, "default-router", "192.168.10.1"]))
    assert reply.status_code == 400, "1.5 has options under `option` only"
    reply = configure(v14, ("set", [*SUB, "static-mapping", "tv", "ip-address", "192.168.10.21"]),
                      ("set", [*SUB, "static-mapping", "tv", "mac-address", "52:54:00:aa:00:02"]))
    assert reply.json() == {"success": True, "data": None, "error": None}
    assert show(v14, [*SUB, "static-mapping", "tv"])["mac-address"] == "52:54:00:aa:00:02"


def test_mapping_names_per_dialect(v14: SimHandle, v15: SimHandle) -> None:
    reply = configure(v14, ("set", [*SUB, "static-mapping", "bad name", "ip-address", "192.168.10.30"]))
    assert "Invalid static mapping name, may only be alphanumeric, dot and hyphen" in reply.json()["error"]
    reply = configure(v15, ("set", [*SUB, "static-mapping", "my_pc", "ip-address", "192.168.10.30"]))
    assert "Invalid static mapping hostname" in reply.json()["error"]
    reply = configure(v14, ("set", [*HOST, "-x", "inet", "192.168.10.30"]))
    assert "Host-name must be alphanumeric and can contain hyphens" in reply.json()["error"]


def test_a_failed_set_commits_nothing(sim: SimHandle) -> None:
    reply = configure(sim, ("set", [*HOST, "tv", "inet", "192.168.10.21"]),
                      ("set", [*HOST, "x_", "inet", "1.2.3.4"]))
    assert reply.status_code == 400
    assert show(sim, [*HOST, "tv"]) is None


def test_subnet_id_is_required_in_15(v15: SimHandle) -> None:
    other = ["service", "dhcp-server", "shared-network-name", "IOT", "subnet", "10.0.5.0/24"]
    pool = (("set", [*other, "range", "0", "start", "10.0.5.100"]),
            ("set", [*other, "range", "0", "stop", "10.0.5.120"]))
    reply = configure(v15, *pool)
    error = reply.json()["error"]
    assert reply.status_code == 400
    assert 'Unique subnet ID not specified for subnet "10.0.5.0/24"' in error
    assert "[[service dhcp-server]] failed" in error and error.rstrip().endswith("Commit failed")
    reply = configure(v15, *pool, ("set", [*other, "subnet-id", "1"]))
    # shared networks are checked in the config's order: IOT (new) first, so LAN's id is the repeat
    assert 'Subnet ID for subnet "192.168.10.0/24" is not unique' in reply.json()["error"]
    reply = configure(v15, *pool, ("set", [*other, "subnet-id", "2"]))
    assert reply.status_code == 200


def test_a_failed_commit_leaves_earlier_priorities_committed(sim: SimHandle) -> None:
    """The host mapping (priority 400) lands; the duplicate DHCP address (911) does not."""
    mac = "mac-address" if sim.router.dialect == "1.4" else "mac"
    reply = configure(sim, ("set", [*HOST, "tv", "inet", "192.168.10.21"]),
                      ("set", [*SUB, "static-mapping", "tv", "ip-address", "192.168.10.20"]),
                      ("set", [*SUB, "static-mapping", "tv", mac, "52:54:00:aa:00:02"]))
    error = reply.json()["error"]
    assert reply.status_code == 400
    assert 'Configured IP address for static mapping "tv" already exists on another static mapping' in error
    assert show(sim, [*HOST, "tv"]) == {"inet": ["192.168.10.21"]}
    assert show(sim, [*SUB, "static-mapping", "tv"]) is None


def test_duplicates_are_per_subnet_and_skip_disabled(sim: SimHandle) -> None:
    mac = "mac-address" if sim.router.dialect == "1.4" else "mac"
    tv = [*SUB, "static-mapping", "tv"]
    same = (("set", [*tv, "ip-address", "192.168.10.21"]), ("set", [*tv, mac, "52:54:00:aa:00:01"]))
    reply = configure(sim, *same)
    assert 'Configured MAC address for static mapping "tv"' in reply.json()["error"]
    reply = configure(sim, *same, ("set", [*tv, "disable"]))
    assert reply.status_code == 200, reply.json()


def test_save_only_when_asked(sim: SimHandle) -> None:
    configure(sim, ("set", [*HOST, "tv", "inet", "192.168.10.21"]))
    assert sim.router.saved is not None and not sim.router.saved.exists([*HOST, "tv"])
    reply = post(sim, "/config-file", {"op": "save"})
    assert reply.json()["data"] == "Saving configuration to '/config/config.boot'...\nDone\n"
    assert sim.router.saved.exists([*HOST, "tv"])


def test_form_style_and_strict_delete(v14: SimHandle) -> None:
    reply = post(v14, "/configure", {"commands": [{"op": "delete", "path": [*HOST, "ghost"]}]}, form=True)
    assert reply.status_code == 200  # not strict: a missing delete is accepted
    v14.router.strict = True
    reply = post(v14, "/configure", {"commands": [{"op": "delete", "path": [*HOST, "ghost"]}]}, form=True)
    assert reply.json()["error"].startswith("Cannot delete [system static-host-mapping host-name ghost]")


def test_commit_confirm_in_15_only(v14: SimHandle, v15: SimHandle) -> None:
    reply = configure(v15, ("set", [*HOST, "tv", "inet", "192.168.10.21"]), confirm_time=2)
    assert reply.json()["data"] == "Initialized commit-confirm; 2 minutes to confirm before reload"
    reply = post(v15, "/configure", {"op": "confirm"})
    assert reply.json()["data"] == "Reload timer stopped"
    configure(v15, ("set", [*HOST, "pc", "inet", "192.168.10.22"]), confirm_time=1)
    v15.router.expire_confirm()
    assert show(v15, [*HOST, "pc"]) is None and show(v15, [*HOST, "tv"]) is not None
    reply = configure(v14, ("set", [*HOST, "tv", "inet", "192.168.10.21"]), confirm_time=2)
    assert reply.json()["data"] is None  # 1.4 knows no confirm_time: a plain commit


def test_leases_table(v15: SimHandle) -> None:
    reply = post(v15, "/show", {"op": "show", "path": ["dhcp", "server", "leases"]})
    lines = reply.json()["data"].splitlines()
    assert lines[0].split("  ")[0] == "IP Address" and set(lines[1]) == {"-", " "}
    assert lines[2].startswith("192.168.10.101  52:54:00:aa:00:09  active")

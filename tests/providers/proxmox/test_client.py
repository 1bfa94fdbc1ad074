"""ProxmoxClient (real proxmoxer over HTTPS, TLS verified) against the simulator: calls and error mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trustme

from core.errors import (
    ChangedUnderneath,
    ProviderAuthError,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from providers.proxmox.client import NodeTimeout, NodeUnavailable, ProxmoxClient, to_api_params
from providers.proxmox.settings import ProxmoxSettings
from providers.proxmox.sim.server import SimHandle
from tests.providers.proxmox.conftest import make_config

pytestmark = pytest.mark.integration


def client(h: SimHandle, **kw: Any) -> ProxmoxClient:
    return ProxmoxClient(make_config(h, **kw).providers.get("proxmox"))  # type: ignore[arg-type]


def test_reads(sim: SimHandle) -> None:
    c = client(sim)
    assert c.version()["release"] == "8.4"
    assert {n["node"] for n in c.nodes()} == {"pve1", "pve2", "pve3"}
    vms = c.cluster_resources_vms()
    assert {e["vmid"] for e in vms} >= {101, 201, 9000}
    assert c.qemu_config("pve1", 101)["name"] == "web01"
    assert c.lxc_config("pve2", 201)["hostname"] == "ct01"
    assert c.agent_interfaces("pve1", 101)[1]["name"] == "eth0"  # type: ignore[index]
    assert c.lxc_interfaces("pve2", 201)[1]["name"] == "eth0"  # type: ignore[index]


def test_agent_no_data_cases_return_none(sim: SimHandle) -> None:
    c = client(sim)
    assert c.agent_interfaces("pve1", 104) is None  # No QEMU guest agent configured
    assert c.agent_interfaces("pve1", 103) is None  # VM 103 is not running
    assert c.agent_interfaces("pve1", 105) is None  # QEMU guest agent is not running
    sim.set_guest(105, agent_error="timeout")
    assert c.agent_interfaces("pve1", 105) is None  # qmp … got timeout
    sim.set_guest(105, agent_error=None, agent={"error": {"class": "CommandDisabled", "desc": "disabled"}})
    assert c.agent_interfaces("pve1", 105) is None  # 200 with result.error
    sim.set_guest(105, agent_error="forbidden")
    with pytest.raises(ProviderAuthError, match=r"Permission check failed \(/vms/105, VM.Monitor\)"):
        c.agent_interfaces("pve1", 105)


def test_agent_pve9_timeout_text(start_sim: Any) -> None:
    from tests.providers.proxmox.conftest import lab_seed

    seed = lab_seed() | {"version": {"version": "9.0.3", "release": "9.0", "repoid": "0123456789abcdef"}}
    h = start_sim(seed)
    h.set_guest(105, agent_error="timeout")
    assert client(h).agent_interfaces("pve1", 105) is None


def test_lxc_interfaces_none_when_stopped_or_pve7(sim: SimHandle) -> None:
    c = client(sim)
    assert c.lxc_interfaces("pve2", 202) is None
    sim.knobs.lxc_interfaces_501 = True
    assert c.lxc_interfaces("pve2", 201) is None


def test_bad_token_is_a_clear_401_without_the_secret(sim: SimHandle) -> None:
    c = client(sim, token_value="00000000-dead-beef-0000-000000000000")
    with pytest.raises(ProviderAuthError) as err:
        c.cluster_resources_vms()
    text = str(err.value)
    assert text.startswith("proxmox: authentication failed: Authentication failed!")
    assert "netsot@pve!netsot" in text and "dead-beef" not in text and sim.token[2] not in text


def test_wrong_ca_is_refused(sim: SimHandle, tmp_path: Path) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    with pytest.raises(ProviderAuthError, match=r"TLS verification failed .*set verify_tls to a CA bundle"):
        client(sim, verify_tls=str(other)).version()
    with pytest.raises(ProviderAuthError, match="TLS verification failed"):
        client(sim, verify_tls=True).version()


def test_connection_refused(sim: SimHandle) -> None:
    s = make_config(sim).providers.get("proxmox")
    assert s is not None
    dead = ProxmoxSettings.model_validate({**s.model_dump(), "token_value": sim.token[2], "port": 1})
    with pytest.raises(ProviderUnavailable, match=r"cannot connect to https://127.0.0.1:1"):
        ProxmoxClient(dead).version()


def test_offline_node_595(sim: SimHandle) -> None:
    with pytest.raises(NodeUnavailable) as err:
        client(sim).qemu_config("pve3", 301)
    assert err.value.node == "pve3"
    assert str(err.value) == "proxmox: node pve3 is unreachable (595 Connection refused)"


def test_hung_node_times_out_naming_the_node(sim: SimHandle) -> None:
    sim.knobs.hang_nodes = {"pve2"}
    with pytest.raises(NodeTimeout) as err:
        client(sim, timeout=0.3).lxc_config("pve2", 201)
    assert err.value.node == "pve2" and "node pve2" in str(err.value) and "0.3 s" in str(err.value)
    sim.knobs.hang_nodes = set()
    sim.knobs.hang_paths = {"/cluster"}
    with pytest.raises(ProviderTimeout, match="/cluster/resources"):
        client(sim, timeout=0.3).cluster_resources_vms()


def test_agent_timeout_uses_agent_timeout(sim: SimHandle) -> None:
    sim.set_guest(101, agent_delay=1.0)
    c = client(sim, timeout=5, agent_timeout=0.3)
    with pytest.raises(NodeTimeout, match=r"within 0\.3 s"):
        c.agent_interfaces("pve1", 101)
    assert c.qemu_config("pve1", 101)["name"] == "web01"


def test_put_booleans_arrive_as_0_1_and_400_errors(sim: SimHandle) -> None:
    c = client(sim)
    digest = c.qemu_config("pve1", 101)["digest"]
    c.set_qemu_config("pve1", 101, digest, onboot=True, protection=False, description="x")
    put = [e for e in sim.log if e.method == "PUT"][-1]
    assert put.params["onboot"] == "1" and put.params["protection"] == "0" and put.params["digest"] == digest
    with pytest.raises(ProviderRejected) as err:
        c.set_qemu_config("pve1", 101, None, ipconfig0="gw=192.168.1.1")
    assert "Parameter verification failed." in str(err.value) and "ipconfig0" in str(err.value)


def test_digest_mismatch_is_changed_underneath(sim: SimHandle) -> None:
    c = client(sim)
    old = c.qemu_config("pve1", 101)["digest"]
    sim.set_config(101, "description", "edited by hand")
    with pytest.raises(ChangedUnderneath, match=r"changed underneath us.*run plan again"):
        c.set_qemu_config("pve1", 101, old, ipconfig0="ip=dhcp")
    old_ct = c.lxc_config("pve2", 201)["digest"]
    sim.set_config(201, "description", "edited")
    with pytest.raises(ChangedUnderneath, match="detected modified configuration"):
        c.set_lxc_config("pve2", 201, old_ct, description="y")


def test_other_5xx_quotes_reason(sim: SimHandle) -> None:
    sim.knobs.fail_nth = 1
    with pytest.raises(ProviderError, match="500 internal error \\(injected by the simulator\\)"):
        client(sim).version()
    with pytest.raises(ProviderError, match="does not exist"):
        client(sim).qemu_config("pve1", 999)


def test_to_api_params() -> None:
    assert to_api_params({"a": True, "b": False, "c": None, "d": "x", "e": [1, True]}) == {
        "a": 1,
        "b": 0,
        "d": "x",
        "e": "1,1",
    }


def test_node_names_are_checked(sim: SimHandle) -> None:
    from core.errors import ProviderDataError

    with pytest.raises(ProviderDataError, match="invalid node name"):
        client(sim).qemu_config("../access", 1)


def test_one_kept_alive_connection_per_thread_through_the_lean_session(sim: SimHandle) -> None:
    import threading

    from providers.proxmox.http import LeanSession

    c = client(sim)
    before = sim.connections
    for _ in range(20):  # configs (normal timeout) and agent calls (agent timeout) alike
        c.qemu_config("pve1", 101)
        c.agent_interfaces("pve1", 101)
    assert sim.connections - before == 1
    assert isinstance(c._api(False)._store["session"], LeanSession)
    threading.Thread(target=c.version).start()  # another worker: a connection of its own
    for _ in range(200):
        if sim.connections - before == 2:
            break
        threading.Event().wait(0.01)
    assert sim.connections - before == 2


def test_one_tls_context_for_every_threads_connection(sim: SimHandle) -> None:
    """#24: the threads' connections share the client's TLS context (one made with the system's CAs
    costs ~25 ms of CPU: once per read, not once per worker)."""
    from concurrent.futures import ThreadPoolExecutor

    c = client(sim)
    before = sim.connections

    def context_of_this_thread(_: int) -> int:
        c.qemu_config("pve1", 101)
        return id(c._api(False)._store["session"].connection._ctx)

    with ThreadPoolExecutor(max_workers=4) as pool:
        contexts = set(pool.map(context_of_this_thread, range(40)))
    assert 1 < sim.connections - before <= 4 and len(contexts) == 1


def test_a_proxy_in_the_environment_keeps_requests(sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    monkeypatch.setenv("no_proxy", "127.0.0.1")
    c = client(sim)
    assert c.version()["release"] == "8.4"
    assert isinstance(c._api(False)._store["session"], requests.Session)

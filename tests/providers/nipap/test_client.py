"""NipapClient: credentials, redaction, error mapping, timeouts and pynipap's process-wide identity."""

from __future__ import annotations

import json
import socket
import time

import pytest

from core.config import Config, Network
from core.errors import NetsotError, ProviderAuthError, ProviderError, ProviderRejected, ProviderTimeout
from providers.nipap import inventory
from providers.nipap.client import DuplicatePrefix, NipapClient, NotFound, redact_url, with_credentials
from providers.nipap.settings import NipapSettings
from providers.nipap.sim.server import SimHandle

pytestmark = pytest.mark.integration


def client(
    sim: SimHandle, user: str = "netsot", password: str = "pw", path: str = "/XMLRPC", timeout: float = 5
) -> NipapClient:
    return NipapClient(
        NipapSettings(url=sim.url(path=path), username=user, password=password, timeout=timeout)
    )


def test_url_helpers() -> None:
    url = with_credentials("http://127.0.0.1:1337/XMLRPC", "net sot", "p@ss:w/rd")
    assert url == "http://net%20sot:p%40ss%3Aw%2Frd@127.0.0.1:1337/XMLRPC"
    assert redact_url("ProtocolError for net:s3cret@127.0.0.1:1/x") == "ProtocolError for ***@127.0.0.1:1/x"
    assert redact_url("http://u:s3cret@h/XMLRPC") == "http://***@h/XMLRPC"
    with pytest.raises(ProviderError, match="url must be http"):
        with_credentials("ftp://u:pw@h/x", "u", "pw")


def test_special_character_password_works_both_paths(sim: SimHandle) -> None:
    c = client(sim, "odd", "p@ss:w/rd %x")
    assert c.version() == "0.32.7"  # pynipap path
    assert c.find_vrf("lab")["rt"] == "65000:1"  # raw path


def test_wrong_path_is_redacted(sim: SimHandle) -> None:
    for call in (lambda c: c.version(), lambda c: c.find_vrf(None)):
        c = client(sim, password="s3cret-pw", path="/nope")
        with pytest.raises(ProviderError) as info:
            call(c)
        text = str(info.value)
        assert "HTTP 404" in text and "s3cret-pw" not in text and "@" not in text


def test_fault_mapping(sim: SimHandle) -> None:
    c = client(sim)
    vrf = c.find_vrf("65000:1")
    with pytest.raises(DuplicatePrefix, match=r"'1, 192\.168\.1\.5' is already in use"):
        c.add_prefix(vrf["id"], "192.168.1.5/32", "host", node="x")
    with pytest.raises(ProviderRejected, match="Parent prefix"):
        c.add_prefix(0, "10.2.0.1/32", "host", node="x")
    with pytest.raises(NotFound):
        c.remove_prefix(999)
    with pytest.raises(NotFound):
        c.find_vrf("nope")
    with pytest.raises(ProviderAuthError, match="authentication failed for user netsot"):
        client(sim, password="bad-pw").find_vrf(None)
    with pytest.raises(ProviderAuthError, match="user reader is not authorised"):
        client(sim, "reader", "pw2").add_prefix(0, "10.1.0.9/32", "host", node="x")
    sim.knobs.fail_call(1)
    with pytest.raises(ProviderError, match=r"fault 1000.*Backend unable to connect to database"):
        c.find_vrf(None)


def test_two_identities_in_one_process(sim: SimHandle) -> None:
    writer, reader = client(sim), client(sim, "reader", "pw2")
    for i in range(2):  # alternate: each call reconfigures pynipap's globals through the gate
        with pytest.raises(ProviderAuthError):
            reader.add_prefix(0, "10.1.0.99/32", "host", node="r")
        row = writer.add_prefix(0, f"10.1.0.{50 + i}/32", "host", node=f"w{i}")
        assert row["node"] == f"w{i}" and row["authoritative_source"] == "netsot"
    assert {r.user for r in sim.log if r.method == "add_prefix"} == {"netsot", "reader"}


def test_timeout_is_per_call_not_global(sim: SimHandle) -> None:
    assert socket.getdefaulttimeout() is None
    c = client(sim, timeout=0.3)
    sim.knobs.hang_call(1, seconds=2)
    start = time.monotonic()
    with pytest.raises(ProviderTimeout):
        c.version()
    assert time.monotonic() - start < 1.0
    assert socket.getdefaulttimeout() is None
    assert c.version() == "0.32.7"


def test_password_from_secret_reference_never_in_errors(
    sim: SimHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NIPAP_TEST_PW", "env-secret-pw")
    settings = NipapSettings(url=sim.url(path="/nope"), username="netsot", password="${env:NIPAP_TEST_PW}")
    with pytest.raises(NetsotError) as info:
        NipapClient(settings).version()
    assert "env-secret-pw" not in str(info.value) and "env-secret-pw" not in repr(info.value)


def test_inventory_live_and_from_file(sim: SimHandle, tmp_path) -> None:
    settings = NipapSettings(url=sim.url(), username="netsot", password="pw", vrf="lab")
    config = Config(
        networks=(Network(name="lan", prefix="192.168.1.0/24"),), providers={"nipap": settings}
    )
    text = inventory.run(config, None, False)
    assert "lan  192.168.1.0/24" in text and "printer" in text and "00:11:22:33:44:55" in text
    doc = json.loads(inventory.run(config, None, True))
    assert doc["networks"][0]["hosts"][0]["hostname"] == "printer"
    rows = [{"prefix": "192.168.1.0/24", "type": "assignment"}, {"prefix": "192.168.1.9/32", "node": "cam"}]
    path = tmp_path / "nipap.json"
    path.write_text(json.dumps(rows))
    doc = json.loads(inventory.run(config, str(path), True))
    assert [h["hostname"] for h in doc["networks"][0]["hosts"]] == ["cam"]


def test_standalone_simulator_runs_until_sigterm(tmp_path) -> None:
    import signal
    import subprocess
    import sys
    import xmlrpc.client

    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"prefixes": [{"prefix": "10.9.0.0/24", "type": "assignment"}]}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "providers.nipap.sim.server", "--state-dir", str(tmp_path),
         "--seed", str(seed)]
    )
    try:
        info_file = tmp_path / "nipap.json"
        deadline = time.monotonic() + 15
        while not info_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        info = json.loads(info_file.read_text())
        assert info["pid"] == proc.pid
        url = f"http://netsot:pw@127.0.0.1:{info['port']}/XMLRPC"
        proxy = xmlrpc.client.ServerProxy(url, allow_none=True)
        rows = proxy.list_prefix({"auth": {"authoritative_source": "t"}, "prefix": {}})
        assert [r["prefix"] for r in rows] == ["10.9.0.0/24"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert not info_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def test_calls_of_one_thread_share_one_kept_alive_connection(sim: SimHandle) -> None:
    import threading

    c = client(sim)
    vrf = c.find_vrf("65000:1")
    before = sim.connections
    for i in range(6):  # both paths: raw XML-RPC and pynipap's ORM (writes)
        c.find_vrf("65000:1")
        c.add_prefix(vrf["id"], f"192.168.1.{200 + i}/32", "host", node=f"k{i}")
    assert sim.connections - before <= 1  # the thread's connection of find_vrf above, kept alive
    # another worker thread has a connection of its own (one request at a time per connection)
    threading.Thread(target=lambda: c.find_vrf("65000:1")).start()
    deadline = time.monotonic() + 5
    while sim.connections == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sim.connections - before == 1 or sim.connections - before == 2


def test_a_connection_idle_too_long_is_not_reused(sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    from providers.nipap import client as client_module

    monkeypatch.setattr(client_module, "KEEPALIVE_IDLE", 0.0)
    c = client(sim)
    c.find_vrf("65000:1")
    before = sim.connections
    for _ in range(3):
        time.sleep(0.01)
        c.find_vrf("65000:1")
    assert sim.connections - before == 3

"""One apply on VyOS against the simulator: one configure, one save, reconcile after a failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import ProviderRejected
from providers.vyos import commands
from providers.vyos.client import Op, VyosClient
from providers.vyos.inventory import read_router
from providers.vyos.read import read
from providers.vyos.sim.server import SimHandle, start
from providers.vyos.transact import push
from tests.providers.vyos.seeds import V14, V15

NET = "192.168.10.0/24"


@pytest.fixture(params=["1.4", "1.5"])
def sim(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimHandle]:
    handle = start(V14 if request.param == "1.4" else V15, dialect=request.param, state_dir=tmp_path)
    yield handle
    handle.stop()


def _client(sim: SimHandle) -> VyosClient:
    return VyosClient(sim.url, sim.key, ca_bundle=str(sim.ca_path))


def _ids(client: VyosClient) -> dict[str, str]:
    return dict(read(read_router(client)).subnet_ids)


def test_one_configure_and_one_save_per_apply(sim: SimHandle) -> None:
    client, d = _client(sim), sim.router.dialect
    mapping = commands.set_mapping(d, "LAN", NET, "tv", "192.168.10.21", "52:54:00:aa:00:02", _ids(client))
    ops = [*mapping, *commands.set_host("tv.lan", ["192.168.10.21"], ["tv"])]
    outcome = push(client, ops)
    assert outcome.ok and outcome.saved and outcome.landed == tuple(ops)
    assert len(sim.calls("/configure")) == 1 and len(sim.calls("/config-file")) == 1
    mac_leaf = "mac-address" if d == "1.4" else "mac"
    saved = sim.router.saved
    assert saved is not None
    assert saved.exists([*commands.mapping_path("LAN", NET, "tv"), mac_leaf, "52:54:00:aa:00:02"])


def test_a_failed_commit_is_reconciled_from_what_landed(sim: SimHandle) -> None:
    """The host name (priority 400) lands, the duplicate-IP mapping (911) does not: the outcome says so."""
    client, d = _client(sim), sim.router.dialect
    host = commands.set_host("tv.lan", ["192.168.10.21"])
    dup = commands.set_mapping(d, "LAN", NET, "tv", "192.168.10.20", "52:54:00:aa:00:02", _ids(client))
    outcome = push(client, [*host, *dup])
    assert outcome.error is not None and "already exists on another static mapping" in outcome.error
    assert outcome.landed == tuple(host) and outcome.missing == tuple(dup)
    assert outcome.saved and sim.router.saved is not None and sim.router.saved.exists(list(host[0].path))
    assert "1 of 3 operations landed" in outcome.note


def test_a_refused_set_lands_nothing_and_saves_nothing(sim: SimHandle) -> None:
    client = _client(sim)
    hosts = ("system", "static-host-mapping", "host-name")
    ops = [Op("set", (*hosts, "ok", "inet", "10.0.0.9")), Op("set", (*hosts, "bad_", "inet", "10.0.0.8"))]
    outcome = push(client, ops)
    assert outcome.landed == () and len(outcome.missing) == 2 and not outcome.saved
    assert sim.calls("/config-file") == []


def test_names_and_subnet_ids_are_checked_before_sending() -> None:
    with pytest.raises(ProviderRejected, match="Invalid static mapping hostname"):
        commands.set_mapping("1.5", "LAN", "10.0.0.0/24", "my_pc", "10.0.0.5", None, {"10.0.0.0/24": "1"})
    commands.set_mapping("1.4", "LAN", "10.0.0.0/24", "my_pc", "10.0.0.5", None, {})
    with pytest.raises(ProviderRejected, match="netsot never invents it"):
        commands.set_mapping("1.5", "LAN", "10.0.0.0/24", "pc", "10.0.0.5", None, {})
    ops = commands.set_mapping("1.5", "LAN", "10.0.0.0/24", "pc", "10.0.0.5", "aa:bb:cc:dd:ee:ff",
                               {"10.0.0.0/24": "7"})
    assert ops[1].path[-2:] == ("mac", "aa:bb:cc:dd:ee:ff")
    assert all("subnet-id" not in o.path for o in ops)


def test_commit_confirm_confirms_only_after_verify(tmp_path: Path) -> None:
    sim = start(V15, dialect="1.5", state_dir=tmp_path)
    try:
        client = _client(sim)
        a, b = commands.set_host("a.lan", ["192.168.10.30"]), commands.set_host("b.lan", ["192.168.10.31"])
        good = push(client, a, confirm_minutes=2, verify=lambda: True)
        assert good.confirmed is True and good.saved and sim.router.pending_confirm is None
        bad = push(client, b, confirm_minutes=2, verify=lambda: False)
        assert bad.confirmed is False and not bad.saved and sim.router.pending_confirm is not None
        sim.router.expire_confirm()  # the router's timer runs out: the unverified change is gone
        assert not sim.router.running.exists(["system", "static-host-mapping", "host-name", "b.lan"])
        assert sim.router.running.exists(["system", "static-host-mapping", "host-name", "a.lan"])
    finally:
        sim.stop()

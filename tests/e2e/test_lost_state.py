"""#20.1: a lost state never costs a person's NIPAP hosts. README's recovery steps for a lost state
(plan, `netsot import edgemax`, apply), in several orders and each apply with `--force`, never delete or
rewrite what a person made: a host made by hand in NIPAP that originates a binding stays exactly as it
was (no netsot marker written into it). The router entries `netsot import edgemax` adopted after the loss
are netsot's to manage but not to delete: when the NIPAP host is removed their deletes are held (gate
`adopted`) and `state rm` lets them go. An adopted NIPAP host netsot did not make is never deleted on its own.
Runs on the simulator and on a real nipapd (``NETSOT_TEST_NIPAP_URL``); the tests share one lab."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.nipapworld import NipapWorld, world_fixture
from tests.service.conftest import ServiceProcess, set_policy

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(600)]

MAC = "0c:8b:95:00:20:01"
MARKER = ("managed-by", "netsot-binding", "mac")
ORDERS = (("import", "apply", "apply"), ("apply", "import", "apply", "apply"), ("apply", "apply"))
_seen: dict[str, Any] = {}


@pytest.fixture(scope="module", params=["sim", pytest.param("live", marks=pytest.mark.live)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NipapWorld]:
    url = request.getfixturevalue("live_nipap_url") if request.param == "live" else None
    yield from world_fixture(request.param, tmp_path_factory.mktemp(f"lost-{request.param}"), url)


def _person_made(world: NipapWorld) -> dict[str, dict[str, Any]]:
    """The NIPAP hosts netsot did not make, exactly as they are (node, description, avps)."""
    return {ip: {"node": r.get("node"), "description": r.get("description"),
                 "avps": dict(r.get("avps") or {})}
            for ip, r in world.hosts().items() if r.get("authoritative_source") != "netsot"}


def _lose_state(world: NipapWorld) -> None:
    root = world.lab.paths.root
    for name in ("netsot.state.json", "netsot.state.json.backup"):
        (root / name).unlink(missing_ok=True)


def _without_marker(hosts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {ip: {**h, "avps": {k: v for k, v in h["avps"].items() if k not in MARKER}}
            for ip, h in hosts.items()}


def _check_nothing_lost(world: NipapWorld, step: str) -> None:
    now = _person_made(world)
    assert now["192.168.10.77"] == _seen["person"]["192.168.10.77"], step  # the source: never written
    # an adopted host (the NAS, adopted by `import edgemax`) may carry netsot's marker; nothing else changes
    assert _without_marker(now) == _without_marker(_seen["person"]), step
    assert set(world.hosts()) >= set(_seen["hosts"]), step  # no NIPAP host at all went away
    mappings = world.lab.mappings()
    assert mappings["LAN.camera"] == {"ip": "192.168.10.77", "mac": MAC}, step
    assert set(mappings) >= set(_seen["mappings"]), step
    assert "camera.lab.example" in world.lab.host_entries(), step


def test_a_tagged_host_made_in_nipap_reaches_the_router(world: NipapWorld) -> None:
    world.lab.apply()
    world.add_host("192.168.10.77", "camera", MAC, description="garden camera", tags=["netsot"])
    world.lab.apply()
    assert world.lab.mappings()["LAN.camera"] == {"ip": "192.168.10.77", "mac": MAC}
    _seen.update(person=_person_made(world), hosts=world.hosts(), mappings=world.lab.mappings())
    assert _seen["person"]["192.168.10.77"]["avps"] == {"mac": MAC}


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
def test_the_recovery_steps_in_any_order_delete_nothing(world: NipapWorld, order: tuple[str, ...]) -> None:
    _lose_state(world)
    for i, step in enumerate(order):
        where = f"{' → '.join(order[:i + 1])}"
        doc = world.lab.plan_json()
        deletes = [c["address"] for c in doc["changes"] if c["action"] == "delete"]
        assert deletes == [], where
        touched = [c for c in doc["changes"] if c["address"].startswith("nipap_address.lan.camera")]
        assert touched == [], where
        marks = [c for c in doc["changes"] if c["action"] == "update" and c["reason"].startswith("adopts it")]
        # the marker written into an adopted host is a change the plan shows, never a side effect
        assert all(c["address"] == "nipap_address.lan.nas" for c in marks), marks
        if step == "import":
            result = world.lab.cli("import", "edgemax")
            assert result.code == 0, result.out
            assert "the binding's source in NIPAP" in result.stdout
            assert "nipap_address.lan.camera" not in world.lab.cli("state", "list").stdout.split()
        else:
            result = world.lab.cli("apply", "--auto-approve", "--force")  # no threshold is what saves it
            assert result.code == 0, result.out
        _check_nothing_lost(world, where)
    assert world.lab.cli("plan", "--detailed-exitcode").code in (0, 3)


def test_router_entries_netsot_adopted_are_held_when_their_source_goes_and_state_rm_lets_go(
        world: NipapWorld) -> None:
    """#20.1: an entry adopted by `import edgemax` is never deleted on its own, not even with --force, once
    the NIPAP host its binding came from is removed; `state rm` is the way out and leaves it on the router."""
    assert world.lab.cli("import", "edgemax").code == 0  # the last order left the router entries unadopted
    entries = ("edgemax_dhcp_mapping.LAN.camera", "edgemax_host.camera.lab.example")
    listed = world.lab.cli("state", "list").stdout.splitlines()
    assert all(f"{a}  (adopted)" in listed for a in entries), listed
    assert "ownership      = adopted" in world.lab.cli("state", "show", entries[0]).stdout
    host = world.hosts()["192.168.10.77"]
    world.call("remove_prefix", prefix={"id": host["id"]})
    doc = world.lab.plan_json()
    assert not [c for c in doc["changes"] if "camera" in c["address"]]
    held = {h["change"]["address"]: h for h in doc["held"] if "camera" in h["change"]["address"]}
    assert set(held) == set(entries)
    for h in held.values():
        assert h["change"]["action"] == "delete" and h["gate"] == "adopted", h
        assert h["change"]["adopted"] == "taken over by an import or an apply, not created by netsot"
        assert "never deletes what it did not make" in h["reason"], h
        assert "host removed from NIPAP" in h["change"]["reason"]
    assert "`netsot state rm edgemax_dhcp_mapping.LAN.camera`" in held[entries[0]]["reason"]
    assert world.lab.cli("plan", "--detailed-exitcode").code == 2  # held changes count as changes
    router = (world.lab.mappings(), world.lab.host_entries())
    result = world.lab.cli("apply", "--auto-approve", "--force")
    assert result.code == 0, result.out
    assert (world.lab.mappings(), world.lab.host_entries()) == router  # --force lifts thresholds only
    assert world.lab.mappings()["LAN.camera"] == {"ip": "192.168.10.77", "mac": MAC}
    removed = world.lab.cli("state", "rm", *entries)
    assert removed.code == 0, removed.out
    doc = world.lab.plan_json()
    assert not [c for c in (*doc["changes"], *(h["change"] for h in doc["held"])) if "camera" in c["address"]]
    assert world.lab.cli("apply", "--auto-approve", "--force").code == 0
    assert (world.lab.mappings(), world.lab.host_entries()) == router  # left on the router, untouched
    rest = {ip: r for ip, r in _seen["person"].items() if ip != "192.168.10.77"}
    assert _without_marker(_person_made(world)) == _without_marker(rest)


def test_an_adopted_nipap_host_is_never_deleted_on_its_own(world: NipapWorld) -> None:
    config = world.lab.config
    text = config.read_text()
    head, _, tail = text.partition("hosts:\n")
    assert "name: nas" in tail
    config.write_text(head + "hosts: []\n" + tail.split("\n\n", 1)[1])
    try:
        doc = world.lab.cli("plan", "--json").json()
        held = {h["change"]["address"]: h for h in doc["held"]}
        nas = held["nipap_address.lan.nas"]
        assert nas["gate"] == "adopted", nas
        assert nas["change"]["adopted"] == "made in NIPAP by admin"
        assert "never deletes what it did not make" in nas["reason"]
        # the router entries `import edgemax` adopted are held by the same gate; the binding moves as one
        assert held["edgemax_dhcp_mapping.LAN.nas"]["gate"] == "adopted"
        assert "`netsot state rm edgemax_dhcp_mapping.LAN.nas`" in nas["reason"]
        result = world.lab.cli("apply", "--auto-approve", "--force")
        assert result.code == 0, result.out
        assert world.hosts()["192.168.10.20"]["node"] == "nas"
    finally:
        config.write_text(text)


def test_the_unattended_service_with_delete_auto_deletes_nothing_either(world: NipapWorld) -> None:
    config = world.lab.config
    text = config.read_text()
    world.add_host("192.168.10.77", "camera", MAC, description="garden camera", tags=["netsot"])
    world.lab.apply()
    person = _person_made(world)
    set_policy(world.lab, "  delete: auto\n  orphan_grace: 0s\n  max_change_percent: 100\n")
    try:
        _lose_state(world)
        assert world.lab.cli("import", "edgemax").code == 0
        for name in ("serve-1", "serve-2"):
            once = ServiceProcess(world.lab, name, "--once")
            try:
                assert once.proc.wait(timeout=90) == 0, once.raw()
            finally:
                once.kill()
        assert _person_made(world)["192.168.10.77"] == person["192.168.10.77"]
        assert world.lab.mappings()["LAN.camera"] == {"ip": "192.168.10.77", "mac": MAC}
        assert "camera.lab.example" in world.lab.host_entries()
    finally:
        config.write_text(text)

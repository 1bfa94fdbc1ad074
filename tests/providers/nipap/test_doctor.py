"""`netsot doctor` for NIPAP against the simulator: the VRF and each network's prefix, write probes that
leave nothing behind (1520 for a read-only user), and a missing VRF."""

from __future__ import annotations

from typing import Any

import pytest

from engine.config.load import config_from_data
from providers.nipap.doctor import run
from providers.nipap.sim.server import SimHandle
from tests.providers.nipap.conftest import LAB_NET, LAB_RT

pytestmark = pytest.mark.integration


def _config(sim: SimHandle, user: str = "netsot", password: str = "pw", **nipap: Any) -> Any:
    return config_from_data(
        {
            "providers": {
                "nipap": {
                    "url": f"http://127.0.0.1:{sim.port}/XMLRPC",
                    "username": user,
                    "password": password,
                    "vrf": LAB_RT,
                    **nipap,
                }
            },
            "networks": [{"name": "lan", "prefix": LAB_NET}, {"name": "other", "prefix": "172.16.5.0/24"}],
        }
    )


def _by_what(checks: list) -> dict[str, Any]:
    return {c.what: c for c in checks}


def test_a_read_write_user_passes_the_probes_and_nothing_is_left(sim: SimHandle) -> None:
    before = sim.prefixes()
    checks = _by_what(run(_config(sim), "nipap"))
    assert checks["may add hosts"].ok and checks["may remove hosts"].ok
    assert checks[f"prefix {LAB_NET} of network lan"].ok
    missing = checks["prefix 172.16.5.0/24 of network other"]
    assert not missing.ok and "manage_prefixes: true" in missing.fix
    assert sim.prefixes() == before
    managed = _by_what(run(_config(sim, manage_prefixes=True), "nipap"))
    assert managed["prefix 172.16.5.0/24 of network other"].ok


def test_a_read_only_user_is_refused_both_writes(sim: SimHandle) -> None:
    checks = _by_what(run(_config(sim, "reader", "pw2"), "nipap"))
    for what, fn in (("may add hosts", "add_prefix"), ("may remove hosts", "remove_prefix")):
        assert not checks[what].ok
        assert checks[what].detail == f"read-only user 'reader' is not authorized to run function '{fn}'"
        assert "nipap-passwd add -u reader" in checks[what].fix
    assert checks["user reader authenticates"].ok


def test_a_missing_vrf_and_a_wrong_password(sim: SimHandle) -> None:
    checks = _by_what(run(_config(sim, vrf="nosuch"), "nipap"))
    assert not checks["VRF nosuch readable"].ok and "nipap vrf add" in checks["VRF nosuch readable"].fix
    wrong = run(_config(sim, password="nope"), "nipap")
    assert not wrong[-1].ok and wrong[-1].what == "user netsot authenticates"
    assert "Incorrect username or password." in wrong[-1].detail

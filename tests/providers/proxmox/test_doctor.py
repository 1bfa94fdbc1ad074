"""`netsot doctor` for Proxmox against the simulator: PVE 8 and 9 privilege names, a token lacking the
write privileges, an unverified TLS setting, a wrong secret; doctor itself writes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from providers.proxmox.doctor import run
from providers.proxmox.sim.perms import READ_PRIVILEGES, SimToken
from providers.proxmox.sim.server import SimHandle
from tests.providers.proxmox.conftest import lab_seed, make_config

pytestmark = pytest.mark.integration

READONLY = SimToken(
    "netsot@pve", "readonly", "11111111-2222-3333-4444-555555555555", {"/vms": READ_PRIVILEGES}
)


def _by_what(checks: list) -> dict[str, object]:
    return {c.what: c for c in checks}


def test_the_full_token_passes_and_doctor_only_reads(sim: SimHandle) -> None:
    sim.clear_log()
    checks = run(make_config(sim), "proxmox")
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    assert {e.method for e in sim.log} == {"GET"}
    assert {e.path for e in sim.log} == {"/version", "/access/permissions"}


def test_pve9_readonly_token_lacks_exactly_the_write_privileges(start_sim: Callable[..., SimHandle]) -> None:
    seed = lab_seed()
    seed["version"] = {"version": "9.0.3", "release": "9.0", "repoid": "0123456789abcdef"}
    sim = start_sim(seed, more_tokens=(READONLY,))
    config = make_config(sim, token_name="readonly", token_value=READONLY.value)
    checks = _by_what(run(config, "proxmox"))
    assert checks[
        "VM.GuestAgent.Audit or VM.GuestAgent.Unrestricted on /vms (read: guest agents' addresses)"
    ].ok
    failed = [c for c in checks.values() if not c.ok]
    assert [c.what.split(" on ")[0] for c in failed] == [
        "VM.Config.Cloudinit or VM.Config.Network",
        "VM.Config.Network",
        "SDN.Use",
    ]
    assert all(
        '--privs "VM.Audit,VM.GuestAgent.Audit,VM.Config.Cloudinit,VM.Config.Network,SDN.Use"' in c.fix
        for c in failed
    )


def test_unverified_tls_and_a_wrong_secret_fail_with_their_fixes(sim: SimHandle) -> None:
    checks = _by_what(run(make_config(sim, verify_tls=False), "proxmox"))
    assert (
        not checks["TLS certificate verified"].ok
        and "verify_tls is false" in checks["TLS certificate verified"].detail
    )
    wrong = _by_what(run(make_config(sim, token_value="00000000-0000-0000-0000-000000000000"), "proxmox"))
    auth = wrong["token netsot@pve!netsot authenticates"]
    assert not auth.ok and "pveum user token add netsot@pve netsot --privsep 1" in auth.fix
    assert not any(w.startswith("VM.") for w in wrong)  # no privilege checks without a working token


def test_an_unreachable_cluster_is_one_line(sim: SimHandle) -> None:
    port = sim.port
    sim.stop()
    checks = run(make_config(sim, port=port), "proxmox")
    assert len(checks) == 1 and not checks[0].ok and checks[0].what == f"reachable at 127.0.0.1:{port}"

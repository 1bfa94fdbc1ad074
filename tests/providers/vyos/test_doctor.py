"""`netsot doctor` for VyOS against the simulator: reachable, TLS as pinned, key accepted, reads, dialect,
1.5's subnet-id — and nothing written."""

from __future__ import annotations

from pathlib import Path

from providers.vyos.doctor import run
from providers.vyos.sim.server import start
from tests.providers.vyos.fixtures import LAB, lab_config, vyos_settings


def _doctor(sim, **overrides: object) -> dict[str, tuple[bool, str, str]]:  # type: ignore[no-untyped-def]
    config = lab_config(vyos_settings(sim, **overrides))
    return {c.what: (c.ok, c.detail, c.fix) for c in run(config, "vyos")}


def test_doctor_passes_and_writes_nothing(tmp_path: Path) -> None:
    sim = start(LAB["1.4"], dialect="1.4", state_dir=tmp_path)
    try:
        checks = _doctor(sim, fingerprint=sim.fingerprint)
        assert all(ok for ok, _, _ in checks.values()), checks
        assert checks["dialect 1.4"] == (True, "from the router's config", "")
        assert "full rights" in checks["write: /configure and /config-file"][1]
        assert sim.calls("/configure") == [] and sim.calls("/config-file") == []
    finally:
        sim.stop()


def test_doctor_names_a_wrong_key_a_wrong_pin_and_a_missing_subnet_id(tmp_path: Path) -> None:
    sim = start(LAB["1.4"], dialect="1.5", state_dir=tmp_path)  # a 1.5 router whose subnet has no id
    try:
        wrong_key = _doctor(sim, api_key="not-the-key")
        ok, _, fix = wrong_key["API key accepted"]
        assert ok is False and "api keys id netsot" in fix
        wrong_pin = _doctor(sim, fingerprint="AB:" * 31 + "AB")
        assert wrong_pin["TLS as pinned (fingerprint)"][0] is False
        forced = _doctor(sim, dialect="1.5")
        assert forced["subnet-id on every served subnet"][:2] == (False, "192.168.1.0/24")
    finally:
        sim.stop()

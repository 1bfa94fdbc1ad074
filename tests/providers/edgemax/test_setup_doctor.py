"""The router's parts of `netsot init` (password login, host key trusted by fingerprint) and of
`netsot doctor` (configure + compare, left without changes), against the SSH simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Config
from core.errors import NetsotError
from engine.config.init import Wizard
from providers.edgemax.doctor import refused_read, run
from providers.edgemax.setup import connect, key_fingerprint, scan
from providers.edgemax.sim.server import SimHandle
from tests.providers.edgemax import sim_fixtures as fx
from tests.providers.edgemax.sim_fixtures import edgemax_settings, lab_config

client_key, host_key_dir, make_sim, sim = fx.client_key, fx.host_key_dir, fx.make_sim, fx.sim

pytestmark = pytest.mark.integration


def _wizard(folder: Path) -> Wizard:
    return Wizard(
        folder,
        interactive=False,
        assume_yes=True,
        echo=lambda _t: None,
        prompt=lambda *_a, **_k: "",
        confirm=lambda *_a, **_k: False,
    )


def test_init_with_a_password_and_a_given_host_key(sim: SimHandle, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("password\n")
    _name, _type, blob = scan("127.0.0.1", sim.port)[0]
    assert _type == "ssh-ed25519"
    wizard = _wizard(tmp_path / "out")
    found = connect(
        {
            "router_host": "127.0.0.1",
            "router_port": sim.port,
            "router_user": "ubnt",
            "router_password_file": str(tmp_path / "pw"),
            "router_host_key": key_fingerprint(blob),
        },
        wizard,
    )
    assert found is not None
    assert found.settings["password"] == "${file:secrets/edgemax-password}"
    assert (tmp_path / "out" / "secrets" / "edgemax-password").read_text() == "password\n"
    assert (tmp_path / "out" / "known_hosts").read_text() == f"[127.0.0.1]:{sim.port} ssh-ed25519 {blob}\n"
    lan = [s for s in found.subnets if s.settings == {"shared_network": "LAN"}]
    assert lan and lan[0].prefix == "192.168.1.0/24" and lan[0].gateway


def test_init_refuses_a_host_key_it_was_not_told_to_trust(sim: SimHandle, tmp_path: Path) -> None:
    wizard = _wizard(tmp_path / "out")
    with pytest.raises(NetsotError, match="not trusted"):
        connect(
            {
                "router_host": "127.0.0.1",
                "router_port": sim.port,
                "router_user": "ubnt",
                "router_key": str(_unused_key(tmp_path)),
            },
            wizard,
        )
    wizard.undo()
    assert not (tmp_path / "out" / "known_hosts").exists()


def _unused_key(tmp_path: Path) -> Path:
    key = tmp_path / "key"
    key.write_text("unused: refused before any login\n")
    return key


def test_doctor_enters_configure_and_leaves_nothing(sim: SimHandle) -> None:
    settings = edgemax_settings(sim)
    config: Config = lab_config(settings)
    before = (sim.active_tree(), sim.saved_text())
    checks = {c.what: c for c in run(config, "edgemax")}
    assert all(c.ok for c in checks.values()), checks
    assert checks["write: configure and compare"].detail == "no pending changes"
    assert (sim.active_tree(), sim.saved_text()) == before


def test_an_operators_refused_read_is_recognised() -> None:
    assert refused_read("Must be an admin user to run this command.\n") == (
        "Must be an admin user to run this command.")
    assert refused_read("") == "no configuration shown"
    assert refused_read("set system host-name edge\nset service ssh port 22\n") is None

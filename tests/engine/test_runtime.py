"""Runtime glue: the state backend next to the config, providers built and always closed."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from engine.config.load import load_config
from engine.runtime import NETSOT_VERSION, build_providers, open_backend, open_providers
from providers.registry import register, unregister
from state.backend import FileBackend
from tests.engine._fake import CONFIG, FakeSystem, fake_provider


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSOT_TEST_NIPAP_PASSWORD", "x")
    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder / "netsot.yaml"
    path.write_text(CONFIG + "state: {path: states/lab.json}\n")
    monkeypatch.chdir(tmp_path)
    return load_config(path)


@pytest.fixture
def system():
    system = FakeSystem()
    register("nipap", fake_provider(system))
    yield system
    unregister("nipap")


def test_file_backend_is_relative_to_the_config_file(config, tmp_path):
    backend = open_backend(config)
    assert isinstance(backend, FileBackend)
    assert backend.path == tmp_path / "conf" / "states" / "lab.json"


def test_postgres_without_dsn_is_a_config_error(config):
    broken = config.model_copy(update={"state": config.state.model_copy(update={"backend": "postgres"})})
    with pytest.raises(ConfigError, match=r"state\.dsn is required"):
        open_backend(broken)


def test_providers_are_built_per_configured_system_and_closed(config, system):
    with open_providers(config) as providers:
        assert list(providers) == ["nipap"]
        providers["nipap"].read()
    assert system.closed == 1 and system.reads == 1


def test_providers_are_closed_when_the_block_fails(config, system):
    with pytest.raises(RuntimeError), open_providers(config):
        raise RuntimeError("boom")
    assert system.closed == 1


def test_a_failing_constructor_propagates(config, system):
    system.fail_init = ValueError("bad settings")
    with pytest.raises(ValueError):
        build_providers(config)


def test_version_is_a_string():
    assert NETSOT_VERSION and NETSOT_VERSION[0].isdigit()

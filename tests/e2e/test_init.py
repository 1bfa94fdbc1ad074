"""`netsot init` against the two-site lab: a config that validates, passes doctor, and plans what the
lab's own config plans; trust only through confirmed fingerprints; nothing written when it stops."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from core.probe import tls_peer
from providers.edgemax.setup import key_fingerprint
from tests.e2e.conftest import REPO, Lab

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


def _netsot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", "--no-color", *args],
        capture_output=True,
        text=True,
        cwd=str(cwd),
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
        timeout=180,
        check=False,
    )


def _fingerprints(lab: Lab, site: int = 0) -> tuple[str, str]:
    s = lab.sites[site]
    tls = tls_peer("127.0.0.1", s.pve.port, None).fingerprint
    line = next(x for x in s.paths.known_hosts.read_text().splitlines() if " ssh-ed25519 " in x)
    return tls, key_fingerprint(line.split()[2])


def _flags(lab: Lab, site: int = 0, *, fingerprints: bool = True) -> list[str]:
    s, paths = lab.sites[site], lab.sites[site].paths
    tls, host_key = _fingerprints(lab, site)
    flags = [
        "--pve-url",
        f"https://127.0.0.1:{s.pve.port}",
        "--pve-token-id",
        "netsot@pve!netsot",
        "--pve-token-secret-file",
        str(paths.secrets / paths.pve_token),
        "--router-host",
        "127.0.0.1",
        "--router-port",
        str(s.router.port),
        "--router-user",
        "ubnt",
        "--router-key",
        str(paths.private_key),
        "--nipap-url",
        f"http://127.0.0.1:{lab.nipap.port}/XMLRPC",
        "--nipap-user",
        "netsot",
        "--nipap-password-file",
        str(paths.secrets / "nipap_password"),
        "--nipap-vrf",
        "homelab",
    ]
    if fingerprints:
        flags += ["--pve-fingerprint", tls, "--router-host-key", host_key]
    return flags


def _changes(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["address"], c["action"]) for c in doc["changes"]}


def test_init_validate_import_plan_is_what_the_labs_config_plans(lab2: Lab, tmp_path: Path) -> None:
    before = (lab2.nipap.prefixes(), lab2.router.active_tree(), lab2.router.saved_text())
    lab2.pve.handle.clear_log()
    config = tmp_path / "home" / "netsot.yaml"
    made = _netsot("--config", str(config), "init", "--yes", *_flags(lab2), cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Nothing was changed on any system." in made.stdout and "import edgemax" in made.stdout
    assert "it matches --pve-fingerprint: trusted" in made.stderr
    text = config.read_text()
    assert "edgemax: {shared_network: LAN}" in text and "proxmox: {bridge: vmbr0, vlan: 20}" in text
    assert "token_value: ${file:secrets/proxmox-token}" in text and "verify_tls: pve-ca.pem" in text
    # the cabin's prefix is in NIPAP, but this site's router has no DHCP subnet for it: a TODO comment
    assert re.search(r"(?m)^  # TODO 192\.168\.30\.0/24 is known only to nipap", text)
    for secret in ("proxmox-token", "nipap-password"):
        assert (config.parent / "secrets" / secret).stat().st_mode & 0o777 == 0o600
        assert (config.parent / "secrets" / secret).read_text().strip() not in text
    # init never writes to a system: NIPAP and the router are as they were, Proxmox only answered GETs
    assert (lab2.nipap.prefixes(), lab2.router.active_tree(), lab2.router.saved_text()) == before
    assert {e.method for e in lab2.pve.handle.log} == {"GET"}

    assert _netsot("--config", str(config), "validate", cwd=tmp_path).returncode == 0
    assert _netsot("--config", str(config), "doctor", cwd=tmp_path).returncode == 0
    ours = _netsot("--config", str(config), "import", "edgemax", cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    theirs = _netsot("--config", str(lab2.config), "import", "edgemax", cwd=tmp_path)
    assert theirs.returncode == 0 and ours.stdout.splitlines()[-2:] == theirs.stdout.splitlines()[-2:]
    ours_plan = _netsot("--config", str(config), "plan", "--json", cwd=tmp_path)
    theirs_plan = _netsot("--config", str(lab2.config), "plan", "--json", cwd=tmp_path)
    assert ours_plan.returncode == 0 and theirs_plan.returncode == 0, ours_plan.stderr + theirs_plan.stderr
    ours_doc, theirs_doc = json.loads(ours_plan.stdout), json.loads(theirs_plan.stdout)
    # the lab's config also holds the second site (its own instances and network): site 1's part is equal
    site1 = {c for c in _changes(theirs_doc) if "[cabin]" not in c[0] and ".cabin." not in c[0]}
    assert _changes(ours_doc) and _changes(ours_doc) == site1


def test_init_for_the_second_site(lab2: Lab, tmp_path: Path) -> None:
    config = tmp_path / "cabin.yaml"
    made = _netsot("--config", str(config), "init", "--yes", *_flags(lab2, 1), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    text = config.read_text()
    assert "  - name: cabin\n    prefix: 192.168.30.0/24\n    gateway: 192.168.30.1" in text
    assert "edgemax: {shared_network: CABIN}" in text and "proxmox: {bridge: vmbr0}" in text
    assert "# TODO 192.168.10.0/24 is known only to nipap" in text  # site 1's, from the shared NIPAP
    assert _netsot("--config", str(config), "validate", cwd=tmp_path).stdout.startswith(
        f"Configuration OK: {config} (1 network,"
    )


def _nothing_written(folder: Path) -> None:
    assert not folder.exists() or sorted(p.name for p in folder.iterdir()) == []


def test_yes_trusts_nothing_without_fingerprints(lab2: Lab, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    refused = _netsot(
        "--config",
        str(folder / "netsot.yaml"),
        "init",
        "--yes",
        *_flags(lab2, fingerprints=False),
        cwd=tmp_path,
    )
    assert refused.returncode == 1
    assert "not trusted" in refused.stderr and "--router-host-key" in refused.stderr
    _nothing_written(folder)


def test_a_fingerprint_that_does_not_match_is_refused(lab2: Lab, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    flags = _flags(lab2)
    flags[flags.index("--pve-fingerprint") + 1] = "AA:" * 31 + "AA"
    refused = _netsot("--config", str(folder / "netsot.yaml"), "init", "--yes", *flags, cwd=tmp_path)
    assert refused.returncode == 1
    assert "is not the --pve-fingerprint given" in refused.stderr, refused.stderr
    _nothing_written(folder)  # the router's known_hosts and the secrets written before are gone again


def test_an_existing_config_is_kept_without_force(lab2: Lab, tmp_path: Path) -> None:
    config = tmp_path / "netsot.yaml"
    config.write_text("mine\n")
    kept = _netsot("--config", str(config), "init", "--yes", *_flags(lab2), cwd=tmp_path)
    assert kept.returncode == 1 and "--force" in kept.stderr
    assert config.read_text() == "mine\n"


def test_interactive_init_asks_before_trusting(
    lab2: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.cli.app
    import engine.cli.main

    monkeypatch.setattr(engine.cli.app, "_stdin_is_interactive", lambda: True)
    flags = _flags(lab2, fingerprints=False)
    config = tmp_path / "asked" / "netsot.yaml"
    runner = CliRunner()
    no = runner.invoke(engine.cli.main.cli, ["--no-color", "--config", str(config), "init", *flags],
                       input="n\n")
    assert no.exit_code == 1 and "not trusted" in no.output
    assert not config.exists()
    yes = runner.invoke(
        engine.cli.main.cli, ["--no-color", "--config", str(config), "init", *flags], input="y\ny\n"
    )
    assert yes.exit_code == 0, yes.output
    tls, host_key = _fingerprints(lab2)
    assert (
        f"presents the fingerprint {host_key}" in yes.output
        and f"presents the fingerprint {tls}" in yes.output
    )
    assert config.exists() and "Trust it" in yes.output


def test_a_ca_bundle_is_used_as_given(lab2: Lab, tmp_path: Path) -> None:
    config = tmp_path / "netsot.yaml"
    flags = [f for f in _flags(lab2)]
    at = flags.index("--pve-fingerprint")
    flags[at : at + 2] = ["--ca-bundle", str(lab2.paths.ca)]
    made = _netsot("--config", str(config), "init", "--yes", *flags, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert f"verify_tls: {lab2.paths.ca}" in config.read_text()
    assert not (tmp_path / "pve-ca.pem").exists()


def test_init_on_the_one_site_lab_matches_every_network(lab: Lab, tmp_path: Path) -> None:
    config = tmp_path / "netsot.yaml"
    made = _netsot("--config", str(config), "init", "--yes", *_flags(lab), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "TODO" not in config.read_text()
    checked = _netsot("--config", str(config), "validate", cwd=tmp_path)
    assert checked.stdout.startswith(
        f"Configuration OK: {config} (2 networks, 0 hosts, systems: nipap, edgemax, proxmox)"
    ), checked.stdout + checked.stderr

"""`netsot doctor` against the two-site lab: ✓ for the lab's own config, ✗ naming each missing
privilege for `netsot-readonly.yaml`, ✗ with its fix for an untrusted certificate, an unpinned
router key and a wrong token — and never a change on any system."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import trustme

from tests.e2e.conftest import Lab

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


def _world(lab: Lab) -> Any:
    """What doctor must leave alone: NIPAP's prefixes, each router's configs, each cluster's guests."""
    return (copy.deepcopy(lab.nipap.prefixes()),
            [(s.router.active_tree(), s.router.saved_text()) for s in lab.sites],
            [{vmid: s.pve.handle.config(vmid) for vmid in s.pve.handle.cluster.guests} for s in lab.sites])


def _failed(doc: dict[str, Any], system: str) -> dict[str, dict[str, Any]]:
    found = next(s for s in doc["systems"] if s["system"] == system)
    return {c["what"]: c for c in found["checks"] if not c["ok"]}


def test_doctor_passes_for_the_labs_config(lab2: Lab) -> None:
    before = _world(lab2)
    result = lab2.cli("doctor")
    assert result.code == 0, result.out
    assert "✗" not in result.stdout
    for key in ("nipap", "edgemax", "edgemax.cabin", "proxmox", "proxmox.cabin"):
        assert re.search(rf"(?m)^{re.escape(key)} \(", result.stdout), result.stdout
    assert "✓ SDN.Use on /sdn/zones/localnetwork" in result.stdout
    assert "✓ write: configure and compare: no pending changes" in result.stdout
    assert "✓ may add hosts" in result.stdout and "✓ may remove hosts" in result.stdout
    assert _world(lab2) == before

    one = lab2.cli("doctor", "proxmox.cabin", "--json")
    assert one.code == 0 and [s["system"] for s in one.json()["systems"]] == ["proxmox.cabin"]
    kind = lab2.cli("doctor", "edgemax", "--json")
    assert [s["system"] for s in kind.json()["systems"]] == ["edgemax", "edgemax.cabin"]
    unknown = lab2.cli("doctor", "nosuch")
    assert unknown.code == 1 and "'nosuch' is not a configured system" in unknown.stderr


def test_doctor_names_each_missing_privilege_of_the_readonly_identities(lab2: Lab) -> None:
    readonly = lab2.paths.readonly_config
    assert readonly.exists()
    before = _world(lab2)
    result = lab2.cli("--config", str(readonly), "doctor", "--json")
    assert result.code == 1, result.out
    doc = result.json()
    assert doc["ok"] is False
    for key in ("proxmox", "proxmox.cabin"):
        failed = _failed(doc, key)
        assert {w.split(" on ")[0] for w in failed} == {"VM.Config.Cloudinit or VM.Config.Network",
                                                        "VM.Config.Network", "SDN.Use"}, failed
        fix = failed["SDN.Use on /sdn/zones/localnetwork (write: LXC netN on a bridge)"]["fix"]
        assert ("pveum acl modify /sdn/zones/localnetwork --tokens 'netsot@pve!readonly' "
                "--roles NetsotSync") in fix
        assert 'pveum role add NetsotSync --privs "VM.Audit,VM.Monitor,' in fix
    nipap = _failed(doc, "nipap")
    assert set(nipap) == {"may add hosts", "may remove hosts"}
    assert "read-only user 'netsot-ro' is not authorized to run function 'add_prefix'" in \
        nipap["may add hosts"]["detail"]
    assert "nipap-passwd add -u netsot-ro" in nipap["may add hosts"]["fix"]
    assert _failed(doc, "edgemax") == {}
    assert _world(lab2) == before

    text = lab2.cli("--config", str(readonly), "doctor")
    assert text.code == 1
    assert "✗ SDN.Use on /sdn/zones/localnetwork" in text.stdout and "✓ VM.Audit on /vms" in text.stdout
    assert re.search(r"(?m)^\d+ checks failed: ", text.stdout)


def _variant(lab: Lab, tmp_path: Path, **subs: str) -> Path:
    text = lab.config.read_text()
    for old, new in subs.items():
        assert old in text, old
        text = text.replace(old, new)
    path = lab.config.with_name(f"netsot-{tmp_path.name}.yaml")
    path.write_text(text)
    return path


def test_doctor_shows_an_untrusted_certificate_an_unpinned_key_and_a_bad_token(lab2: Lab,
                                                                              tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    bad_token = tmp_path / "token"
    bad_token.write_text("00000000-0000-0000-0000-000000000000\n")
    stranger = tmp_path / "id_stranger"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(stranger))
    os.chmod(stranger, 0o600)
    paths, cabin = lab2.paths, lab2.cabin.paths
    config = _variant(lab2, tmp_path, **{
        f"private_key: {paths.private_key}\n    known_hosts: {cabin.known_hosts}\n":
            f"private_key: {stranger}\n    known_hosts: {cabin.known_hosts}\n",
        f"verify_tls: {paths.ca}\n": f"verify_tls: {other_ca}\n",
        f"known_hosts: {paths.known_hosts}\n": f"known_hosts: {empty}\n",
        "${file:secrets/pve_token-cabin}": f"${{file:{bad_token}}}",
    })
    result = lab2.cli("--config", str(config), "doctor", "--json")
    assert result.code == 1, result.out
    doc = result.json()
    tls = _failed(doc, "proxmox")["TLS certificate verified"]
    assert "SHA-256 " in tls["detail"] and "pve-root-ca.pem" in tls["fix"]
    key = _failed(doc, "edgemax")["host key pinned"]
    assert f"has no key for [127.0.0.1]:{lab2.router.port}" in key["detail"]
    assert "ssh-keyscan" in key["fix"]
    token = _failed(doc, "proxmox.cabin")["token netsot@pve!netsot authenticates"]
    assert "Authentication failed!" in token["detail"] and "pveum user token add" in token["fix"]
    login = _failed(doc, "edgemax.cabin")["user ubnt logs in (key)"]
    assert "authentication as ubnt" in login["detail"] and "loadkey ubnt" in login["fix"]
    assert _failed(doc, "nipap") == {}

"""README's "Connect your homelab": its first-run block runs as written against the lab (install is
test_install's), and its `pveum` role and ACL lines are the ones `netsot doctor` prints as fixes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.probe import tls_peer
from providers.edgemax.setup import key_fingerprint
from providers.proxmox.doctor import ROLE_PRIVS, grant_commands
from providers.proxmox.settings import ProxmoxSettings
from tests.e2e.conftest import REPO, Lab

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


def _block(marker: str) -> str:
    readme = (REPO / "README.md").read_text()
    found = re.search(rf"<!-- {marker} -->\n```sh\n(.*?)```", readme, re.S)
    assert found, f"README has no block marked {marker}"
    return found.group(1)


def test_the_first_run_block_runs_against_the_lab(lab: Lab, tmp_path: Path) -> None:
    paths = lab.paths
    line = next(x for x in paths.known_hosts.read_text().splitlines() if " ssh-ed25519 " in x)
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PVE_URL": f"https://127.0.0.1:{lab.pve.port}",
           "PVE_FINGERPRINT": tls_peer("127.0.0.1", lab.pve.port, None).fingerprint,
           "PVE_TOKEN_FILE": str(paths.secrets / paths.pve_token),
           "ROUTER": "127.0.0.1", "ROUTER_PORT": str(lab.router.port), "ROUTER_USER": "ubnt",
           "ROUTER_KEY": str(paths.private_key), "ROUTER_HOST_KEY": key_fingerprint(line.split()[2]),
           "NIPAP_URL": f"http://127.0.0.1:{lab.nipap.port}/XMLRPC", "NIPAP_VRF": "homelab",
           "NIPAP_PASSWORD_FILE": str(paths.secrets / "nipap_password")}
    script = _block("first-run")
    assert Path(sys.executable).parent.joinpath("netsot").exists()
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=str(tmp_path), env=env,
                         capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    for said in ("Wrote netsot.yaml", "Configuration OK:", "Everything netsot needs passed.",
                 "netsot now manages them", "Saved the plan to first.tfplan", "Apply complete!"):
        assert said in run.stdout, said
    assert (tmp_path / "netsot.state.json").exists()
    again = subprocess.run(["netsot", "plan", "--detailed-exitcode"], cwd=str(tmp_path), env=env,
                           capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode in (0, 3), again.stdout + again.stderr  # applied: nothing left but conflicts


def test_the_pveum_lines_are_doctors_fixes() -> None:
    block = _block("pveum")
    assert f'pveum role add NetsotSync --privs "{",".join(ROLE_PRIVS[8])}"' in block
    settings = ProxmoxSettings(host="pve", user="netsot@pve", token_name="netsot", token_value="x")
    for path in ("/vms", "/sdn/zones/localnetwork"):
        for line in grant_commands(settings, 8, path).splitlines()[1:]:
            assert line in block, line
    nine = ",".join(ROLE_PRIVS[9])
    assert nine == ",".join(ROLE_PRIVS[8]).replace("VM.Monitor", "VM.GuestAgent.Audit")  # what README says

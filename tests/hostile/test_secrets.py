"""Secrets: distinctive token/password values must never appear in any artefact netsot writes
or prints — state, backup, saved plans, JSON/Markdown plans, stdout/stderr of every command
(failing ones with --debug included), the service's JSON logs — and those files are 0600.
"""

from __future__ import annotations

import pytest

from tests.faults.harness import SECRETS, FaultLab, Result, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _clean(result: Result) -> None:
    for secret in SECRETS:
        assert secret not in result.out, f"secret leaked by netsot {' '.join(result.args)}:\n{result}"


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_no_secret_anywhere(lab: FaultLab) -> None:
    plan_file = lab.paths.root / "tfplan"
    runs = [
        lab.cli("validate"),
        lab.cli("plan"),
        lab.cli("--debug", "plan", "--json"),
        lab.cli("plan", "--format", "markdown"),
        lab.cli("plan", "--out", str(plan_file)),
    ]
    assert all(r.code == 0 for r in runs), [str(r) for r in runs if r.code]
    runs.append(lab.cli("show", str(plan_file)))
    runs.append(lab.cli("show", "--json", str(plan_file)))
    runs.append(lab.cli("--debug", "apply", str(plan_file)))
    assert runs[-1].code == 0, str(runs[-1])
    runs.append(lab.cli("--debug", "apply", "--auto-approve"))  # second apply: writes the backup
    runs += [lab.cli("state", "list"), lab.cli("show"), lab.cli("show", "--json"),
             lab.cli("state", "show", "nipap_address.lan.web01"), lab.cli("inventory"),
             lab.cli("inventory", "--json"), lab.cli("verify"), lab.cli("verify", "--json")]
    runs.append(lab.cli("--debug", "serve", "--once", "--log-format", "json"))
    # failing commands with --debug: tracebacks and exception texts must not carry a secret either
    port = free_port()
    broken = {
        "nipap-down": lambda d: d["providers"]["nipap"].update(url=f"http://127.0.0.1:{port}/XMLRPC"),
        "nipap-wrong-path": lambda d: d["providers"]["nipap"].update(
            url=f"http://127.0.0.1:{lab.ports['nipap']}/nowhere"),
        "nipap-hung": lambda d: d["providers"]["nipap"].update(timeout=0.3),
        "pve-down": lambda d: d["providers"]["proxmox"].update(port=free_port()),
        "router-down": lambda d: d["providers"]["edgemax"].update(port=free_port()),
        "state-postgres": lambda d: d.update(state={"backend": "postgres",
                                                    "dsn": f"postgresql://u:{SECRETS[1]}@127.0.0.1:{port}/x"}),
    }
    for name, edit in broken.items():
        cfg = lab.write_config(f"{name}.yaml", edit)
        for args in (("--debug", "plan"), ("--debug", "apply", "--auto-approve"), ("--debug", "verify"),
                     ("--debug", "serve", "--once", "--log-format", "json")):
            if name == "nipap-hung":
                lab.nipap.knobs.reset()
                lab.nipap.knobs.hang_call(1, seconds=1.0)
            result = lab.cli(*args, config=cfg)
            if args[1] in ("plan", "apply"):
                assert result.code == 1, f"{name}: {result}"
            runs.append(result)
    for result in runs:
        _clean(result)
    files = [lab.state_path, lab.backup_path, plan_file]
    for path in files:
        assert path.exists(), path
        assert _mode(path) == 0o600, (path, oct(_mode(path)))
    for path in lab.paths.root.rglob("*"):
        if not path.is_file() or path.parent == lab.paths.secrets or path.suffix == ".yaml":
            continue
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"secret found in {path}"

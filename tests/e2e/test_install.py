"""Installing netsot and running it as a service, as README's "Install" and "Run it as a service" say.

A wheel built from the checkout, installed into a fresh venv outside it, runs the lab end to end;
``examples/systemd/`` passes ``systemd-analyze verify``, and the service's ``ExecStart`` line runs
as an unprivileged user with the units' layout (a config directory it cannot write, a state
directory it owns, secrets only in the environment): state, lock and history land in the state
directory, nothing next to the config.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, Lab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(600)]

UNITS = REPO / "examples" / "systemd"
ENV_NAMES = ("PROXMOX_TOKEN", "NIPAP_PASSWORD", "EDGEMAX_PASSWORD")


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    """A fresh venv outside the checkout (world-readable, like /opt/netsot) with netsot's wheel in it."""
    root = Path(tempfile.mkdtemp(prefix="netsot-install-"))
    os.chmod(root, 0o755)
    try:
        # from a copy of the checkout's sources, so no build folder of an earlier run (or of the checkout)
        # can slip stale modules into the wheel, and the checkout is left as it is
        source = root / "src"
        shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
            ".hypothesis", ".netsot-lab"))
        built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                                str(root / "dist"), str(source)], capture_output=True, text=True, timeout=300,
                               check=False)
        assert built.returncode == 0, built.stderr
        wheel = next((root / "dist").glob("netsot-*.whl"))
        venv = root / "opt" / "netsot"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True,
                              text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr
        yield venv
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(venv: Path, *args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(venv / "bin" / "netsot"), "--no-color", *args], capture_output=True, text=True,
                          cwd=str(cwd), env=env, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def _listening_port(proc: subprocess.Popen[str], seconds: float = 60) -> int:
    assert proc.stderr is not None
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if found:
            return int(found.group(1))
    raise AssertionError("serve did not say where it listens:\n" + "".join(seen))


def test_the_wheel_works_from_a_fresh_venv_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    site = next((installed / "lib").glob("python3*/site-packages"))
    assert not (site / "netsot.egg-link").exists()
    assert (site / "engine" / "web" / "static" / "netsot.css").exists()
    assert (site / "providers" / "lab" / "runner.py").exists()
    version = _run(installed, "version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("netsot "), version.stderr
    schema = _run(installed, "schema", "config", cwd=tmp_path)
    assert schema.returncode == 0 and '"$id": "urn:netsot:schema:config:1"' in schema.stdout
    lab = tmp_path / "lab"
    up = _run(installed, "lab", "up", "--dir", str(lab), "--guests", "3", cwd=tmp_path)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        config = str(lab / "netsot.yaml")
        imported = _run(installed, "--config", config, "import", "edgemax", cwd=tmp_path)
        assert imported.returncode == 0 and "netsot now manages them" in imported.stdout, imported.stderr
        applied = _run(installed, "--config", config, "apply", "--auto-approve", cwd=tmp_path)
        assert applied.returncode == 0 and "Apply complete!" in applied.stdout, applied.stderr
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        serve = subprocess.Popen([str(installed / "bin" / "netsot"), "--config", config, "serve",
                                  "--interval", "3600", "--listen", "127.0.0.1:0", "--log-format", "json"],
                                 cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            port = _listening_port(serve)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/netsot.css", timeout=10) as answer:
                assert answer.status == 200 and "text/css" in answer.headers["Content-Type"]
                assert answer.read() == (REPO / "engine" / "web" / "static" / "netsot.css").read_bytes()
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(60)
    finally:
        down = _run(installed, "lab", "down", "--dir", str(lab), cwd=tmp_path)
    assert down.returncode == 0 and "Stopped the lab" in down.stdout, down.stdout + down.stderr


# ----------------------------------------------------------------------------- systemd


def _unit_value(unit: Path, key: str) -> str:
    found = re.search(rf"(?m)^{key}=(.*)$", unit.read_text())
    assert found, f"{unit.name} has no {key}="
    return found.group(1).strip()


def test_the_units_pass_systemd_analyze_verify(installed: Path, tmp_path: Path) -> None:
    """Verified as shipped, except the binary path: systemd-analyze checks ExecStart exists, and this
    machine has the documented venv in a temporary folder instead of /opt/netsot."""
    binary = "/opt/netsot/bin/netsot"
    for unit in ("netsot.service", "netsot-once.service", "netsot.timer"):
        text = (UNITS / unit).read_text()
        (tmp_path / unit).write_text(text.replace(binary, str(installed / "bin" / "netsot")))
    for unit in ("netsot.service", "netsot-once.service"):
        exec_start = _unit_value(UNITS / unit, "ExecStart")
        assert exec_start.startswith(binary + " --config /etc/netsot/netsot.yaml ")
        assert _unit_value(UNITS / unit, "StateDirectory") == "netsot"
        assert _unit_value(UNITS / unit, "ProtectSystem") == "strict"
        assert _unit_value(UNITS / unit, "EnvironmentFile") == "/etc/netsot/netsot.env"
    assert _unit_value(UNITS / "netsot.timer", "Unit") == "netsot-once.service"
    units = [str(tmp_path / u) for u in ("netsot.service", "netsot-once.service", "netsot.timer")]
    verify = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60,
                            check=False)
    assert verify.returncode == 0 and not verify.stderr.strip() and not verify.stdout.strip(), verify.stderr
    # the check can fail: a unit with a mistake in it is reported
    (tmp_path / "broken.service").write_text((tmp_path / "netsot.service").read_text()
                                             .replace("StateDirectory=", "StateDirectroy="))
    broken = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "broken.service")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert "StateDirectroy" in broken.stderr
    # the documented install puts the binary where the units run it
    service = (UNITS / "netsot.service").read_text()
    assert "python3 -m venv /opt/netsot && /opt/netsot/bin/pip install" in service
    assert "useradd --system" in service


def test_the_env_file_names_are_the_example_configs(tmp_path: Path) -> None:
    names = re.findall(r"(?m)^([A-Z_]+)=", (UNITS / "netsot.env").read_text())
    assert tuple(names) == ENV_NAMES
    example = (REPO / "examples" / "netsot.yaml").read_text()
    for name in names:
        assert f"${{env:{name}}}" in example, name
    assert re.search(r"(?m)^  path: /var/lib/netsot/netsot\.state\.json", example)


def _service_user() -> tuple[list[str], int, int]:
    """How to run as an unprivileged user: as root, ``setpriv`` to nobody; otherwise we already are one."""
    if os.geteuid() != 0:
        return [], os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return (["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"],
            nobody.pw_uid, nobody.pw_gid)


def test_the_services_execstart_runs_unprivileged_with_the_units_layout(installed: Path, lab: Lab) -> None:
    prefix, uid, gid = _service_user()
    root = Path(tempfile.mkdtemp(prefix="netsot-service-"))
    os.chmod(root, 0o755)
    try:
        etc, state = root / "etc" / "netsot", root / "var" / "lib" / "netsot"
        etc.mkdir(parents=True)
        state.mkdir(parents=True)
        os.chown(state, uid, gid)  # what StateDirectory= does
        os.chmod(state, 0o700)
        paths = lab.paths
        shutil.copy(paths.ca, etc / "pve-ca.pem")
        shutil.copy(paths.known_hosts, etc / "known_hosts")
        shutil.copy(paths.private_key, etc / "id_ed25519")
        os.chown(etc / "id_ed25519", uid, gid)
        os.chmod(etc / "id_ed25519", 0o600)
        text = lab.config.read_text()
        for old, new in ((f"verify_tls: {paths.ca}", f"verify_tls: {etc / 'pve-ca.pem'}"),
                         (f"known_hosts: {paths.known_hosts}", f"known_hosts: {etc / 'known_hosts'}"),
                         (f"private_key: {paths.private_key}", f"private_key: {etc / 'id_ed25519'}"),
                         ("${file:secrets/pve_token}", "${env:PROXMOX_TOKEN}"),
                         ("${file:secrets/nipap_password}", "${env:NIPAP_PASSWORD}"),
                         ("  path: netsot.state.json", f"  path: {state / 'netsot.state.json'}")):
            assert old in text, old
            text = text.replace(old, new)
        (etc / "netsot.yaml").write_text(text)
        for path in etc.iterdir():
            if path.name != "id_ed25519":
                os.chmod(path, 0o644)
        os.chmod(etc, 0o755)  # root's: the service cannot write next to its config
        before = sorted(p.name for p in etc.iterdir())

        line = _unit_value(UNITS / "netsot-once.service", "ExecStart")
        argv = [str(installed / "bin" / "netsot") if a == "/opt/netsot/bin/netsot" else
                a.replace("/etc/netsot/", f"{etc}/") for a in shlex.split(line)]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(state), "LANG": "C.UTF-8",
               "PROXMOX_TOKEN": paths.secret(paths.pve_token),
               "NIPAP_PASSWORD": paths.secret("nipap_password")}
        proc = subprocess.Popen([*prefix, *argv], cwd=str(state), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
                                preexec_fn=lambda: os.umask(0o077))
        seen: set[str] = set()
        while proc.poll() is None:  # the lock exists while the run holds it
            seen |= {p.name for p in state.iterdir()}
            time.sleep(0.005)
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, out + err
        assert '"applied": ' in err + out, err

        written = {p.name for p in state.iterdir()}
        assert {"netsot.state.json", "netsot.state.json.history.jsonl"} <= written, written
        assert "netsot.state.json.lock" in seen, seen
        assert sorted(p.name for p in etc.iterdir()) == before  # nothing next to the config
        for name in written:
            assert (state / name).stat().st_uid == uid
            assert (state / name).stat().st_mode & 0o077 == 0, name
        assert paths.secret(paths.pve_token) not in (state / "netsot.state.json").read_text()
    finally:
        shutil.rmtree(root, ignore_errors=True)

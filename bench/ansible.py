"""The Ansible comparison (``python -m bench --ansible``, ``make bench ANSIBLE=1``).

Owns: installing Ansible into its own venv under the bench's cache (never a netsot dependency),
and one row that pushes the same N mappings (a DHCP static mapping + a host name each, the lines
netsot renders) to a fresh EdgeOS simulator twice — once with netsot's batched push, once with
Ansible's ``community.network.edgeos_config`` over ``network_cli`` — each as its own process (start-up,
SSH connect, reading the configuration, the lines, `commit`, `save`), and the ratio of the two.
Must not: change the simulator for Ansible's sake beyond what the real router does (edgeos.md §3.8:
Ansible's terminal plugin sends `export VYATTA_PAGER=cat` and `stty rows 10000`, which EdgeOS takes).

Ansible 9.x is the series pinned: it bundles community.network 5.x, the last with ``edgeos_config``
(the collection is deprecated upstream). Its SSH client is paramiko (ansible-pylibssh is not
installed); host keys are not checked on this loopback run (``ANSIBLE_HOST_KEY_CHECKING=False``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import Row

REQUIREMENTS = ("ansible>=9,<10", "paramiko")
MODULE = "ansible_collections/community/network/plugins/modules/edgeos_config.py"
INSTALL_TIMEOUT = 900
RUN_TIMEOUT = 600


def cache_dir() -> Path:
    """The bench's cache: ``$NETSOT_BENCH_CACHE``, else ``$XDG_CACHE_HOME/netsot-bench`` (~/.cache)."""
    if os.environ.get("NETSOT_BENCH_CACHE"):
        return Path(os.environ["NETSOT_BENCH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "netsot-bench"


def _module_present(venv: Path) -> bool:
    return any((site / MODULE).is_file() for site in venv.glob("lib/python*/site-packages"))


def ensure_ansible(venv: Path | None = None) -> Path | str:
    """The venv's ``ansible-playbook`` (installed on first use), or why Ansible cannot run here."""
    venv = venv or cache_dir() / "ansible-venv"
    playbook = venv / "bin" / "ansible-playbook"
    if playbook.is_file() and _module_present(venv):
        return playbook
    try:
        venv.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot make the bench's cache {venv.parent}: {exc}"
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *REQUIREMENTS]]
    for step in steps:
        try:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"`{' '.join(step[:4])} …` failed: {exc}"
        if proc.returncode != 0:
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
            return f"`{' '.join(step[:4])} …` exited {proc.returncode}: {tail}"
    if not playbook.is_file() or not _module_present(venv):
        return (f"installed {', '.join(REQUIREMENTS)} into {venv}, but community.network's edgeos_config "
                "is missing")
    return playbook


def mapping_lines(count: int) -> list[str]:
    """The lines netsot renders for ``count`` new hosts: a DHCP static mapping and a host name each."""
    from bench import scenarios
    from providers.edgemax import commands

    lines: list[str] = []
    for spec in scenarios.guests(count):
        net = spec.net
        ip = spec.static_ip or str(_offset(net.static_base, spec.vmid - scenarios.FIRST_VMID + 1))
        lines += commands.mapping_lines("create", net.shared_network, net.prefix, spec.name, ip, spec.mac)
        lines += commands.host_lines("create", f"{spec.name}.{net.domain}", ip, (spec.name,))
    return lines


def _offset(base: str, n: int) -> str:
    import ipaddress

    return str(ipaddress.IPv4Address(base) + n)


# --------------------------------------------------------------------------------------------- rows


def run_ansible(mappings: int, latency: float, commit: float) -> list[Row]:
    """netsot's push and Ansible's edgeos_config of ``mappings`` mappings, each against a fresh simulator."""
    from bench import scenarios
    from bench.simproc import SimProcess

    name = f"ansible-{mappings}"
    playbook = ensure_ansible()
    if isinstance(playbook, str):
        return [Row(name, mappings, "ansible", 0.0, None, notes=f"Ansible not run: {playbook}")]
    lines = mapping_lines(mappings)
    with tempfile.TemporaryDirectory(prefix="netsot-bench-ansible-") as tmpdir:
        tmp = Path(tmpdir)
        seed = tmp / "config.boot"
        seed.write_text(scenarios.config_boot())
        rows = []
        for who in ("netsot", "ansible"):
            sim = SimProcess("edgemax", tmp / f"sim-{who}", seed, latency, commit)
            try:
                c0 = sim.counts()
                wall, inner, detail = (_netsot(sim, lines, tmp) if who == "netsot"
                                       else _ansible(playbook, sim, lines, tmp))
                d = {k: v - c0.get(k, 0) for k, v in sim.counts().items()}
            finally:
                sim.stop()
            rows.append(Row(f"{name}-{who}", mappings, who, wall, None, {"edgemax": d["router_commands"]},
                            d["sessions"], d["commits"], 0.0,
                            f"{len(lines)} lines as one process (start-up, SSH, read, lines, commit, save); "
                            f"{inner}{detail}"))
    ours, theirs = rows
    inner = [re.search(r"in the (?:session|task) ([\d.]+)s", r.notes) for r in rows]
    if ours.commits == 1 and theirs.commits == 1 and ours.wall_s > 0 and inner[0] and inner[1]:
        push = float(inner[1].group(1)) / max(float(inner[0].group(1)), 1e-6)
        theirs.notes += (f"; Ansible / netsot = {push:.1f}x for the push (task vs session: SSH connect, "
                         f"read, lines, commit, save), {theirs.wall_s / ours.wall_s:.1f}x as processes "
                         "(start-up included)")
    else:
        theirs.notes += "; no ratio: a side failed or did not commit exactly once"
    return rows


def _netsot(sim: Any, lines: list[str], tmp: Path) -> tuple[float, str, str]:
    spec = tmp / "netsot-push.json"
    spec.write_text(json.dumps({"port": sim.port, "known_hosts": str(sim.known_hosts), "lines": lines}))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.ansible", "push", str(spec)], capture_output=True,
                          text=True, timeout=RUN_TIMEOUT, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return wall, "", f"; FAILED: {' | '.join(proc.stderr.strip().splitlines()[-2:])}"
    return wall, f"in the session {float(proc.stdout.strip().splitlines()[-1]):.2f}s", ""


def _ansible(playbook: Path, sim: Any, lines: list[str], tmp: Path) -> tuple[float, str, str]:
    work = tmp / "ansible"
    work.mkdir()
    (work / "inventory.ini").write_text(
        f"[edge]\nrouter ansible_host=127.0.0.1 ansible_port={sim.port} ansible_user=ubnt "
        "ansible_password=password ansible_network_os=community.network.edgeos "
        "ansible_connection=ansible.netcommon.network_cli\n")
    play = [{"hosts": "edge", "gather_facts": False,
             "tasks": [{"community.network.edgeos_config": {"lines": lines, "save": True}}]}]
    (work / "playbook.yml").write_text(json.dumps(play))  # JSON is YAML
    env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_HOME": str(work / "home"),
           "ANSIBLE_LOCAL_TEMP": str(work / "tmp"), "ANSIBLE_PARAMIKO_LOOK_FOR_KEYS": "False",
           "ANSIBLE_DEPRECATION_WARNINGS": "False", "ANSIBLE_PERSISTENT_COMMAND_TIMEOUT": str(RUN_TIMEOUT),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks"}
    start = time.perf_counter()
    proc = subprocess.run([str(playbook), "-i", str(work / "inventory.ini"), str(work / "playbook.yml")],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env, cwd=work, check=False)
    wall = time.perf_counter() - start
    recap = next((ln.strip() for ln in proc.stdout.splitlines() if ln.startswith("router ")), "")
    if proc.returncode != 0:
        tail = " | ".join(proc.stdout.strip().splitlines()[-4:])
        return wall, "", f"; FAILED (exit {proc.returncode}): {tail}"
    task = re.search(r"edgeos_config\s+-+\s+([\d.]+)s", proc.stdout)  # profile_tasks' summary
    inner = f"in the task {float(task.group(1)):.2f}s" if task else "task time not reported"
    return wall, f"{inner}; ansible-playbook: {' '.join(recap.split())}", ""


# ----------------------------------------------------------------------------------- child entry


def push(spec_path: Path) -> float:
    """netsot's side as its own process: one session, read, the lines in one batch, commit, save."""
    from core.config import Config
    from providers.edgemax.session import EdgeSession
    from providers.edgemax.settings import EdgemaxSettings
    from providers.vyatta import parse

    spec = json.loads(spec_path.read_text())
    settings = EdgemaxSettings(host="127.0.0.1", port=spec["port"], username="ubnt",  # type: ignore[arg-type]
                               password="password", known_hosts=spec["known_hosts"], timeout=120)
    start = time.perf_counter()
    with EdgeSession(settings, Config(providers={"edgemax": settings})) as session:
        before = parse.parse_any(session.show_commands(), "show configuration commands")
        result = session.configure(spec["lines"], save=True, before=before)
    if not result.committed:
        raise SystemExit("netsot's push committed nothing")
    return time.perf_counter() - start


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "push":
        print(f"{push(Path(sys.argv[2])):.4f}")
    else:
        print("usage: python -m bench.ansible push SPEC.json", file=sys.stderr)
        raise SystemExit(2)

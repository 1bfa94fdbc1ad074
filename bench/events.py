"""The event → DNS benchmark: how long after a guest is created its name resolves at the router's DNS.

Owns: the bench's homelab of ``guests`` guests (``bench.scenarios``: two /16 networks, so 1,000 fit;
the simulators in this process with the bench's latency knobs, the router's commits feeding a real
dnsmasq as EdgeOS's own does), a real ``netsot serve`` subprocess (full read every hour, the watch at
its default), then ``events`` guests created one after another through Proxmox's API (running, on
DHCP, as the web UI makes them); for each, the time until dnsmasq answers its name, and the requests
each system saw from the create until the next one (the watch's polls, the follow-up runs and the
re-reads of what the run changed included). The row's wall time is the p95.
Must not: assert a latency (the row shows it), or change what it measures.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import Row, peak_rss_mb

REPO = Path(__file__).resolve().parents[1]
FIRST_RUN_TIMEOUT = 600.0
EVENT_TIMEOUT = 60.0
SETTLE = 2.5  # seconds after an answer: the follow-up runs (NIPAP saw netsot's own write) finish
PVE_POLLS = ("/cluster/tasks", "/cluster/resources")


def _wait(what: str, probe: Callable[[], Any], timeout: float, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(step)


def _records(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(errors="replace")
    out = []
    for line in text[: text.rfind("\n") + 1].splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def _config(tmp: Path, sims: Any) -> Path:
    """The netsot config (JSON is YAML) for the running simulators, as ``bench.run.sim_config`` has it."""
    from bench import scenarios

    user, name, value = sims.pve.token
    data = {
        "version": 1,
        "state": {"backend": "file", "path": str(tmp / "netsot.state.json")},
        "providers": {
            "proxmox": {"host": "127.0.0.1", "port": sims.pve.port, "user": user, "token_name": name,
                        "token_value": value, "verify_tls": str(sims.pve.ca_path), "timeout": 30,
                        "writeback_tag": scenarios.WRITEBACK_TAG},
            "nipap": {"url": sims.nipap.url(), "username": "netsot", "password": "pw", "timeout": 30},
            "edgemax": {"host": "127.0.0.1", "port": sims.edge.port, "username": "ubnt",
                        "password": "password", "known_hosts": str(sims.edge.known_hosts), "timeout": 120},
        },
        "networks": scenarios.networks_config(),
        "policy": {"max_change_percent": 100, "min_existing": 1_000_000},
    }
    path = tmp / "netsot.yaml"
    path.write_text(json.dumps(data, indent=1))
    path.chmod(0o600)
    return path


class _Pve:
    """Proxmox's API as the web UI or Terraform uses it (HTTPS, the token, the simulator's CA)."""

    def __init__(self, handle: Any) -> None:
        import requests

        user, name, value = handle.token
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"PVEAPIToken={user}!{name}={value}"
        self.ca = str(handle.ca_path)
        self.base = handle.url

    def call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        answer = self.session.request(method, self.base + path, data=data, timeout=30, verify=self.ca)
        answer.raise_for_status()
        return answer.json()["data"]


def run_events(guests: int, latency: float, commit: float, events: int = 20,
               keep_log: Path | None = None) -> Row:
    """The row; ``keep_log``: where to copy the service's JSON log (its runs' durations and triggers)."""
    import dns.exception
    import dns.resolver

    from bench import scenarios
    from bench.run import Options, simulators
    from providers.edgemax.sim.lab import hosts_text
    from providers.lab import dns as labdns

    name = f"event-dns-{guests}"
    binary = labdns.find_dnsmasq()
    if not binary:
        return Row(name, guests, "event", 0.0, None, notes="no dnsmasq: the router's DNS cannot answer")
    specs = scenarios.guests(guests)
    lan = scenarios.NETWORKS[0]
    world = Options(latency=latency, commit=commit, separate=False)  # handles here: their request logs
    with tempfile.TemporaryDirectory(prefix="netsot-bench-events-") as tmp_name, \
            simulators(Path(tmp_name), specs, world) as sims:
        tmp = Path(tmp_name)
        hosts = tmp / "router-hosts"
        dnsmasq = labdns.Dnsmasq(binary, hosts, {n.domain for n in scenarios.NETWORKS}, tmp / "dnsmasq.log")
        service: subprocess.Popen[bytes] | None = None

        def on_commit(tree: Any) -> None:  # what EdgeOS does after a commit: its hosts, then dnsmasq
            labdns.write_atomic(hosts, hosts_text(tree))
            dnsmasq.reload()

        try:
            on_commit(sims.edge.active_tree())
            dnsmasq.start()
            sims.edge.set_on_commit(on_commit)
            pve, nipap, router = sims.pve, sims.nipap, sims.edge
            config = _config(tmp, sims)
            log_path = tmp / "serve.stderr"
            with open(log_path, "wb") as err:
                service = subprocess.Popen(
                    [sys.executable, "-m", "engine", "--config", str(config), "serve", "--interval", "3600",
                     "--jitter", "0", "--log-format", "json"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, cwd=str(REPO),
                    env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
            _wait("the service's first full run",
                  lambda: any(r.get("msg") == "run finished" for r in _records(log_path)),
                  FIRST_RUN_TIMEOUT, 0.2)
            time.sleep(SETTLE)
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers, resolver.port = ["127.0.0.1"], dnsmasq.port
            resolver.lifetime = resolver.timeout = 0.5

            def answers(host: str) -> bool:
                try:
                    return bool(resolver.resolve(host, "A", search=False))
                except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.exception.Timeout):
                    return False

            api = _Pve(pve)
            domain = lan.domain
            took: list[float] = []
            per: dict[str, list[int]] = {"proxmox": [], "proxmox_polls": [], "nipap": [], "edgemax": [],
                                         "sessions": [], "commits": []}
            for i in range(events):
                host = f"evb{i:02d}"
                marks = (len(pve.log), len(nipap.log), len(router.log.commands()), router.log.sessions,
                         router.log.commits)
                start = time.monotonic()
                vmid = int(api.call("GET", "/cluster/nextid"))
                api.call("POST", f"/nodes/{scenarios.NODES[0]}/qemu", {
                    "vmid": vmid, "name": host, "start": 1, "cores": 1, "memory": 1024,
                    "net0": "virtio,bridge=vmbr0" + (f",tag={lan.vlan}" if lan.vlan else "")})
                _wait(f"{host}.{domain} to resolve", lambda h=f"{host}.{domain}": answers(h), EVENT_TIMEOUT)
                took.append(time.monotonic() - start)
                time.sleep(SETTLE)  # the requests of the event's whole cycle: the reads after its run too
                pve_log = pve.log[marks[0]:]
                per["proxmox"].append(len(pve_log) - 2)  # minus the bench's own nextid and create
                per["proxmox_polls"].append(sum(e.path in PVE_POLLS for e in pve_log))
                per["nipap"].append(len(nipap.log) - marks[1])
                per["edgemax"].append(len(router.log.commands()) - marks[2])
                per["sessions"].append(router.log.sessions - marks[3])
                per["commits"].append(router.log.commits - marks[4])
        finally:
            if keep_log is not None and (tmp / "serve.stderr").exists():
                keep_log.write_bytes((tmp / "serve.stderr").read_bytes())  # the service's JSON log
            if service is not None and service.poll() is None:
                service.terminate()
                try:
                    service.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    service.kill()
                    service.wait(timeout=10)
            with contextlib.suppress(Exception):
                dnsmasq.stop()
    mean = {k: round(statistics.mean(v)) for k, v in per.items()}
    p50, p95 = _quantile(took, 0.5), _quantile(took, 0.95)
    return Row(name, guests, "event", p95, None,
               {"proxmox": mean["proxmox"], "nipap": mean["nipap"], "edgemax": mean["edgemax"]},
               mean["sessions"], mean["commits"], peak_rss_mb(),
               f"event -> DNS latency over {events} created guests (running, DHCP): p50 {p50:.2f} s, "
               f"p95 {p95:.2f} s, max {max(took):.2f} s; per event (mean, create to create, polls and "
               f"re-reads included): Proxmox {mean['proxmox']} requests ({mean['proxmox_polls']} of them "
               f"polls), NIPAP {mean['nipap']} "
               f"calls, router {mean['edgemax']} commands in {mean['sessions']} SSH sessions, "
               f"{mean['commits']} commits; watch every 1 s")

"""The event → DNS benchmark: how long after a guest is created its name resolves at the router's DNS.

Owns: a lab of ``guests`` guests (the lab's simulators in this process with the bench's latency
knobs, and its real dnsmasq), a real ``netsot serve`` subprocess (full read every hour, the watch at
its default), then ``events`` guests created one after another through Proxmox's API (running, on
DHCP, as the web UI makes them); for each, the time until dnsmasq answers its name, and the requests
each system saw in that window (the watch's polls included). The row's wall time is the p95.
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


def run_events(guests: int, latency: float, commit: float, events: int = 20) -> Row:
    import dns.resolver

    from providers.lab import dns as labdns
    from providers.lab import prepare, write_config
    from providers.lab.control import Proxmox
    from providers.lab.homelab import SITES
    from providers.lab.runner import start_nipap, start_proxmox, start_router

    name = f"event-dns-{guests}"
    binary = labdns.find_dnsmasq()
    if not binary:
        return Row(name, guests, "event", 0.0, None, notes="no dnsmasq: the router's DNS cannot answer")
    with tempfile.TemporaryDirectory(prefix="netsot-bench-events-") as tmp:
        paths = prepare(Path(tmp), guests, 1)
        spec = SITES[0]
        site = paths.for_site(spec.name)
        parts: list[Any] = []
        service: subprocess.Popen[bytes] | None = None
        try:
            dnsmasq = labdns.Dnsmasq(binary, site.hosts_file, spec.domains, site.logs / "dnsmasq.log")
            dnsmasq.start()
            parts.append(dnsmasq)
            pve = start_proxmox(site)
            parts.append(pve)
            router = start_router(site, dnsmasq.reload)
            parts.append(router)
            nipap = start_nipap(paths)
            parts.append(nipap)
            pve.handle.knobs.delay = latency
            nipap.knobs.latency = latency
            router.faults.command_delay = latency
            router.faults.commit_delay = commit
            ports = {"nipap": nipap.port, site.process("proxmox"): pve.port,
                     site.process("router"): router.port, site.process("dnsmasq"): dnsmasq.port}
            config = write_config(paths, ports, dnsmasq.port, 1)
            log_path = paths.logs / "bench-serve.stderr"
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

            api = Proxmox(site, pve.port)
            net = spec.networks[0]
            tag = f",tag={net.vlan}" if net.vlan else ""
            domain = net.domain
            took: list[float] = []
            per: dict[str, list[int]] = {"proxmox": [], "proxmox_polls": [], "nipap": [], "edgemax": [],
                                         "sessions": [], "commits": []}
            for i in range(events):
                host = f"evb{i:02d}"
                marks = (len(pve.handle.log), len(nipap.log), len(router.log.commands()), router.log.sessions,
                         router.log.commits)
                start = time.monotonic()
                vmid = int(api.call("GET", "/cluster/nextid"))
                api.call("POST", f"/nodes/{spec.nodes[0]}/qemu", {"vmid": vmid, "name": host, "start": 1,
                                                                  "cores": 1, "memory": 1024,
                                                                  "net0": f"virtio,bridge={net.bridge}{tag}"})
                _wait(f"{host}.{domain} to resolve", lambda h=f"{host}.{domain}": answers(h), EVENT_TIMEOUT)
                took.append(time.monotonic() - start)
                pve_log = pve.handle.log[marks[0]:]
                per["proxmox"].append(len(pve_log) - 2)  # minus the bench's own nextid and create
                per["proxmox_polls"].append(sum(e.path in PVE_POLLS for e in pve_log))
                per["nipap"].append(len(nipap.log) - marks[1])
                per["edgemax"].append(len(router.log.commands()) - marks[2])
                per["sessions"].append(router.log.sessions - marks[3])
                per["commits"].append(router.log.commits - marks[4])
                time.sleep(SETTLE)
        finally:
            if service is not None and service.poll() is None:
                service.terminate()
                try:
                    service.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    service.kill()
                    service.wait(timeout=10)
            for part in reversed(parts):
                with contextlib.suppress(Exception):  # one part failing must not keep the others running
                    part.stop()
    mean = {k: round(statistics.mean(v)) for k, v in per.items()}
    p50, p95 = _quantile(took, 0.5), _quantile(took, 0.95)
    return Row(name, guests, "event", p95, None,
               {"proxmox": mean["proxmox"], "nipap": mean["nipap"], "edgemax": mean["edgemax"]},
               mean["sessions"], mean["commits"], peak_rss_mb(),
               f"event -> DNS latency over {events} created guests (running, DHCP): p50 {p50:.2f} s, "
               f"p95 {p95:.2f} s, max {max(took):.2f} s; per event (mean, polls included): Proxmox "
               f"{mean['proxmox']} requests ({mean['proxmox_polls']} of them polls), NIPAP {mean['nipap']} "
               f"calls, router {mean['edgemax']} commands in {mean['sessions']} SSH sessions, "
               f"{mean['commits']} commits; watch every 1 s")

"""Playing with a running lab: `netsot lab guest add|rm|set|restart` and `netsot lab lease add`.

Owns: acting on the running lab as the world would — guests through the hypervisor kind's guest
operations (``LabSystem.guests``: its real API), and a
device joins the network through the router's lease file (``router-leases.json``: EdgeOS has no API
to add a DHCP lease, so the lab's router re-reads that file; this module waits until it has). A guest
on DHCP gets a dynamic lease too, as a real DHCP client would. Everything persists across
``lab down`` / ``lab up`` (the simulators save their state in ``run/``).
Must not: reach into a simulator's memory, or touch netsot's config or state.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.names import normalize_mac
from providers.lab import dns, systems
from providers.lab.homelab import SITES, LabNetwork, LabSite, site_named
from providers.lab.runner import Paths
from providers.lab.seeds import LEASE_TIME, lab_now, lease_active, lease_until

LEASE_WAIT = 10.0  # seconds to wait for the router to pick up a changed lease file


def _error(text: str) -> Exception:
    from providers.lab import LabError

    return LabError(text)


# ----------------------------------------------------------------------------- the running lab


def _lab(workdir: Path, site: str) -> tuple[Paths, LabSite, dict[str, Any]]:
    """The lab folder as ``site`` sees it, the site, and ``lab.json`` (refusing a lab without it)."""
    from providers.lab import _alive, _load

    paths = Paths(Path(workdir).resolve())
    current = _load(paths)
    if not current or not any(_alive(p.get("pid")) for p in current.get("processes", {}).values()):
        raise _error(f"no lab is running in {paths.root}; start it with `netsot lab up --dir {workdir}`")
    try:
        spec = site_named(site)
    except KeyError:
        known = ", ".join(s.name for s in SITES if s.name)
        raise _error(f"--site {site!r} is not a lab site (site 1 is the default; others: {known})") from None
    if SITES.index(spec) >= int(current.get("sites") or 1):
        raise _error(f"the lab in {paths.root} runs {current.get('sites', 1)} site(s), not the {site} "
                     "(`netsot lab up --sites 2`)")
    return paths.for_site(site), spec, current


# ----------------------------------------------------------------------------- networks


def _network(spec: LabSite, name: str | None, ip: str | None = None) -> LabNetwork:
    """The lab network named ``name``, else the one holding ``ip``, else the site's first."""
    if name:
        for net in spec.networks:
            if net.name == name:
                return net
        raise _error(f"--network {name!r} is not a network of this site "
                     f"({', '.join(n.name for n in spec.networks)})")
    if ip:
        address = ipaddress.ip_interface(ip).ip
        for net in spec.networks:
            if address in ipaddress.ip_network(net.prefix):
                return net
    return spec.networks[0]


def _cidr(ip: str, net: LabNetwork) -> str:
    """``ip`` with the network's prefix length when it has none; refused when it is not an address."""
    try:
        value = ipaddress.ip_interface(ip if "/" in ip else f"{ip}/{net.prefix.split('/')[1]}")
    except ValueError:
        raise _error(f"--ip {ip!r} is not an IPv4 address (e.g. 192.168.10.60/24)") from None
    return str(value)


def _mac(mac: str | None) -> str | None:
    if mac is None:
        return None
    try:
        return normalize_mac(mac)
    except ValueError:
        raise _error(f"--mac {mac!r} is not a MAC address (e.g. bc:24:11:00:00:01)") from None


# ----------------------------------------------------------------------------- guests


def _guests() -> Any:
    """The guest operations of the lab's hypervisor kind (its ``LabSystem.guests``)."""
    system = systems.lab_system(systems.default_kind("hypervisor"))
    ops = getattr(system, "guests", None)
    if ops is None:
        raise _error(f"the lab's {system.title} has no guest operations")
    return ops


def guest_add(workdir: Path, name: str, **options: Any) -> str:
    """A new running guest on the site's hypervisor; on DHCP it gets a dynamic lease."""
    return str(_guests().add(workdir, name, **options))


def guest_rm(workdir: Path, which: str, **options: Any) -> str:
    """Stop and destroy a guest; its NICs' dynamic leases are released."""
    return str(_guests().rm(workdir, which, **options))


def guest_restart(workdir: Path, which: str, **options: Any) -> str:
    """Restart a guest as its owner would through the hypervisor's API."""
    return str(_guests().restart(workdir, which, **options))


def guest_set(workdir: Path, which: str, **options: Any) -> str:
    """Rename a guest, or change one NIC's MAC, bridge/VLAN or address."""
    return str(_guests().set(workdir, which, **options))


# ----------------------------------------------------------------------------- the router, by hand


def ssh_command(workdir: Path, *, site: str = "", tty: bool = True) -> list[str]:
    """OpenSSH to the site's router as a person would log in (the lab's key, strict host keys);
    ``tty=False`` (commands on stdin, e.g. a here-document) forces a terminal for the EdgeOS shell."""
    from providers.lab.runner import ROUTER_USER

    paths, _spec, current = _lab(workdir, site)
    proc = current.get("processes", {}).get(paths.process("router"))
    if not proc:
        raise _error(f"the lab has no {paths.process('router')} process")
    kind = proc.get("kind") or systems.default_kind("router")
    router = systems.lab_system(kind)
    if not getattr(router, "shell", False):
        raise _error(f"the lab's {paths.process('router')} is a {kind} router, which takes no SSH login in "
                     f"the lab: netsot talks to its API ({router.describe(paths, proc['port'])})")
    return ["ssh", *([] if tty else ["-tt"]), "-i", str(paths.private_key), "-p", str(proc["port"]),
            "-F", "/dev/null", "-o", f"UserKnownHostsFile={paths.known_hosts}",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", f"{ROUTER_USER}@127.0.0.1"]


def ssh(workdir: Path, *, site: str = "") -> int:
    """Log in to the site's router (EdgeOS shell); returns ssh's exit code."""
    import subprocess
    import sys

    try:
        tty = sys.stdin.isatty()
    except (AttributeError, ValueError):
        tty = False
    return subprocess.run(ssh_command(workdir, site=site, tty=tty), check=False).returncode


# ----------------------------------------------------------------------------- leases


def lease_add(workdir: Path, mac: str, *, site: str = "", hostname: str | None = None, ip: str | None = None,
              network: str | None = None, lease_time: float = LEASE_TIME) -> str:
    """A device joins the network: a dynamic lease on the site's router for ``lease_time`` seconds (the
    first free address of the network's DHCP range unless ``ip`` is given), replacing an older lease of
    the same MAC. Expired leases are dropped first: their addresses are free again, as on a router."""
    paths, spec, current = _lab(workdir, site)
    address = _mac(mac)
    assert address is not None
    if not lease_time > 0:
        raise _error(f"--lease-time {lease_time:g} is not a number of seconds above 0 (EdgeOS's default: "
                     f"{LEASE_TIME})")
    net = _network(spec, network, ip)
    now = lab_now()
    leases = [x for x in _read_leases(paths)
              if str(x.get("mac", "")).lower() != address and lease_active(x, now)]
    taken = {x["ip"] for x in leases}
    chosen = ip.split("/")[0] if ip else _free(net, taken)
    if chosen in taken:
        raise _error(f"{chosen} is already leased to {next(x['mac'] for x in leases if x['ip'] == chosen)}")
    leases.append({"ip": chosen, "mac": address, "expires": lease_until(seconds=lease_time),
                   "pool": net.shared_network, "hostname": hostname})
    dns.write_atomic(paths.leases_file, json.dumps(leases, indent=1))
    _wait_for_router(paths, current)
    return f"Leased {chosen} to {address}" + (f" ({hostname})" if hostname else "") + \
        f" on the router's {net.shared_network} pool (router-leases.json)"


def lease_release(workdir: Path, macs: Sequence[str], *, site: str = "") -> list[str]:
    """The leases of ``macs`` released (a guest that is destroyed gives its addresses back, as a DHCP
    client's release does; expired leases go too); one line per released lease."""
    paths, _spec, current = _lab(workdir, site)
    wanted = {m.lower() for m in macs}
    now = lab_now()
    rows = _read_leases(paths)
    released = [x for x in rows if str(x.get("mac", "")).lower() in wanted]
    if not released:
        return []
    kept = [x for x in rows if x not in released and lease_active(x, now)]
    dns.write_atomic(paths.leases_file, json.dumps(kept, indent=1))
    _wait_for_router(paths, current)
    return [f"Released the lease of {x['ip']} ({x['mac']}) on the router's {x.get('pool')} pool"
            for x in released]


def _read_leases(paths: Paths) -> list[dict[str, Any]]:
    source = paths.leases_file if paths.leases_file.exists() else paths.site_seeds / "leases.json"
    try:
        return list(json.loads(source.read_text()))
    except (OSError, ValueError) as exc:
        raise _error(f"cannot read the router's leases {source}: {exc}") from None


def _free(net: LabNetwork, taken: set[str]) -> str:
    start, stop = int(ipaddress.ip_address(net.dhcp_start)), int(ipaddress.ip_address(net.dhcp_stop))
    for value in range(start, stop + 1):
        candidate = str(ipaddress.ip_address(value))
        if candidate not in taken:
            return candidate
    raise _error(f"the DHCP range {net.dhcp_start}-{net.dhcp_stop} of {net.name} is full")


def _wait_for_router(paths: Paths, current: dict[str, Any]) -> None:
    """Until the running router has read the lease file (it records what it applied)."""
    from providers.lab import _alive

    proc = current.get("processes", {}).get(paths.process("router"))
    if not proc or not _alive(proc.get("pid")):
        return  # read when the router starts
    want = paths.leases_file.read_text()
    applied = paths.leases_file.with_suffix(".applied")
    deadline = time.monotonic() + LEASE_WAIT
    while time.monotonic() < deadline:
        try:
            if applied.read_text() == want:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise _error(f"the lab's router did not pick up {paths.leases_file} within {LEASE_WAIT:g} s "
                 f"(see {paths.logs})")


__all__ = ["guest_add", "guest_restart", "guest_rm", "guest_set", "lease_add", "lease_release", "ssh",
           "ssh_command"]

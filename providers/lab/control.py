"""Playing with a running lab: `netsot lab guest add|rm|set|restart` and `netsot lab lease add`.

Owns: acting on the running lab as the world would — guests are made, destroyed and edited through
the Proxmox simulator's real API (HTTPS with the lab's API token and CA: ``POST /nodes/{node}/qemu``
or ``/lxc``, ``POST …/status/stop|start``, ``DELETE …/{vmid}``, ``PUT …/config`` with its digest), and a
device joins the network through the router's lease file (``router-leases.json``: EdgeOS has no API
to add a DHCP lease, so the lab's router re-reads that file; this module waits until it has). A guest
on DHCP gets a dynamic lease too, as a real DHCP client would. Everything persists across
``lab down`` / ``lab up`` (the simulators save their state in ``run/``).
Must not: reach into a simulator's memory, or touch netsot's config or state.
"""

from __future__ import annotations

import ipaddress
import json
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from providers.lab import dns, systems
from providers.lab.homelab import SITES, LabNetwork, LabSite, site_named
from providers.lab.runner import PVE_TOKEN_NAME, PVE_USER, Paths
from providers.lab.seeds import LEASE_TIME, lab_now, lease_active, lease_until

LXC_TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
LEASE_WAIT = 10.0  # seconds to wait for the router to pick up a changed lease file
REQUEST_TIMEOUT = 30.0


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


class Proxmox:
    """The site's Proxmox simulator over HTTPS, as any API client talks to it."""

    def __init__(self, paths: Paths, port: int) -> None:
        self.base = f"https://127.0.0.1:{port}/api2/json"
        self.token = f"PVEAPIToken={PVE_USER}!{PVE_TOKEN_NAME}={paths.secret(paths.pve_token)}"
        self.tls = ssl.create_default_context(cafile=str(paths.ca))

    def call(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        data = urllib.parse.urlencode({k: str(v) for k, v in (params or {}).items()}).encode()
        url = self.base + path
        if method in ("GET", "DELETE") and params:
            url, data = f"{url}?{data.decode()}", b""
        request = urllib.request.Request(url, data=data or None, method=method,
                                         headers={"Authorization": self.token})
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=REQUEST_TIMEOUT) as answer:
                return json.loads(answer.read() or b"{}").get("data")
        except urllib.error.HTTPError as err:
            body = err.read()
            detail = ""
            try:
                errors = json.loads(body or b"{}").get("errors") or {}
                detail = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
            except ValueError:
                pass
            raise _error(f"Proxmox refused {method} {path}: {err.code} {err.reason}"
                         + (f" ({detail})" if detail else "")) from None
        except (urllib.error.URLError, OSError) as err:
            raise _error(f"cannot reach the lab's Proxmox at {self.base}: {err}") from None

    def guests(self) -> list[dict[str, Any]]:
        return [g for g in self.call("GET", "/cluster/resources", {"type": "vm"}) or () if "vmid" in g]

    def find(self, which: str) -> dict[str, Any]:
        """A guest by name or VMID."""
        found = [g for g in self.guests() if str(g["vmid"]) == which or g.get("name") == which]
        if not found:
            raise _error(f"the lab's Proxmox has no guest {which!r} (`netsot inventory proxmox` lists them)")
        if len(found) > 1:
            raise _error(f"{len(found)} guests are called {which!r}: name one by its VMID "
                         f"({', '.join(str(g['vmid']) for g in found)})")
        return found[0]


def _proxmox(paths: Paths, current: dict[str, Any]) -> Proxmox:
    proc = current.get("processes", {}).get(paths.process("proxmox"))
    if not proc:
        raise _error(f"the lab has no {paths.process('proxmox')} process")
    return Proxmox(paths, int(proc["port"]))


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
    parts = mac.replace("-", ":").lower().split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdef" for c in p) for p in parts):
        raise _error(f"--mac {mac!r} is not a MAC address (e.g. bc:24:11:00:00:01)")
    return ":".join(parts)


def _nic(gtype: str, mac: str | None, bridge: str, vlan: int | None, ip: str | None,
         gateway: str | None) -> str:
    tag = f",tag={vlan}" if vlan else ""
    if gtype == "qemu":
        return f"virtio{'=' + mac.upper() if mac else ''},bridge={bridge}{tag}"
    hw = f",hwaddr={mac.upper()}" if mac else ""
    address = f",ip={ip},gw={gateway}" if ip else ",ip=dhcp"
    return f"name=eth0,bridge={bridge}{hw}{address}{tag}"


# ----------------------------------------------------------------------------- guests


def guest_add(workdir: Path, name: str, *, site: str = "", node: str | None = None, mac: str | None = None,
              bridge: str | None = None, network: str | None = None, ip: str | None = None,
              gtype: str = "qemu", tags: Sequence[str] = ()) -> str:
    """A new running guest (``POST /nodes/{node}/qemu`` or ``/lxc``); on DHCP it gets a dynamic lease."""
    paths, spec, current = _lab(workdir, site)
    pve = _proxmox(paths, current)
    node = node or spec.nodes[0]
    if node not in spec.nodes:
        raise _error(f"--node {node!r} is not a node of this site ({', '.join(spec.nodes)})")
    net = _network(spec, network, ip)
    cidr = _cidr(ip, net) if ip else None
    vlan = None if bridge and not network else net.vlan
    vmid = int(pve.call("GET", "/cluster/nextid"))
    params: dict[str, Any] = {"vmid": vmid, "start": 1, "cores": 1,
                              "memory": 1024 if gtype == "qemu" else 512,
                              "net0": _nic(gtype, _mac(mac), bridge or net.bridge, vlan, cidr, net.gateway)}
    if tags:
        params["tags"] = ";".join(tags)
    if gtype == "qemu":
        # new volumes as Proxmox creates them: STORAGE:SIZE (GiB) and STORAGE:cloudinit
        params.update(name=name, agent=1, ostype="l26", scsi0="local-lvm:16")
        if cidr or "netsot-static" in tags:  # a cloud-init drive: Proxmox allocates vm-<vmid>-cloudinit
            params.update(ide2="local-lvm:cloudinit",
                          ipconfig0=f"ip={cidr},gw={net.gateway}" if cidr else "ip=dhcp")
    else:
        params.update(hostname=name, ostemplate=LXC_TEMPLATE, unprivileged=1)
    upid = pve.call("POST", f"/nodes/{node}/{gtype}", params)
    actual = _nic_mac(pve.call("GET", f"/nodes/{node}/{gtype}/{vmid}/config"), "net0", gtype)
    lines = [f"Created {gtype} guest {name} (VMID {vmid}) on {node}: net0 {actual} on {bridge or net.bridge}"
             + (f" VLAN {vlan}" if vlan else "") + (f", static {cidr}" if cidr else ", DHCP") + f" ({upid})"]
    if not cidr and actual:
        lines.append(lease_add(workdir, actual, site=site, hostname=name, network=net.name))
    return "\n".join(lines)


def _nic_mac(config: dict[str, Any], nic: str, gtype: str) -> str | None:
    from providers.proxmox import mapping

    value = config.get(nic)
    if value is None:
        return None
    parse = mapping.parse_qemu_net if gtype == "qemu" else mapping.parse_lxc_net
    parsed = parse(str(value), nic)
    found = parsed.get("macaddr") or parsed.get("hwaddr")
    return str(found).lower() if found else None


def guest_rm(workdir: Path, which: str, *, site: str = "") -> str:
    """Stop (``POST …/status/stop``) and destroy (``DELETE /nodes/{node}/{type}/{vmid}``) a guest."""
    paths, _spec, current = _lab(workdir, site)
    pve = _proxmox(paths, current)
    guest = pve.find(which)
    where = f"/nodes/{guest['node']}/{guest['type']}/{guest['vmid']}"
    config = pve.call("GET", f"{where}/config") or {}
    macs = [m for nic in sorted(config) if re.fullmatch(r"net\d+", nic)
            if (m := _nic_mac(config, nic, guest["type"]))]
    if guest.get("status") == "running":
        pve.call("POST", f"{where}/status/stop")
    upid = pve.call("DELETE", where, {"purge": 1})
    lines = [f"Removed {guest['type']} guest {guest.get('name')} (VMID {guest['vmid']}) from {guest['node']} "
             f"({upid})"]
    return "\n".join(lines + lease_release(workdir, macs, site=site))


def guest_restart(workdir: Path, which: str, *, site: str = "") -> str:
    """Restart a guest as its owner would through Proxmox: ``POST …/status/stop`` then ``…/status/start``
    (each a worker task, waited for). The start builds a VM's cloud-init drive from its config and boots from
    it, so the guest takes an address written back meanwhile; a reboot inside the guest would not."""
    paths, _spec, current = _lab(workdir, site)
    pve = _proxmox(paths, current)
    guest = pve.find(which)
    node, where = guest["node"], f"/nodes/{guest['node']}/{guest['type']}/{guest['vmid']}"
    done: list[str] = []
    if guest.get("status") == "running":
        done.append(_wait_task(pve, node, pve.call("POST", f"{where}/status/stop")))
    done.append(_wait_task(pve, node, pve.call("POST", f"{where}/status/start")))
    config = pve.call("GET", f"{where}/config")
    addresses = [f"{k} {v}" for k, v in sorted(config.items()) if k.startswith("ipconfig")] \
        if guest["type"] == "qemu" else []
    booted = f"; it booted with {', '.join(addresses)}" if addresses else ""
    return (f"Restarted {guest['type']} guest {guest.get('name')} (VMID {guest['vmid']}) on {node} "
            f"({', '.join(done)}){booted}")


def _wait_task(pve: Proxmox, node: str, upid: Any) -> str:
    """Until the worker task ``upid`` stopped; its type (``qmstop``), or an error when it failed."""
    deadline = time.monotonic() + REQUEST_TIMEOUT
    while True:
        status = pve.call("GET", f"/nodes/{node}/tasks/{urllib.parse.quote(str(upid), safe='')}/status")
        if status.get("status") == "stopped":
            if status.get("exitstatus") != "OK":
                raise _error(f"Proxmox task {upid} failed: {status.get('exitstatus')}")
            return str(status.get("type"))
        if time.monotonic() > deadline:
            raise _error(f"Proxmox task {upid} did not finish within {REQUEST_TIMEOUT:g} s")
        time.sleep(0.1)


def guest_set(workdir: Path, which: str, *, site: str = "", name: str | None = None, mac: str | None = None,
              bridge: str | None = None, network: str | None = None, ip: str | None = None,
              nic: str = "net0") -> str:
    """Rename a guest, or change one NIC's MAC, bridge/VLAN or address (``PUT …/config`` with the digest)."""
    from providers.proxmox import mapping

    paths, spec, current = _lab(workdir, site)
    pve = _proxmox(paths, current)
    guest = pve.find(which)
    gtype, where = guest["type"], f"/nodes/{guest['node']}/{guest['type']}/{guest['vmid']}"
    config = pve.call("GET", f"{where}/config")
    params: dict[str, Any] = {"digest": config["digest"]}
    done: list[str] = []
    on_dhcp = False
    if name:
        params["name" if gtype == "qemu" else "hostname"] = name
        done.append(f"name {name}")
    if mac or bridge or network or ip:
        if nic not in config:
            raise _error(f"guest {guest.get('name')} has no {nic}")
        parse = mapping.parse_qemu_net if gtype == "qemu" else mapping.parse_lxc_net
        printer = mapping.print_qemu_net if gtype == "qemu" else mapping.print_lxc_net
        parsed = parse(str(config[nic]), nic)
        on_dhcp = _on_dhcp(gtype, parsed, config.get(f"ipconfig{nic[3:]}"))
        net = _network(spec, network, ip)
        if mac:
            parsed["macaddr" if gtype == "qemu" else "hwaddr"] = _mac(mac).upper()  # type: ignore[union-attr]
            done.append(f"{nic} MAC {_mac(mac)}")
        if bridge or network:
            parsed["bridge"] = bridge or net.bridge
            parsed.pop("tag", None)
            if network and net.vlan:
                parsed["tag"] = str(net.vlan)
            vlan = f" VLAN {parsed['tag']}" if parsed.get("tag") else ""
            done.append(f"{nic} on {parsed['bridge']}{vlan}")
        if ip:
            cidr = _cidr(ip, net)
            if gtype == "qemu":
                params[f"ipconfig{nic[3:]}"] = f"ip={cidr},gw={net.gateway}"
            else:
                parsed.update(ip=cidr, gw=net.gateway)
            done.append(f"{nic} static {cidr}")
        params[nic] = printer(parsed)
    if not done:
        raise _error("nothing to change: give --name, --mac, --bridge, --network or --ip")
    pve.call("PUT", f"{where}/config", params)
    lines = [f"Changed {gtype} guest {guest.get('name')} (VMID {guest['vmid']}): {', '.join(done)}"]
    if mac and not ip and on_dhcp:  # its DHCP client asks again with the new MAC
        lines.append(lease_add(workdir, _mac(mac) or "", site=site, hostname=name or guest.get("name")))
    return "\n".join(lines)


def _on_dhcp(gtype: str, parsed: dict[str, Any], ipconfig: Any) -> bool:
    if gtype == "lxc":
        return parsed.get("ip") in (None, "dhcp")
    return ipconfig is None or "ip=dhcp" in str(ipconfig)


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

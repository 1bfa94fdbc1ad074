"""Proxmox VE's guest operations for the embedded lab: `netsot lab guest add|rm|set|restart`.

Owns: acting on a running lab's cluster as the world would — guests are made, destroyed and edited
through the Proxmox simulator's real API (HTTPS with the lab's API token and CA: ``POST /nodes/{node}/qemu``
or ``/lxc``, ``POST …/status/stop|start``, ``DELETE …/{vmid}``, ``PUT …/config`` with its digest); a guest
on DHCP gets a dynamic lease from its site's router through the lab (``providers.lab.control``).
Must not: reach into the simulator's memory, or touch netsot's config or state.
"""

from __future__ import annotations

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

from providers.lab.control import _cidr, _error, _lab, _mac, _network, lease_add, lease_release
from providers.lab.runner import PVE_TOKEN_NAME, PVE_USER, Paths
from providers.proxmox import mapping

LXC_TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
REQUEST_TIMEOUT = 30.0


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


def _nic(gtype: str, mac: str | None, bridge: str, vlan: int | None, ip: str | None,
         gateway: str | None) -> str:
    tag = f",tag={vlan}" if vlan else ""
    if gtype == "qemu":
        return f"virtio{'=' + mac.upper() if mac else ''},bridge={bridge}{tag}"
    hw = f",hwaddr={mac.upper()}" if mac else ""
    address = f",ip={ip},gw={gateway}" if ip else ",ip=dhcp"
    return f"name=eth0,bridge={bridge}{hw}{address}{tag}"


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

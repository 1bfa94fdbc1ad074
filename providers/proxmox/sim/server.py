"""A faithful loopback double of the Proxmox VE API (``/api2/json``) over real HTTPS.

Owns: a threaded HTTPS server (trustme CA) emulating a multi-node PVE 8/9 cluster seeded
from a JSON-able dict — token auth (several tokens, each with its privileges and
``/access/permissions``: ``simperms``), envelopes, errors in the reason phrase (+ ``message``),
config GET/PUT with digests and validation, agent and LXC interface answers, offline nodes,
creating and destroying guests (``POST /nodes/{node}/qemu|lxc``, ``DELETE …/{vmid}``, ``POST
…/status/start|stop|shutdown|reboot``, the async QEMU ``POST …/config``: worker tasks answered with a UPID,
``GET /nodes/{node}/tasks/{upid}/status``, all of them in ``GET /cluster/tasks``), cloud-init drives
(``ide2=<storage>:cloudinit`` allocates ``vm-<vmid>-cloudinit``; the drive's content, ``ci_drive``, is
rebuilt on start and ``PUT …/cloudinit``; what the guest applied at its last boot, ``ci_active``, changes
only on a start: ``GET …/cloudinit`` lists both, with PVE's gap of not listing a modified ``ipconfigN``),
running containers taking a new ``netN ip=`` at once, and test knobs (delay, fail-Nth, hangs) plus a
request log. Used by tests and ``netsot lab``.
Must not: import netsot's client or provider; it speaks only HTTP.

Seed format::

    {"version": {...}?, "cluster": "lab", "lxc_interfaces_501": false, "message_field": true,
     "nodes": [{"name": "pve1", "online": true, "ip": "10.0.0.1", "offline_status": 595}],
     "guests": [{"vmid": 101, "type": "qemu", "node": "pve1", "status": "running",
                 "config": {...}, "agent": [...] | {"error": {...}},
                 "agent_error": "not_running" | "timeout" | "forbidden", "agent_delay": 0.0,
                 "interfaces": [...], "no_rrd": false, "lock": null,
                 "ci_drive": {...}?, "ci_active": {...}?, "boot": 1?, "started": <epoch>?}]}
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import email.utils
import functools
import hashlib
import http.client
import json
import os
import random
import re
import signal
import socket
import ssl
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from providers.proxmox import mapping
from providers.proxmox.sim import httphead
from providers.proxmox.sim import perms as simperms
from providers.proxmox.sim import schema as simschema

DEFAULT_VERSION = {"version": "8.4.1", "release": "8.4", "repoid": "2a5fa54a8503f96d"}
LEGACY_VERSION = {"version": "8.2.4", "release": "8.2", "repoid": "faa83925c9641325"}  # before 8.4
TOKEN_ID_RE = re.compile(r"^([^\s:/]+@[A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$")
_TOKEN_HEADER = re.compile(r"^PVEAPIToken[= ](.*)$")
BOOLEAN_KEYS = frozenset(
    {
        "onboot",
        "protection",
        "template",
        "kvm",
        "numa",
        "tablet",
        "acpi",
        "autostart",
        "force",
        "skiplock",
        "reboot",
        "freeze",
        "localtime",
        "unprivileged",
        "console",
        "debug",
    }
)
# the parameters of POST …/status/{action} besides node and vmid (proxmox-api-subset.json)
POWER_PARAMS: dict[tuple[str, str], frozenset[str]] = {
    ("qemu", "start"): frozenset({"force-cpu", "machine", "migratedfrom", "migration_network",
                                  "migration_type", "nets-host-mtu", "skiplock", "stateuri", "targetstorage",
                                  "timeout", "with-conntrack-state"}),
    ("qemu", "stop"): frozenset({"keepActive", "migratedfrom", "overrule-shutdown", "skiplock", "timeout"}),
    ("qemu", "shutdown"): frozenset({"forceStop", "keepActive", "skiplock", "timeout"}),
    ("qemu", "reboot"): frozenset({"timeout"}),
    ("lxc", "start"): frozenset({"debug", "skiplock"}),
    ("lxc", "stop"): frozenset({"overrule-shutdown", "skiplock"}),
    ("lxc", "shutdown"): frozenset({"forceStop", "timeout"}),
    ("lxc", "reboot"): frozenset({"timeout"}),
}
POWER_BOOLEANS = frozenset({"debug", "forceStop", "keepActive", "overrule-shutdown", "skiplock"})
NOT_IN_SCHEMA = "property is not defined in schema and the schema does not allow additional properties"
CI_ONLY_RE = re.compile(r"^(ciuser|cipassword|citype|cicustom|ciupgrade|sshkeys|nameserver|searchdomain)$")
FIXTURES = Path("/work/shared/fixtures/proxmox")


class ApiError(Exception):
    """An error answer: status, message (reason phrase = first line), optional ``errors``."""

    def __init__(
        self, status: int, message: str, errors: dict[str, str] | None = None, empty_body: bool = False
    ) -> None:
        self.status = status
        self.message = message
        self.errors = errors
        self.empty_body = empty_body
        super().__init__(message)


@dataclass
class LogEntry:
    method: str
    path: str  # below /api2/json, without query
    query: dict[str, str]
    status: int
    params: dict[str, str] = field(default_factory=dict)  # form body of PUT/POST
    started: float = 0.0
    finished: float = 0.0


@dataclass
class Knobs:
    """Runtime-settable fault injection. Assign attributes from tests at any time."""

    delay: float = 0.0  # seconds added to every request
    fail_nth: int | None = None  # the Nth request from now (1-based) answers 500
    hang_nodes: set[str] = field(default_factory=set)  # /nodes/<n>/... requests sleep
    hang_paths: set[str] = field(default_factory=set)  # path prefixes that sleep
    hang_seconds: float = 30.0
    message_field: bool = True  # PVE >= 8.3.x: JSON error bodies carry "message"
    auth_fail_delay: float = 0.0  # real pveproxy delays 401s ~3 s
    lxc_interfaces_501: bool = False  # PVE 7: no /interfaces endpoint
    garbled_paths: set[str] = field(default_factory=set)  # path prefixes answered 200 with cut-off JSON
    _fail_counter: int = 0


# ---------------------------------------------------------------------------- cluster state


def config_digest(config: dict[str, Any]) -> str:
    """SHA1 of a canonical text of the config (like PVE's digest of the .conf file)."""
    lines = [f"#{line}" for line in str(config.get("description", "")).splitlines()]
    lines += [f"{k}: {config[k]}" for k in sorted(config) if k not in ("description", "digest")]
    return hashlib.sha1(("\n".join(lines) + "\n").encode()).hexdigest()


def _uptime(g: dict[str, Any]) -> int:
    """Seconds since the guest's current QEMU process / container started (0 when stopped)."""
    if g["status"] != "running":
        return 0
    return max(0, int(time.time() - float(g.get("started") or time.time())))


def _random_mac() -> str:
    return "BC:24:11:" + ":".join(f"{random.randint(0, 255):02X}" for _ in range(3))


class Cluster:
    """The simulated cluster. Every access holds ``lock``."""

    def __init__(self, seed: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.version = dict(seed.get("version") or DEFAULT_VERSION)
        self.name = str(seed.get("cluster", "lab"))
        self.nodes: dict[str, dict[str, Any]] = {}
        for i, n in enumerate(seed.get("nodes", ()), start=1):
            self.nodes[n["name"]] = {
                "name": n["name"],
                "online": bool(n.get("online", True)),
                "ip": n.get("ip", f"192.0.2.{i}"),
                "nodeid": i,
                "offline_status": int(n.get("offline_status", 595)),
            }
        self.guests: dict[int, dict[str, Any]] = {}
        for g in seed.get("guests", ()):
            self.add_guest(g)

    def add_guest(self, guest: dict[str, Any]) -> None:
        g = copy.deepcopy(guest)
        g["vmid"] = int(g["vmid"])
        g.setdefault("type", "qemu")
        g.setdefault("status", "stopped")
        g["config"] = {k: v for k, v in (g.get("config") or {}).items() if k != "digest"}
        if g["status"] == "running":
            g.setdefault("started", time.time() - 1000)
            g.setdefault("boot", 1)
        if g["type"] == "qemu" and mapping.cloudinit_drive(g["config"]) is not None:
            # seeded as built and booted from the config it has now
            g.setdefault("ci_drive", mapping.cloudinit_values(g["config"]))
            if g["status"] == "running":
                g.setdefault("ci_active", mapping.cloudinit_values(g["config"]))
        with self.lock:
            if g["node"] not in self.nodes:
                raise ValueError(f"unknown node {g['node']!r}")
            self.guests[g["vmid"]] = g

    def to_seed(self) -> dict[str, Any]:
        with self.lock:
            return {
                "version": self.version,
                "cluster": self.name,
                "nodes": [
                    {k: n[k] for k in ("name", "online", "ip", "offline_status")} for n in self.nodes.values()
                ],
                "guests": copy.deepcopy(list(self.guests.values())),
            }


# ---------------------------------------------------------------------------- the API


class Api:
    """Routing and semantics; independent of the HTTP plumbing."""

    def __init__(self, cluster: Cluster, knobs: Knobs, on_change: Callable[[], None],
                 user: str = "root@pam") -> None:
        self.c = cluster
        self.knobs = knobs
        self.on_change = on_change
        self.user = user  # who the worker tasks run as (the API token's user!tokenid)
        self.tasks: dict[str, dict[str, Any]] = {}

    # ---- helpers
    def _node(self, name: str) -> dict[str, Any]:
        node = self.c.nodes.get(name)
        if node is None:
            raise ApiError(
                500,
                f"hostname lookup '{name}' failed - failed to get address info for: "
                f"{name}: Name or service not known",
            )
        if not node["online"]:
            code = node["offline_status"]
            raise ApiError(
                code, "Connection refused" if code == 595 else "Connection timed out", empty_body=True
            )
        return node

    def _guest(self, node: str, gtype: str, vmid: str) -> dict[str, Any]:
        self._node(node)
        try:
            vid = int(vmid)
        except ValueError:
            raise ApiError(
                400,
                "Parameter verification failed.",
                {"vmid": f"type check ('integer') failed - got '{vmid}'"},
            ) from None
        g = self.c.guests.get(vid)
        if g is None or g["node"] != node or g["type"] != gtype:
            folder = "qemu-server" if gtype == "qemu" else "lxc"
            raise ApiError(500, f"Configuration file 'nodes/{node}/{folder}/{vid}.conf' does not exist")
        return g

    def _resource_entry(self, g: dict[str, Any]) -> dict[str, Any]:
        cfg = g["config"]
        entry: dict[str, Any] = {
            "id": f"{g['type']}/{g['vmid']}",
            "vmid": g["vmid"],
            "node": g["node"],
            "type": g["type"],
        }
        node_online = self.c.nodes[g["node"]]["online"]
        if g.get("no_rrd"):
            entry["status"] = "unknown"
        else:
            default = f"VM {g['vmid']}" if g["type"] == "qemu" else f"CT{g['vmid']}"
            entry.update(
                {
                    "name": cfg.get("name" if g["type"] == "qemu" else "hostname") or default,
                    "status": g["status"] if node_online else "unknown",
                    "template": 1 if str(cfg.get("template", g.get("template", 0))) in ("1", "True") else 0,
                    "maxcpu": int(cfg.get("cores", 1)),
                    "cpu": 0.01 if g["status"] == "running" else 0,
                    "maxmem": 1073741824,
                    "mem": 0,
                    "maxdisk": 8589934592,
                    "disk": 0,
                    "uptime": _uptime(g),
                    "netin": 0,
                    "netout": 0,
                    "diskread": 0,
                    "diskwrite": 0,
                }
            )
        if cfg.get("tags"):
            entry["tags"] = cfg["tags"]
        if g.get("lock"):
            entry["lock"] = g["lock"]
        return entry

    # ---- dispatch
    def handle(self, method: str, path: str, query: dict[str, str], body: dict[str, str]) -> Any:
        parts = [p for p in path.strip("/").split("/") if p]
        if "%" in path:  # (``unquote`` gives back text without "%" as it is)
            parts = [unquote(p) for p in parts]
        with self.c.lock:
            # as strict as PVE: every request is checked against the API schema before a handler runs,
            # and the answer carries the schema's JSON types (``simschema``)
            endpoint = simschema.endpoint(method, parts)
            if endpoint is not None:
                version = str(self.c.version.get("version"))
                errors = simschema.check_request(endpoint, {**body, **query}, version)
                if errors:
                    raise ApiError(400, "Parameter verification failed.", errors)
            data = self._route(method, path, parts, query, body)
            return data if endpoint is None else simschema.wire_types(endpoint, data)

    def _route(self, method: str, path: str, p: list[str], q: dict[str, str], body: dict[str, str]) -> Any:
        n = len(p)
        if method == "GET" and n <= 2:  # (a guest's path is longer: not compared with these)
            if p == ["version"]:
                return dict(self.c.version)
            if p == ["nodes"]:
                return [self._node_entry(node) for node in self.c.nodes.values()]
            if p == ["cluster", "status"]:
                return self._cluster_status()
            if p == ["cluster", "resources"]:
                return self._cluster_resources(q.get("type"))
            if p == ["cluster", "nextid"]:
                return self._nextid(q.get("vmid"))
            if p == ["cluster", "tasks"]:
                return self._cluster_tasks(q)
        if n >= 2 and p[0] == "nodes":
            node = p[1]
            if method == "POST" and n == 3 and p[2] in ("qemu", "lxc"):
                return self._create(node, p[2], {**body, **q})
            if method == "DELETE" and n == 4 and p[2] in ("qemu", "lxc"):
                return self._destroy(self._guest(node, p[2], p[3]), {**body, **q})
            if method == "POST" and n == 6 and p[2] in ("qemu", "lxc") and p[4] == "status" \
                    and p[5] in ("start", "stop", "shutdown", "reboot"):
                return self._power(self._guest(node, p[2], p[3]), p[5], {**body, **q})
            if method == "GET" and n == 5 and p[2] == "tasks" and p[4] == "status":
                return self._task_status(node, p[3])
            if method == "GET" and n == 2:
                self._node(node)
                return [{"subdir": s} for s in ("qemu", "lxc", "status", "version", "network", "tasks")]
            if method == "GET" and n == 3 and p[2] in ("qemu", "lxc"):
                self._node(node)
                return [
                    self._list_entry(g)
                    for g in self.c.guests.values()
                    if g["node"] == node and g["type"] == p[2]
                ]
            if method == "GET" and n == 3 and p[2] == "version":
                self._node(node)
                return dict(self.c.version)
            if n >= 5 and p[2] in ("qemu", "lxc"):
                gtype, vmid, rest = p[2], p[3], p[4:]
                if rest == ["config"] and method == "GET":
                    return self._get_config(self._guest(node, gtype, vmid))
                if rest == ["config"] and method == "PUT":
                    return self._put_config(self._guest(node, gtype, vmid), {**body, **q})
                if rest == ["config"] and method == "POST" and gtype == "qemu":
                    return self._post_config(self._guest(node, gtype, vmid), {**body, **q})
                if rest == ["status", "current"] and method == "GET":
                    g = self._guest(node, gtype, vmid)
                    return {
                        "vmid": g["vmid"],
                        "status": g["status"],
                        "name": self._resource_entry(g).get("name"),
                        "uptime": _uptime(g),
                        "ha": {"managed": 0},
                    }
                if gtype == "qemu" and rest == ["cloudinit"] and method == "GET":
                    return self._cloudinit_pending(self._guest(node, gtype, vmid))
                if gtype == "qemu" and rest == ["cloudinit"] and method == "PUT":
                    return self._cloudinit_update(self._guest(node, gtype, vmid), {**body, **q})
                if gtype == "qemu" and rest == ["agent", "network-get-interfaces"] and method == "GET":
                    return self._agent(self._guest(node, gtype, vmid))
                if (
                    gtype == "lxc"
                    and rest == ["interfaces"]
                    and method == "GET"
                    and not self.knobs.lxc_interfaces_501
                ):
                    g = self._guest(node, gtype, vmid)
                    return self._interfaces(g) if g["status"] == "running" else None
        raise ApiError(501, f"Method '{method} /{'/'.join(p)}' not implemented")

    def _node_entry(self, node: dict[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "node": node["name"],
            "status": "online" if node["online"] else "offline",
            "type": "node",
            "id": f"node/{node['name']}",
            "level": "",
        }
        if node["online"]:
            entry.update(
                {
                    "cpu": 0.01,
                    "maxcpu": 8,
                    "mem": 2 << 30,
                    "maxmem": 32 << 30,
                    "disk": 8 << 30,
                    "maxdisk": 100 << 30,
                    "uptime": 864000,
                }
            )
        return entry

    def _cluster_status(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {
                "type": "cluster",
                "id": "cluster",
                "name": self.c.name,
                "nodes": len(self.c.nodes),
                "quorate": 1,
                "version": 4,
            }
        ]
        for i, node in enumerate(self.c.nodes.values()):
            out.append(
                {
                    "type": "node",
                    "id": f"node/{node['name']}",
                    "name": node["name"],
                    "nodeid": node["nodeid"],
                    "ip": node["ip"],
                    "online": int(node["online"]),
                    "local": int(i == 0),
                    "level": "",
                }
            )
        return out

    def _cluster_resources(self, rtype: str | None) -> list[dict[str, Any]]:
        if rtype not in (None, "vm", "node", "storage", "sdn"):
            raise ApiError(
                400,
                "Parameter verification failed.",
                {
                    "type": f"value '{rtype}' does not have a value in the enumeration "
                    "'vm, storage, node, sdn'"
                },
            )
        out: list[dict[str, Any]] = []
        if rtype in (None, "vm"):
            # PVE sorts vmids as strings ("1000" before "200"); clients must not rely on order.
            for vmid in sorted(self.c.guests, key=str):
                out.append(self._resource_entry(self.c.guests[vmid]))
        if rtype in (None, "node"):
            out.extend(self._node_entry(n) for n in self.c.nodes.values())
        return out

    def _nextid(self, vmid: str | None) -> str:
        if vmid is not None:
            if int(vmid) in self.c.guests:
                raise ApiError(400, "Parameter verification failed.", {"vmid": f"VM {vmid} already exists"})
            return str(int(vmid))
        candidate = 100
        while candidate in self.c.guests:
            candidate += 1
        return str(candidate)

    def _list_entry(self, g: dict[str, Any]) -> dict[str, Any]:
        e = self._resource_entry(g)
        entry = {k: e[k] for k in ("vmid", "name", "status", "tags", "lock") if k in e}
        entry["status"] = g["status"]
        if g["type"] == "lxc":
            entry["type"] = "lxc"
        if e.get("template"):
            entry["template"] = 1
        return entry

    def _get_config(self, g: dict[str, Any]) -> dict[str, Any]:
        # a config holds text and numbers (copying the dict is enough); anything else is copied deeply
        cfg = dict(g["config"])
        for k, v in cfg.items():
            if not isinstance(v, (str, int, float)):
                cfg[k] = copy.deepcopy(v)
        if "cipassword" in cfg:
            cfg["cipassword"] = "**********"
        cfg["digest"] = config_digest(g["config"])
        return cfg

    # ---- creating and destroying guests (worker tasks)
    def _task(self, node: str, kind: str, vmid: int) -> str:
        """A finished worker task (the simulator works synchronously) and its UPID."""
        started = int(time.time())
        pid = random.randint(1000, 0x3FFFFF)
        pstart = started * 10 % 0xFFFFFFFF
        upid = f"UPID:{node}:{pid:08X}:{pstart:08X}:{started:08X}:{kind}:{vmid}:{self.user}:"
        self.tasks[upid] = {"upid": upid, "node": node, "pid": pid, "pstart": pstart, "starttime": started,
                            "type": kind, "id": str(vmid), "user": self.user.split("!")[0],
                            "status": "stopped", "exitstatus": "OK", "endtime": started}
        if "!" in self.user:
            self.tasks[upid]["tokenid"] = self.user.split("!", 1)[1]
        return upid

    def _cluster_tasks(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """``GET /cluster/tasks``: every node's recent workers, newest first (no parameters at all).

        A finished item carries ``endtime`` and ``status`` (the exit status: ``OK`` or the error text),
        plus ``tokenid`` when a token started it (proxmox.md §3.12).
        """
        if query:
            raise ApiError(400, "Parameter verification failed.", {
                k: "property is not defined in schema and the schema does not allow additional properties"
                for k in sorted(query)})
        out: list[dict[str, Any]] = []
        for task in self.tasks.values():
            item = {k: v for k, v in task.items() if k not in ("exitstatus", "status")}
            if task["status"] == "stopped":
                item["status"] = task["exitstatus"]
            out.append(item)
        return sorted(out, key=lambda t: t["starttime"], reverse=True)

    def _task_status(self, node: str, upid: str) -> dict[str, Any]:
        self._node(node)
        if not re.fullmatch(r"UPID:[^:]+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:[^:]*:[^:]*:[^:]+:", upid):
            raise ApiError(400, "Parameter verification failed.", {"upid": "unable to parse worker upid"})
        task = self.tasks.get(upid)
        if task is None or task["node"] != node:
            raise ApiError(400, "Parameter verification failed.", {"upid": "no such task"})
        return dict(task)

    def _create(self, node: str, gtype: str, params: dict[str, str]) -> str:
        """``POST /nodes/{node}/qemu`` / ``lxc``: the real parameters (``vmid`` required; LXC also
        ``ostemplate``), netN / ipconfigN validated as ``PUT …/config`` does, ``start=1`` to boot it."""
        self._node(node)
        params = dict(params)
        vmid = self._new_vmid(params.pop("vmid", None))
        errors: dict[str, str] = {}
        if gtype == "lxc" and not params.get("ostemplate"):
            errors["ostemplate"] = "property is missing and it is not optional"
        start = params.pop("start", "0")
        if start not in ("0", "1"):
            errors["start"] = f"type check ('boolean') failed - got '{start}'"
        ostemplate = params.pop("ostemplate", None)
        params.pop("storage", None)
        params.pop("password", None)
        config = self._validate_all(gtype, params, errors)
        if errors:
            raise ApiError(400, "Parameter verification failed.", errors)
        existing = self.c.guests.get(vmid)
        if existing is not None:
            what = "VM" if existing["type"] == "qemu" else "CT"
            raise ApiError(500, f"{what} {vmid} already exists on node '{existing['node']}'")
        config = _allocate(vmid, config)
        if gtype == "qemu":
            config.setdefault("name", f"VM{vmid}")
            self._allocate_cloudinit(vmid, {}, config)
        elif ostemplate:
            config.setdefault("rootfs", f"local-lvm:vm-{vmid}-disk-0,size=8G")
        self.c.add_guest({"vmid": vmid, "type": gtype, "node": node, "status": "stopped", "config": config})
        if start == "1":
            self._boot(self.c.guests[vmid])
        self.on_change()
        return self._task(node, "qmcreate" if gtype == "qemu" else "vzcreate", vmid)

    def _new_vmid(self, value: str | None) -> int:
        if value is None or value == "":
            raise ApiError(400, "Parameter verification failed.",
                           {"vmid": "property is missing and it is not optional"})
        try:
            vmid = int(value)
        except ValueError:
            raise ApiError(400, "Parameter verification failed.",
                           {"vmid": f"type check ('integer') failed - got '{value}'"}) from None
        if vmid < 100 or vmid > 999999999:
            limit = "minimum value of 100" if vmid < 100 else "maximum value of 999999999"
            raise ApiError(400, "Parameter verification failed.", {"vmid": f"value must have a {limit}"})
        return vmid

    def _destroy(self, g: dict[str, Any], params: dict[str, str]) -> str:
        """``DELETE /nodes/{node}/qemu|lxc/{vmid}``: refused while the guest runs (stop it first)."""
        what = "VM" if g["type"] == "qemu" else "CT"
        if g.get("lock"):
            raise ApiError(500, f"{what} is locked ({g['lock']})")
        if g["status"] == "running":
            raise ApiError(500, f"{what} {g['vmid']} is running - destroy failed")
        del self.c.guests[g["vmid"]]
        self.on_change()
        return self._task(g["node"], "qmdestroy" if g["type"] == "qemu" else "vzdestroy", g["vmid"])

    def _power(self, g: dict[str, Any], action: str, params: Mapping[str, str] | None = None) -> str:
        """start / stop / shutdown / reboot. A start (and a reboot: shutdown + a new QEMU process)
        rebuilds the cloud-init drive from the config and boots the guest from it; the guest applies
        it then (a new instance-id), and only then. A reboot inside the guest is not an API call."""
        what = "VM" if g["type"] == "qemu" else "CT"
        vmid = g["vmid"]
        errors: dict[str, str] = {}
        allowed = POWER_PARAMS[(g["type"], action)]
        for key, value in (params or {}).items():
            if key not in allowed:
                errors[key] = NOT_IN_SCHEMA
            elif key == "timeout" and not re.fullmatch(r"\d+", value):
                errors[key] = f"type check ('integer') failed - got '{value}'"
            elif key in POWER_BOOLEANS and value not in ("0", "1"):
                errors[key] = f"type check ('boolean') failed - got '{value}'"
        if errors:
            raise ApiError(400, "Parameter verification failed.", errors)
        if g.get("lock"):
            raise ApiError(500, f"{what} is locked ({g['lock']})")
        running = g["status"] == "running"
        if action == "start" and running:
            raise ApiError(500, f"{what} {vmid} already running")
        if action == "reboot" and not running:
            raise ApiError(500, f"{what} {vmid} not running")
        if action in ("start", "reboot"):
            self._boot(g)
        else:
            g["status"] = "stopped"
            g.pop("started", None)
        self.on_change()
        prefix = "qm" if g["type"] == "qemu" else "vz"
        return self._task(g["node"], f"{prefix}{action}", vmid)

    def _boot(self, g: dict[str, Any]) -> None:
        g["status"] = "running"
        g["started"] = time.time()
        g["boot"] = int(g.get("boot") or 0) + 1
        if g["type"] == "qemu" and mapping.cloudinit_drive(g["config"]) is not None:
            g["ci_drive"] = mapping.cloudinit_values(g["config"])
            g["ci_active"] = dict(g["ci_drive"])
            g.pop("ci_recorded", None)

    # ---- cloud-init
    def _cloudinit_pending(self, g: dict[str, Any]) -> list[dict[str, Any]]:
        """``GET …/cloudinit`` as qemu-server >= 8.0.2 answers it: ``{key, value}`` in sync, ``{key, value,
        pending}`` changed (only the ci* keys: a modified ``ipconfigN``, ``netN`` or ``name`` is not
        listed as changed — PVE's gap), ``{key, pending}`` added, ``{key, delete: 1}`` removed."""
        cfg = g["config"]
        current = mapping.cloudinit_values(cfg)
        # PVE records the drive's values ([special:cloudinit]) only when a running VM's config changes
        running = g["status"] == "running" and mapping.cloudinit_drive(cfg) is not None
        drive = g.get("ci_drive") if running else None
        drive = current if drive is None else drive
        out: list[dict[str, Any]] = []
        for key in sorted(set(current) | set(drive)):
            if re.fullmatch(r"net\d+|name", key):
                continue
            if key not in current:
                out.append({"key": key, "delete": 1})
            elif key not in drive:
                out.append({"key": key, "pending": current[key]})
            elif CI_ONLY_RE.match(key) and current[key] != drive[key]:
                out.append({"key": key, "value": drive[key], "pending": current[key]})
            else:
                out.append({"key": key, "value": current[key]})
        for item in out:
            for field_ in ("value", "pending"):
                if item.get("key") == "cipassword" and field_ in item:
                    item[field_] = "**********"
        return out

    def _cloudinit_update(self, g: dict[str, Any], params: Mapping[str, str]) -> None:
        """``PUT …/cloudinit``: rebuild the drive from the config now (a running VM gets the new medium;
        the guest applies it at its next boot). No drive: nothing happens, still 200."""
        if params:
            raise ApiError(400, "Parameter verification failed.", {
k: NOT_IN_SCHEMA for k in params})
        if g.get("lock"):
            raise ApiError(500, f"VM is locked ({g['lock']})")
        if mapping.cloudinit_drive(g["config"]) is None:
            return None
        g["ci_drive"] = mapping.cloudinit_values(g["config"])
        self.on_change()
        return None

    def _allocate_cloudinit(self, vmid: int, config: dict[str, str], new: dict[str, str]) -> None:
        """``ide2=<storage>:cloudinit`` allocates ``<storage>:vm-<vmid>-cloudinit`` (``media=cdrom``);
        a second cloud-init drive is refused."""
        for key in sorted(new):
            if not mapping.DRIVE_KEY_RE.match(key):
                continue
            volume, _, rest = new[key].partition(",")
            if not mapping.CLOUDINIT_VOLUME_RE.search(volume):
                continue
            other = mapping.cloudinit_drive({k: v for k, v in {**config, **new}.items() if k != key})
            if other is not None:
                raise ApiError(500, f"{key} - cloud-init drive is already attached at '{other}'")
            storage, colon, name = volume.partition(":")
            if colon and name == "cloudinit":
                opts = [o for o in rest.split(",") if o and not o.startswith("media=")]
                new[key] = ",".join([f"{storage}:vm-{vmid}-cloudinit", "media=cdrom", *opts])

    def _validate_all(self, gtype: str, params: Mapping[str, str], errors: dict[str, str]) -> dict[str, str]:
        """Each parameter as Proxmox stores it; a bad one goes to ``errors`` (its message, per key)."""
        out: dict[str, str] = {}
        for key, value in params.items():
            try:
                out[key] = self._validate(gtype, key, value)
            except mapping.PropertyError as exc:
                errors[key] = str(exc)
        return out

    # ---- PUT config
    def _put_config(self, g: dict[str, Any], params: dict[str, str]) -> None:
        gtype, _vmid = g["type"], g["vmid"]
        params = dict(params)
        digest = params.pop("digest", None)
        delete = [k for k in re.split(r"[,;\s]+", params.pop("delete", "")) if k]
        params.pop("skiplock", None)
        params.pop("force", None)
        errors: dict[str, str] = {}
        new = self._validate_all(gtype, params, errors)
        for key in delete:
            if key in params:
                errors[key] = "you can't use 'delete' and set the same option at the same time"
        if errors:
            raise ApiError(400, "Parameter verification failed.", errors)
        if gtype == "lxc" and not new and not delete:
            raise ApiError(500, "no options specified")
        if g.get("lock"):
            raise ApiError(500, f"{'VM' if gtype == 'qemu' else 'CT'} is locked ({g['lock']})")
        if digest is not None and digest != config_digest(g["config"]):
            raise ApiError(
                500,
                "checksum mismatch (file change by other user?)"
                if gtype == "qemu"
                else "detected modified configuration - file changed by other user? Try again.",
            )
        if gtype == "qemu":
            self._allocate_cloudinit(g["vmid"], g["config"], new)
        for key in delete:
            g["config"].pop(key, None)
        if gtype == "lxc" and g["status"] == "running":
            self._hotplug_lxc_ips(g, new)
        g["config"].update(new)
        hotplug = str(g["config"].get("hotplug", ""))
        if gtype == "qemu" and g["status"] == "running" and "cloudinit" in hotplug:
            g["ci_drive"] = mapping.cloudinit_values(g["config"])  # hotplug=…,cloudinit: rebuilt at once
        self.on_change()
        return None

    def _hotplug_lxc_ips(self, g: dict[str, Any], new: Mapping[str, str]) -> None:
        """A running CT takes a new ``netN ip=`` at once (``ip addr add``/``del`` in its namespace)."""
        ifaces = g.get("interfaces")
        if not isinstance(ifaces, list):
            return
        for key, value in new.items():
            if not re.fullmatch(r"net\d+", key):
                continue
            net = mapping.parse_lxc_net(value, key)
            mac, ip = str(net.get("hwaddr", "")).lower(), net.get("ip")
            for item in ifaces:
                if str(item.get("hwaddr", item.get("hardware-address", ""))).lower() != mac:
                    continue
                item.pop("inet", None)
                addrs = [a for a in item.get("ip-addresses") or () if a.get("ip-address-type") != "inet"]
                if ip and "/" in ip:
                    item["inet"] = ip
                    addr, plen = ip.split("/")
                    addrs.insert(0, {"ip-address": addr, "ip-address-type": "inet", "prefix": int(plen)})
                if "ip-addresses" in item:
                    item["ip-addresses"] = addrs

    def _post_config(self, g: dict[str, Any], params: dict[str, str]) -> str | None:
        """``POST /nodes/{node}/qemu/{vmid}/config``: the same update as PUT, run as a ``qmconfig`` worker
        (a UPID); with ``background_delay`` the call waits for it and answers ``null`` when it finished
        OK (the simulator's workers finish at once). LXC has no POST (501)."""
        params = dict(params)
        delay = params.pop("background_delay", None)
        if delay is not None and (not delay.isdigit() or not 1 <= int(delay) <= 30):
            limit = "minimum value of 1" if delay.isdigit() and int(delay) < 1 else "maximum value of 30"
            raise ApiError(400, "Parameter verification failed.", {"background_delay": (
                f"type check ('integer') failed - got '{delay}'" if not delay.isdigit()
                else f"value must have a {limit}")})
        self._put_config(g, params)
        upid = self._task(g["node"], "qmconfig", g["vmid"])
        return None if delay is not None else upid

    def _validate(self, gtype: str, key: str, value: str) -> str:
        if key in BOOLEAN_KEYS:
            if value not in ("0", "1"):
                raise mapping.PropertyError("", f"type check ('boolean') failed - got '{value}'")
            return value
        if re.fullmatch(r"net\d+", key) and int(key[3:]) <= 31:
            return self._validate_net(gtype, key, value)
        if gtype == "qemu" and re.fullmatch(r"ipconfig\d+", key) and int(key[8:]) <= 31:
            mapping.parse_ipconfig(value, key)
            return value  # stored as sent (only netN is re-printed)
        if key == "tags":
            tags = mapping.parse_tags(value)
            return mapping.print_tags(tags)
        if key in ("name", "hostname"):
            if not re.fullmatch(
                r"(?=.{1,255}$)[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?(\.[A-Za-z0-9\-]+)*", value
            ):
                raise mapping.PropertyError("", f"value does not match the regex pattern ('{value}')")
            return value
        if not re.fullmatch(r"[a-z][a-z0-9_\-]*", key):
            raise mapping.PropertyError(
                "", "property is not defined in schema and the schema does not allow additional properties"
            )
        if "\n" in value and key != "description":
            raise mapping.PropertyError("", "value must not contain newlines")
        return value

    def _validate_net(self, gtype: str, key: str, value: str) -> str:
        if gtype == "qemu":
            net = mapping.parse_qemu_net(value, key)
            mac_key = "macaddr"
        else:
            net = mapping.parse_lxc_net(value, key)
            net.setdefault("type", "veth")
            mac_key = "hwaddr"
        if mac_key in net and not mapping.is_valid_mac(net[mac_key]):
            raise mapping.PropertyError(
                f"{key}.{mac_key}", f"value does not match the regex pattern ('{net[mac_key]}')"
            )
        net.setdefault(mac_key, _random_mac())
        for b in ("firewall", "link_down", "host-tunnel", "host-managed"):
            if b in net:
                net[b] = str(mapping.parse_bool(f"{key}.{b}", net[b]))
        return mapping.print_qemu_net(net) if gtype == "qemu" else mapping.print_lxc_net(net)

    def _interfaces(self, g: dict[str, Any]) -> list[dict[str, Any]]:
        """``ip a`` of a running container: PVE 8.1-8.3 give ``name``, ``hwaddr`` and the first
        ``inet``/``inet6``; pve-container >= 5.2.6 (PVE 8.4, 9) adds ``hardware-address`` and every
        address in ``ip-addresses`` (the legacy keys stay). A seed may hold either shape."""
        version = tuple(int(x) for x in re.findall(r"\d+", str(self.c.version.get("version")))[:2])
        current = version >= (8, 4)
        out: list[dict[str, Any]] = []
        for item in g.get("interfaces") or ():
            mac = item.get("hwaddr") or item.get("hardware-address")
            addresses = list(item.get("ip-addresses") or ())
            if not addresses:
                for family in ("inet", "inet6"):
                    if item.get(family):
                        address, _, prefix = str(item[family]).partition("/")
                        addresses.append({"ip-address": address, "ip-address-type": family,
                                          "prefix": int(prefix or (32 if family == "inet" else 128))})
            entry: dict[str, Any] = {"name": item.get("name"), "hwaddr": mac}
            for family in ("inet", "inet6"):
                first = item.get(family) or next((f"{a['ip-address']}/{a['prefix']}" for a in addresses
                                                  if a.get("ip-address-type") == family), None)
                if first:
                    entry[family] = first
            if current:
                entry["hardware-address"] = mac
                entry["ip-addresses"] = copy.deepcopy(addresses)
            out.append(entry)
        return out

    # ---- agent
    def _agent(self, g: dict[str, Any]) -> Any:
        vmid, cfg = g["vmid"], g["config"]
        if "agent" not in cfg:
            raise ApiError(500, "No QEMU guest agent configured")
        if g["status"] != "running":
            raise ApiError(500, f"VM {vmid} is not running")
        delay = float(g.get("agent_delay") or 0)
        if delay:
            self.c.lock.release()  # never hold the cluster lock while "the agent thinks"
            try:
                time.sleep(delay)
            finally:
                self.c.lock.acquire()
        err = g.get("agent_error")
        if err == "forbidden":
            priv = "VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted" if self._pve9 else "VM.Monitor"
            raise ApiError(403, f"Permission check failed (/vms/{vmid}, {priv})")
        if err == "timeout":
            kind = "qga" if self._pve9 else "qmp"
            raise ApiError(
                500, f"VM {vmid} {kind} command 'guest-network-get-interfaces' failed - got timeout"
            )
        if err == "not_running" or not mapping.agent_enabled(cfg.get("agent")) or g.get("agent") is None:
            raise ApiError(500, "QEMU guest agent is not running")
        return {"result": copy.deepcopy(g["agent"])}

    @property
    def _pve9(self) -> bool:
        return str(self.c.version.get("version", "")).startswith("9")


_DISK_KEY = re.compile(r"^(?:(?:ide|sata|scsi|virtio|mp)\d+|efidisk0|tpmstate0|rootfs)$")


def _allocate(vmid: int, config: dict[str, str]) -> dict[str, str]:
    """What a create stores for new volumes (reference §10.2): ``STORAGE:SIZE`` allocates
    ``STORAGE:vm-<vmid>-disk-<n>,size=<SIZE>G``, ``STORAGE:cloudinit`` the cloud-init drive
    ``STORAGE:vm-<vmid>-cloudinit,media=cdrom``; any other value names an existing volume."""
    out, disks = dict(config), 0
    for key in sorted(config, key=lambda k: (k != "rootfs", k)):
        if not _DISK_KEY.match(key):
            continue
        volume, _, options = config[key].partition(",")
        storage, colon, what = volume.partition(":")
        extra = [o for o in options.split(",") if o]
        if colon and what == "cloudinit":
            extra = [o for o in extra if not o.startswith("media=")] + ["media=cdrom"]
            out[key] = ",".join([f"{storage}:vm-{vmid}-cloudinit", *sorted(extra)])
        elif colon and re.fullmatch(r"\d+(\.\d+)?", what):
            extra = [o for o in extra if not o.startswith("size=")] + [f"size={what}G"]
            out[key] = ",".join([f"{storage}:vm-{vmid}-disk-{disks}", *sorted(extra)])
            disks += 1
    return out


# ---------------------------------------------------------------------------- HTTP plumbing


@functools.lru_cache(maxsize=64)
def _token_claim(header: str) -> tuple[str | None, str] | None:
    """What an ``Authorization`` value claims: (token id, or None when it is no well-formed one; the
    secret), None when it is no ``PVEAPIToken`` at all. A pure function of the text, kept for the few
    values a run sends (a pattern match and a split on every request otherwise)."""
    match = _TOKEN_HEADER.match(header.strip())
    if not match:
        return None
    tid, eq, secret = match.group(1).rpartition("=")
    return (tid if eq and TOKEN_ID_RE.match(tid) else None), secret


def _split_target(target: str) -> tuple[str, str]:
    """The path and query of a request target, as ``urlsplit`` gives them. An origin-form target
    ("/…" without control characters) is split by hand: neither a scheme nor a netloc can start
    with "/" alone (``urlsplit`` is cached by its whole text, and every guest's path differs)."""
    if target[:1] != "/" or target[:2] == "//" or "\t" in target or "\r" in target or "\n" in target:
        split = urlsplit(target)
        return split.path, split.query
    path, _, query = target.partition("#")[0].partition("?")
    return path, query


@functools.lru_cache(maxsize=2)
def _http_date(second: int) -> str:
    return email.utils.formatdate(second, usegmt=True)


_JSON_TYPE = "Content-Type: application/json;charset=UTF-8\r\n"
_NO_CACHE = "Cache-Control: max-age=0\r\nPragma: no-cache\r\n\r\n"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, sim: Simulator, ctx: ssl.SSLContext) -> None:
        self.sim = sim
        self.ctx = ctx
        self.conns: set[socket.socket] = set()
        self.conns_lock = threading.Lock()
        self.accepted = 0  # TCP connections (= TLS handshakes): shows whether clients keep alive
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        with self.conns_lock:
            self.accepted += 1
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Handshake in the handler thread (first read), so a bad client cannot stall accept().
        tls = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.conns_lock:
            self.conns.add(tls)
        return tls, addr

    def shutdown_request(self, request: Any) -> None:
        with self.conns_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # TLS refusals, clients that gave up on a hung request: expected, not noise


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pve-api-daemon/3.0"
    sys_version = ""
    timeout = 60  # idle keep-alive connections end eventually
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def parse_request(self) -> bool:
        """``http.server``'s own, except that a plain HTTP/1.1 request's header lines are read by
        ``httphead`` (not the ``email`` package); any other request line goes to ``http.server``."""
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if len(words) != 3 or words[2] != "HTTP/1.1" or words[1].startswith("//"):
            return super().parse_request()
        self.requestline = requestline
        self.command, self.path, self.request_version = words
        self.close_connection = False
        try:
            self.headers = httphead.read_fields(self.rfile)  # type: ignore[assignment]
        except http.client.LineTooLong as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", str(err))
            return False
        except http.client.HTTPException as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", str(err))
            return False
        if str(self.headers.get("Connection", "")).lower() == "close":
            self.close_connection = True
        if str(self.headers.get("Expect", "")).lower() == "100-continue":
            return self.handle_expect_100()
        return True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # nothing is logged: not even the line log_message would drop

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, formatted once per second (not once per answer)."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        return _http_date(int(time.time()))

    def do_GET(self) -> None:
        self._serve("GET")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        self.server.sim._serve(self, method)

    def answer(self, status: int, reason: str, body: bytes | None) -> None:
        reason = reason.splitlines()[0] if reason else ""
        if self.request_version == "HTTP/0.9":
            self._answer_by_header(status, reason, body)
            return
        # The head as send_response + send_header write it (the same lines in the same order, the same
        # latin-1 refusal of a reason it cannot encode, raised before anything is buffered), made in one
        # piece: six calls of http.server's per answer cost ~4 us of the simulator's CPU per request.
        head = (f"{self.protocol_version} {status:d} {reason}\r\nServer: {self.version_string()}\r\n"
                f"Date: {self.date_time_string()}\r\n{'' if body is None else _JSON_TYPE}"
                f"Content-Length: {len(body or b'')}\r\n{_NO_CACHE}")
        if not hasattr(self, "_headers_buffer"):
            self._headers_buffer = []
        self._headers_buffer.append(head.encode("latin-1", "strict"))
        if body:
            self._headers_buffer.append(body)
        data = b"".join(self._headers_buffer)
        self._headers_buffer = []
        self.wfile.write(data)

    def _answer_by_header(self, status: int, reason: str, body: bytes | None) -> None:
        """``answer`` through http.server's calls (a request without a version: no head at all)."""
        self.send_response(status, reason)
        if body is not None:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.send_header("Cache-Control", "max-age=0")
        self.send_header("Pragma", "no-cache")
        # One write for head + body: split writes meet delayed ACKs and cost ~40 ms per request.
        self._headers_buffer.append(b"\r\n")
        if body:
            self._headers_buffer.append(body)
        data = b"".join(self._headers_buffer)
        self._headers_buffer = []
        self.wfile.write(data)


@dataclass
class SimHandle:
    """A running simulator: where it listens, how to trust it, and its test controls."""

    sim: Simulator

    @property
    def port(self) -> int:
        return self.sim.port

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.sim.port}/api2/json"

    @property
    def ca_path(self) -> Path:
        return self.sim.ca_path

    @property
    def token(self) -> tuple[str, str, str]:
        return self.sim.token

    @property
    def log(self) -> list[LogEntry]:
        with self.sim.log_lock:
            return list(self.sim.log_entries)

    @property
    def counters(self) -> Counter[str]:
        with self.sim.log_lock:
            return Counter(f"{e.method} {e.path}" for e in self.sim.log_entries)

    @property
    def max_inflight(self) -> int:
        return self.sim.max_inflight

    @property
    def connections(self) -> int:
        """TCP connections accepted so far; each one costs one TLS handshake."""
        with self.sim.server.conns_lock:
            return self.sim.server.accepted

    @property
    def knobs(self) -> Knobs:
        return self.sim.knobs

    @property
    def cluster(self) -> Cluster:
        return self.sim.cluster

    def clear_log(self) -> None:
        with self.sim.log_lock:
            self.sim.log_entries.clear()
            self.sim.max_inflight = 0

    def add_guest(self, guest: dict[str, Any]) -> None:
        self.sim.cluster.add_guest(guest)

    def remove_guest(self, vmid: int) -> None:
        with self.sim.cluster.lock:
            self.sim.cluster.guests.pop(int(vmid), None)

    def set_config(self, vmid: int, key: str, value: Any | None) -> None:
        """A hand edit on the cluster (changes the digest); ``None`` deletes the key."""
        with self.sim.cluster.lock:
            cfg = self.sim.cluster.guests[int(vmid)]["config"]
            if value is None:
                cfg.pop(key, None)
            else:
                cfg[key] = value

    def config(self, vmid: int) -> dict[str, Any]:
        with self.sim.cluster.lock:
            g = self.sim.cluster.guests[int(vmid)]
            return {**copy.deepcopy(g["config"]), "digest": config_digest(g["config"])}

    def set_guest(self, vmid: int, **fields: Any) -> None:
        """Change simulator-side guest fields (status, agent, agent_error, interfaces, node, lock…)."""
        with self.sim.cluster.lock:
            self.sim.cluster.guests[int(vmid)].update(copy.deepcopy(fields))

    def set_node_online(self, node: str, online: bool, status: int = 595) -> None:
        with self.sim.cluster.lock:
            self.sim.cluster.nodes[node]["online"] = online
            self.sim.cluster.nodes[node]["offline_status"] = status

    def stop(self) -> None:
        self.sim.stop()


class Simulator:
    def __init__(
        self, seed: dict[str, Any], state_dir: Path, token: tuple[str, str, str] | None,
        persist: bool = False, more_tokens: tuple[simperms.SimToken, ...] = (),
    ) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.persist_path = self.state_dir / "proxmox-state.json" if persist else None
        if self.persist_path is not None and self.persist_path.exists():
            seed = json.loads(self.persist_path.read_text())
        self.token = token or ("netsot@pve", "netsot", str(uuid.uuid4()))
        self.tokens = {t.tokenid: t for t in (simperms.SimToken(*self.token), *more_tokens)}
        self.cluster = Cluster(seed)
        self.knobs = Knobs(
            message_field=bool(seed.get("message_field", True)),
            lxc_interfaces_501=bool(seed.get("lxc_interfaces_501", False)),
        )
        self.api = Api(self.cluster, self.knobs, self._persist, user=f"{self.token[0]}!{self.token[1]}")
        simschema.load()  # the schema is read at start, not by the first request (which the client times)
        self.log_entries: list[LogEntry] = []
        self.log_lock = threading.Lock()
        self.inflight = 0
        self.max_inflight = 0
        self.stopping = threading.Event()
        self.ca_path, ctx = self._tls()
        self.server = _Server(self, ctx)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"pve-sim-{self.port}",
            daemon=True,
        )
        self.thread.start()

    def _tls(self) -> tuple[Path, ssl.SSLContext]:
        import trustme  # test/lab dependency, only needed when a simulator starts

        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca_path = self.state_dir / "proxmox-ca.pem"
        server_pem = self.state_dir / "proxmox-server.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        cert.private_key_and_cert_chain_pem.write_to_path(str(server_pem))
        os.chmod(server_pem, 0o600)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(server_pem))
        return ca_path, ctx

    def _persist(self) -> None:
        if self.persist_path is None:
            return
        tmp = self.persist_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.cluster.to_seed(), indent=1, sort_keys=True))
        os.replace(tmp, self.persist_path)

    def _auth(self, header: str | None) -> simperms.SimToken:
        if not header:
            raise ApiError(401, "No ticket", empty_body=True)
        claim = _token_claim(header)
        if claim is None:
            raise ApiError(401, "No ticket", empty_body=True)
        tid, secret = claim
        # the tokens are looked up on every request (a test may revoke or replace one at any time)
        known = self.tokens.get(tid) if tid is not None else None
        if known is None or secret != known.value:
            if self.knobs.auth_fail_delay:
                self.stopping.wait(self.knobs.auth_fail_delay)
            raise ApiError(401, "Authentication failed!", empty_body=True)
        return known

    def _latency(self, seconds: float) -> None:
        """The simulated time a request takes. A short one is slept: waiting on ``stopping`` (a condition, a
        new lock per wait) overshot the 5 ms the benchmark asks for by ~0.16 ms at the median on the test
        machine, sleeping by ~0.14 ms. A long one stays a wait that ``stop()`` ends at once."""
        if seconds <= 0.05:
            time.sleep(seconds)
        else:
            self.stopping.wait(seconds)

    def _hang_for(self, path: str) -> bool:
        if not self.knobs.hang_nodes and not self.knobs.hang_paths:
            return False  # nothing hangs (the usual case): no pattern match per request
        m = re.match(r"^/nodes/([^/]+)", path)
        if m and m.group(1) in self.knobs.hang_nodes:
            return True
        return any(path.startswith(p) for p in self.knobs.hang_paths)

    def _serve(self, h: _Handler, method: str) -> None:
        started = time.monotonic()
        with self.log_lock:
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        rawpath, rawquery = _split_target(h.path)
        query = dict(parse_qsl(rawquery, keep_blank_values=True)) if rawquery else {}
        body: dict[str, str] = {}
        status, reason, payload = 500, "simulator error", None
        try:
            length = int(h.headers.get("Content-Length") or 0)
            raw = h.rfile.read(length) if length else b""
            status, reason, payload = self._respond(h, method, rawpath, query, raw, body)
        finally:
            # Log (and leave "in flight") before answering, so a client that got its answer
            # always finds its request in the log, and the next request is not counted twice.
            with self.log_lock:
                self.inflight -= 1
                path = rawpath.removeprefix("/api2/json")
                self.log_entries.append(
                    LogEntry(method, path, query, status, body, started, time.monotonic())
                )
        try:
            h.answer(status, reason, payload)
        except OSError:
            h.close_connection = True  # the client gave up (timeout); nothing to tell it

    def _respond(
        self, h: _Handler, method: str, rawpath: str, query: dict[str, str], raw: bytes, body: dict[str, str]
    ) -> tuple[int, str, bytes | None]:
        try:
            ctype = h.headers.get("Content-Type", "")
            if raw and "json" in ctype:
                body.update({k: str(v) for k, v in json.loads(raw).items()})
            elif raw:
                body.update(parse_qsl(raw.decode(), keep_blank_values=True))
            if not rawpath.startswith("/api2/json/"):
                raise ApiError(501, f"Method '{method} {rawpath}' not implemented")
            path = rawpath[len("/api2/json") :]
            token = self._auth(h.headers.get("Authorization"))
            if self.knobs.delay:
                self._latency(self.knobs.delay)
            if self._hang_for(path):
                self.stopping.wait(self.knobs.hang_seconds)
            fail = False
            if self.knobs.fail_nth is not None:  # (no lock taken while no failure is asked for)
                with self.log_lock:
                    if self.knobs.fail_nth is not None:
                        self.knobs._fail_counter += 1
                        if self.knobs._fail_counter >= self.knobs.fail_nth:
                            fail, self.knobs.fail_nth, self.knobs._fail_counter = True, None, 0
            if fail:
                raise ApiError(500, "internal error (injected by the simulator)")
            try:
                if method == "GET" and path.rstrip("/") == "/access/permissions":
                    data = simperms.permissions(token, query, self.api._pve9)
                    return 200, "OK", json.dumps({"data": data}).encode()
                simperms.authorize(token, method, path, {**body, **query}, self.api._pve9)
            except simperms.Denied as denied:
                raise ApiError(denied.status, denied.message, denied.errors) from None
            data = self.api.handle(method, path, query, body)
            answer = json.dumps({"data": data}).encode()
            if self.knobs.garbled_paths and any(path.startswith(p) for p in self.knobs.garbled_paths):
                answer = answer[: len(answer) // 2]  # a proxy or a broken pveproxy cut the answer short
            return 200, "OK", answer
        except ApiError as exc:
            if exc.empty_body:
                return exc.status, exc.message, None
            doc: dict[str, Any] = {"data": None}
            if exc.errors:
                doc["errors"] = exc.errors
            if self.knobs.message_field:
                doc["message"] = exc.message + "\n"
            return exc.status, exc.message, json.dumps(doc).encode()
        except (ValueError, UnicodeDecodeError):
            return 400, "Bad Request", json.dumps({"data": None}).encode()
        except Exception as exc:  # a simulator bug must still answer, like pveproxy would
            return 500, f"simulator error: {type(exc).__name__}: {exc}", json.dumps({"data": None}).encode()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        with self.server.conns_lock:
            conns = list(self.server.conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.server.server_close()
        self.thread.join(timeout=5)


def start_simulator(
    seed: dict[str, Any], state_dir: Path, token: tuple[str, str, str] | None = None, persist: bool = False,
    more_tokens: tuple[simperms.SimToken, ...] = (),
) -> SimHandle:
    """Start a simulator on 127.0.0.1:<free port>; token defaults to ``netsot@pve!netsot=<uuid4>`` (every
    privilege); ``more_tokens`` may have fewer (``simperms``)."""
    return SimHandle(Simulator(seed, Path(state_dir), token, persist, more_tokens))


# ---------------------------------------------------------------------------- seeds


def _fixture(base: Path, name: str) -> Any:
    return json.loads((base / name).read_text())["data"]


def seed_from_fixtures(fixtures_dir: Path | None = None) -> dict[str, Any]:
    """A one-node cluster serving the real sample files (configs, agent answers, LXC interfaces).

    Edited samples are served as they are (multicast ``ff:…`` MACs included), except that
    vmids become ints and digests are recomputed — the simulator never copies edited types.
    """
    base = Path(fixtures_dir or os.environ.get("NETSOT_PVE_FIXTURES") or FIXTURES)
    if not (base / "SOURCES.md").is_file():
        raise FileNotFoundError(f"Proxmox sample fixtures not found in {base}; pass --seed FILE instead")
    windows_agent = [
        {
            "name": "Ethernet",
            "hardware-address": "ff:ff:ff:ff:ff:ff",
            "ip-addresses": [
                {"ip-address-type": "ipv6", "ip-address": "fe80::eec5:8eed:ca53:4dcc%6", "prefix": 64},
                {"ip-address-type": "ipv4", "ip-address": "10.1.2.50", "prefix": 24},
            ],
            "statistics": {
                "rx-bytes": 1,
                "rx-packets": 1,
                "rx-errs": 0,
                "rx-dropped": 0,
                "tx-bytes": 1,
                "tx-packets": 1,
                "tx-errs": 0,
                "tx-dropped": 0,
            },
        },
        {
            "name": "Loopback Pseudo-Interface 1",
            "ip-addresses": [
                {"ip-address-type": "ipv6", "ip-address": "::1", "prefix": 128},
                {"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8},
            ],
        },
    ]
    lxc_ifaces = _fixture(base, "gp8_lxc_interfaces_legacy.json")
    lxc_cfg = _fixture(base, "ansible_lxc_100_config.json")
    return {
        "version": dict(LEGACY_VERSION),  # the samples' era: LXC /interfaces in the legacy shape
        "cluster": "testcluster",
        "nodes": [{"name": "testnode", "online": True, "ip": "10.1.1.2"}],
        "guests": [
            {
                "vmid": 100,
                "type": "lxc",
                "node": "testnode",
                "status": "running",
                "config": lxc_cfg,
                "interfaces": lxc_ifaces,
            },
            {
                "vmid": 101,
                "type": "qemu",
                "node": "testnode",
                "status": "running",
                "config": _fixture(base, "ansible_qemu_101_config.json"),
                "agent": _fixture(base, "ansible_agent_network_get_interfaces_101.json")["result"],
            },
            {
                "vmid": 102,
                "type": "qemu",
                "node": "testnode",
                "status": "running",
                "config": _fixture(base, "ansible_qemu_102_config_windows.json"),
                "agent": windows_agent,
            },
            {
                "vmid": 103,
                "type": "qemu",
                "node": "testnode",
                "status": "running",
                "config": _fixture(base, "ansible_qemu_103_config_multinic.json"),
                "agent": _fixture(base, "ansible_agent_network_get_interfaces_103_multinic.json")["result"],
            },
            {
                "vmid": 104,
                "type": "qemu",
                "node": "testnode",
                "status": "running",
                "config": {**_fixture(base, "ansible_qemu_101_config.json"), "name": "test-qemu-agent-error"},
                "agent": _fixture(base, "ansible_agent_network_get_interfaces_102_error_in_result.json")[
                    "result"
                ],
            },
            {
                "vmid": 111,
                "type": "qemu",
                "node": "testnode",
                "status": "running",
                "config": _fixture(base, "pve9_qemu_config_cloudinit_ipconfig.json"),
                "agent_error": "not_running",
            },
            {
                "vmid": 9001,
                "type": "qemu",
                "node": "testnode",
                "status": "stopped",
                "config": {
                    "name": "test-qemu-template",
                    "template": 1,
                    "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0",
                },
            },
        ],
    }


# ---------------------------------------------------------------------------- standalone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m providers.proxmox.sim.server",
        description="Run the Proxmox VE API simulator until SIGTERM.",
    )
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--seed", type=Path, help="seed JSON file (default: the sample fixtures)")
    parser.add_argument("--token-value", help="API token secret (default: a random UUID)")
    args = parser.parse_args(argv)
    seed = json.loads(args.seed.read_text()) if args.seed else seed_from_fixtures()
    token = ("netsot@pve", "netsot", args.token_value or str(uuid.uuid4()))
    handle = start_simulator(seed, args.state_dir, token, persist=True)
    info = {
        "port": handle.port,
        "pid": os.getpid(),
        "ca": str(handle.ca_path),
        "token": {"user": token[0], "name": token[1], "value": token[2]},
    }
    out = args.state_dir / "proxmox.json"
    tmp = out.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(info, fh)
    os.replace(tmp, out)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

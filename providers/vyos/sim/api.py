"""VyOS's HTTP API endpoints on an in-memory router (vyos.md §5), without the HTTP plumbing.

Owns: the router (running / saved config trees, dialect, leases, API keys, the commit-confirm
timer), request shapes (form ``data``+``key`` or a JSON body, a list wrapped as ``commands``),
``/retrieve`` (``showConfig``, ``returnValue(s)``, ``exists``), ``/configure`` (every op on one
session in order, then one commit that lands subsystem by subsystem in priority order: a failing
subsystem leaves the earlier ones committed), ``/config-file`` (``save``), ``/show`` (the DHCP
leases table), commit-confirm (1.5 with ``confirm_time``), the ``{success, data, error}`` replies
and their status codes, and a request log.
Must not: know sockets or TLS (``server``), or import netsot's client.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from providers.vyatta.tree import NodeExists, NothingToDelete, Tree, TreeError
from providers.vyos.configjson import graft, normalize, tree_json
from providers.vyos.sim.rules import DIALECTS, PRIORITY, SetRefused, check_set, commit_error

OPS = {
    "/retrieve": ("showConfig", "returnValue", "returnValues", "exists"),
    "/configure": ("set", "delete", "comment"),
    "/config-file": ("save", "load"),
    "/show": ("show",),
}
SAVE_PATH = "/config/config.boot"
INTERNAL = "An internal error occured. Check the logs for details."


@dataclass(frozen=True)
class Lease:
    ip: str
    mac: str
    state: str = "active"
    start: str = "2026/12/07 06:00:00"
    expiry: str = "2026/12/08 06:00:00"
    remaining: str = "23:59:59"
    pool: str = "LAN"
    hostname: str = ""
    origin: str = "local"


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]

    @property
    def text(self) -> bytes:
        return json.dumps(self.body).encode()


def ok(data: Any = None) -> Reply:
    return Reply(200, {"success": True, "data": data, "error": None})


def fail(status: int, error: str) -> Reply:
    return Reply(status, {"success": False, "data": None, "error": error})


@dataclass
class Router:
    """One VyOS router behind the API. Guarded by ``lock`` (the API's global configure lock)."""

    running: Tree
    dialect: str = "1.5"
    keys: dict[str, str] = field(default_factory=lambda: {"netsot": "sim-key"})
    strict: bool = False
    version: str = ""
    hostname: str = "vyos"
    leases: list[Lease] = field(default_factory=list)
    commit_confirm: bool = True  # 1.5-stream-2025-Q2 and later (PR #4533)
    saved: Tree | None = None
    pending_confirm: Tree | None = None  # the config to go back to when the timer runs out
    fail_after: dict[str, int] = field(default_factory=dict)  # test knob: endpoint -> 500 on the Nth call
    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {DIALECTS}")
        if not self.version:
            self.version = "1.4.1" if self.dialect == "1.4" else "1.5-stream-2025-Q2"
        self.running = normalize(self.running)
        if self.saved is None:
            self.saved = self.running

    # -- requests --------------------------------------------------------------------------
    def handle(self, endpoint: str, body: Mapping[str, Any], *, form: bool = False) -> Reply:
        """One request: ``body`` is the JSON body, or (``form``) the form fields (``data`` a JSON string)."""
        if endpoint not in OPS:
            return Reply(404, {"detail": "Not Found"})
        request = self._request(body, form)
        if isinstance(request, Reply):
            return request
        with self.lock:
            self.log.append((endpoint, request))
            count = sum(1 for e, _ in self.log if e == endpoint)
            if self.fail_after.get(endpoint) == count:
                return fail(500, INTERNAL)
            return self._dispatch(endpoint, request)

    def _request(self, body: Mapping[str, Any], form: bool) -> dict[str, Any] | Reply:
        if form:
            if not body.get("data"):
                return fail(422, "Non-empty data field is required")
            try:
                data = json.loads(body["data"])
            except ValueError as err:
                return fail(400, f"Failed to parse JSON: {err}")
            if not isinstance(data, list | dict):
                return fail(400, "Failed to parse JSON: not an object or a list")
            request = {"commands": data} if isinstance(data, list) else dict(data)
            request["key"] = body.get("key")
        else:
            request = dict(body)
        if request.get("key") not in self.keys.values():
            return fail(401, "Valid API key is required")
        commands = request.get("commands", [request] if "op" in request or "path" in request else [])
        if not isinstance(commands, list) or not commands:
            return fail(400, "Malformed command: missing 'op' field")
        for c in commands:
            shown = json.dumps(c)
            if not isinstance(c, dict) or "op" not in c:
                return fail(400, f"Malformed command '{shown}': missing 'op' field")
            if c["op"] in ("confirm", "save", "load", "showConfig", "exists"):
                continue
            if "path" not in c:
                return fail(400, f"Malformed command '{shown}': missing 'path' field")
            if not isinstance(c["path"], list) or not all(isinstance(w, str) for w in c["path"]):
                return fail(400, f"Malformed command '{shown}': 'path' field must be a list of strings")
            if c["op"] in ("set", "delete", "comment", "show") and not c["path"]:
                return fail(400, f"Malformed command '{shown}': 'path' list must be non-empty")
        request["commands"] = commands
        return request

    def _dispatch(self, endpoint: str, request: dict[str, Any]) -> Reply:
        commands = request["commands"]
        if endpoint == "/configure" and [c["op"] for c in commands] == ["confirm"]:
            return self._confirm()
        for c in commands:
            if c["op"] not in OPS[endpoint]:
                return fail(400, f"'{c['op']}' is not a valid operation")
        if endpoint == "/retrieve":
            return self._retrieve(commands[0])
        if endpoint == "/configure":
            return self._configure(commands, request.get("confirm_time"))
        if endpoint == "/config-file":
            return self._config_file(commands[0])
        return self._show(commands[0])

    # -- endpoints -------------------------------------------------------------------------
    def _retrieve(self, c: Mapping[str, Any]) -> Reply:
        path = list(c.get("path", []))
        op = c["op"]
        if op == "exists":
            return ok(self.running.exists(path))
        if op == "showConfig":
            if c.get("configFormat", "json") != "json":
                return fail(400, f"'{c['configFormat']}' is not a valid config format")
            data = tree_json(self.running, path)
            if data is None:
                return fail(400, "Configuration under specified path is empty\n")
            return ok(data)
        values = self.running.values(path)
        if op == "returnValues":
            return ok(list(values))
        if not values:
            return fail(400, "Path doesn't exist\n")
        return ok(values[0])

    def _configure(self, commands: Sequence[Mapping[str, Any]], confirm_time: Any) -> Reply:
        session = self.running
        for c in commands:
            words = [*c["path"], *([str(c["value"])] if c.get("value") is not None else [])]
            try:
                if c["op"] == "set":
                    check_set(words, self.dialect)
                    with contextlib.suppress(NodeExists):  # setting what is there is no error
                        session = normalize(session.set(words))
                elif c["op"] == "delete":
                    try:
                        session = normalize(session.delete(words))
                    except NothingToDelete as err:
                        if self.strict:
                            missing = f"Cannot delete [{' '.join(words)}]: path/value does not exist"
                            raise SetRefused(missing) from err
            except SetRefused as err:
                return fail(400, str(err))  # the session is discarded: nothing committed
            except TreeError as err:
                return fail(400, f"{err}\n\nSet failed\n" if c["op"] == "set" else f"{err}\n")
        if session == self.running:
            return ok(None)
        before = self.running
        error = self._commit(session)
        if error:
            return fail(400, error)
        if confirm_time is not None and self.dialect == "1.5" and self.commit_confirm:
            self.pending_confirm = before
            return ok(f"Initialized commit-confirm; {int(confirm_time)} minutes to confirm before reload")
        return ok(None)

    def _commit(self, candidate: Tree) -> str | None:
        """Land ``candidate`` subsystem by subsystem; the first failing one stops (PARTIAL)."""
        landed = self.running
        for path in PRIORITY:
            if tree_json(landed, path) == tree_json(candidate, path):
                continue
            error = commit_error(path, candidate, self.dialect)
            if error:
                self.running = landed
                return f"\n{error}\n\n[[{' '.join(path)}]] failed\nCommit failed\n"
            landed = graft(landed, candidate, path)
        rest = candidate
        for path in PRIORITY:
            rest = graft(rest, landed, path)
        self.running = rest
        return None

    def _confirm(self) -> Reply:
        if self.pending_confirm is None:
            return fail(400, "No confirmation required\n")
        self.pending_confirm = None
        return ok("Reload timer stopped")

    def expire_confirm(self) -> None:
        """The commit-confirm timer ran out: the router goes back to the config before the commit."""
        with self.lock:
            if self.pending_confirm is not None:
                self.running, self.pending_confirm = self.pending_confirm, None

    def _config_file(self, c: Mapping[str, Any]) -> Reply:
        if c["op"] != "save":
            return fail(400, "'load' is not supported by this simulator")
        self.saved = self.running
        return ok(f"Saving configuration to '{c.get('file') or SAVE_PATH}'...\nDone\n")

    def _show(self, c: Mapping[str, Any]) -> Reply:
        path = list(c["path"])
        if path[:3] != ["dhcp", "server", "leases"]:
            return fail(400, f"Invalid command: show [{' '.join(path)}]\n")
        return ok(leases_table(self.leases))


_COLUMNS = ("IP Address", "MAC address", "State", "Lease start", "Lease expiration", "Remaining", "Pool",
            "Hostname", "Origin")  # fmt: skip


def leases_table(leases: Sequence[Lease]) -> str:
    """``show dhcp server leases`` in tabulate's "simple" style (vyos.md §4)."""
    rows = [(x.ip, x.mac, x.state, x.start, x.expiry, x.remaining, x.pool, x.hostname, x.origin)
            for x in leases]  # fmt: skip
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(_COLUMNS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(_COLUMNS, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]  # fmt: skip
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"

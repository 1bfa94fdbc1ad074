"""A faithful loopback double of nipapd 0.32.7's XML-RPC API (nipap.md §8), for tests and `netsot lab`.

Owns: the threaded HTTP/XML-RPC server (``/XMLRPC`` and ``/RPC2``), HTTP Basic users, the
envelope/auth checks with nipapd's exact faults, runtime knobs (latency, injected 1400s,
failing or hanging the Nth call, a seeded fault mode), nipapd's deadlock between concurrent
writes under one parent assignment (nipap.md §9.1), a call log, test accessors and the
standalone entry point.

Concurrency: every request runs on its own thread (latency, hangs and ``write_hold`` overlap);
the data itself changes under one lock, as PostgreSQL serialises the rows. Like the real
triggers, a host write locks its parent assignment and every sibling: while one write is in
flight under a parent, a second one there fails with fault 1000 "deadlock detected" (with
PostgreSQL's DETAIL/CONTEXT lines) when either of them is a remove — concurrent inserts do not
deadlock. The aborted call changes nothing.

Fault mode (``knobs.fault_mode(rate, seed)``): each API call draws from a seeded generator and,
at ``rate``, gets one of ``FAULT_KINDS``: ``deadlock``/``serialization`` (fault 1000, nothing
done), ``reset`` (the connection is dropped before the call runs), ``reset-after`` (the call
runs, then the connection is dropped: the reply is lost; a call that faults keeps its answer),
``502``/``503`` (an HTTP error as a proxy in front of nipapd gives, nothing done).
``knobs.injected`` counts what was injected.
Must not: listen anywhere but 127.0.0.1, or import netsot's engine. Data rules live in
``simdata.py`` / ``simapi.py``.

Seed format (``--seed FILE`` / ``start_simulator(seed=...)``), JSON::

    {"vrfs":     [{"rt": "65000:1", "name": "lab", "description": "..."}],
     "pools":    [{"name": "hosts", "description": "...", "default_type": "host",
                   "ipv4_default_prefix_length": 32}],
     "prefixes": [{"prefix": "192.168.1.0/24", "type": "assignment", "description": "LAN",
                   "vrf": "lab",            # optional: VRF rt or name (default VRF 0)
                   "pool": "hosts",         # optional: pool membership by name
                   "node": null, "tags": [], "avps": {"k": "v"},
                   "authoritative_source": "seed"}]}

Prefixes are inserted shortest first, so parents may be listed after their children.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import io
import ipaddress
import json
import os
import random
import signal
import socket
import struct
import sys
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from xmlrpc.client import Fault
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

from providers.nipap.sim import api as simapi
from providers.nipap.sim.data import Session, Store

DEFAULT_USERS: Mapping[str, tuple[str, str]] = {"netsot": ("pw", "rw"), "reader": ("pw2", "ro")}
DB_DOWN = "Backend unable to connect to database"
FAULT_KINDS = ("deadlock", "serialization", "reset", "reset-after", "502", "503")
WRITES = ("add_prefix", "edit_prefix", "remove_prefix")
# nipapd 0.32.7's fault 1000 for a deadlock, as seen on the real server (30 parallel host removes)
DEADLOCK = (
    "Unable to execute query: deadlock detected\n"
    "DETAIL:  Process 15136 waits for ShareLock on transaction 994; blocked by process 15135.\n"
    "Process 15135 waits for ShareLock on transaction 993; blocked by process 15136.\n"
    "HINT:  See server log for query details.\n"
    'CONTEXT:  while locking tuple (3,20) in relation "ip_net_plan"\n'
    'SQL statement "UPDATE ip_net_plan SET children =\n'
    "\t\t\t\t\t(SELECT COUNT(1)\n\t\t\t\t\tFROM ip_net_plan\n\t\t\t\t\tWHERE vrf_id = OLD.vrf_id\n"
    "\t\t\t\t\t\tAND iprange(prefix) << iprange(old_parent.prefix)\n"
    "\t\t\t\t\t\tAND indent = old_parent.indent+1)\n"
    '\t\t\t\tWHERE id = old_parent.id"\n'
    "PL/pgSQL function tf_ip_net_plan__prefix_iu_after() line 92 at SQL statement"
)
SERIALIZATION = (
    "Unable to execute query: could not serialize access due to concurrent update\n"
    'CONTEXT:  SQL statement "UPDATE ip_net_plan SET inherited_tags = ..."\n'
    "PL/pgSQL function calc_tags(integer,cidr) line 21 at SQL statement"
)
_tls = threading.local()


@dataclass(frozen=True)
class CallRecord:
    """One API call as the simulator saw it (``user`` is the Basic-auth login, verified or not)."""

    n: int
    method: str
    user: str | None
    summary: str


class Knobs:
    """Runtime switches; every method is thread-safe and may be called while the server runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency = 0.0  # seconds added to every API call
        self._dup_alloc = 0
        self._dup_manual = 0
        self._fail: dict[int, tuple[int, str]] = {}
        self._hang: dict[int, float] = {}
        self.calls = 0  # API calls so far (system.* excluded)
        self.write_hold = 0.0  # seconds a write keeps its parent and siblings locked (the deadlock window)
        self._rate = 0.0
        self._rng = random.Random(0)
        self._kinds: tuple[str, ...] = FAULT_KINDS
        self._writes_only = False
        self._limit: int | None = None
        self._inflight: dict[tuple[int, int], list[bool]] = {}  # parent -> in-flight writes (is remove)
        self.injected: Counter[str] = Counter()  # fault mode's and the deadlocks' faults so far
        self.peak_writes = 0  # the most host writes in flight at once (all parents)

    def fault_mode(self, rate: float, seed: int = 0, kinds: Sequence[str] = FAULT_KINDS,
                   writes_only: bool = False, limit: int | None = None) -> None:
        """From now on, each API call (or each write) gets one of ``kinds`` with probability ``rate``,
        drawn from a generator seeded with ``seed``, until ``limit`` faults were injected (no limit:
        None). ``rate=0`` switches it off."""
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault_mode: rate in [0, 1], kinds from {FAULT_KINDS} (got {sorted(unknown)})")
        with self._lock:
            self._rate, self._rng = rate, random.Random(seed)
            self._kinds, self._writes_only = tuple(kinds), writes_only
            self._limit = limit

    def inject_duplicates(self, count: int, *, manual: bool = False) -> None:
        """The next ``count`` allocations (from-prefix/from-pool; or manual adds with
        ``manual=True``) fail with 1400 as if another worker inserted the prefix first."""
        with self._lock:
            if manual:
                self._dup_manual += count
            else:
                self._dup_alloc += count

    def fail_call(self, n: int = 1, code: int = 1000, text: str = DB_DOWN) -> None:
        """The ``n``-th API call from now (1 = the next) fails with this fault (after auth)."""
        with self._lock:
            self._fail[self.calls + n] = (code, text)

    def hang_call(self, n: int = 1, seconds: float = 30.0) -> None:
        """The ``n``-th API call from now sleeps ``seconds`` before answering."""
        with self._lock:
            self._hang[self.calls + n] = seconds

    def reset(self) -> None:
        with self._lock:
            self.latency = 0.0
            self._dup_alloc = self._dup_manual = 0
            self._fail.clear()
            self._hang.clear()
            self.write_hold = 0.0
            self._rate = 0.0
            self.injected.clear()
            self.peak_writes = 0

    # used by the server
    def _next_call(self) -> tuple[int, float, tuple[int, str] | None]:
        with self._lock:
            self.calls += 1
            n = self.calls
            return n, self._hang.pop(n, 0.0), self._fail.pop(n, None)

    def _draw_fault(self, method: str) -> str | None:
        with self._lock:
            if not self._rate or (self._writes_only and method not in WRITES):
                return None
            if self._rng.random() >= self._rate:
                return None
            kind = self._rng.choice(self._kinds)
            if kind != "reset-after":  # counted when it happens: a call that faults keeps its answer
                self.injected[kind] += 1
            if self._limit is not None:
                self._limit -= 1
                if self._limit <= 0:
                    self._rate = 0.0
            return kind

    def _count_injected(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    def _enter_write(self, parent: tuple[int, int], removing: bool) -> bool:
        """Register a write under ``parent``; True if it deadlocks with one already in flight there."""
        with self._lock:
            others = self._inflight.setdefault(parent, [])
            victim = any(removing or r for r in others)
            others.append(removing)
            self.peak_writes = max(self.peak_writes, sum(len(w) for w in self._inflight.values()))
            if victim:
                self.injected["deadlock (concurrent writes)"] += 1
            return victim

    def _leave_write(self, parent: tuple[int, int], removing: bool) -> None:
        with self._lock:
            others = self._inflight[parent]
            others.remove(removing)
            if not others:
                del self._inflight[parent]

    def _take_duplicate(self, mode: str) -> bool:
        with self._lock:
            if mode == "alloc" and self._dup_alloc > 0:
                self._dup_alloc -= 1
                return True
            if mode == "manual" and self._dup_manual > 0:
                self._dup_manual -= 1
                return True
            return False


def _summary(params: tuple[Any, ...]) -> str:
    if len(params) != 1 or not isinstance(params[0], dict):
        return f"<{len(params)} args>"
    parts = []
    for key, value in params[0].items():
        if key == "auth":
            continue
        text = repr(value)
        parts.append(f"{key}={text[:80]}")
    return " ".join(parts)


class _Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/XMLRPC", "/RPC2")
    protocol_version = "HTTP/1.1"  # nipapd runs on Tornado's HTTPServer, which keeps connections alive

    def do_POST(self) -> None:
        _tls.authorization = self.headers.get("Authorization")
        _tls.inject = None
        wire, self.wfile = self.wfile, io.BytesIO()  # the answer is held back until we know its fate
        try:
            super().do_POST()
        finally:
            answer, self.wfile = self.wfile.getvalue(), wire
        kind = _tls.inject
        if kind in ("reset", "reset-after"):
            self.close_connection = True
            # SO_LINGER 0: close() sends a RST, so the client sees "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if kind in ("502", "503"):
            self.close_connection = True
            reason = "Bad Gateway" if kind == "502" else "Service Unavailable"
            self.send_error(int(kind), reason)
            return
        self.wfile.write(answer)

    def do_GET(self) -> None:
        self.send_error(405, "Method Not Allowed")

    def report_404(self) -> None:
        # read the unread request body first, as Tornado does, so the kept-alive connection stays usable
        self.rfile.read(int(self.headers.get("content-length") or 0))
        super().report_404()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .log instead
        return


class _Server(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64  # 30+ parallel clients connect at once

    def __init__(self, users: Mapping[str, tuple[str, str]]) -> None:
        super().__init__(("127.0.0.1", 0), requestHandler=_Handler, allow_none=True, logRequests=False)
        self.store = Store()
        self.users = dict(users)
        self.knobs = Knobs()
        self.log: list[CallRecord] = []
        self.counts: Counter[str] = Counter()
        self.accepted = 0  # TCP connections: shows whether clients keep alive
        self.open_sockets: set[Any] = set()
        self.stopping = threading.Event()
        self._log_lock = threading.Lock()
        self.register_introspection_functions()
        for name in simapi.METHODS:
            self.funcs[name] = _placeholder  # listed by system.listMethods; served by _dispatch

    def get_request(self) -> tuple[Any, Any]:
        request = super().get_request()
        with self._log_lock:
            self.accepted += 1
            self.open_sockets.add(request[0])
        return request

    def shutdown_request(self, request: Any) -> None:
        with self._log_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """A stopped nipapd drops its kept-alive connections too (its process is gone)."""
        with self._log_lock:
            sockets, self.open_sockets = list(self.open_sockets), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def _dispatch(self, method: str, params: tuple[Any, ...]) -> Any:
        if method.startswith("system."):
            return super()._dispatch(method, params)  # introspection works without auth
        n, hang, fail = self.knobs._next_call()
        login = _basic_credentials(getattr(_tls, "authorization", None))
        with self._log_lock:
            self.log.append(CallRecord(n, method, login[0] if login else None, _summary(params)))
            self.counts[method] += 1
        if self.knobs.latency:
            self.stopping.wait(self.knobs.latency)
        if hang:
            self.stopping.wait(hang)
        if method not in simapi.METHODS:
            raise Exception(f'method "{method}" is not supported')
        func, needs_rw = simapi.METHODS[method]
        session = self._authenticate(method, params, login, needs_rw)
        if fail is not None:
            raise Fault(*fail)
        arg = params[0]
        if method == "echo":
            return func(self.store, session, arg)
        injected = self.knobs._draw_fault(method)
        if injected in ("reset", "502", "503"):
            _tls.inject = injected  # the call never reaches the backend
            return None
        if injected == "deadlock":
            raise Fault(1000, DEADLOCK)
        if injected == "serialization":
            raise Fault(1000, SERIALIZATION)
        parent = self._write_parent(method, arg) if method in WRITES else None
        removing = method == "remove_prefix"
        if parent is None:
            result = self._run(func, session, arg, method)
        else:
            victim = self.knobs._enter_write(parent, removing)
            try:
                if self.knobs.write_hold:
                    self.stopping.wait(self.knobs.write_hold)
                if victim:
                    raise Fault(1000, DEADLOCK)
                result = self._run(func, session, arg, method)
            finally:
                self.knobs._leave_write(parent, removing)
        if injected == "reset-after":  # done, but the reply is lost
            _tls.inject = injected
            self.knobs._count_injected(injected)
        return result

    def _run(self, func: Any, session: Session, arg: Any, method: str) -> Any:
        with self.store.lock:
            if method == "add_prefix":
                return func(self.store, session, arg, self.knobs._take_duplicate)
            return func(self.store, session, arg)

    def _write_parent(self, method: str, arg: Any) -> tuple[int, int] | None:
        """The parent prefix (vrf id, prefix id) a host write locks, or None (not a host write)."""
        if not isinstance(arg, dict):
            return None
        with self.store.lock:
            try:
                if method == "add_prefix":
                    attr = arg.get("attr") or {}
                    if attr.get("type") != "host" or not attr.get("prefix"):
                        return None
                    vrf_id = int(attr.get("vrf_id") or 0)
                    net = ipaddress.ip_network(str(attr["prefix"]), strict=False)
                else:
                    spec = arg.get("prefix") or {}
                    rec = self.store.prefixes.get(spec.get("id")) if isinstance(spec, dict) else None
                    if rec is None or rec.get("type") != "host":
                        return None
                    vrf_id, net = int(rec["vrf_id"]), self.store.nets[spec["id"]]
                parent = self.store.parent_of(vrf_id, net)
            except (TypeError, ValueError, KeyError, AttributeError):
                return None  # a bad argument: the method itself answers with nipapd's fault
        return None if parent is None else (vrf_id, parent)

    def _authenticate(
        self, method: str, params: tuple[Any, ...], login: tuple[str, str] | None, needs_rw: bool
    ) -> Session:
        """The ``requires_auth`` decorator (xmlrpc.py:51-130) and ``requires_rw``."""
        if len(params) != 1:
            raise Fault(1000, f"NIPAP API functions take exactly 1 argument ({len(params)} given)")
        arg = params[0]
        if not isinstance(arg, dict):
            raise Fault(
                1000,
                f"Function argument must be XML-RPC struct/Python dict (Python {type(arg).__name__} given).",
            )
        auth = arg.get("auth")
        if not isinstance(auth, dict):
            raise Fault(1000, "Missing/invalid authentication options in request.")
        if "authoritative_source" not in auth:
            raise Fault(1000, "Missing authoritative source in auth options.")
        header = getattr(_tls, "authorization", None)
        if header and header.lower().startswith("bearer "):
            raise Fault(1510, "Invalid bearer token.")
        if login is None:
            raise Fault(1500, "Missing authentication method")
        user, password = login
        if "@" in user:
            user, _, backend = user.rpartition("@")
            if backend != "local":
                raise Fault(
                    1, f"<class 'nipap.authlib.AuthError'>:Invalid auth backend '{backend}' specified"
                )
        entry = self.users.get(user)
        if entry is None or entry[0] != password:
            raise Fault(1510, "Incorrect username or password.")
        role = entry[1]
        trusted = role == "trusted"
        readonly = role == "ro" or (trusted and bool(auth.get("readonly")))
        acting = str(auth.get("username") or user) if trusted else user
        if needs_rw and readonly:
            raise Fault(1520, f"read-only user '{acting}' is not authorized to run function '{method}'")
        return Session(
            user=acting, readonly=readonly, source=str(auth["authoritative_source"]), trusted=trusted
        )


def _placeholder(*_args: Any) -> None:  # pragma: no cover - never called, _dispatch serves it
    return None


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        text = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = text.partition(":")
    return (user, password) if sep else None


class SimHandle:
    """A running simulator: address, knobs, call log and direct (behind-the-client) accessors."""

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.port: int = server.server_address[1]
        self.knobs: Knobs = server.knobs
        self.store: Store = server.store

    @property
    def log(self) -> list[CallRecord]:
        return list(self._server.log)

    @property
    def counts(self) -> Counter[str]:
        return Counter(self._server.counts)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        with self._server._log_lock:
            return self._server.accepted

    def url(self, user: str | None = None, password: str | None = None, path: str = "/XMLRPC") -> str:
        creds = f"{user}:{password}@" if user is not None else ""
        return f"http://{creds}127.0.0.1:{self.port}{path}"

    def clear_log(self) -> None:
        with self._server._log_lock:
            self._server.log.clear()
            self._server.counts.clear()

    # ---- direct accessors (bypass the API; for tests that change NIPAP "behind the client's back")
    def _session(self, source: str) -> Session:
        return Session(user="backdoor", readonly=False, source=source)

    def add_vrf(self, rt: str, name: str, description: str = "") -> int:
        with self.store.lock:
            return simapi.add_vrf(
                self.store,
                self._session("backdoor"),
                {"attr": {"rt": rt, "name": name, "description": description}},
            )["id"]

    def add_pool(self, name: str, default_type: str = "host", ipv4_length: int | None = 32) -> int:
        attr = {
            "name": name,
            "description": name,
            "default_type": default_type,
            "ipv4_default_prefix_length": ipv4_length,
        }
        with self.store.lock:
            return simapi.add_pool(self.store, self._session("backdoor"), {"attr": attr})["id"]

    def add_prefix(
        self, prefix: str, type: str = "host", *, vrf_id: int = 0, source: str = "backdoor", **attr: Any
    ) -> int:
        """Insert a prefix with the full rule checks (raises ``xmlrpc.client.Fault``); returns its id."""
        full = {"prefix": prefix, "type": type, "vrf_id": vrf_id, **attr}
        if "description" not in full and "node" not in full:
            full["description"] = ""
        with self.store.lock:
            return simapi.add_prefix(self.store, self._session(source), {"attr": full})["id"]

    def edit_prefix(self, prefix_id: int, **attr: Any) -> dict[str, Any]:
        with self.store.lock:
            vrf_id = self.store.prefixes[prefix_id]["vrf_id"]
            return simapi.edit_prefix(
                self.store,
                self._session("backdoor"),
                {"prefix": {"id": prefix_id}, "attr": {"vrf_id": vrf_id, **attr}},
            )[0]

    def remove_prefix(self, prefix_id: int, recursive: bool = False) -> None:
        with self.store.lock:
            simapi.remove_prefix(
                self.store, self._session("backdoor"), {"prefix": {"id": prefix_id}, "recursive": recursive}
            )

    def prefixes(self, vrf_id: int | None = None) -> list[dict[str, Any]]:
        """Every prefix (list_prefix shape), optionally of one VRF."""
        spec = {} if vrf_id is None else {"vrf_id": vrf_id}
        with self.store.lock:
            return simapi.list_prefix(self.store, self._session("backdoor"), {"prefix": spec})

    def hosts(self, within: str, vrf_id: int = 0) -> list[dict[str, Any]]:
        net = ipaddress.ip_network(within)
        return [
            p
            for p in self.prefixes(vrf_id)
            if p["type"] == "host" and ipaddress.ip_network(p["prefix"]).subnet_of(net)
        ]

    def load_seed(self, seed: Mapping[str, Any]) -> None:
        load_seed(self.store, seed)

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)


def load_seed(store: Store, seed: Mapping[str, Any]) -> None:
    """Load the documented seed format (module docstring) through the normal rules."""
    with store.lock:
        for v in seed.get("vrfs", ()):
            simapi.add_vrf(store, Session("seed", False, "seed"), {"attr": dict(v)})
        for p in seed.get("pools", ()):
            simapi.add_pool(store, Session("seed", False, "seed"), {"attr": dict(p)})
        rows = sorted(seed.get("prefixes", ()), key=lambda r: ipaddress.ip_network(r["prefix"]).prefixlen)
        for row in rows:
            attr = dict(row)
            source = str(attr.pop("authoritative_source", "seed"))
            vrf = attr.pop("vrf", None)
            if vrf is not None:
                found = store.match_vrf_spec({"rt": vrf}) or store.match_vrf_spec({"name": vrf})
                if not found:
                    raise ValueError(f"seed: prefix {row['prefix']} names unknown VRF {vrf!r}")
                attr["vrf_id"] = found[0]
            pool = attr.pop("pool", None)
            if pool is not None:
                attr["pool_name"] = pool
            if "description" not in attr and "node" not in attr:
                attr["description"] = ""
            simapi.add_prefix(store, Session("seed", False, source), {"attr": attr})


def start_simulator(
    seed: Mapping[str, Any] | None = None, users: Mapping[str, tuple[str, str]] = DEFAULT_USERS
) -> SimHandle:
    """Start a simulator on 127.0.0.1:<free port>. ``users``: name → (password, "rw"|"ro"|"trusted")."""
    server = _Server(users)
    if seed:
        load_seed(server.store, seed)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"nipap-sim-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return SimHandle(server, thread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m providers.nipap.sim.server", description="Run the NIPAP simulator until SIGTERM."
    )
    parser.add_argument("--state-dir", required=True, help="writes nipap.json ({port, pid}) here")
    parser.add_argument("--seed", help="JSON seed file (format: see the module docstring)")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD:ROLE",
        help="a user (role rw, ro or trusted); default netsot:pw:rw and reader:pw2:ro",
    )
    opts = parser.parse_args(argv)
    users: dict[str, tuple[str, str]] = {}
    for spec in opts.user:
        name, _, rest = spec.partition(":")
        password, _, role = rest.rpartition(":")
        if not name or not password or role not in ("rw", "ro", "trusted"):
            parser.error(f"--user {spec!r}: expected NAME:PASSWORD:ROLE with ROLE rw, ro or trusted")
        users[name] = (password, role)
    seed = None
    if opts.seed:
        try:
            seed = json.loads(Path(opts.seed).read_text())
        except (OSError, ValueError) as exc:
            parser.error(f"cannot read seed {opts.seed}: {exc}")
    try:
        handle = start_simulator(seed, users or DEFAULT_USERS)
    except (Fault, ValueError) as exc:
        print(f"nipap simulator: bad seed: {exc}", file=sys.stderr)
        return 1
    state_dir = Path(opts.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / "nipap.json.tmp"
    tmp.write_text(json.dumps({"port": handle.port, "pid": os.getpid(), "path": "/XMLRPC"}))
    os.replace(tmp, state_dir / "nipap.json")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    handle.stop()
    (state_dir / "nipap.json").unlink(missing_ok=True)  # a clean stop leaves no stale address behind
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["DEADLOCK", "DEFAULT_USERS", "FAULT_KINDS", "CallRecord", "Knobs", "SimHandle", "load_seed",
           "main", "start_simulator"]

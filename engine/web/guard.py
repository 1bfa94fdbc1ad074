"""What keeps the status page's HTTP surface from being abused before and around the token.

Owns: the connection limits (a bounded connection count, a header read timeout: 408, a header size
cap: 431) in a uvicorn protocol, and the ASGI guards in front of the app: a request body cap (413),
the ``Host`` check against DNS rebinding (421), the same-origin check on every POST (403), the
per-client limit of failed logins (429), and the session value the login cookie holds.
Must not: read a body beyond its cap, know the routes beyond ``/login``, or log a token.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from core.config import WebSettings

log = logging.getLogger("netsot.service")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make a browser send "Origin: null" on POST
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
LOGIN_WINDOW = 60.0  # seconds over which failed logins of one client are counted
_SESSION_LABEL = b"netsot-session-v1"


def session_value(token: str) -> str:
    """What the login cookie holds: derived from the token (HMAC), never the token itself."""
    return hmac.new(token.encode(), _SESSION_LABEL, hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------- raw answers


def _raw(status: int, reason: str, text: str) -> bytes:
    """A complete ``Connection: close`` answer, for the protocol layer (before any app runs)."""
    body = (text + "\n").encode()
    head = [f"HTTP/1.1 {status} {reason}", "content-type: text/plain; charset=utf-8",
            f"content-length: {len(body)}", "connection: close",
            *(f"{k.lower()}: {v}" for k, v in SECURITY_HEADERS.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _answer(send: Send, status: int, error: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": error}).encode()
    all_headers = {**SECURITY_HEADERS, "content-type": "application/json", "content-length": str(len(body)),
                   "connection": "close", **(headers or {})}
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.lower().encode(), v.encode()) for k, v in all_headers.items()]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value).decode("latin-1")
    return None


# ----------------------------------------------------------------------------- the connection layer


def protocol_class(settings: WebSettings) -> type:
    """uvicorn's h11 protocol with the connection limits of ``settings``."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Guarded(H11Protocol):  # type: ignore[misc]
        _timer: Any = None
        _refused = False

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            if len(self.connections) > settings.max_connections:
                self._refused = True
                _warn_every("connections", 30.0, "refused a connection: %d are open (web.max_connections)",
                            settings.max_connections)
                transport.write(_raw(503, "Service Unavailable", "too many connections; try again later"))
                transport.close()
                return
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._timer = self.loop.call_later(settings.header_timeout, self._header_timeout)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _header_timeout(self) -> None:
            self._timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                text = f"the request headers did not arrive within {settings.header_timeout:g} s"
                self.transport.write(_raw(408, "Request Timeout", text))
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if self.conn.their_state is h11.IDLE and self._headers_too_large(data):
                self._disarm()
                text = f"request headers larger than {settings.max_header_bytes} bytes are refused"
                self.transport.write(_raw(431, "Request Header Fields Too Large", text))
                self.transport.close()
                return
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()

        def _headers_too_large(self, data: bytes) -> bool:
            pending = self.conn.trailing_data[0]
            if len(pending) + len(data) <= settings.max_header_bytes:
                return False
            end = (pending + data).find(b"\r\n\r\n")  # a body may follow the headers in one read
            return end < 0 or end > settings.max_header_bytes

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()  # the next request's headers get the same time

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return Guarded


_warned: dict[str, float] = {}
_warned_lock = threading.Lock()


def _warn_every(key: str, seconds: float, message: str, *args: Any) -> None:
    now = time.monotonic()
    with _warned_lock:
        if now - _warned.get(key, -seconds) < seconds:
            return
        _warned[key] = now
    log.warning(message, *args)


# ----------------------------------------------------------------------------- the ASGI guards


class BodyLimit:
    """Refuse a request body above ``max_bytes`` with 413: by its Content-Length before reading a byte,
    or as soon as a chunked body passes the limit."""

    def __init__(self, app: App, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > self.max_bytes):
            await _answer(send, 413, f"request body larger than {self.max_bytes} bytes (web.max_body_bytes)")
            return
        received = 0
        answered = False

        async def limited() -> Message:
            nonlocal received, answered
            message = await receive()
            if message["type"] == "http.request" and not answered:
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    answered = True
                    await _answer(send, 413, f"request body larger than {self.max_bytes} bytes "
                                             "(web.max_body_bytes)")
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not answered:
                await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not answered:
                raise  # the app's own failure; after our 413 the rest is the client's doing


class SameSite:
    """The ``Host`` check (DNS rebinding), the same-origin check on POST (cross-site requests) and the
    per-client limit of failed logins."""

    def __init__(self, app: App, settings: WebSettings, attempts: LoginAttempts) -> None:
        self.app, self.settings, self.attempts = app, settings, attempts
        self.own_names = _own_names()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if host is None or not self.host_allowed(host, scope):
            shown = "no Host header" if host is None else f"Host {host[:100]!r}"
            _warn_every("host", 60.0, "refused a request with %s: not a name of this server "
                        "(add it to web.allowed_hosts if it is)", shown)
            await _answer(send, 421, f"{shown} is not a name of this server; if it is, add it to "
                                     "web.allowed_hosts in the configuration")
            return
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and not self.same_origin(scope, host):
            await _answer(send, 403, "cross-site request refused: a POST must come from this page "
                                     "(its Origin or Referer must be this server)")
            return
        client = (scope.get("client") or ("?", 0))[0]
        if scope["path"] == "/login" and scope["method"] == "POST" and self.attempts.blocked(client):
            await _answer(send, 429, "too many failed logins from this address; wait a minute",
                          {"retry-after": str(int(LOGIN_WINDOW))})
            return
        await self.app(scope, receive, send)

    def host_allowed(self, host: str, scope: Scope) -> bool:
        name = _host_name(host)
        if name is None:
            return False
        if name in self.settings.allowed_hosts or name in self.own_names:
            return True
        server = scope.get("server")
        local = str(server[0]).lower() if server else ""
        if _same_ip(name, local):
            return True  # the address this connection reached, as a literal
        return (name == "localhost" or name.endswith(".localhost")) and _is_loopback(local)

    @staticmethod
    def same_origin(scope: Scope, host: str) -> bool:
        origin = _header(scope, b"origin")
        if origin is None:
            origin = _header(scope, b"referer")
        if origin is None:
            # no browser sends a form without either; a client with its own header is not a forged form
            return _header(scope, b"authorization") is not None
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" and the like
        return _netloc(parts.netloc, parts.scheme) == _netloc(host, str(scope.get("scheme", "http")))


class LoginAttempts:
    """Failed logins per client address within the last ``LOGIN_WINDOW`` seconds."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.clock = limit, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def failed(self, client: str) -> None:
        with self._lock:
            self._prune()
            self._failures.setdefault(client, deque()).append(self.clock())
        if self.blocked(client):
            _warn_every(f"login:{client}", LOGIN_WINDOW, "%d failed logins from %s within %d s: refusing "
                        "its logins for a while", self.limit, client, int(LOGIN_WINDOW))

    def blocked(self, client: str) -> bool:
        with self._lock:
            self._prune()
            return len(self._failures.get(client, ())) >= self.limit

    def _prune(self) -> None:
        cutoff = self.clock() - LOGIN_WINDOW
        for client in list(self._failures):
            times = self._failures[client]
            while times and times[0] < cutoff:
                times.popleft()
            if not times:
                del self._failures[client]


# ----------------------------------------------------------------------------- names


def _host_name(host: str) -> str | None:
    """The name part of a ``Host`` header (``[::1]:80`` → ``::1``), lower case; None if malformed."""
    host = host.strip().lower()
    if not host or any(c.isspace() or c in "/@?#\\" for c in host):
        return None
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else None
    name, sep, port = host.rpartition(":")
    if not sep:
        return host
    return name if port.isdigit() and name else None


def _netloc(netloc: str, scheme: str) -> tuple[str | None, int]:
    netloc = netloc.lower()
    name = _host_name(netloc)
    port = 443 if scheme == "https" else 80
    tail = netloc.rpartition("]")[2] if netloc.startswith("[") else netloc
    if ":" in tail:
        digits = tail.rpartition(":")[2]
        port = int(digits) if digits.isdigit() else -1
    return name, port


def _same_ip(name: str, local: str) -> bool:
    try:
        return ipaddress.ip_address(name) == ipaddress.ip_address(local)
    except ValueError:
        return False


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _own_names() -> frozenset[str]:
    """This machine's own names (an attacker's DNS name is never one of them)."""
    names = {socket.gethostname().lower()}
    with contextlib.suppress(OSError):
        names.add(socket.getfqdn().lower())
    return frozenset(n for n in names if n)

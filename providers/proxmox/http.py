"""A lean keep-alive HTTPS session for proxmoxer: one TLS connection per worker thread.

Owns: sending proxmoxer's requests (``session.request(method, url, params=, data=)``) over one
kept-alive TLS connection with the API-token header, the TLS verification netsot configures
(a CA file, the system store, or none) and a per-request timeout; answering with the few
response fields proxmoxer reads (``status_code``, ``reason``, ``content``, ``text``); and raising
``requests``' exception types, so ``client`` maps failures exactly as before.
Must not: know any API path or interpret an answer (``client`` does).

Why: through ``requests`` + urllib3 one small API call costs ~0.6–0.9 ms of CPU (environment and
CA-file lookups, adapters, hooks, cookie jars on every request); thousands of calls per read make
that the client's main cost. proxmoxer stays the API layer: it only needs ``request()``.
Why not ``http.client`` either (``_Wire``): it parses every answer's headers with the ``email``
package and sends the request header by header, ~45 % of the client's CPU per call; a read of 1,000
guests makes ~1,500 calls from 8 threads that share one interpreter lock, so that CPU is paid in
wall time. The subset of HTTP/1.1 read here is small and tested on every answer shape a server or
proxy may send (``tests/providers/proxmox/test_http.py``): Content-Length, chunks, until close,
``100 Continue``, over-long lines, cut answers.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

# A connection idle longer than this is replaced rather than reused: pveproxy (or a proxy in
# front of it) may have closed it, and a request on a closed connection cannot always be resent.
KEEPALIVE_IDLE = 2.0
_MAX_LINE = 65536  # like http.client: a longer status or header line is refused
_MAX_HEADERS = 100
ACCEPT = "application/json, application/x-javascript, text/javascript, text/x-javascript, text/x-json"


@dataclass(frozen=True)
class Response:
    """What proxmoxer reads of an answer."""

    status_code: int
    reason: str
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class QuietBody(bytes):
    """An answer's bytes whose ``repr`` is its size.

    Why: proxmoxer logs ``f"... output: {resp.content!r}"`` at debug level on every call, and an f-string
    is formatted whether or not that level is on: the repr of every answer (~5 µs for a guest's config,
    ~1 ms for a 1,000-guest list) was made and thrown away. Used only while proxmoxer's debug logging is
    off, so turning it on still shows every answer in full."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes>"


_PROXMOXER_LOG = logging.getLogger("proxmoxer.core")


class ResponseTooLarge(requests.exceptions.RequestException):
    """An answer passed ``max_response_bytes``; nothing of it is used."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the answer is larger than {limit} bytes")


def tls_context(verify: bool | str) -> ssl.SSLContext:
    if verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if verify is True:
        return ssl.create_default_context()
    # the CA bundle ``verify_tls`` names only (never the system CAs besides), where a certificate in it
    # is a trust anchor even when it is not a CA: the node's own certificate ``netsot init`` pinned
    ctx = ssl.create_default_context(cafile=str(verify))
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return ctx


class Connection:
    """One kept-alive HTTPS connection (shared by a thread's APIs; never between threads)."""

    def __init__(self, host: str, port: int, verify: bool | str | ssl.SSLContext,
                 limit: int = 64 * 1024 * 1024) -> None:
        """``verify``: what ``tls_context`` takes, or a context made by it (one context may serve every
        thread's connection: making one with the system's CAs costs ~25 ms of CPU)."""
        self.host, self.port, self.limit = host, port, limit
        self._ctx = verify if isinstance(verify, ssl.SSLContext) else tls_context(verify)
        self._conn: _Wire | None = None
        self._last_used = 0.0

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def open(self, timeout: float) -> _Wire:
        """The connection, made now if there is none (also ahead of the first request: its TLS handshake
        made while other work waits)."""
        if self._conn is None:
            self._conn = _Wire(self.host, self.port, self._ctx, timeout)
            self._last_used = time.monotonic()
        return self._conn

    def send(self, method: str, target: str, body: bytes | None, headers: dict[str, str],
             timeout: float) -> Response:
        reused = self._conn is not None and time.monotonic() - self._last_used <= KEEPALIVE_IDLE
        if not reused:
            self.close()
        try:
            return self._send_once(method, target, body, headers, timeout)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused or method != "GET":
                raise
            # a kept-alive connection the server had closed: a GET is safe to send again, once
            return self._send_once(method, target, body, headers, timeout)

    def _send_once(self, method: str, target: str, body: bytes | None, headers: dict[str, str],
                   timeout: float) -> Response:
        try:
            wire = self.open(timeout)
            wire.settimeout(timeout)
            status, reason, content, will_close = wire.exchange(method, target, body, headers, self.limit)
        except BaseException:
            self.close()
            raise
        if will_close:
            self.close()
        self._last_used = time.monotonic()
        return Response(status, reason, content)


class _Wire:
    """One TLS connection speaking just the HTTP/1.1 netsot needs: a request written in one piece, an
    answer read by status line, headers and ``Content-Length`` (or chunks, or until close).

    Why not ``http.client``: the module's docstring says.
    """

    def __init__(self, host: str, port: int, ctx: ssl.SSLContext, timeout: float) -> None:
        name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        self.host_header = (f"[{name}]" if ":" in name else name) + ("" if port == 443 else f":{port}")
        raw = socket.create_connection((name, port), timeout)
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = ctx.wrap_socket(raw, server_hostname=name)
        except BaseException:
            raw.close()
            raise
        self.file = self.sock.makefile("rb")
        self._timeout = timeout

    def settimeout(self, timeout: float) -> None:
        if timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def exchange(self, method: str, target: str, body: bytes | None, headers: dict[str, str],
                 limit: int) -> tuple[int, str, bytes, bool]:
        head = [f"{method} {target} HTTP/1.1", f"Host: {self.host_header}", "Accept-Encoding: identity"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            head.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b""))
        while True:
            status, reason, version = self._status_line()
            fields = self._headers()
            if status != 100:
                break
        will_close = fields.get("connection", "").lower() == "close" or (
            version == "HTTP/1.0" and fields.get("connection", "").lower() != "keep-alive")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return status, reason, b"", will_close
        if "chunked" in fields.get("transfer-encoding", "").lower():
            return status, reason, self._chunks(limit), will_close
        length = fields.get("content-length", "").strip()
        if length.isdigit():
            if int(length) > limit:
                raise ResponseTooLarge(limit)
            content = self.file.read(int(length))
            if len(content) < int(length):
                raise http.client.IncompleteRead(content, int(length) - len(content))
            return status, reason, content, will_close
        return status, reason, self._until_close(limit), True

    def _line(self) -> bytes:
        line = self.file.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong("header line")
        return line

    def _status_line(self) -> tuple[int, str, str]:
        line = self._line()
        if not line:
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        version, _, rest = str(line, "iso-8859-1").rstrip("\r\n").partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
            raise http.client.BadStatusLine(str(line, "iso-8859-1"))
        return int(code), reason.strip(), version

    def _headers(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        for _ in range(_MAX_HEADERS + 1):
            line = self._line()
            if line in (b"\r\n", b"\n", b""):
                return fields
            name, _, value = str(line, "iso-8859-1").partition(":")
            key = name.strip().lower()
            fields[key] = f"{fields[key]}, {value.strip()}" if key in fields else value.strip()
        raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")

    def _chunks(self, limit: int) -> bytes:
        body = bytearray()
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise http.client.IncompleteRead(bytes(body)) from None
            if size == 0:
                self._headers()  # trailer, up to the empty line
                return bytes(body)
            if len(body) + size > limit:
                raise ResponseTooLarge(limit)
            chunk = self.file.read(size)
            if len(chunk) < size:
                raise http.client.IncompleteRead(bytes(body) + chunk, size - len(chunk))
            body += chunk
            self.file.read(2)  # the CRLF after each chunk

    def _until_close(self, limit: int) -> bytes:
        body = bytearray()
        while chunk := self.file.read1(65536):
            body += chunk
            if len(body) > limit:
                raise ResponseTooLarge(limit)
        return bytes(body)


def _path_of(url: str) -> str:
    """The path of an absolute URL, as ``urlsplit(url).path or "/"`` gives it. proxmoxer's URLs have
    no query, fragment or control characters: for those, splitting by hand saves the general parse
    on every call; anything else (``urlsplit`` drops tabs and line breaks) takes the general one."""
    _scheme, sep, rest = url.partition("://")
    if not sep or "?" in rest or "#" in rest or not url.isprintable() or url[:1] == " ":
        return urllib.parse.urlsplit(url).path or "/"
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


class LeanSession:
    """The ``session`` proxmoxer calls: ``request(method, url, params=, data=)``."""

    def __init__(self, connection: Connection, authorization: str, timeout: float) -> None:
        self.connection = connection
        self.timeout = timeout
        self._headers = {"Authorization": authorization, "Accept": ACCEPT, "Connection": "keep-alive",
                         "User-Agent": "netsot"}

    def request(self, method: str, url: str, params: Mapping[str, Any] | None = None,
                data: Mapping[str, Any] | None = None, **_: Any) -> Response:
        target = _path_of(url)
        if params:
            target += "?" + urllib.parse.urlencode(params)
        headers = dict(self._headers)
        body = None
        if data:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif method in ("PUT", "POST"):
            body = b""
        try:
            answer = self.connection.send(method, target, body, headers, self.timeout)
            if _PROXMOXER_LOG.isEnabledFor(logging.DEBUG):
                return answer
            return Response(answer.status_code, answer.reason, QuietBody(answer.content))
        except ResponseTooLarge:
            raise
        except ssl.SSLCertVerificationError as exc:
            raise requests.exceptions.SSLError(str(exc)) from None
        except TimeoutError as exc:
            raise requests.exceptions.Timeout(str(exc) or "timed out") from None
        except ssl.SSLError as exc:
            raise requests.exceptions.SSLError(str(exc)) from None
        except (http.client.HTTPException, OSError) as exc:
            text = str(exc) or type(exc).__name__
            if isinstance(exc, ConnectionRefusedError):
                text = f"Connection refused ({text})"
            raise requests.exceptions.ConnectionError(text) from None

    def close(self) -> None:
        self.connection.close()

"""A lean keep-alive HTTPS session for proxmoxer: one ``http.client`` connection per worker thread.

Owns: sending proxmoxer's requests (``session.request(method, url, params=, data=)``) over one
kept-alive TLS connection with the API-token header, the TLS verification netsot configures
(a CA file, the system store, or none) and a per-request timeout; answering with the few
response fields proxmoxer reads (``status_code``, ``reason``, ``content``, ``text``); and raising
``requests``' exception types, so ``client`` maps failures exactly as before.
Must not: know any API path or interpret an answer (``client`` does).

Why: through ``requests`` + urllib3 one small API call costs ~0.6–0.9 ms of CPU (environment and
CA-file lookups, adapters, hooks, cookie jars on every request); thousands of calls per read make
that the client's main cost. proxmoxer stays the API layer: it only needs ``request()``.
"""

from __future__ import annotations

import http.client
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

    def __init__(self, host: str, port: int, verify: bool | str, limit: int = 64 * 1024 * 1024) -> None:
        self.host, self.port, self.limit = host, port, limit
        self._ctx = tls_context(verify)
        self._conn: http.client.HTTPSConnection | None = None
        self._last_used = 0.0

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

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
        if self._conn is None:
            self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self._ctx)
        conn = self._conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            content = self._read(resp)
        except BaseException:
            self.close()
            raise
        if resp.will_close:
            self.close()
        self._last_used = time.monotonic()
        return Response(resp.status, resp.reason or "", content)


    def _read(self, resp: http.client.HTTPResponse) -> bytes:
        """The whole answer, refused past ``limit`` bytes (by Content-Length before reading a byte, or
        while reading), so a huge answer costs neither the memory nor the time to read it all."""
        length = resp.getheader("Content-Length", "") or ""
        if length.strip().isdigit() and int(length) > self.limit:
            raise ResponseTooLarge(self.limit)
        body = bytearray()
        while chunk := resp.read(65536):
            body += chunk
            if len(body) > self.limit:
                raise ResponseTooLarge(self.limit)
        return bytes(body)


class LeanSession:
    """The ``session`` proxmoxer calls: ``request(method, url, params=, data=)``."""

    def __init__(self, connection: Connection, authorization: str, timeout: float) -> None:
        self.connection = connection
        self.timeout = timeout
        self._headers = {"Authorization": authorization, "Accept": ACCEPT, "Connection": "keep-alive",
                         "User-Agent": "netsot"}

    def request(self, method: str, url: str, params: Mapping[str, Any] | None = None,
                data: Mapping[str, Any] | None = None, **_: Any) -> Response:
        parts = urllib.parse.urlsplit(url)
        target = parts.path or "/"
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
            return self.connection.send(method, target, body, headers, self.timeout)
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

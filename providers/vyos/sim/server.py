"""The VyOS API simulator's HTTPS side: nginx + FastAPI in front of ``api.Router`` (vyos.md §5).

Owns: a threaded HTTPS server on loopback (a trustme CA, as VyOS's self-signed default is not
trusted by anyone), ``POST /<endpoint>`` with a JSON body or form fields (urlencoded or
multipart), replies as JSON sent with media type text/html (as VyOS's ``HTMLResponse``), and
``SimHandle``: where it listens, its CA and certificate fingerprint, the router behind it.
Must not: decide what the router accepts (``api``, ``rules``) or import netsot's client.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import os
import ssl
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from providers.vyatta.parse import parse_any
from providers.vyatta.tree import Tree
from providers.vyos.sim.api import Lease, Reply, Router, fail


def _form(content_type: str, raw: bytes) -> dict[str, str] | None:
    """The fields of a form body (None: not a form)."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        out: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                out[name] = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        return out
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, router: Router, ctx: ssl.SSLContext) -> None:
        self.router = router
        self.ctx = ctx
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # TLS refusals (a client that does not trust the CA) are expected


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(Reply(405, {"detail": "Method Not Allowed"}))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        form = _form(self.headers.get("Content-Type", ""), raw)
        if form is not None:
            reply = self.server.router.handle(self.path, form, form=True)
        else:
            try:
                body = json.loads(raw or b"null")
            except ValueError as err:
                reply = fail(400, f"Failed to parse JSON: {err}")
            else:
                if isinstance(body, dict):
                    reply = self.server.router.handle(self.path, body)
                else:
                    reply = fail(400, "Failed to parse JSON: the body must be an object")
        self._answer(reply)

    def _answer(self, reply: Reply) -> None:
        body = reply.text
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass
class SimHandle:
    """A running VyOS API simulator."""

    router: Router
    server: _Server
    ca_path: Path
    fingerprint: str  # SHA-256 of the server certificate (DER), hex with colons
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def key(self) -> str:
        return next(iter(self.router.keys.values()))

    def calls(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        with self.router.lock:
            return [r for e, r in self.router.log if endpoint is None or e == endpoint]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _tls(state_dir: Path) -> tuple[Path, str, ssl.SSLContext]:
    import trustme  # test/lab dependency, only needed when a simulator starts

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path = state_dir / "vyos-ca.pem"
    server_pem = state_dir / "vyos-server.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    os.chmod(server_pem, 0o600)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(server_pem))
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    digest = hashlib.sha256(der).hexdigest()
    return ca_path, ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)), ctx


def start(
    config: str = "", *, dialect: str = "1.5", state_dir: Path | None = None,
    leases: list[Lease] | None = None,
    **router_fields: Any,
) -> SimHandle:
    """Start a simulator holding ``config`` (`set` lines or a config.boot tree) on a free port."""
    tree = parse_any(config, "seed") if config.strip() else Tree.empty()
    router = Router(running=tree, dialect=dialect, leases=list(leases or ()), **router_fields)
    where = state_dir or Path(tempfile.mkdtemp(prefix="vyos-sim-"))
    ca_path, fingerprint, ctx = _tls(where)
    server = _Server(router, ctx)
    thread = threading.Thread(target=server.serve_forever, name="vyos-sim", daemon=True)
    thread.start()
    return SimHandle(router, server, ca_path, fingerprint, thread)

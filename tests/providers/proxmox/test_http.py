"""The lean session's HTTP/1.1 reading, on the answer shapes the simulator never sends.

pveproxy answers with ``Content-Length`` (what the simulator does); an HTTP server or proxy in front of
it may send chunks, end the answer by closing, or send ``100 Continue`` first. A real TLS server on
loopback sends each raw answer; the session must read the same bytes as ``http.client`` would.
"""

from __future__ import annotations

import socket
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import trustme

from providers.proxmox.http import Connection, LeanSession, ResponseTooLarge, _path_of


class RawServer:
    """A TLS server on a free loopback port answering each request with the next raw answer."""

    def __init__(self, tmp: Path, answers: list[bytes]) -> None:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        self.ca_path = tmp / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.ctx)
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.answers:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            with self.ctx.wrap_socket(raw, server_side=True) as tls:
                while self.answers:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        data = tls.recv(65536)
                        if not data:
                            break
                        request += data
                    if not request:
                        break
                    self.requests.append(request)
                    answer = self.answers.pop(0)
                    try:
                        tls.sendall(answer)
                    except OSError:
                        break  # the client refused the answer part way and closed
                    closes = b"Content-Length" not in answer and b"chunked" not in answer
                    if b"Connection: close" in answer or closes:
                        break  # an answer ended by closing: this connection is done

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    servers: list[RawServer] = []

    def start(*answers: bytes) -> tuple[RawServer, LeanSession]:
        server = RawServer(tmp_path, list(answers))
        servers.append(server)
        conn = Connection("127.0.0.1", server.port, str(server.ca_path), limit=1000)
        return server, LeanSession(conn, "PVEAPIToken=u@pve!t=secret", timeout=5)

    yield start
    for server in servers:
        server.close()


def url(server: RawServer, path: str) -> str:
    return f"https://127.0.0.1:{server.port}/api2/json{path}"


def test_chunked_answer_then_the_connection_is_kept(serve) -> None:  # type: ignore[no-untyped-def]
    server, session = serve(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\n{\"dat\r\n6\r\na\": 1}\r\n0\r\n"
        b"X-Trailer: t\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"data\": 2}",
    )
    first = session.request("GET", url(server, "/version"), params={"a": "b c"})
    second = session.request("GET", url(server, "/nodes"))
    assert (first.status_code, first.content) == (200, b'{"data": 1}')
    assert second.content == b'{"data": 2}'
    assert len(server.requests) == 2  # both on one connection
    head = server.requests[0].decode()
    assert head.startswith("GET /api2/json/version?a=b+c HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n" in head
    assert "Authorization: PVEAPIToken=u@pve!t=secret\r\n" in head


def test_answer_ended_by_closing_and_continue_first(serve) -> None:  # type: ignore[no-untyped-def]
    server, session = serve(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 VM 101 is locked (backup)\r\n\r\n{\"data\":null}",
        b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"data\":null}",
    )
    answer = session.request("PUT", url(server, "/nodes/pve1/qemu/101/config"), data={"ipconfig0": "ip=dhcp"})
    assert (answer.status_code, answer.reason, answer.content) == (500, "VM 101 is locked (backup)",
                                                                   b'{"data":null}')
    assert server.requests[0].endswith(b"Content-Length: 19\r\n\r\nipconfig0=ip%3Ddhcp")  # one write
    # the connection ended with the answer: the next request opens a new one
    assert session.request("GET", url(server, "/version")).content == b'{"data":null}'


def test_too_large_and_cut_answers_are_refused(serve) -> None:  # type: ignore[no-untyped-def]
    server, session = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
    with pytest.raises(ResponseTooLarge):
        session.request("GET", url(server, "/cluster/resources"))
    server, session = serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + b"x" * 2048)
    with pytest.raises(ResponseTooLarge):
        session.request("GET", url(server, "/cluster/resources"))
    server, session = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{\"data\"")
    with pytest.raises(requests.exceptions.ConnectionError, match="IncompleteRead"):
        session.request("GET", url(server, "/version"))
    server, session = serve(b"garbage\r\n\r\n")
    with pytest.raises(requests.exceptions.ConnectionError, match="garbage"):
        session.request("GET", url(server, "/version"))


def test_over_long_header_lines_and_too_many_headers_are_refused(serve) -> None:  # type: ignore[no-untyped-def]
    long_line = b"X-Long: " + b"a" * 70000 + b"\r\n"
    server, session = serve(b"HTTP/1.1 200 OK\r\n" + long_line + b"Content-Length: 2\r\n\r\n{}")
    with pytest.raises(requests.exceptions.ConnectionError, match="header line"):
        session.request("GET", url(server, "/version"))
    many = b"".join(b"X-%d: 1\r\n" % i for i in range(101))
    server, session = serve(b"HTTP/1.1 200 OK\r\n" + many + b"Content-Length: 2\r\n\r\n{}")
    with pytest.raises(requests.exceptions.ConnectionError, match="more than 100 headers"):
        session.request("GET", url(server, "/version"))


@pytest.mark.parametrize("url", [
    "https://pve1:8006/api2/json/nodes/pve1/qemu/100/config", "https://[fd00::1]:8006/api2/json/version",
    "https://pve1:8006", "https://pve1/", "https://pve1:8006/a?b=c#d", "https://pve1#x/y", "pve1/x",
    "https://u@pve1:1/p", "https://pve1:8006/api2/json/nodes/pve1\r\nX-Injected: 1/config",
    " https://pve1/x", "https://pve1/a b", "https://pve1/\x00", "https://pve1/a%2Fb",
])
def test_the_request_path_is_what_urlsplit_makes_of_the_url(url: str) -> None:
    """The hand-split fast path may never send another path than the general parse (which drops
    tabs and line breaks: no header can be smuggled in through a path)."""
    assert _path_of(url) == (urllib.parse.urlsplit(url).path or "/")


def test_proxmoxer_debug_log_shows_the_answer_only_when_it_is_on(serve, caplog) -> None:  # type: ignore[no-untyped-def]
    """proxmoxer formats ``repr(resp.content)`` for its debug line on every call: while that level is off
    the body's repr is its size (nothing of the answer is formatted); turned on, it shows the answer."""
    from proxmoxer.backends.https import JsonSerializer
    from proxmoxer.core import ProxmoxResource

    body = b'{"data":{"name":"web01"}}'
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    server, session = serve(answer, answer)
    resource = ProxmoxResource(base_url=url(server, ""), session=session, serializer=JsonSerializer())
    quiet = session.request("GET", url(server, "/version"))
    assert quiet.content == body and repr(quiet.content) == f"<{len(body)} bytes>"
    with caplog.at_level("DEBUG", logger="proxmoxer.core"):
        assert resource.get("version") == {"name": "web01"}
    assert any(repr(body) in r.getMessage() for r in caplog.records), caplog.text

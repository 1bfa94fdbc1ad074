"""The status page's HTTP surface under attack, through real sockets to a real ``netsot ui`` / ``serve``
over the lab: oversized bodies and headers, slow and many connections (memory and connection
exhaustion before login), DNS rebinding (a foreign ``Host``), cross-site POSTs, login guessing, a
short token, and a cookie that must never hold the token."""

from __future__ import annotations

import http.client
import re
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import FaultLab, error_sentence, lab_at

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = "web-surface-t0ken-0123456789"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultLab]:
    yield from lab_at(tmp_path_factory.mktemp("web-surface"))


class Page:
    """A running ``netsot ui``/``serve`` and raw HTTP to it."""

    def __init__(self, lab: FaultLab, *args: str, config: Path | None = None) -> None:
        self.proc = subprocess.Popen(lab.command(*args, config=config), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=lab.env(), cwd=str(lab.paths.root))
        self.output = ""
        deadline = time.monotonic() + 60
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            if select.select([self.proc.stdout], [], [], 0.5)[0]:
                line = self.proc.stdout.readline()
                self.output += line
                found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if found:
                    self.port = int(found.group(1))
                    return
                assert line or self.proc.poll() is None, f"the server exited:\n{self.output}"
        raise AssertionError(f"the server did not listen:\n{self.output}")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def raw(self, data: bytes, wait: float = 10.0) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=wait) as sock:
            sock.sendall(data)
            return _read_all(sock)

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]

    def stop(self) -> str:
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate(timeout=5)
        return self.output + (out or "")


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _token_file(lab: FaultLab, text: str = TOKEN) -> str:
    path = lab.paths.root / f"token-{len(text)}"
    path.write_text(text + "\n")
    path.chmod(0o600)
    return str(path)


@pytest.fixture(scope="module")
def page(lab: FaultLab) -> Iterator[Page]:
    config = lab.write_config("web.yaml", lambda d: d.update(web={
        "allowed_hosts": ["netsot.home.example"], "header_timeout": 1.5, "max_connections": 20}))
    server = Page(lab, "ui", "--listen", "127.0.0.1:0", "--token-file", _token_file(lab), config=config)
    yield server
    server.stop()


def _origin(page: Page) -> dict[str, str]:
    return {"Origin": f"http://127.0.0.1:{page.port}"}


# ----------------------------------------------------------------------------- 1: exhaustion before login


def test_a_huge_login_body_is_refused_without_being_read(page: Page) -> None:
    before = page.rss_mb()
    head = (f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{page.port}\r\nOrigin: http://127.0.0.1:{page.port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {400 << 20}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", page.port), timeout=20) as sock:
        sock.sendall(head.encode() + b"token=" + b"A" * 30000)
        answer = _read_all(sock)  # answered and closed at once: the 400 MB are never awaited
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"web.max_body_bytes" in answer
    # chunked, without a length: cut off once past the limit
    status, _, body = page.request("POST", "/login", body=iter([b"token=" + b"B" * 10000] * 10),
                                   headers=_origin(page))
    assert status == 413 and b"web.max_body_bytes" in body
    assert page.rss_mb() < before + 20


def test_oversized_headers_get_431(page: Page) -> None:
    answer = page.raw(f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {'x' * 40000}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]


def test_slow_headers_time_out_and_connections_are_bounded(page: Page) -> None:
    started = time.monotonic()
    answer = page.raw(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes its headers
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < 6
    socks = [socket.create_connection(("127.0.0.1", page.port), timeout=10) for _ in range(30)]
    try:
        for sock in socks:
            sock.sendall(b"GET / HTTP/1.1\r\n")
        refused = 0
        for sock in socks[20:]:
            sock.settimeout(1)
            if _read_all(sock).startswith(b"HTTP/1.1 503"):
                refused += 1
        assert refused == 10
    finally:
        for sock in socks:
            sock.close()
    time.sleep(0.2)
    assert page.request("GET", "/healthz")[0] == 200  # the page still answers


# ----------------------------------------------------------------------------- 3: rebinding and CSRF


def test_a_foreign_host_is_refused(page: Page) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, _, body = page.request("GET", "/plan", headers={**auth, "Host": f"evil.example:{page.port}"})
    assert status == 421 and b"web.allowed_hosts" in body
    for host in (f"127.0.0.1:{page.port}", f"localhost:{page.port}", "netsot.home.example",
                 f"{socket.gethostname()}:{page.port}"):
        assert page.request("GET", "/plan", headers={**auth, "Host": host})[0] == 200, host


def test_a_cross_site_post_is_refused(page: Page) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for origin in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                   {"Referer": "http://evil.example/page"}, {}):
        status, _, _ = page.request("POST", "/login", body=f"token={TOKEN}".encode(),
                                    headers={**form, **origin})
        assert status == 403, origin
    status, headers, _ = page.request("POST", "/login", body=f"token={TOKEN}".encode(),
                                      headers={**form, **_origin(page)})
    assert status == 303
    cookie = headers["set-cookie"].split(";")[0].split("=", 1)[1]
    assert TOKEN not in headers["set-cookie"] and len(cookie) == 64  # a session value, not the token
    assert page.request("GET", "/plan", headers={"Cookie": f"netsot_token={cookie}"})[0] == 200
    assert page.request("GET", "/plan", headers={"Cookie": f"netsot_token={TOKEN}"})[0] == 401
    # /refresh: a cross-site POST with a valid cookie is still refused; the page's own form works
    refresh = {"Cookie": f"netsot_token={cookie}"}
    assert page.request("POST", "/refresh", headers={**refresh, "Origin": "http://evil.example"})[0] == 403
    assert page.request("POST", "/refresh", headers={**refresh, **_origin(page)})[0] == 303


# ----------------------------------------------------------------------------- 10: login hygiene


def test_failed_logins_are_rate_limited_per_client(lab: FaultLab) -> None:
    server = Page(lab, "ui", "--listen", "127.0.0.1:0", "--token-file", _token_file(lab))
    try:
        headers = {**_origin(server), "Content-Type": "application/x-www-form-urlencoded"}
        codes = [server.request("POST", "/login", body=b"token=guess" + str(i).encode(), headers=headers)[0]
                 for i in range(7)]
        assert codes == [401] * 5 + [429] * 2
        status, response_headers, _ = server.request("POST", "/login", body=f"token={TOKEN}".encode(),
                                                     headers=headers)
        assert status == 429 and response_headers["retry-after"] == "60"  # even the right one, for now
    finally:
        log = server.stop()
    assert "failed logins from 127.0.0.1" in log and "guess" not in log


def test_a_short_token_is_refused_at_start(lab: FaultLab) -> None:
    for command in (("ui", "--listen", "127.0.0.1:0"), ("serve", "--once", "--listen", "127.0.0.1:0")):
        result = lab.cli(*command, "--token-file", _token_file(lab, "short-t0ken"))
        assert result.code == 1, str(result)
        assert "holds a token of 11 characters; use at least 16" in error_sentence(result)


def test_serve_applies_the_same_guards(lab: FaultLab) -> None:
    config = lab.write_config("serve-web.yaml", lambda d: d.update(web={"max_body_bytes": 2048}))
    server = Page(lab, "serve", "--interval", "3600", "--listen", "127.0.0.1:0", config=config)
    try:
        status, _, _ = server.request("POST", "/login", body=b"x" * 4096, headers=_origin(server))
        assert status == 413
        assert server.request("GET", "/healthz", headers={"Host": "rebound.example"})[0] == 421
    finally:
        server.stop()

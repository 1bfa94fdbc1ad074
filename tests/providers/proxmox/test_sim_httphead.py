"""The simulator's header reader answers as ``http.server``'s (``http.client.parse_headers``) does."""

from __future__ import annotations

import http.client
import io

import pytest

from providers.proxmox.sim.httphead import read_fields

BLOCKS = [
    b"Host: 127.0.0.1:8006\r\nAuthorization: PVEAPIToken=u@pve!t=secret\r\nContent-Length: 12\r\n\r\n",
    b"content-type:application/x-www-form-urlencoded\r\nCONTENT-LENGTH:   7 \r\n\r\nbody",
    b"X-A: first\r\nX-A: second\r\nConnection: close\r\n\r\n",  # the first of a name counts
    b"X-Folded: one\r\n two\r\n\tthree\r\nHost: h\r\n\r\n",  # continuation lines
    b" leading: continuation first\r\nHost: h\r\n\r\n",
    b"Host: h\r\nnot a field\r\nAuthorization: after the break\r\n\r\n",  # a non-field line ends them
    b"Host: h\nAccept: */*\n\n",  # bare LF line ends
    b"Empty:\r\n: no name\r\n continued\r\nHost: h\r\n\r\n",  # a nameless line is skipped
    b"From someone\r\nHost: h\r\nFrom x\r\nAccept: a\r\n\r\n",  # so are envelope lines
    b"\r\n",
]
NAMES = ("Host", "authorization", "Content-Length", "content-type", "X-A", "Connection", "X-Folded",
         "leading", "Accept", "Empty", "", "Missing")


@pytest.mark.parametrize("block", BLOCKS)
def test_fields_are_those_http_server_reads(block: bytes) -> None:
    ours = read_fields(io.BytesIO(block))
    stdlib = http.client.parse_headers(io.BytesIO(block))
    for name in NAMES:
        assert ours.get(name) == stdlib.get(name), name
        assert ours.get(name, "dflt") == stdlib.get(name, "dflt"), name
        assert (name in ours) == (name in stdlib), name


def test_limits_are_http_clients() -> None:
    with pytest.raises(http.client.LineTooLong):
        read_fields(io.BytesIO(b"X-Long: " + b"a" * 70000 + b"\r\n\r\n"))
    too_many = b"".join(b"X-%d: 1\r\n" % i for i in range(100)) + b"\r\n"
    with pytest.raises(http.client.HTTPException, match="more than 100 headers"):
        read_fields(io.BytesIO(too_many))
    with pytest.raises(http.client.HTTPException):
        http.client.parse_headers(io.BytesIO(too_many))  # the same block, the same refusal
    fine = b"".join(b"X-%d: 1\r\n" % i for i in range(99)) + b"\r\n"
    assert read_fields(io.BytesIO(fine)).get("x-98") == "1"

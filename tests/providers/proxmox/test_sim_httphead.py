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
    b"Host: h\nAccept: a\r\n\r\nX-After: 1\r\n\r\n",  # a bare LF line, then CRLF ones
    b"Host: h\r\n\nAccept: a\r\n\r\n",  # a bare LF empty line ends the block
    b"Host: h\r\nX\ty: 1\r\nAccept: a\r\n\r\n",  # a blank inside a name: no field
    b"Host: h\r\nX\x7f: 1\r\nAccept: a\r\n\r\n",
    b"Host: h\r\nX-Caf\xe9: \xe9t\xe9\r\nAccept: a\r\n\r\n",
    b"Host: h\r\nAccept : a\r\nEmpty:\r\nBlank: \t \r\nX-B:\tb c \r\n\r\n",
    b"Host: h\r\nAccept: a\r\n\r\r\n\r\n",
    b"Host: h\r\nAccept: a\r\n",  # the connection ends before the empty line
    b"",
]
NAMES = ("Host", "authorization", "Content-Length", "content-type", "X-A", "Connection", "X-Folded",
         "leading", "Accept", "Empty", "", "Missing", "X", "X-B", "Blank", "X-After", "X-Caf\xe9")


# a plain reader; a buffered one holding the whole block (read at once); one holding a few bytes at a time
READERS = {
    "plain": io.BytesIO,
    "buffered": lambda data: io.BufferedReader(io.BytesIO(data)),
    "small buffer": lambda data: io.BufferedReader(io.BytesIO(data), buffer_size=8),
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("block", BLOCKS)
def test_fields_are_those_http_server_reads(block: bytes, reader: str) -> None:
    ours_file = READERS[reader](block + b"BODY")
    ours = read_fields(ours_file)
    stdlib_file = io.BytesIO(block + b"BODY")
    stdlib = http.client.parse_headers(stdlib_file)
    for name in NAMES:
        assert ours.get(name) == stdlib.get(name), name
        assert ours.get(name, "dflt") == stdlib.get(name, "dflt"), name
        assert (name in ours) == (name in stdlib), name
    assert ours_file.read() == stdlib_file.read()  # the block read, and not a byte more


@pytest.mark.parametrize("block", [*BLOCKS, b"Host: h\r\nX: a\rb\r\nAccept: a\r\n\r\n"])
def test_a_block_read_at_once_gives_what_reading_line_by_line_gives(block: bytes) -> None:
    # a CR inside a value included: the line reading keeps the fields after it (the email package
    # ends the fields there), and reading the block at once must not differ from the line reading
    plain, whole = io.BytesIO(block + b"BODY"), io.BufferedReader(io.BytesIO(block + b"BODY"))
    by_line, at_once = read_fields(plain), read_fields(whole)
    for name in NAMES:
        assert at_once.get(name) == by_line.get(name), name
    assert whole.read() == plain.read()


@pytest.mark.parametrize("reader", READERS)
def test_limits_are_http_clients(reader: str) -> None:
    make = READERS[reader]
    with pytest.raises(http.client.LineTooLong):
        read_fields(make(b"X-Long: " + b"a" * 70000 + b"\r\n\r\n"))
    with pytest.raises(http.client.LineTooLong):  # 65,537 bytes with its CRLF: one too many
        read_fields(io.BufferedReader(io.BytesIO(b"X-Long: " + b"a" * 65527 + b"\r\n\r\n"), 1 << 17))
    longest = b"X-Long: " + b"a" * 65526 + b"\r\n\r\n"
    assert read_fields(io.BufferedReader(io.BytesIO(longest), 1 << 17)).get("x-long") == "a" * 65526
    too_many = b"".join(b"X-%d: 1\r\n" % i for i in range(100)) + b"\r\n"
    with pytest.raises(http.client.HTTPException, match="more than 100 headers"):
        read_fields(make(too_many))
    with pytest.raises(http.client.HTTPException):
        http.client.parse_headers(io.BytesIO(too_many))  # the same block, the same refusal
    fine = b"".join(b"X-%d: 1\r\n" % i for i in range(99)) + b"\r\n"
    assert read_fields(make(fine)).get("x-98") == "1"

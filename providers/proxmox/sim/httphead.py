"""A request's header lines for the Proxmox simulator, read without the ``email`` package.

Owns: reading the header block of one HTTP/1.1 request from the connection (``http.client``'s
limits: lines of at most 65,536 bytes, at most 100 lines with the empty one ending them) into
``Fields``, which answers ``get(name, default)`` as ``http.server``'s headers do (case-insensitive,
the first field of that name, the value without leading blanks and the line end; a continuation line
is added to its field; a line that is no field ends the fields, the rest of the block is skipped;
nameless and ``From `` lines are skipped), so the simulator reads a request as it did before.
Must not: know any API path or header meaning (``server`` does).

Why: ``http.server`` parses every request's headers with the ``email`` package, ~15 % of the
simulator's CPU per request; the benchmark's read makes ~1,500 requests on two cores.
"""

from __future__ import annotations

import http.client
import re
from typing import BinaryIO

MAX_LINE = 65536
MAX_LINES = 100
_FIELD = re.compile(rb"^([\x21-\x39\x3b-\x7e]*):(.*)$", re.DOTALL)  # the email package's field rule
_END = (b"\r\n", b"\n", b"")


class Fields:
    """The header fields of one request."""

    def __init__(self, fields: dict[str, str]) -> None:
        self._fields = fields  # lower-cased name -> the first value given

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._fields.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields


def read_fields(rfile: BinaryIO) -> Fields:
    """The header block up to its empty line (``http.client.LineTooLong`` / ``HTTPException`` past
    the limits, like ``http.client.parse_headers``)."""
    fields = _buffered(rfile)
    if fields is not None:
        return Fields(fields)
    lines: list[bytes] = []
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > MAX_LINES:
            raise http.client.HTTPException(f"got more than {MAX_LINES} headers")
        if line in _END:
            break
    return Fields(_parse(lines[:-1]))


def _buffered(rfile: BinaryIO) -> dict[str, str] | None:
    """The fields of a plain block (CRLF lines, each ``name:value`` with a name of visible ASCII) that
    the reader already holds whole, taken in one read; None (nothing read) for anything else, which the
    line by line reading above then reads with its limits and refusals.

    Why: a request's ~5 header lines cost one ``readline`` and one pattern match each; a block that
    is whole in the buffer is split at once (~2x faster; the simulator parses ~1,500 per benchmark read).
    """
    peek = getattr(rfile, "peek", None)
    if peek is None:
        return None
    buf = peek()  # what is buffered (one read of the connection if nothing is, as readline does)
    if buf[:2] == b"\r\n":
        end = 2
    else:
        end = buf.find(b"\r\n\r\n") + 4
        if end < 4 or end > MAX_LINE:
            return None  # no end in the buffer yet, or a block longer than one line may be
    block = buf[:end]
    crlfs = block.count(b"\r\n")
    if crlfs > MAX_LINES or block.count(b"\n") != crlfs or block.count(b"\r") != crlfs:
        return None  # too many lines, a bare LF line end, a CR inside a line: the general reading
    fields: dict[str, str] = {}
    for line in block[:-4].decode("iso-8859-1").split("\r\n") if end > 2 else ():
        name, colon, value = line.partition(":")
        # the email package's field name: one or more of \x21-\x7e but ":" (a line starting with a
        # blank, "From ", a nameless or a colon-less line is not plain: the general reading)
        if not colon or not name or not name.isascii() or not name.isprintable() or " " in name:
            return None
        fields.setdefault(name.lower(), value.lstrip(" \t"))
    rfile.read(end)
    return fields


def _parse(lines: list[bytes]) -> dict[str, str]:
    fields: dict[str, str] = {}
    name: str | None = None
    parts: list[str] = []
    for raw in lines:
        if raw[:1] in (b" ", b"\t"):
            if name is not None:  # a continuation of the field before (one first: ignored)
                parts.append(raw.decode("iso-8859-1"))
            continue
        if name is not None:
            fields.setdefault(name, "".join(parts).rstrip("\r\n"))
            name = None
        if raw.startswith(b"From "):
            continue  # an mbox envelope line to the email package: no field
        match = _FIELD.match(raw)
        if match is None:
            break  # not a field: the email package takes the rest as a body, not as fields
        if not match.group(1):
            continue  # ": value" has no name: the email package skips it
        name = match.group(1).decode("iso-8859-1").lower()
        parts = [match.group(2).decode("iso-8859-1").lstrip(" \t")]
    if name is not None:
        fields.setdefault(name, "".join(parts).rstrip("\r\n"))
    return fields

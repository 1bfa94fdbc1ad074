"""The simulator's hand-rolled terminal: echo, line editing and the `:` pager of one session.

Owns: turning SSH input into line / key events (echoing characters as they arrive, never the
line end), writing with the session's newline convention, and paging long op-mode output.

Output is sent the way a real router's sshd sends what the shell writes to its pty: the shell's
writes and the terminal's echoes go into one byte stream, in order, and leave as channel data in
blocks (OpenSSH's sshd reads a session's pty up to 16 KiB at a time, ``CHAN_RBUF`` in channels.c)
whenever the shell waits, or as soon as a block is full. A block is never held back while the shell
waits (for input, the link's latency or a commit), so no reply is delayed; only the packet count
differs from writing every piece as its own SSH packet (~0.25 ms of CPU each here).
Must not: interpret commands (``simshell.Shell`` does, and owns the state used here).
"""

from __future__ import annotations

import asyncio
import collections
import re
from typing import Any

import asyncssh

# what the line editor acts on besides printable text and line ends: backspace, ^C, ^D, other controls
_EDITING = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SEND_BLOCK = 16 * 1024  # what sshd reads from a pty at once (OpenSSH channels.c, CHAN_RBUF)


class Terminal:
    """Terminal half of a vbash session; ``Shell.__init__`` sets every attribute below."""

    process: asyncssh.SSHServerProcess
    pty: bool
    rows: int
    pager: bool
    raw: bool
    nl: str
    events: asyncio.Queue[tuple[str, str]]
    arrivals: collections.deque[float]  # loop time each queued line arrived (the link latency counts from it)
    working: Any
    pending: list[str]  # written, not yet sent: see the module docstring
    pending_size: int
    flush_soon: bool

    def write(self, text: str) -> None:
        self.emit(text.replace("\r\n", "\n").replace("\n", self.nl))

    def emit(self, text: str) -> None:
        """Queue ``text`` as written (no newline conversion); sent when the shell next waits."""
        if not text:
            return
        self.pending.append(text)
        self.pending_size += len(text)
        if self.pending_size >= SEND_BLOCK:
            self.flush()
        elif not self.flush_soon:
            self.flush_soon = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Send everything written so far as one piece of channel data."""
        self.flush_soon = False
        if not self.pending:
            return
        text = "".join(self.pending)
        self.pending.clear()
        self.pending_size = 0
        try:
            self.process.stdout.write(text)
        except (asyncssh.Error, OSError):
            self.events.put_nowait(("eof", ""))  # the channel is gone: end the session

    async def reader(self) -> None:
        """Turn input bytes into line / key events; echo characters on arrival, never the line end."""
        buf, last_cr = "", False
        try:
            while True:
                try:
                    data = await self.process.stdin.read(4096)
                except asyncssh.TerminalSizeChanged as change:
                    self.rows = change.height or self.rows
                    continue
                except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                    continue
                if not data:
                    break
                echo: list[str] = []  # one write per chunk: per-character packets cost ~8 ms a line
                if not self.raw and not _EDITING.search(data):
                    buf, last_cr = await self._plain_lines(data, buf, last_cr, echo)
                    continue
                for ch in data:
                    if self.raw:
                        await self.events.put(("key", ch))
                        continue
                    if ch == "\n" and last_cr:
                        last_cr = False
                        continue
                    last_cr = ch == "\r"
                    if ch in "\r\n":
                        self._echo(echo)
                        self.arrivals.append(asyncio.get_running_loop().time())
                        await self.events.put(("line", buf))
                        buf = ""
                    elif ch in "\x7f\x08":
                        if buf:
                            buf = buf[:-1]
                            echo.append("\b \b")
                    elif ch == "\x03":
                        buf = ""
                        echo.append("^C")
                        self._echo(echo)
                        self.arrivals.append(asyncio.get_running_loop().time())
                        await self.events.put(("line", ""))
                    elif ch == "\x04" and not buf and self.working is None:
                        await self.events.put(("eof", ""))
                    elif ch >= " " or ch == "\t":
                        buf += ch
                        echo.append(ch)
                self._echo(echo)
        except (asyncssh.Error, OSError, asyncio.CancelledError):
            pass
        await self.events.put(("eof", ""))

    async def _plain_lines(self, data: str, buf: str, last_cr: bool, echo: list[str]) -> tuple[str, bool]:
        """The character loop of ``reader`` for a chunk of printable text and line ends only (what a
        pasted or typed-ahead batch is), a line at a time: the same echoes and events, in the same
        order. Returns the unfinished line and whether the chunk ended in a CR."""
        if last_cr and data.startswith("\n"):
            data = data[1:]  # the LF of a CR LF split across two reads
        ends_cr = data.endswith("\r")
        *lines, rest = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for line in lines:
            echo.append(line)
            self._echo(echo)
            self.arrivals.append(asyncio.get_running_loop().time())
            await self.events.put(("line", buf + line))
            buf = ""
        echo.append(rest)
        self._echo(echo)
        return buf + rest, ends_cr and not rest

    def _echo(self, pending: list[str]) -> None:
        if pending and self.pty:
            self.emit("".join(pending))
        pending.clear()

    async def page(self, text: str) -> None:
        """Print op-mode output through the pager (`:` prompt) unless paging was disabled."""
        lines = text.split("\n") if text else []
        if not (self.pager and self.pty) or len(lines) < self.rows:
            self.write(text + "\n" if text else "")
            return
        pos, step = 0, max(self.rows - 1, 1)
        self.raw = True
        try:
            while pos < len(lines):
                self.write("\n".join(lines[pos : pos + step]) + "\n")
                pos += step
                if pos >= len(lines):
                    break
                self.emit(":")
                kind, key = await self.events.get()
                self.emit("\r \r")
                if kind == "eof" or key in "qQ":
                    break
                step = 1 if key in "\r\n" else max(self.rows - 1, 1)
        finally:
            self.raw = False

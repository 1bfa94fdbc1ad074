"""The simulator's hand-rolled terminal: echo, line editing and the `:` pager of one session.

Owns: turning SSH input into line / key events (echoing characters as they arrive, never the
line end), writing with the session's newline convention, and paging long op-mode output.
Must not: interpret commands (``simshell.Shell`` does, and owns the state used here).
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import asyncssh


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

    def write(self, text: str) -> None:
        self.process.stdout.write(text.replace("\r\n", "\n").replace("\n", self.nl))

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

    def _echo(self, pending: list[str]) -> None:
        if pending and self.pty:
            self.process.stdout.write("".join(pending))
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
                self.process.stdout.write(":")
                kind, key = await self.events.get()
                self.process.stdout.write("\r \r")
                if kind == "eof" or key in "qQ":
                    break
                step = 1 if key in "\r\n" else max(self.rows - 1, 1)
        finally:
            self.raw = False

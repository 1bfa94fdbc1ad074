"""The simulated vbash session: EdgeOS op mode and config mode with the exact messages.

Owns: ``Shell`` (one per SSH channel): the prompt, op-mode commands (`show ...`, `terminal`,
`configure`), config-mode commands (`set`, `delete`, `compare`, `commit`, `save`, `discard`,
`exit`, `run`) and the commit flow (faults, checks, dhcp restart notice, the on-commit hook).
Must not: own the SSH server (``simssh``), terminal handling (``simterm``) or validation rules
(``simrules``).
"""

from __future__ import annotations

import asyncio
import collections
import re
import shlex
from typing import TYPE_CHECKING, Any

import asyncssh

from providers.edgemax.sim.commit import dhcp_warnings
from providers.edgemax.sim.rules import Rejected, commit_errors, validate_path
from providers.edgemax.sim.store import (
    delete_path,
    diff,
    parse_boot,
    render_boot,
    render_commands,
    render_leases,
    render_show,
    set_path,
    subtree,
)
from providers.edgemax.sim.term import Terminal

if TYPE_CHECKING:
    from providers.edgemax.sim.ssh import Simulator

VERSION_TEXT = (
    "Version:      v2.0.9-hotfix.7\n"
    "Build ID:     5611225\n"
    "Build on:     07/05/23 13:57\n"
    "Copyright:    2012-2023 Ubiquiti Networks, Inc.\n"
    "HW model:     EdgeRouter Lite 3-Port\n"
    "HW S/N:       7483C2A1B2C3\n"
    "Uptime:       10:11:12 up 42 days,  3:04,  1 user,  load average: 0.08, 0.05, 0.01"
)
CANNOT_EXIT = "Cannot exit: configuration modified.\nUse 'exit discard' to discard the changes and exit."


# a word: runs of plain characters and '…' quoted parts (shlex's whitespace is space, tab, CR, LF)
_WORD = re.compile(r"(?:[^ \t']+|'[^']*')+")


def split_words(line: str) -> list[str]:
    """The line's words as bash splits them (``shlex`` in POSIX mode, no comments).

    A line with no double quote or backslash and balanced single quotes (every line netsot
    sends) is split by one regular expression, which gives the same words ~10x cheaper: inside
    single quotes nothing is special, so a word is its pieces with the quotes removed.
    """
    if '"' in line or "\\" in line or "\r" in line or "\n" in line or line.count("'") % 2:
        return shlex.split(line)
    return [w.replace("'", "") for w in _WORD.findall(line)]


class Shell(Terminal):
    """Op mode and config mode of one vbash login session."""

    def __init__(self, sim: Simulator, user: str, process: asyncssh.SSHServerProcess) -> None:
        self.sim, self.router, self.user, self.process = sim, sim.router, user, process
        self.pty = process.get_terminal_type() is not None
        self.rows = (process.get_terminal_size()[1] or 24) if self.pty else 0
        self.pager = self.pty
        self.working: Any = None  # the config-mode working tree, None in op mode
        self.committed_unsaved = False
        self.events: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.arrivals: collections.deque[float] = collections.deque()
        self.raw = False
        self.nl = "\r\n" if self.pty else "\n"
        self.pending, self.pending_size, self.flush_soon = [], 0, False

    # -- terminal ---------------------------------------------------------------------------
    @property
    def prompt(self) -> str:
        host = self.router.hostname
        if self.working is not None:
            return f"[edit]{self.nl}{self.user}@{host}# "
        return f"{self.user}@{host}:~$ "

    async def run(self) -> int:
        self.sim.log.add("session", f"{self.user} pty={self.pty} rows={self.rows}")
        reader = asyncio.ensure_future(self.reader())
        self.write(f"Welcome to EdgeOS\n\n{self.prompt}")
        try:
            while True:
                kind, line = await self.events.get()
                if kind == "eof":
                    return 0
                if kind != "line":
                    continue
                arrived = self.arrivals.popleft() if self.arrivals else asyncio.get_running_loop().time()
                if self.pty:
                    self.emit("\r\n")
                if line.strip():
                    self.sim.log.add("command", line)
                    self.sim.before_command()
                    if self.sim.faults.command_delay:
                        # the link's latency, counted from the line's arrival: lines sent in one
                        # go wait for it once, not once each (a round trip, not a processing cost)
                        due = arrived + self.sim.faults.command_delay - asyncio.get_running_loop().time()
                        if due > 0:
                            await asyncio.sleep(due)
                    if await self.execute(line.strip()) == "exit":
                        return 0
                self.write(self.prompt)
        finally:
            self.flush()
            reader.cancel()
            if self.working is not None:
                self.sim.log.add("discarded", "session ended inside configure")

    # -- dispatch ---------------------------------------------------------------------------
    async def execute(self, line: str) -> str | None:
        if self.working is not None:
            return await self.config_command(line)
        return await self.op_command(line)

    def out(self, *lines: str) -> None:
        for text in lines:
            self.write(text + "\n")

    async def op_command(self, line: str) -> str | None:
        no_page = False
        for pipe in ("| cat", "|cat", "| no-more", "|no-more"):
            if line.endswith(pipe):
                line, no_page = line[: -len(pipe)].rstrip(), True
        try:
            words = split_words(line)
        except ValueError:
            self.out("-vbash: syntax error: unterminated quoted string")
            return None
        text = self.op_output(words, line)
        if text is None:
            return "exit" if words == ["exit"] else None
        if no_page or not words or words[0] != "show":
            self.write(text + "\n" if text else "")
        else:
            await self.page(text)
        return None

    def op_output(self, words: list[str], line: str) -> str | None:
        """Text of an op-mode command (None when it changes state instead of printing)."""
        r = self.router
        match words:
            case ["exit"] | ["logout"]:
                return None
            case ["configure"]:
                with r.lock:
                    self.working = r.active.copy()
                return None
            case ["show", "configuration", "commands"]:
                with r.lock:
                    return render_commands(r.active).rstrip("\n")
            case ["show", "configuration"]:
                with r.lock:
                    return render_show(r.active, masked=True).rstrip("\n")
            case ["show", "dhcp", "leases"]:
                with r.lock:
                    return render_leases(r.leases).rstrip("\n")
            case ["show", "version"]:
                return VERSION_TEXT
            case ["show", "host", "name"]:
                return r.hostname
            case ["cat", "/config/config.boot"]:
                with r.lock:
                    return r.saved_text.rstrip("\n")
            case ["terminal", "length", n] if n.isdigit():
                self.pager = n != "0"
                if n != "0":
                    self.rows = int(n)
                return ""
            case ["terminal", "width", n] if n.isdigit():
                return ""
            case ["terminal", "pager", *_] | ["stty", *_]:
                return ""
            case ["export", env] if env.startswith("VYATTA_PAGER="):
                self.pager = env.split("=", 1)[1] not in ("cat", "")
                return ""
            case ["show", *rest] | ["terminal", *rest] | ["configure", *rest]:
                return f"\n  Invalid command: {words[0]} [{rest[0] if rest else ''}]\n"
            case []:
                return ""
            case _:
                return f"-vbash: {words[0]}: command not found"

    async def config_command(self, line: str) -> str | None:
        try:
            words = split_words(line)
        except ValueError:
            self.out("-vbash: syntax error: unterminated quoted string")
            return None
        try:
            await self.config_words(words)
        except Rejected as err:
            self.out(*err.lines)
        except Exception as exc:  # a simulator bug must show up in the log, not kill the session
            self.sim.log.add("internal_error", f"{line!r}: {exc!r}")
            self.out(f"Internal simulator error: {exc}", f"{(words or ['Command'])[0].capitalize()} failed")
        return None

    def _changed(self) -> bool:
        with self.router.lock:
            return self.working != self.router.active

    async def config_words(self, words: list[str]) -> None:
        r = self.router
        match words:
            case ["set"]:
                raise Rejected("Need to specify the config node to set")
            case ["set", *path]:
                validate_path(path, "Set")
                self._replace_single_inet(path)
                if not set_path(self, path):
                    self.out("The specified configuration node already exists")
            case ["delete", *path] if path:
                validate_path(path, "Delete")
                missing = delete_path(self, path)
                if missing:
                    self.out(missing)
            case ["compare"]:
                with r.lock:
                    text = diff(r.active, self.working)
                self.out(text or "No changes between working and active configurations")
            case ["compare", "saved"] if self.sim.faults.refuse_compare_saved:
                self.out(*self.sim.faults.refuse_compare_saved.split("\n"))
            case ["compare", "saved"]:
                with r.lock:
                    text = diff(parse_boot(r.saved_text), self.working)
                if text:
                    self.out(text)
            case ["commit"] | ["commit", "comment", _]:
                await self.commit(" ".join(words[2:]))
            case ["discard"]:
                changed = self._changed()
                with r.lock:
                    self.working = r.active.copy()
                self.out("Changes have been discarded" if changed else "No changes have been discarded")
            case ["save"]:
                if self._changed():
                    self.out("Warning: you have uncommitted changes that will not be saved.", "")
                self.out("Saving configuration to '/config/config.boot'...")
                with r.lock:
                    r.saved_text = render_boot(r.active)
                self.committed_unsaved = False
                self.sim.log.add("save")
                self.out("Done")
            case ["exit"]:
                if self._changed():
                    self.out(*CANNOT_EXIT.split("\n"))
                    return
                self.leave()
            case ["exit", "discard"]:
                self.leave()
            case ["exit", arg]:
                self.out(f"Invalid argument \"{arg}\" for 'exit'")
            case ["show", *path]:
                with r.lock:
                    text = render_show(self.working, path=path, masked=False)
                self.out(text.rstrip("\n") if text.strip() else "Configuration under specified path is empty")
            case ["run", *op] if op:
                text = self.op_output(op, " ".join(op))
                if text:
                    self.out(text)
            case ["run"]:
                self.out("Incomplete command")
            case _:
                self.out(f"-vbash: {words[0] if words else ''}: command not found")

    def _replace_single_inet(self, path: list[str]) -> None:
        """On a router whose ``inet`` is single-valued, `set … inet V` replaces the value there."""
        if self.router.inet_multi or len(path) != 6 or path[:3] != ["system", "static-host-mapping",
                                                                    "host-name"] or path[4] != "inet":
            return
        for old in self.working.values(path[:5]):
            if old != path[5]:
                delete_path(self, [*path[:5], old])

    def leave(self) -> None:
        if self.committed_unsaved:
            self.out("Warning: configuration changes have not been saved.")
        self.working = None
        self.committed_unsaved = False

    async def commit(self, comment: str) -> None:
        r, faults = self.router, self.sim.faults
        if not self._changed():
            self.out("No configuration changes to commit")
            return
        if faults.commit_delay:
            await asyncio.sleep(faults.commit_delay)
        if faults.fail_next_commit:
            faults.fail_next_commit = False
            self.sim.log.add("commit_failed", "fault")
            self.out(*faults.commit_failure.split("\n"), "", "Commit failed")
            return
        errors = commit_errors(self.working)
        if errors:
            self.sim.log.add("commit_failed", "; ".join(p for p, _ in errors))
            for path, lines in errors:
                self.out(f"[ {path} ]", *lines, "")
            self.out("Commit failed")
            return
        with r.lock:
            dhcp_changed = subtree(self.working, "service dhcp-server") != subtree(
                r.active, "service dhcp-server"
            )
            r.active = self.working.copy()
            active = r.active.copy()
        self.committed_unsaved = True
        self.sim.log.add("commit", comment)
        if dhcp_changed:
            self.out(
                "[ service dhcp-server ]",
                *dhcp_warnings(active),
                "Stopping DHCP server daemon...",
                "Starting DHCP server daemon...",
                "",
            )
        if r.on_commit is not None:
            try:
                r.on_commit(active)
            except Exception as exc:  # the hook belongs to the lab; never break the router for it
                self.sim.log.add("on_commit_error", repr(exc))

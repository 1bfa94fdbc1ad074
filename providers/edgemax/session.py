"""One SSH session to an EdgeRouter through scrapli 2.x (OpenSSH ``bin`` transport, strict host keys).

Owns: opening the session (auth, known_hosts, our ``edgeos.yaml`` definition), op-mode reads, the
read-only `compare saved` check, the single configure session of an apply (set/delete → compare →
commit → save → exit, or discard and `exit discard` on any error), and the mapping of every
scrapli failure to ``core.errors``.
Must not: build command lines (``commands``), parse output (``parse``/``leases``), or let a scrapli
exception or the password escape. This is the only module that imports scrapli.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scrapli import AuthOptions, Cli, SessionOptions, TransportBinOptions
from scrapli.cli import InputHandling
from scrapli.exceptions import ScrapliException

from core.config import Config
from core.errors import (
    ProviderAuthError,
    ProviderDataError,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from providers.edgemax import batch
from providers.edgemax.settings import COMMENT_RULE, SAFE_COMMENT, EdgemaxSettings
from providers.vyatta import parse
from providers.vyatta.tree import Tree

SYSTEM = "edgemax"
DEFINITION = Path(__file__).with_name("edgeos.yaml")
# Lines that mean the router refused something (edgeos.md §2, §7.3). Matched as substrings.
ERROR_MARKERS = (
    "Commit failed",
    "Set failed",
    "Delete failed",
    "Discard failed",
    "Value validation failed",
    "is not valid",
    "Cannot exit: configuration modified",
    "Cannot load: configuration modified",
    "Failed to generate committed config",
    "Failed to set up config session",
    "Configuration system temporarily locked",
    "Need to specify the config node to set",
    "Invalid command",
    "Incomplete command",
    "Ambiguous command",
    "Invalid value",
    "command not found",
)
OP_ERRORS = ("Invalid command", "command not found", "Incomplete command")
NOTHING_TO_COMMIT = "No configuration changes to commit"
NO_CHANGES = "No changes between working and active configurations"
# libscrapli backs off between reads while waiting for a prompt; capping the pause at 1 ms cuts
# ~1.5 ms off every command (measured: 9.5 → 7.8 ms per `set` at 5 ms router latency) for a
# negligible number of extra reads.
READ_MAX_DELAY_NS = 1_000_000
# bytes asked of libscrapli per read while a batch is answered: it copies the whole buffer through a
# Python list of ints each time (~3 ms for 64 KiB), so a small buffer read more often is cheaper
READ_CHUNK = 8192


@dataclass(frozen=True)
class ConfigureResult:
    """What one configure session did."""

    compare: str  # the router's `compare` output (the diff that was committed)
    committed: bool  # False when the lines changed nothing (already in place)
    notes: tuple[str, ...] = ()  # informational router lines, e.g. "... already exists"
    commit_output: str = ""
    elapsed: float = 0.0
    after: Tree | None = None  # the configuration the router now holds (as modelled), when known


@dataclass(frozen=True)
class SavedCheck:
    """The outcome of `compare saved`: the diff ("" when saved), or why the router refused it."""

    diff: str | None
    refused: str = ""

    @property
    def warning(self) -> str:
        return (f"cannot tell whether the running config is saved (the router refused 'compare saved': "
                f"{self.refused}); a commit that was never saved would not be saved by this run"
                if self.refused else "")


class _Unmodelled(Exception):
    """The lines' change to the configuration as read cannot be modelled: never commit them."""


class _RouterRefused(Exception):
    def __init__(self, command: str, output: str) -> None:
        self.command, self.output = command, output
        super().__init__(output)


def _is_edit_line(line: str) -> bool:
    return line.startswith("[edit") and line.rstrip().endswith("]")


def clean(text: str) -> str:
    """Output without CRs, config-mode `[edit…]` prompt lines and surrounding blank lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "").split("\n")
    lines = [ln for ln in lines if not _is_edit_line(ln)]
    return "\n".join(lines).strip("\n")


def router_message(output: str) -> str:
    """The router's error lines joined into one line for an error message."""
    return " / ".join(ln.strip() for ln in clean(output).split("\n") if ln.strip())


def has_error(output: str) -> bool:
    return any(marker in output for marker in ERROR_MARKERS)


def drop_echo(text: str, command: str) -> str:
    """A result read with ``InputHandling.IGNORE`` without the terminal's echo of ``command``.

    The echo is on the first line. If the terminal mangled it (never seen: the width is 512), the
    whole text is kept, so no router message can be lost; error detection stays safe either way
    because no `set`/`delete` line we send contains an error marker (they all hold a space, and
    our validated values never do).
    """
    at = text.partition("\n")[0].find(command)
    return text[at + len(command) :] if at >= 0 else text


def saved_diff(text: str) -> str:
    """`compare saved` output without the trailing `[edit]` prompt line(s): "" when saved."""
    lines = text.replace("\r\n", "\n").replace("\r", "").split("\n")
    while lines and (not lines[-1].strip() or _is_edit_line(lines[-1])):
        lines.pop()
    return "\n".join(lines).strip("\n") if clean(text) else ""


class EdgeSession:
    """A lazily opened, reused SSH session to one EdgeRouter."""

    def __init__(self, settings: EdgemaxSettings, config: Config) -> None:
        self.settings = settings
        self.config = config
        self._cli: Cli | None = None
        self.where = f"{settings.host}:{settings.port}"
        self.open_seconds: float | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def _build(self) -> Cli:
        s = self.settings
        known_hosts = self.config.resolve_path(s.known_hosts)
        if not known_hosts.is_file():
            raise ProviderAuthError(
                SYSTEM,
                f"known_hosts file {known_hosts} does not exist; host key verification for "
                f"{self.where} is impossible — add the router's key (ssh-keyscan -p {s.port} {s.host})",
            )
        ssh_config = s.ssh_config
        if ssh_config != "/dev/null":
            ssh_config = str(self.config.resolve_path(ssh_config))
        if s.private_key is not None:
            key = self.config.resolve_path(s.private_key)
            if not key.is_file():
                raise ProviderAuthError(SYSTEM, f"private key {key} does not exist")
            auth = AuthOptions(username=s.username, private_key_path=str(key))
        else:
            assert s.password is not None
            auth = AuthOptions(username=s.username, password=s.password.resolve())
        return Cli(
            s.host,
            port=s.port,
            definition_file_or_name=str(DEFINITION),
            auth_options=auth,
            session_options=SessionOptions(
                operation_timeout_ns=int(s.timeout * 1e9), read_max_delay_ns=READ_MAX_DELAY_NS
            ),
            transport_options=TransportBinOptions(
                known_hosts_path=str(known_hosts), enable_strict_key=True, ssh_config_path=ssh_config
            ),
        )

    def open(self) -> None:
        """Connect, authenticate, verify the host key and disable paging (on_open)."""
        if self._cli is not None:
            return
        hold_controlling_terminal()
        cli = self._build()
        start = time.monotonic()
        try:
            cli.open()
        except ScrapliException as exc:
            self._force_close(cli)
            raise self._map(exc, "connecting") from None
        except OSError as exc:
            self._force_close(cli)
            reason = exc.strerror or type(exc).__name__
            raise ProviderUnavailable(SYSTEM, f"cannot connect to {self.where}: {reason}") from None
        self.open_seconds = time.monotonic() - start
        self._cli = cli

    def close(self) -> None:
        cli, self._cli = self._cli, None
        if cli is not None:
            try:
                cli.close()
            except Exception:  # closing a dead session must never mask the real error
                self._force_close(cli)

    @staticmethod
    def _force_close(cli: Cli) -> None:
        with contextlib.suppress(Exception):  # nothing left to release
            cli.close(force=True)

    def __enter__(self) -> EdgeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending --------------------------------------------------------------------------------
    def _map(self, exc: BaseException, doing: str) -> ProviderError:
        text = str(exc)
        low = text.lower()
        if "host key verification failed" in low or "known host" in low or "host key" in low:
            return ProviderAuthError(
                SYSTEM,
                f"host key verification failed for {self.where} — check known_hosts "
                f"({self.config.resolve_path(self.settings.known_hosts)}) holds the router's current key",
            )
        for needle, reason in (("connection refused", "connection refused"), ("no route", "no route to host"),
                               ("unable to resolve", "cannot resolve the host name"),
                               ("could not resolve", "cannot resolve the host name")):
            if needle in low:
                return ProviderUnavailable(SYSTEM, f"cannot connect to {self.where}: {reason}")
        if "timeoutexceeded" in low or "timeout" in low:
            return ProviderTimeout(
                SYSTEM, f"no answer from {self.where} within {self.settings.timeout:g}s while {doing}"
            )
        if "authentication failed" in low or "permission denied" in low or "password prompt" in low:
            return ProviderAuthError(
                SYSTEM, f"authentication as {self.settings.username} on {self.where} failed"
            )
        if "open failed" in low:  # e.g. `ssh` missing or refusing its options
            detail = text.rsplit("error:", 1)[-1].strip(" '") if "error:" in text else "the ssh client failed"
            return ProviderUnavailable(SYSTEM, f"cannot open an SSH session to {self.where}: {detail}")
        if "eof" in low or "closed" in low or "broken pipe" in low:
            return ProviderUnavailable(SYSTEM, f"the connection to {self.where} was lost while {doing}")
        first = text.splitlines()[0] if text else type(exc).__name__
        return ProviderError(SYSTEM, f"SSH session to {self.where} failed while {doing}: {first}")

    def _send(self, command: str, mode: str, *, wait_for_echo: bool = True) -> str:
        """Send one line and read its output up to the prompt.

        ``wait_for_echo=False`` (for `set`/`delete` lines) sends the line and its return at once
        instead of waiting for the echo first (scrapli's FUZZY handling): one round trip less per
        line. The output is still read up to the next prompt and checked by the caller.
        """
        self.open()
        assert self._cli is not None
        handling = InputHandling.FUZZY if wait_for_echo else InputHandling.IGNORE
        try:
            result = self._cli.send_input(command, requested_mode=mode, input_handling=handling)
        except ScrapliException as exc:
            # the session is in an unknown state now: drop it, a later call reconnects
            cli, self._cli = self._cli, None
            self._force_close(cli)
            raise self._map(exc, f"running {command.split(' ', 1)[0]!r}") from None
        return result.result if wait_for_echo else drop_echo(result.result, command)

    # -- op mode --------------------------------------------------------------------------------
    def run_op(self, command: str) -> str:
        """Run an op-mode command; its output without echo, prompts or `[edit]` lines."""
        out = clean(self._send(command, "exec"))
        head = out.lstrip("\n").split("\n", 2)[:2]
        if any(m in ln for ln in head for m in OP_ERRORS):
            raise ProviderDataError(
                SYSTEM, f"the router does not understand {command!r}: {router_message(out)}"
            )
        return out

    def show_commands(self) -> str:
        return self.run_op("show configuration commands")

    def show_leases(self) -> str:
        return self.run_op("show dhcp leases")

    # -- config mode ----------------------------------------------------------------------------
    def _config(self, command: str, *, wait_for_echo: bool = True, raw: bool = False) -> str:
        text = self._send(command, "configuration", wait_for_echo=wait_for_echo)
        out = clean(text)
        if has_error(out):
            raise _RouterRefused(command, out)
        return text if raw else out

    def compare_saved(self) -> SavedCheck:
        """`configure` → `compare saved` → `exit discard`: the diff between the active config and
        /config/config.boot ("" when they are equal). Changes nothing on the router.

        A commit whose `save` never ran (netsot killed, connection lost) shows up here; the
        planner then saves it. A router that refuses the command (an older firmware, a restricted
        user) is a ``SavedCheck`` with ``refused`` set, not a failed read: only this check is lost.
        """
        try:
            out = self._config("compare saved", raw=True)
        except _RouterRefused as refused:
            self._abort()
            return SavedCheck(None, router_message(refused.output))
        except ProviderError:
            self._abort()
            raise
        self._leave_config()
        return SavedCheck(saved_diff(out))

    def compare_working(self) -> str:
        """`configure` → `compare` → leave (`exit discard`): proves the user may enter configuration mode
        and diff (``netsot doctor``); returns what `compare` printed. Changes nothing on the router."""
        try:
            out = self._config("compare")
        except _RouterRefused as refused:
            self._abort()
            message = router_message(refused.output)
            raise ProviderRejected(SYSTEM, f'the router refused \'compare\': "{message}"') from None
        except ProviderError:
            self._abort()
            raise
        self._leave_config()
        return out

    def configure(
        self, lines: Sequence[str], comment: str | None = None, *, save: bool = False,
        before: Tree | None = None,
    ) -> ConfigureResult:
        """Apply ``lines`` in ONE configure session: all set/delete in one batch, compare, commit,
        save, exit.

        The lines go to the router in one write (no round trip per line); the router's reply to
        each is read back by its prompt, and the first refused line is named in the error. Then
        `compare` must show exactly the change the lines make to ``before`` (the configuration as
        read; read here with `show configuration commands` when not given) before `commit`. That
        change is modelled while the router works through the batch (the CPU is idle then); lines
        it cannot model are discarded with the session like a refused one, never committed.
        ``save=True`` saves even when the lines change nothing (or there are none): the router
        holds committed changes that were never saved. On any refusal, mismatch or failure the
        session is discarded and nothing is saved; raises ``ProviderRejected`` quoting the router,
        or the transport error.
        """
        start = time.monotonic()
        comment = self.settings.commit_comment if comment is None else comment
        if comment and not SAFE_COMMENT.fullmatch(comment):
            # the comment is typed into a shell inside double quotes: never let it carry syntax
            raise ProviderRejected(SYSTEM, f"commit_comment {COMMENT_RULE}")
        if not lines and not save:
            return ConfigureResult(compare="", committed=False)
        after: Tree | None = before
        if lines and before is None:
            before = parse.parse_any(self.show_commands(), "show configuration commands")
        read: Tree = before if before is not None else Tree.empty()
        modelled: list[tuple[batch.Change, Tree] | str] = []

        def model() -> None:  # runs while the router works through the batch; never raises
            try:
                modelled.append(batch.intended(read, lines))
            except Exception as exc:  # a bug in the model: the lines must not be committed either way
                modelled.append(f"cannot model the lines' change: {exc!r}")

        notes: list[str] = []
        try:
            notes = self._push(lines, meanwhile=model)
            compare, commit, committed = "", "", False
            if lines:
                if isinstance(modelled[0], str):
                    raise _Unmodelled(modelled[0])
                expected, after = modelled[0]
                diff = saved_diff(self._config("compare", raw=True))  # context lines kept
                compare = "" if clean(diff).startswith(NO_CHANGES) else clean(diff)
                problem = batch.compare_problem(diff if compare else "", expected)
                if problem:
                    raise _RouterRefused(
                        "compare", f"the router's pending change is not the intended one ({problem}); "
                        "was the router's configuration changed since it was read?")
            if compare:
                commit = self._config(f'commit comment "{comment}"' if comment else "commit")
                committed = NOTHING_TO_COMMIT not in commit
            elif not save:
                self._leave_config()
                return ConfigureResult(compare, False, tuple(notes), elapsed=time.monotonic() - start,
                                       after=after)
            saved = self._config("save")
            if "Done" not in saved:
                raise _RouterRefused("save", saved or "save printed no 'Done'")
            self._leave_config()
            return ConfigureResult(compare, committed, tuple(notes), commit, time.monotonic() - start,
                                   after)
        except _RouterRefused as refused:
            self._abort()
            raise ProviderRejected(
                SYSTEM,
                f'the router refused {refused.command!r}: "{router_message(refused.output)}" — '
                "the configure session was discarded and nothing was saved",
            ) from None
        except _Unmodelled as unmodelled:
            self._abort()
            raise ProviderRejected(
                SYSTEM, f"{unmodelled}; the configure session was discarded and nothing was saved"
            ) from None
        except ProviderError:
            self._abort()
            raise

    def _push(self, lines: Sequence[str], meanwhile: Callable[[], object] | None = None) -> list[str]:
        """Send every line (in config mode) in one batch; the router's notes ("already exists")
        per line. Raises ``_RouterRefused`` naming the first line the router refused.

        ``meanwhile`` runs once, right after the batch was written and before its replies are read
        (the router is busy then), or at the end when no line was batched.

        A line whose echo could be mistaken for a prompt or an error (``batch.batchable``; never
        one netsot writes from validated values) goes alone, with a round trip of its own.
        """
        notes: list[str] = []
        pending: list[str] = []
        todo = [meanwhile] if meanwhile is not None else []
        for line in lines:
            if batch.batchable(line, ERROR_MARKERS):
                pending.append(line)
                continue
            notes += self._send_batch(pending, todo)
            pending = []
            out = self._config(line, wait_for_echo=False)
            if out:
                notes.append(f"{line}: {router_message(out)}")
        notes += self._send_batch(pending, todo)
        for job in todo:
            job()
        return notes

    def _send_batch(self, lines: Sequence[str], meanwhile: list[Callable[[], object]]) -> list[str]:
        """One batch: write it, run (and take) the ``meanwhile`` jobs, read its replies."""
        if not lines:
            return []
        self.open()
        assert self._cli is not None
        cli = self._cli
        try:
            cli.enter_mode("configuration")
            cli.write("".join(f"{line}\n" for line in lines))
            while meanwhile:
                meanwhile.pop()()
            text = self._read_prompts(cli, len(lines))
        except ScrapliException as exc:
            self._cli = None
            self._force_close(cli)
            raise self._map(exc, "sending the configuration lines") from None
        echoes = batch.Echoes.of(lines)
        texts = [batch.reply_text(r, echoes) for r in batch.replies(text, len(lines))]
        bad = batch.first_refused(texts, ERROR_MARKERS)
        if bad is not None:
            raise _RouterRefused(lines[bad], texts[bad])
        return [f"{line}: {router_message(out)}" for line, out in zip(lines, texts, strict=True) if out]

    def _read_prompts(self, cli: Cli, count: int) -> str:
        """Everything the router prints until ``count`` config prompts came back.

        Gives up when the router stays silent for the session timeout (the session is dropped
        then: its state is unknown, and the router discards an abandoned configure session).
        """
        chunks: list[str] = []
        seen, tail = 0, ""
        idle_since = time.monotonic()
        pause = 0.0002
        while seen < count:
            try:
                data = cli.read(READ_CHUNK)
            except Exception:  # libscrapli reports a dead transport as an unknown FFI result code
                self._cli = None
                self._force_close(cli)
                raise ProviderUnavailable(
                    SYSTEM, f"the connection to {self.where} was lost while sending the configuration "
                    f"lines ({seen} of {count} answered)") from None
            if not data:
                if time.monotonic() - idle_since > self.settings.timeout:
                    self._cli = None
                    self._force_close(cli)
                    raise ProviderTimeout(
                        SYSTEM, f"no answer from {self.where} within {self.settings.timeout:g}s while "
                        f"sending the configuration lines ({seen} of {count} answered)")
                time.sleep(pause)
                pause = min(pause * 2, 0.005)
                continue
            idle_since, pause = time.monotonic(), 0.0002
            piece = data.decode("utf-8", "replace")
            chunks.append(piece)
            # count prompts in the new text plus a tail of the old (a prompt may span two reads)
            window = tail + piece
            seen += batch.count_prompts(window) - batch.count_prompts(tail)
            tail = window[-200:]
        return "".join(chunks)

    def _leave_config(self) -> None:
        """Back to op mode; the definition de-escalates with `exit discard`, never leaving changes."""
        if self._cli is None:
            return
        try:
            self._cli.enter_mode("exec")
        except ScrapliException as exc:
            cli, self._cli = self._cli, None
            self._force_close(cli)
            raise self._map(exc, "leaving configuration mode") from None

    def _abort(self) -> None:
        """Best effort: `discard`, then `exit discard`; a dead session is simply dropped."""
        if self._cli is None:
            return
        try:
            self._cli.send_input("discard", requested_mode="configuration")
            self._cli.enter_mode("exec")
        except Exception:  # the connection may already be gone; the router drops the session itself
            cli, self._cli = self._cli, None
            if cli is not None:
                self._force_close(cli)


def hold_controlling_terminal() -> bool:
    """Give a terminal-less session leader (systemd, ``setsid``) a private controlling terminal.

    Why: the EdgeMax transport (libscrapli's ``bin`` transport) opens a pseudo-terminal for the
    ssh client. A session leader without a controlling terminal acquires that pty as its own, so
    the ssh child cannot claim it (``authenticate: open failed``) and its hang-up SIGHUPs us.
    Holding a pty of our own (both ends open for the process's life) keeps later ptys free.
    Returns whether it took one. No-op on a normal shell/CI child.
    """
    import fcntl
    import os
    import termios

    if os.name != "posix" or os.getsid(0) != os.getpid():
        return False
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
        return False  # it already has one
    except OSError:
        pass
    try:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    except OSError:
        return False  # the open below then reports what ssh says
    _HELD_TERMINAL.extend((master, slave))
    return True


_HELD_TERMINAL: list[int] = []  # fds kept open for the life of the process (see above)

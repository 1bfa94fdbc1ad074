"""The ``netsot`` click application: the root group, its global options and the error boundary.

Owns: the exit codes, ``App`` (what the global options select, shared through ``ctx.obj``),
``NetsotGroup`` (every error becomes one sentence on stderr and an exit code) and ``cli``.
Must not: define commands (``commands``, ``extra`` and the others do) or print anything but that sentence.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from core.config import Config
from core.errors import ConfigError, NetsotError
from engine.cli.args import TerraformFlagError, rewrite, terraform_globals
from engine.runtime import NETSOT_VERSION, with_parallelism
from engine.safetext import VisibleFormatter, visible

if TYPE_CHECKING:
    from state.backend import StateBackend

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_CONFLICTS, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_PIPE = 141  # stdout was closed early (`netsot show | head`): 128 + SIGPIPE, as a shell reports it


# --------------------------------------------------------------------------- app context


@dataclass
class App:
    """What the global options select, shared by every command through ``ctx.obj``."""

    config_option: str | None = None
    debug: bool = False
    color: bool = True
    force_state: bool = False
    lock_timeout: float = 0.0  # --lock-timeout: seconds to wait for the state lock
    parallelism: int | None = None  # --parallelism: a cap on every system's concurrency
    input: bool = True  # False with Terraform's -input=false: netsot asks nothing, even on a terminal
    _config: Config | None = field(default=None, repr=False)

    def config(self, *, secrets: bool = True) -> Config:
        """The loaded configuration; ``secrets`` also checks every secret reference resolves."""
        from engine.config.load import check_secrets, find_config, load_config

        if self._config is None:
            self._config = with_parallelism(load_config(find_config(self.config_option)), self.parallelism)
        if secrets:
            problems = check_secrets(self._config)
            if problems:
                raise ConfigError(problems)
        return self._config

    def backend(self, config: Config) -> StateBackend:
        """The state backend of ``config``, accepting a regressed state when ``--force-state`` was given."""
        from engine.runtime import open_backend

        return open_backend(config, force=self.force_state)

    def lock(self, backend: StateBackend, operation: str) -> AbstractContextManager[Any]:
        """``backend``'s lock for ``operation``, waiting up to ``--lock-timeout`` for another holder."""
        return backend.lock(operation, timeout=self.lock_timeout)

    def warn_insecure(self, config: Config) -> None:
        """One ``Warning:`` line on stderr per risky setting (never fails the command)."""
        for text in insecure_settings(config):
            click.echo(f"Warning: {text}", err=True)

    def optional_config(self) -> Config | None:
        """The configuration when one is found (commands that also work from a file alone)."""
        from engine.config.load import find_config

        try:
            find_config(self.config_option)
        except ConfigError:
            if self.config_option:
                raise
            return None
        return self.config(secrets=False)


def insecure_settings(config: Config) -> list[str]:
    """What in ``config`` weakens security enough to say so on every run that uses it (each system's
    descriptor says what that is for its settings)."""
    from providers import registry

    out: list[str] = []
    for key in registry.ordered(config.providers):
        check = registry.kind_of(key).insecure
        if check is not None:
            out += check(key, config.settings(key))
    return out


# --------------------------------------------------------------------------- prompts


def _stdin_is_interactive() -> bool:
    """Whether stdin is a terminal (the seam tests replace: ``engine.cli.app._stdin_is_interactive``)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def interactive() -> bool:
    """Whether a person can answer a prompt (asks the seam each time, so a test may replace it)."""
    return _stdin_is_interactive()


# --------------------------------------------------------------------------- error handling


class NetsotGroup(click.Group):
    """Turns every error into one sentence on stderr and the documented exit code.

    Usage errors (an unknown option or command, a bad value) keep click's message but exit 1,
    not click's 2: ``plan --detailed-exitcode`` uses 2 for "changes present", so a typo in CI
    must not read as "there are changes". The root group also accepts Terraform's single-dash
    spellings (``-out x``, ``-auto-approve``; see ``args``) by rewriting argv once.
    """

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        found: dict[str, bool | str] = {}
        if parent is None:
            try:
                args, found = terraform_globals(args, value_options(self))
            except TerraformFlagError as exc:
                raise _usage(str(exc)) from None
            if "chdir" in found:
                _chdir(str(found["chdir"]))
            args = rewrite(args, value_options(self))
        try:
            ctx = super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            exc.exit_code = EXIT_ERROR
            raise
        if parent is None:
            ctx.meta[TERRAFORM_META] = found
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = EXIT_ERROR
            raise
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            quiet_stdout()
            ctx.exit(EXIT_PIPE)
        except NetsotError as exc:
            self._debug_trace(ctx)
            click.echo(f"Error: {_error_text(exc)}", err=True)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            self._debug_trace(ctx)
            click.echo(f"Internal error: {type(exc).__name__}: {exc}; run with --debug for details", err=True)
            ctx.exit(EXIT_ERROR)

    @staticmethod
    def _debug_trace(ctx: click.Context) -> None:
        app = ctx.find_object(App)
        if app is not None and app.debug:
            click.echo(traceback.format_exc(), err=True)


TERRAFORM_META = "netsot.terraform"  # ctx.meta: what -input, -lock and -chdir asked for

LOCK_IGNORED = ("Warning: -lock=false is ignored: netsot always takes the state lock for what writes the "
                "state (apply, import, state rm/mv/push, serve), so two runs can never corrupt it; plan "
                "takes none. --lock-timeout D waits for another run's lock; `netsot force-unlock ID` breaks "
                "the lock of a run that died.")


def _usage(text: str) -> click.UsageError:
    exc = click.UsageError(text)
    exc.exit_code = EXIT_ERROR
    return exc


def _chdir(folder: str) -> None:
    """Terraform's ``-chdir=DIR``: run as if started in DIR (the config, state and plan files are found
    there)."""
    try:
        os.chdir(os.path.expanduser(folder))
    except OSError as exc:
        raise _usage(f"-chdir={folder}: {exc.strerror or exc}") from None


def quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null, so the interpreter's final flush cannot fail
    again (Python's documented recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def value_options(command: click.Command) -> set[str]:
    """Every long option of ``command`` and its subcommands that takes a value (``--out``, ``--target``)."""
    found: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option) and not param.is_flag and not param.count:
            found.update(o for o in param.opts if o.startswith("--"))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found |= value_options(sub)
    return found


def _no_color(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        app_of(ctx).color = False


def no_color_option() -> click.Option:
    """``--no-color``: accepted by every command and group, not only before the command."""
    return click.Option(["--no-color"], is_flag=True, expose_value=False, callback=_no_color,
                        help="Plain output without colours (also: NO_COLOR=1).")


class NetsotCommand(click.Command):
    """A command that takes ``--no-color`` like every other."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(no_color_option())


class NetsotSubGroup(NetsotGroup):
    """A command group below the root (``state``, ``lab``): the same boundary, and ``--no-color``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(no_color_option())


NetsotGroup.command_class = NetsotCommand
NetsotGroup.group_class = NetsotSubGroup


def _error_text(exc: NetsotError) -> str:
    """The sentence to show; a ConfigError made from one unlocated message shows just that message.

    Control characters are shown as escapes (an error may quote a name a system reported); only
    the line breaks between a ConfigError's problems are real.
    """
    if isinstance(exc, ConfigError):
        problems = exc.problems
        if len(problems) == 1 and problems[0].file == "<config>" and problems[0].line is None \
                and not problems[0].key:
            return visible(problems[0].message)
        return "invalid configuration:\n  " + "\n  ".join(visible(str(p)) for p in problems)
    return visible(str(exc))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_seconds(text: str) -> float:
    """``"0"``, ``"30s"``, ``"5m"``, ``"1h"``, ``"500ms"`` → seconds (a bare number is seconds)."""
    match = _DURATION.match(text)
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration (e.g. 30s, 5m, 1h; 0 = do not wait)")
    return float(match.group(1)) * _UNIT[match.group(2)]


def _set_lock_timeout(ctx: click.Context, _param: click.Parameter, value: str) -> None:
    app_of(ctx).lock_timeout = parse_seconds(value)


def _set_parallelism(ctx: click.Context, _param: click.Parameter, value: int | None) -> None:
    if value is not None:
        app_of(ctx).parallelism = value


def lock_timeout_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--lock-timeout DURATION`` on a command that takes the state lock."""
    return click.option("--lock-timeout", metavar="DURATION", default="0s", show_default=True,
                        expose_value=False, callback=_set_lock_timeout,
                        help="Wait this long for the state lock when another run holds it (e.g. 30s, 5m)."
                        )(func)


def parallelism_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--parallelism N`` on a command that reads or writes the systems."""
    return click.option("--parallelism", type=click.IntRange(1, 64), default=None, metavar="N",
                        expose_value=False, callback=_set_parallelism,
                        help="At most N concurrent calls per system (caps each system's max_workers).")(func)


def app_of(ctx: click.Context) -> App:
    return ctx.ensure_object(App)


pass_app = click.make_pass_decorator(App, ensure=True)


@click.group(cls=NetsotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_option", metavar="FILE",
              help="Config file (default: $NETSOT_CONFIG, ./netsot.yaml).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("--no-color", is_flag=True, help="Plain output without colours (also: NO_COLOR=1).")
@click.option("--force-state", is_flag=True,
              help="Use the state file even if it is older than its backup (the old backup is kept aside).")
@click.version_option(NETSOT_VERSION, "--version", prog_name="netsot", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, config_option: str | None, debug: bool, no_color: bool,
        force_state: bool) -> None:
    """netsot keeps a homelab's IP space and DNS consistent: NIPAP, Proxmox VE and an EdgeRouter.

    \b
    Usual flow:  netsot validate  →  netsot plan --out tfplan  →  netsot apply tfplan
    Exit codes:  0 ok, 1 error (usage errors too), 130 interrupted; plan --detailed-exitcode adds
                 2 (changes) and 3 (conflicts block some changes; --conflicts-exitcode 2 makes it 2).
    Terraform's -input=false, -lock=false and -chdir=DIR are accepted anywhere on the line.
    Completion:  eval "$(_NETSOT_COMPLETE=bash_source netsot)" (zsh_source, fish_source; README).
    """
    color = not no_color and "NO_COLOR" not in os.environ
    terraform = ctx.meta.get(TERRAFORM_META, {})
    ctx.obj = App(config_option=config_option, debug=debug, color=color, force_state=force_state,
                  input=bool(terraform.get("input", True)))
    if terraform.get("lock") is False:
        click.echo(LOCK_IGNORED, err=True)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(VisibleFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler], force=True)
    quiet_libraries(debug)


# Libraries that log what netsot reports itself as its one-sentence error (scrapli logs a failed
# SSH open as CRITICAL, then raises the error netsot turns into "Error: edgemax: cannot connect…").
QUIET_LOGGERS = ("scrapli",)


def quiet_libraries(debug: bool) -> None:
    """Their records show with ``--debug`` only."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.CRITICAL + 1)

"""The ``netsot`` click application: the root group, its global options and the error boundary.

Owns: the exit codes, ``App`` (what the global options select, shared through ``ctx.obj``),
``NetsotGroup`` (every error becomes one sentence on stderr and an exit code) and ``cli``.
Must not: define commands (``cli`` and ``cli_ext`` do) or print anything but that sentence.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from core.config import Config
from core.errors import ConfigError, NetsotError
from engine.runtime import NETSOT_VERSION
from engine.safetext import VisibleFormatter, visible

if TYPE_CHECKING:
    from state.backend import StateBackend

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_CONFLICTS, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


# --------------------------------------------------------------------------- app context


@dataclass
class App:
    """What the global options select, shared by every command through ``ctx.obj``."""

    config_option: str | None = None
    debug: bool = False
    color: bool = True
    force_state: bool = False
    _config: Config | None = field(default=None, repr=False)

    def config(self, *, secrets: bool = True) -> Config:
        """The loaded configuration; ``secrets`` also checks every secret reference resolves."""
        from engine.configload import check_secrets, find_config, load_config

        if self._config is None:
            self._config = load_config(find_config(self.config_option))
        if secrets:
            problems = check_secrets(self._config)
            if problems:
                raise ConfigError(problems)
        return self._config

    def backend(self, config: Config) -> StateBackend:
        """The state backend of ``config``, accepting a regressed state when ``--force-state`` was given."""
        from engine.runtime import open_backend

        return open_backend(config, force=self.force_state)

    def warn_insecure(self, config: Config) -> None:
        """One ``Warning:`` line on stderr per risky setting (never fails the command)."""
        for text in insecure_settings(config):
            click.echo(f"Warning: {text}", err=True)

    def optional_config(self) -> Config | None:
        """The configuration when one is found (commands that also work from a file alone)."""
        from engine.configload import find_config

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


# --------------------------------------------------------------------------- error handling


class NetsotGroup(click.Group):
    """Turns every error into one sentence on stderr and the documented exit code.

    Usage errors (an unknown option or command, a bad value) keep click's message but exit 1,
    not click's 2: ``plan --detailed-exitcode`` uses 2 for "changes present", so a typo in CI
    must not read as "there are changes".
    """

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            exc.exit_code = EXIT_ERROR
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = EXIT_ERROR
            raise
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
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
                 2 (changes) and 3 (conflicts block some changes).
    """
    color = not no_color and "NO_COLOR" not in os.environ
    ctx.obj = App(config_option=config_option, debug=debug, color=color, force_state=force_state)
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

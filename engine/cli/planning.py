"""What ``plan``, ``apply`` and ``graph`` share: the targets checked, the plan made as a document, and
the note that another run holds the state lock.

Owns: ``parse_targets``, ``planned`` / ``make_document`` (read with live progress → the workflow's
``plan_run`` → the plan document) and ``note_running_apply``.
Must not: print a plan (``output`` does) or define a command.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from core.config import Config
from core.errors import NetsotError, StateError
from core.model import Address
from engine.cli.app import App
from engine.cli.output import CliObserver
from engine.plan.document import plan_document
from engine.runtime import NETSOT_VERSION, open_providers

_TARGET = re.compile(r"^[a-z][a-z0-9]*_[a-z0-9_]+(\[[a-z][a-z0-9_-]{0,31}\])?(\..+)?$", re.S)


def parse_targets(texts: Sequence[str]) -> tuple[str, ...]:
    """Resource addresses or address prefixes: ``TYPE``, ``TYPE[INSTANCE]``, ``TYPE.NAME…``."""
    for text in texts:
        if not _TARGET.match(text):
            raise NetsotError(f"--target {text!r} is not a resource address (TYPE.NAME or "
                              "TYPE[INSTANCE].NAME, or a prefix of one; `netsot state list` shows some)")
    return tuple(texts)


def make_document(app: App, config: Config, backend: Any, targets: tuple[str, ...], *, force: bool,
                  refresh_only: bool = False, adopt: tuple[Address, ...] = (),
                  replace: tuple[Address, ...] = (), fingerprints: bool = True) -> dict[str, Any]:
    """Read → plan → safety policy, as the plan document (``plan``, ``graph``); ``fingerprints``: with
    those of what was read (a saved or JSON plan; see ``plan_document``)."""
    state = backend.load()
    with open_providers(config) as providers:
        result = planned(app, config, providers, state, targets=targets, force=force,
                         refresh_only=refresh_only, adopt=adopt, replace=replace)
    return plan_document(result.plan, netsot_version=NETSOT_VERSION, fingerprints=fingerprints)


def planned(app: App, config: Config, providers: Mapping[str, Any], state: Any, *,
            targets: tuple[str, ...] = (), force: bool = False, refresh_only: bool = False,
            adopt: tuple[Address, ...] = (), replace: tuple[Address, ...] = ()) -> Any:
    """Read → plan → safety policy (interactive: no service-only gates). Returns the PolicyResult."""
    from engine.plan.planner import read_all
    from engine.workflow import plan_run

    with CliObserver(verbose_reads=stderr_is_tty(), color=app.color) as observer:
        observations = read_all(providers, observer)
    return plan_run(config, providers, state, targets=targets, force=force, observations=observations,
                    refresh_only=refresh_only, adopt=adopt, replace_addresses=replace)


def note_running_apply(backend: Any) -> None:
    """``Note:`` on stderr when another run holds the state lock: this plan may be out of date.

    A plan takes no lock (it writes nothing); it says so instead of waiting or reading a state
    that is about to change. A lock that cannot be read is no reason to fail a plan.
    """
    try:
        holder = backend.lock_info()
    except StateError:
        return
    if holder is None:
        return
    from state.lock import pid_alive

    if holder.on_this_host() and not pid_alive(holder.pid):
        click.echo(f"Note: the state lock is stale: it was taken by pid {holder.pid} ({holder.user}@"
                   f"{holder.host}, {holder.operation!r} since {holder.created}), which is no longer running "
                   "(killed, or the machine restarted). The next apply breaks it and finishes or records the "
                   f"interrupted work; to clear it now, run: netsot force-unlock {holder.id}", err=True)
        return
    click.echo(f"Note: {holder.user}@{holder.host} (pid {holder.pid}) is running {holder.operation!r} "
               f"on this state right now (since {holder.created}); this plan may be out of date.",
               err=True)


def stderr_is_tty() -> bool:
    """Whether stderr is a terminal (live read progress goes there)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False

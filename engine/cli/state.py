"""``netsot state list|show|rm|mv|pull|push``: the state, inspected and edited (never a system).

Owns: the options and messages of the state subcommands. Every edit takes the state lock
(``--lock-timeout``), and the file backend keeps the previous state as ``<state>.backup`` (each
command says where). ``mv`` renames one object within its system and type; ``pull`` prints the
stored document; ``push`` replaces it with a file, refusing — as Terraform does, unless
``--force`` — a state of another lineage, or one whose serial is not newer than the stored one.
Must not: touch a system, or write a state that the state schema refuses.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from core.errors import NetsotError, StateError
from core.model import Address
from engine.cli.app import App, cli, lock_timeout_option, pass_app
from engine.cli.output import resource_text
from state.backend import file_side
from state.model import ADOPTED, UNKNOWN, State


@cli.group()
def state() -> None:
    """Inspect and edit the state (never touches a system)."""


@state.command("list")
@pass_app
def state_list(app: App) -> None:
    """List the addresses netsot owns; an object netsot adopted (or cannot tell) says so after it."""
    resources = app.backend(app.config(secrets=False)).load().resources
    for address in sorted(resources):
        click.echo(ownership_line(address, resources[address].ownership))


def ownership_line(address: str, ownership: str) -> str:
    """``ADDR`` for an object netsot made; ``ADDR  (adopted)`` / ``ADDR  (unknown: …)`` otherwise."""
    if ownership == ADOPTED:
        return f"{address}  (adopted)"
    if ownership == UNKNOWN:
        return f"{address}  (unknown: made or adopted, read as adopted)"
    return address


@state.command("show")
@click.argument("address")
@pass_app
def state_show(app: App, address: str) -> None:
    """Show one owned object as recorded in the state."""
    resources = app.backend(app.config(secrets=False)).load().resources
    if address not in resources:
        raise StateError(f"{address} is not in the state (see `netsot state list`)")
    click.echo(resource_text(resources[address]))


@state.command("rm")
@click.argument("addresses", nargs=-1, required=True)
@lock_timeout_option
@pass_app
def state_rm(app: App, addresses: tuple[str, ...]) -> None:
    """Forget objects: remove them from the state only; no system is changed."""
    backend = app.backend(app.config(secrets=False))
    with app.lock(backend, "state rm"):
        current = backend.load()
        missing = [a for a in addresses if a not in current.resources]
        if missing:
            raise StateError(f"not in the state: {', '.join(missing)}; nothing was removed")
        new = current
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for address in dict.fromkeys(addresses):
            new = new.forget(address, when)
        saved = backend.save(new)
    for address in dict.fromkeys(addresses):
        click.echo(f"Removed {address}")
    n = len(dict.fromkeys(addresses))
    click.echo(f"Successfully removed {n} {_plural(n, 'object')} from the state (serial {saved.serial}). "
               "No system was changed: the objects still exist and netsot no longer manages them.")
    click.echo(backup_note(backend))


@state.command("mv")
@click.argument("source", metavar="SOURCE")
@click.argument("destination", metavar="DESTINATION")
@lock_timeout_option
@pass_app
def state_mv(app: App, source: str, destination: str) -> None:
    """Record the object at SOURCE under the address DESTINATION (same system and type).

    Use it when an object netsot owns got another address (a renamed host) and must not be deleted
    and created again. Nothing on the system changes.
    """
    src, dst = _address(source), _address(destination)
    if (src.type, src.instance) != (dst.type, dst.instance):
        raise StateError(f"cannot move {src} to {dst}: an object keeps its system and type "
                         f"({src.type}{f'[{src.instance}]' if src.instance else ''}); only the name part "
                         "changes")
    backend = app.backend(app.config(secrets=False))
    with app.lock(backend, "state mv"):
        current = backend.load()
        saved = backend.save(moved(current, str(src), str(dst)))
    click.echo(f"Move \"{src}\" to \"{dst}\"")
    click.echo(f"Successfully moved 1 object (serial {saved.serial}). No system was changed.")
    click.echo(backup_note(backend))


def moved(current: State, src: str, dst: str) -> State:
    """``current`` with ``src`` recorded as ``dst``, and dependencies on it following (journal untouched)."""
    record = current.resources.get(src)
    if record is None:
        raise StateError(f"{src} is not in the state (see `netsot state list`); nothing was moved")
    if dst in current.resources:
        raise StateError(f"{dst} is already in the state; move or remove it first (nothing was moved)")
    new = current.without(src).with_resource(replace(record, address=dst))
    for other in list(new.resources.values()):
        if src in other.dependencies:
            deps = tuple(dst if d == src else d for d in other.dependencies)
            new = new.with_resource(replace(other, dependencies=deps))
    return new


@state.command("pull")
@pass_app
def state_pull(app: App) -> None:
    """Print the stored state document (JSON), e.g. to keep a copy or edit it for `state push`."""
    from state import codec

    current = app.backend(app.config(secrets=False)).load()
    click.echo(codec.dumps(current), nl=False)


@state.command("push")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--force", is_flag=True,
              help="Push even a state of another lineage, or one that is not newer than the stored one.")
@lock_timeout_option
@pass_app
def state_push(app: App, path: str, force: bool) -> None:
    """Replace the stored state with FILE ("-": standard input), checked against the state schema.

    Refused without --force: a state of another lineage, or one whose serial is not above the
    stored one (the stored state has moved on since FILE was pulled).
    """
    from state import codec

    pushed = codec.loads(_read(path), path if path != "-" else "<stdin>")
    backend = app.backend(app.config(secrets=False))
    with app.lock(backend, "state push"):
        current = backend.load()
        refusal = push_refusal(current, pushed, stored=current.serial > 0)
        if refusal and not force:
            raise StateError(f"{refusal}; nothing was pushed (--force pushes it anyway)")
        if current.content() == pushed.content() and current.lineage == pushed.lineage:
            click.echo(f"The stored state already has this content (serial {current.serial}); "
                       "nothing to push.")
            return
        saved, kept = backend.replace(pushed)
    click.echo(f"Pushed {path} to {backend.describe()}: lineage {saved.lineage}, serial {saved.serial}, "
               f"{len(saved.resources)} {_plural(len(saved.resources), 'object')}.")
    for copy in kept:
        click.echo(f"The replaced state of lineage {current.lineage} is kept in {copy}.")
    if not kept:
        click.echo(backup_note(backend))


def push_refusal(current: State, pushed: State, stored: bool = True) -> str | None:
    """Why ``state push`` must not replace ``current`` with ``pushed`` without --force (Terraform's rules)."""
    if not stored:
        return None
    if pushed.lineage != current.lineage:
        return (f"FILE belongs to lineage {pushed.lineage}, the stored state to lineage {current.lineage}: "
                "it is another state, not a copy of this one")
    if pushed.serial <= current.serial and pushed.content() != current.content():
        return (f"FILE has serial {pushed.serial}, the stored state serial {current.serial}: the stored "
                "state changed after FILE was taken, and pushing it would lose those changes")
    return None


def backup_note(backend: Any) -> str:
    side = file_side(backend)
    path = side.backup_path if side is not None else None
    if path is None:
        return f"The state {backend.describe()} keeps no backup of the previous state."
    return f"The previous state is kept in {path}."


def _address(text: str) -> Address:
    try:
        return Address.parse(text)
    except ValueError:
        raise NetsotError(f"{text!r} is not a resource address (TYPE.NAME or TYPE[INSTANCE].NAME)") from None


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


__all__ = ["moved", "push_refusal", "state"]

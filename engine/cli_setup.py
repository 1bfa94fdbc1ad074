"""``netsot doctor`` (and ``netsot init``): connecting netsot to a homelab's own systems.

Owns: these commands' options and exit codes. The checks live in ``engine.doctor`` (and each
system's ``doctor`` hook), the config writer in ``engine.init``.
Must not: change anything on a system.
"""

from __future__ import annotations

import json

import click

from core.config import split_key
from core.errors import NetsotError
from engine.cliapp import EXIT_ERROR, EXIT_OK, App, pass_app


def _register() -> None:
    from engine.cliapp import cli

    cli.add_command(doctor)


@click.command()
@click.argument("systems", nargs=-1, metavar="[SYSTEM]...")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@pass_app
def doctor(app: App, systems: tuple[str, ...], as_json: bool) -> None:
    """Check each system: reachable, TLS / host key as pinned, authenticated, and every privilege netsot
    needs to read and to write (exit 0 when all needed checks pass, 1 otherwise). Changes nothing.

    SYSTEM (a kind or KIND.INSTANCE) limits the checks to those systems.
    """
    from engine import doctor as doc

    config = app.config()
    keys = None
    if systems:
        keys = []
        for name in systems:
            found = [k for k in config.providers if k == name or split_key(k)[0] == name]
            if not found:
                raise NetsotError(f"{name!r} is not a configured system (configured: "
                                  f"{', '.join(config.providers) or 'none'})")
            keys += [k for k in found if k not in keys]
    progress = None if as_json else (lambda key: click.echo(f"checking {key}…", err=True))
    reports = doc.examine(config, keys, progress)
    if as_json:
        click.echo(json.dumps(doc.render_json(reports), indent=2))
    else:
        click.echo(doc.render_text(reports, app.color), nl=False)
    click.get_current_context().exit(EXIT_OK if doc.passed(reports) else EXIT_ERROR)


_register()

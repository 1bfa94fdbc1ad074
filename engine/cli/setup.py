"""``netsot doctor`` (and ``netsot init``): connecting netsot to a homelab's own systems.

Owns: these commands' options and exit codes. The checks live in ``engine.config.doctor`` (and each
system's ``doctor`` hook), the config writer in ``engine.config.init``.
Must not: change anything on a system.
"""

from __future__ import annotations

import json

import click

from core.config import split_key
from core.errors import NetsotError
from engine.cli.app import EXIT_ERROR, EXIT_OK, App, NetsotCommand, interactive, pass_app


def _register() -> None:
    from engine.cli.app import cli

    cli.add_command(doctor)
    cli.add_command(init)


@click.command()
@click.argument("systems", nargs=-1, metavar="[SYSTEM]...")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@pass_app
def doctor(app: App, systems: tuple[str, ...], as_json: bool) -> None:
    """Check each system: reachable, TLS / host key as pinned, authenticated, and every privilege netsot
    needs to read and to write (exit 0 when all needed checks pass, 1 otherwise). Changes nothing.

    SYSTEM (a kind or KIND.INSTANCE) limits the checks to those systems.
    """
    from engine.config import doctor as doc

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


class InitCommand(NetsotCommand):
    """``init`` whose options include each system's own (its ``init`` hook's), loaded when needed."""

    _loaded = False

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        if not self._loaded:
            from engine.config.init import hooks

            self._loaded = True
            for _kind, hook in hooks():
                self.params[:0] = list(hook.options())
        return super().get_params(ctx)


@click.command(cls=InitCommand)
@click.option("--force", is_flag=True,
              help="Replace an existing config file (and its secrets, CA, known_hosts).")
@click.option("--yes", "assume_yes", is_flag=True,
              help="Ask nothing (for scripts): every answer from the options (a system without its address "
                   "option is left out); certificates and host keys are trusted only when their fingerprints "
                   "are given.")
@click.pass_context
def init(ctx: click.Context, force: bool, assume_yes: bool, **answers: object) -> None:
    """Write a commented netsot.yaml from your own Proxmox VE, EdgeRouter and NIPAP.

    Asks for each system's address and credentials (or takes them from the options), shows the
    TLS certificate's and the SSH host key's fingerprints before trusting them, stores secrets
    under secrets/ (mode 0600), reads the router's DHCP networks, NIPAP's prefixes and the Proxmox
    guests' bridges and VLANs, and matches them into networks. It never writes to a system. The
    file goes where --config says (default ./netsot.yaml).
    """
    from pathlib import Path

    from engine.config.init import Wizard, run

    app = ctx.ensure_object(App)
    path = Path(app.config_option or "netsot.yaml").resolve()
    if path.exists() and not force:
        raise NetsotError(f"{path} exists; give --force to replace it (or --config ANOTHER.yaml)")
    path.parent.mkdir(parents=True, exist_ok=True)
    wizard = Wizard(path.parent, interactive=interactive(), assume_yes=assume_yes,
                    echo=lambda text: click.echo(text, err=True), prompt=click.prompt, confirm=click.confirm,
                    force=force)
    click.echo(run(path, answers, wizard), nl=False)


_register()

"""The commands whose work lives in other rooms: inventory, import, verify, serve, ui, explain, adopt.

Owns: their options and help, and calling the function that does the work — imported plainly,
inside the command, so ``netsot --help`` stays light. Must not: hold the commands' logic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from core.errors import NetsotError
from engine.cli.app import EXIT_ERROR, EXIT_OK, App, cli, lock_timeout_option, parallelism_option, pass_app

# --------------------------------------------------------------------------- dispatched commands


def _emit(result: Any) -> None:
    """Print a dispatched command's result: text, or ``(text, exit_code)``, or an exit code."""
    code = EXIT_OK
    if isinstance(result, tuple):
        result, code = result
    elif isinstance(result, int) and not isinstance(result, bool):
        result, code = None, result
    if result:
        click.echo(result, nl=not str(result).endswith("\n"))
    if code:
        click.get_current_context().exit(code)


def _system(value: str | None) -> str | None:
    """A system argument: a kind (``KIND``) or an instance (``KIND.NAME``) the registry knows."""
    if value is None:
        return None
    from core.config import split_key
    from providers import registry

    if split_key(value)[0] not in registry.names():
        known = ", ".join(registry.names())
        raise click.BadParameter(f"{value!r} is not a system (one of: {known}, or KIND.INSTANCE)")
    return value


@cli.command()
@click.argument("system", required=False, metavar="[SYSTEM]", callback=lambda _c, _p, v: _system(v))
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False), help="Read a saved dump instead.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@pass_app
def inventory(app: App, system: str | None, from_file: str | None, as_json: bool) -> None:
    """List what a system holds (every configured system without SYSTEM).

    SYSTEM is a kind, or KIND.INSTANCE for a named instance.
    """
    from providers import registry

    if from_file and not system:
        raise NetsotError(f"--from-file needs a SYSTEM (one of: {', '.join(registry.names())})")
    config = app.optional_config() if from_file else app.config()
    if system:
        keys: Sequence[str] = (_default_key(config, system),)
    else:
        assert config is not None
        keys = registry.ordered(config.providers)
        if not keys:
            raise NetsotError("no system is configured (providers: in the config)")
    for key in keys:
        run = registry.hook(registry.kind_of(key).name, "inventory")
        if run is None:
            raise NetsotError(f"inventory for {key} is not available")
        _emit(run(config, from_file, as_json, key))


def _default_key(config: Any, system: str) -> str:
    """A bare kind means its default instance when the config has one."""
    if config is None or "." in system or system in config.providers:
        return system
    return config.default_instance(system) or system


@cli.command("import")
@click.argument("target", metavar="SYSTEM | ADDR")
@click.argument("ident", metavar="[ID]", required=False)
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False),
              help="Import from a backup of the system (e.g. a router's config.boot) instead of reading it.")
@click.option("--dry-run", is_flag=True, help="Show what would be adopted; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@lock_timeout_option
@parallelism_option
@pass_app
def import_command(app: App, target: str, ident: str | None, from_file: str | None, dry_run: bool,
                   as_json: bool) -> None:
    """Adopt existing objects so netsot manages them.

    \b
    netsot import SYSTEM       every object of a system (a kind or KIND.INSTANCE) that can be adopted
    netsot import ADDR ID      one object, named by its system's own ID:
      nipap_address.lan.nas 192.168.10.20      a NIPAP host, by IP or by prefix id
      proxmox_ipconfig.pve1.101.net0 pve1/101/net0     a Proxmox NIC (node/vmid/netN)
      edgemax_dhcp_mapping.LAN.nas "service dhcp-server shared-network-name LAN subnet
          192.168.10.0/24 static-mapping nas"     a router entry, by its config path
    """
    from engine.cli.output import import_output
    from engine.workflow import import_one_run, import_run

    if ident is None:
        outcome = import_run(app.config(secrets=not from_file), _system_or_address(target), from_file,
                             dry_run, force_state=app.force_state, lock_timeout=app.lock_timeout)
    else:
        if from_file:
            raise NetsotError("--from-file imports a whole system: `netsot import SYSTEM --from-file FILE`")
        outcome = import_one_run(app.config(), _address(target), ident, dry_run, force_state=app.force_state,
                                 lock_timeout=app.lock_timeout)
    _emit(import_output(outcome, dry_run, as_json))


def _system_or_address(value: str) -> str:
    if "_" in value.split(".", 1)[0]:
        raise click.BadParameter(f"{value!r} is a resource address: `netsot import ADDR ID` names the object "
                                 "to adopt by its ID (see `netsot import --help`)",
                                 param_hint="SYSTEM | ADDR")
    return str(_system(value))


def _address(value: str) -> Any:
    from core.model import Address

    try:
        return Address.parse(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a resource address (TYPE.NAME or TYPE[INSTANCE].NAME)",
                                 param_hint="ADDR") from None


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@parallelism_option
@pass_app
def verify(app: App, as_json: bool) -> None:
    """Check the systems agree: DNS answers, router config, NIPAP, guest agents."""
    from engine.apply.verify import render_json, render_table
    from engine.workflow import verify_run

    results = verify_run(app.config(), force_state=app.force_state)
    text = render_json(results) if as_json else render_table(results)
    _emit((text, EXIT_OK if all(c.ok for c in results) else EXIT_ERROR))


@cli.command()
@click.option("--once", is_flag=True, help="Run one cycle and exit.")
@click.option("--interval", type=click.FloatRange(min=1), default=300, show_default=True,
              help="Seconds between cycles.")
@click.option("--jitter", type=click.FloatRange(0, 1), default=0.1, show_default=True,
              help="Random spread of the interval (fraction).")
@click.option("--listen", metavar="HOST:PORT", default=None,
              help="Serve /healthz and /metrics here (e.g. 127.0.0.1:9107).")
@click.option("--force", is_flag=True, help="Lift the change-size thresholds of the safety policy.")
@click.option("--stale-after", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="/healthz reports 503 'stale' this long after the last successful run "
                   "[default: 3 intervals, at least 60].")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--token-file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Require 'Authorization: Bearer <token>' (the token is FILE's content) on every endpoint "
                   "but /healthz.")
@click.option("--allow-remote", is_flag=True,
              help="Allow --listen on an address other than loopback (the page shows every name, IP and "
                   "MAC).")
@click.option("--watch-interval", type=click.FloatRange(min=0), default=1.0, show_default=True,
              metavar="SECONDS",
              help="Between full reads, look for changes this often (Proxmox's task log and guest list, "
                   "NIPAP's last_modified) and run on only what changed; 0 turns the watch off.")
@lock_timeout_option
@parallelism_option
@pass_app
def serve(app: App, once: bool, interval: float, jitter: float, listen: str | None, force: bool,
          stale_after: float | None, log_format: str, token_file: str | None, allow_remote: bool,
          watch_interval: float) -> None:
    """Run the reconcile loop: plan and apply what the safety policy allows.

    With --listen it serves the status page (/), host pages, /plan, /metrics and /healthz. Without
    --token-file, everything but /healthz answers anyone who can reach --listen.
    """
    from engine.web.service import ServiceOptions, read_token, run

    token = read_token(token_file) if token_file else None
    config = app.config()
    app.warn_insecure(config)
    if listen:
        _check_listen(listen, allow_remote, token)
    options = ServiceOptions(interval=interval, jitter=jitter, once=once, listen=listen, force=force,
                          stale_after=stale_after, force_state=app.force_state, token=token,
                          lock_timeout=app.lock_timeout, watch_interval=watch_interval)
    _emit(run(config, options, log_format))


def _check_listen(listen: str, allow_remote: bool, token: str | None) -> None:
    """Loopback only, unless --allow-remote; remote without a token is said out loud."""
    _host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"{listen!r} is not HOST:PORT (e.g. 127.0.0.1:9107)",
                                 param_hint="--listen")
    if _is_loopback(listen):
        return
    if not allow_remote:
        raise NetsotError(f"--listen {listen} is not a loopback address: the page and /plan show every name, "
                          "IP and MAC to anyone who can reach it; pass --allow-remote (and --token-file) to "
                          "do that")
    if token is None:
        click.echo(f"Warning: --listen {listen} is not a loopback address and no --token-file is given: "
                   "the status page, /plan and /metrics are served without authentication to anyone who can "
                   "reach it", err=True)


def _is_loopback(listen: str) -> bool:
    from engine.web.app import is_loopback

    return is_loopback(listen)


@cli.command()
@click.option("--listen", metavar="HOST:PORT", default="127.0.0.1:9108", show_default=True,
              help="Where to serve the page (port 0: any free port).")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Require the bearer token in FILE on every endpoint but /healthz (/login sets a cookie).")
@click.option("--allow-remote", is_flag=True, help="Allow --listen on an address other than loopback.")
@click.option("--stale-after", type=click.FloatRange(min=1), default=900, show_default=True,
              metavar="SECONDS",
              help="Flag a system's data as stale this long after its last good read.")
@pass_app
def ui(app: App, listen: str, token_file: str | None, allow_remote: bool, stale_after: float) -> None:
    """Serve the status page for a look: one read + plan (nothing applied, no state written, no lock);
    the page's button re-reads. Ctrl-C stops it."""
    from engine.web.service import read_token
    from engine.web.ui import UiOptions, run

    token = read_token(token_file) if token_file else None
    config = app.config()
    app.warn_insecure(config)
    _check_listen(listen, allow_remote, token)
    _emit(run(config, UiOptions(listen=listen, token=token, force_state=app.force_state,
                                  stale_after=stale_after)))


@cli.command()
@click.argument("query", metavar="HOST|IP|MAC|ADDR")
@click.option("--json", "as_json", is_flag=True, help="JSON output (schemas/explain.v1.schema.json).")
@pass_app
def explain(app: App, query: str, as_json: bool) -> None:
    """Why one host is as it is: every attribute per system, the winner and its rule, planned changes,
    conflicts, history. HOST is a name or NETWORK/NAME. Reads and plans; changes nothing."""
    from engine.report.explain import run

    _emit(run(app.config(), query, as_json, force_state=app.force_state))


@cli.group()
def adopt() -> None:
    """Turn something netsot only sees into something it manages (writes the config file only)."""


@adopt.command("lease")
@click.argument("mac", metavar="MAC")
@click.option("--name", default=None,
              help="The host name (default: the name the device sent, as a DNS label).")
@click.option("--network", default=None, metavar="NET", help="The network (default: the lease's).")
@pass_app
def adopt_lease(app: App, mac: str, name: str | None, network: str | None) -> None:
    """Declare a discovered device (a dynamic lease) as a host: adds its hosts: entry to the config file,
    keeping the file's comments and layout. The next plan gives it an address, a reservation and a name."""
    from engine.config.adopt import run
    from engine.config.load import find_config

    _emit(run(app.config(), find_config(app.config_option), mac, name, network,
              force_state=app.force_state))

"""``netsot`` commands that other packages own: inventory, import, verify, serve, ui, explain, adopt,
lab, demo.

Owns: their options and help, and dispatching each one lazily to a ``run``-style function in
its module (so a module that does not exist yet is a clear message, and ``cli`` stays light).
Must not: hold the commands' logic, which lives in the module each one dispatches to.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from core.errors import NetsotError
from engine.cliapp import EXIT_OK, App, cli, lock_timeout_option, parallelism_option, pass_app

# --------------------------------------------------------------------------- dispatched commands


def _extension(module: str, attr: str, feature: str) -> Callable[..., Any]:
    """``module:attr``, imported now; a module that does not exist yet is a clear error."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise NetsotError(f"{feature} is not available") from None
        raise
    func = getattr(mod, attr, None)
    if not callable(func):
        raise NetsotError(f"{feature} is not available")
    return func


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
    from engine.cliout import import_output
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
    run = _extension("engine.verify", "run", "verify")
    _emit(run(app.config(), as_json, force_state=app.force_state))


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
    run = _extension("engine.service", "run", "serve")
    options_cls = _extension("engine.service", "ServiceOptions", "serve")
    token = _extension("engine.service", "read_token", "serve")(token_file) if token_file else None
    config = app.config()
    app.warn_insecure(config)
    if listen:
        _check_listen(listen, allow_remote, token)
    options = options_cls(interval=interval, jitter=jitter, once=once, listen=listen, force=force,
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
    from engine.web import is_loopback

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
    run = _extension("engine.ui", "run", "ui")
    options_cls = _extension("engine.ui", "UiOptions", "ui")
    token = _extension("engine.service", "read_token", "ui")(token_file) if token_file else None
    config = app.config()
    app.warn_insecure(config)
    _check_listen(listen, allow_remote, token)
    _emit(run(config, options_cls(listen=listen, token=token, force_state=app.force_state,
                                  stale_after=stale_after)))


@cli.command()
@click.argument("query", metavar="HOST|IP|MAC|ADDR")
@click.option("--json", "as_json", is_flag=True, help="JSON output (schemas/explain.v1.schema.json).")
@pass_app
def explain(app: App, query: str, as_json: bool) -> None:
    """Why one host is as it is: every attribute per system, the winner and its rule, planned changes,
    conflicts, history. HOST is a name or NETWORK/NAME. Reads and plans; changes nothing."""
    run = _extension("engine.explain", "run", "explain")
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
    from engine.configload import find_config

    run = _extension("engine.adopt", "run", "adopt lease")
    _emit(run(app.config(), find_config(app.config_option), mac, name, network,
              force_state=app.force_state))


LAB_DIR = ".netsot-lab"


@cli.group()
def lab() -> None:
    """The embedded lab: simulated Proxmox, NIPAP and EdgeRouter on loopback."""


def _lab_command(name: str, help_text: str) -> None:
    @lab.command(name, help=help_text)
    @click.option("--dir", "workdir", type=click.Path(file_okay=False), default=LAB_DIR, show_default=True,
                  help="Where the lab keeps its config, state and logs.")
    def command(workdir: str) -> None:
        _emit(_extension("providers.lab", name, f"lab {name}")(Path(workdir)))


@lab.command("up", help="Start the simulators with a seeded homelab and write a ready config.")
@click.option("--dir", "workdir", type=click.Path(file_okay=False), default=LAB_DIR, show_default=True,
              help="Where the lab keeps its config, state and logs.")
@click.option("--guests", type=click.IntRange(1, 500), default=15, show_default=True,
              help="How many Proxmox guests the seeded homelab has (site 1).")
@click.option("--sites", type=click.IntRange(1, 2), default=None,
              help="Sites: 2 adds a second site, the cabin, with its own cluster, router and DNS "
                   "(the config's KIND.cabin instances) against the same IPAM. Default: as many as the "
                   "lab in --dir ran last time (after `make demo`: 2), else 1.")
@click.option("--fresh", is_flag=True,
              help="Start the systems from the seeds, not from what they saved when the lab last stopped.")
@click.option("--router", "routers", multiple=True, metavar="SITE=KIND",
              help="Run a site's router as another router kind's simulator (site 1 is `home`, site 2 "
                   "`cabin`; README's lab section lists the kinds). Repeatable. Default: the default "
                   "router kind, or what the lab in --dir ran last time when --sites is not given either.")
def lab_up(workdir: str, guests: int, sites: int | None, fresh: bool, routers: tuple[str, ...]) -> None:
    _emit(_extension("providers.lab", "up", "lab up")(Path(workdir), guests=guests, sites=sites,
                                                      fresh=fresh, routers=routers or None))


def _lab_dir(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--site", default="", metavar="SITE",
                        help="Which site: the default is site 1; `cabin` is site 2 (lab up --sites 2).")(func)
    return click.option("--dir", "workdir", type=click.Path(file_okay=False), default=LAB_DIR,
                        show_default=True, help="The lab's folder.")(func)


@lab.group("guest")
def lab_guest() -> None:
    """Add, remove and change guests of the running lab (through the Proxmox API)."""


@lab_guest.command("add")
@click.argument("name")
@click.option("--node", default=None, help="The node (default: the site's first).")
@click.option("--mac", default=None, help="The NIC's MAC (default: the cluster picks one, BC:24:11:…).")
@click.option("--network", default=None, help="The lab network (lan, servers, cabin): its bridge and VLAN.")
@click.option("--bridge", default=None, help="A bridge without a VLAN (e.g. one no network maps).")
@click.option("--ip", default=None, metavar="CIDR",
              help="A static address (default: DHCP, with a dynamic lease).")
@click.option("--type", "gtype", type=click.Choice(["qemu", "lxc"]), default="qemu", show_default=True)
@click.option("--tag", "tags", multiple=True, help="A Proxmox tag (repeatable), e.g. netsot-static.")
@_lab_dir
def lab_guest_add(name: str, node: str | None, mac: str | None, network: str | None, bridge: str | None,
                  ip: str | None, gtype: str, tags: tuple[str, ...], workdir: str, site: str) -> None:
    """A new running guest NAME (POST /nodes/{node}/qemu or /lxc)."""
    _emit(_extension("providers.lab", "guest", "lab guest")(
        "add", Path(workdir), name, site=site, node=node, mac=mac, bridge=bridge, network=network, ip=ip,
        gtype=gtype, tags=tags))


@lab_guest.command("rm")
@click.argument("which", metavar="NAME|VMID")
@_lab_dir
def lab_guest_rm(which: str, workdir: str, site: str) -> None:
    """Stop and destroy a guest (DELETE /nodes/{node}/{type}/{vmid})."""
    _emit(_extension("providers.lab", "guest", "lab guest")("rm", Path(workdir), which, site=site))


@lab_guest.command("set")
@click.argument("which", metavar="NAME|VMID")
@click.option("--name", default=None, help="Rename the guest.")
@click.option("--nic", default="net0", show_default=True, help="Which NIC the options below change.")
@click.option("--mac", default=None, help="A new MAC for the NIC.")
@click.option("--network", default=None, help="Move the NIC to this lab network (bridge and VLAN).")
@click.option("--bridge", default=None, help="Move the NIC to this bridge (no VLAN).")
@click.option("--ip", default=None, metavar="CIDR", help="Give the NIC a static address.")
@_lab_dir
def lab_guest_set(which: str, name: str | None, nic: str, mac: str | None, network: str | None,
                  bridge: str | None, ip: str | None, workdir: str, site: str) -> None:
    """Change a guest's name, or a NIC's MAC, bridge or address (PUT …/config)."""
    _emit(_extension("providers.lab", "guest", "lab guest")(
        "set", Path(workdir), which, site=site, name=name, mac=mac, bridge=bridge, network=network, ip=ip,
        nic=nic))


@lab_guest.command("restart")
@click.argument("which", metavar="NAME|VMID")
@_lab_dir
def lab_guest_restart(which: str, workdir: str, site: str) -> None:
    """Restart a guest through Proxmox: a stop and a start (POST …/status/stop, …/status/start). A VM
    boots from its rebuilt cloud-init drive, so it takes an address netsot wrote back (pending restart)."""
    _emit(_extension("providers.lab", "guest", "lab guest")("restart", Path(workdir), which, site=site))


@lab.command("ssh")
@_lab_dir
def lab_ssh(workdir: str, site: str) -> None:
    """Log in to the lab's router over SSH (commands on stdin work too: a hand edit in a here-document)."""
    _emit(int(_extension("providers.lab", "ssh", "lab ssh")(Path(workdir), site=site)))


@lab.group("lease")
def lab_lease() -> None:
    """Devices joining the running lab's network (DHCP leases on its router)."""


@lab_lease.command("add")
@click.argument("mac")
@click.option("--hostname", default=None, help="The host name the device sends.")
@click.option("--ip", default=None,
              help="The leased address (default: the first free one of the DHCP range).")
@click.option("--network", default=None, help="The lab network (default: the site's first).")
@click.option("--lease-time", default=86400.0, show_default=True, type=float, metavar="SECONDS",
              help="How long the lease runs; the router expires it then and its address is free again.")
@_lab_dir
def lab_lease_add(mac: str, hostname: str | None, ip: str | None, network: str | None, lease_time: float,
                  workdir: str, site: str) -> None:
    """A device with MAC gets a dynamic lease from the router (as a phone joining the Wi-Fi does)."""
    _emit(_extension("providers.lab", "lease", "lab lease")(Path(workdir), mac, site=site,
                                                          hostname=hostname, ip=ip, network=network,
                                                          lease_time=lease_time))


_lab_command("down", "Stop the simulators.")
_lab_command("status", "Show whether the simulators are running and where.")


@cli.command()
@click.option("--dir", "workdir", type=click.Path(file_okay=False), default=LAB_DIR, show_default=True)
@click.option("--sites", type=click.IntRange(1, 2), default=2, show_default=True,
              help="How many sites the demo's lab has (see `lab up --sites`).")
@click.option("--fresh", is_flag=True,
              help="Delete a lab an earlier run left in --dir (its state and config edits too) and start "
                   "from scratch; without it the demo continues that lab.")
def demo(workdir: str, sites: int, fresh: bool) -> None:
    """Start the lab and walk through import, plan, apply and verify (what `make demo` runs)."""
    _emit(_extension("providers.lab", "demo", "demo")(Path(workdir), echo=click.echo, sites=sites,
                                                      fresh=fresh))

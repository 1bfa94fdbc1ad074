"""The lab's commands on netsot's command line: ``netsot lab up|down|status|guest|ssh|lease`` and
``netsot demo``.

Owns: their options and help; the engine's command-line assembly (``engine/cli/main.py``, the one
engine module the boundary test lets import this one) calls ``add_commands`` with netsot's root group,
so the lab's commands get the root's command classes (the error boundary, ``--no-color``).
Must not: import the engine (the lab drives it through ``python -m engine``), or load the lab
before one of its commands runs (``netsot --help`` stays light).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

LAB_DIR = ".netsot-lab"


def _emit(result: Any) -> None:
    """Print a lab function's result: text, or an exit code (``lab ssh``, ``demo``)."""
    code = 0
    if isinstance(result, int) and not isinstance(result, bool):
        result, code = None, result
    if result:
        click.echo(result, nl=not str(result).endswith("\n"))
    if code:
        click.get_current_context().exit(code)


def _lab_dir(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--site", default="", metavar="SITE",
                        help="Which site: the default is site 1; `cabin` is site 2 (lab up --sites 2).")(func)
    return click.option("--dir", "workdir", type=click.Path(file_okay=False), default=LAB_DIR,
                        show_default=True, help="The lab's folder.")(func)


def add_commands(root: click.Group) -> None:
    """Add ``lab`` (with its subcommands) and ``demo`` to ``root``, netsot's root group."""

    @root.group()
    def lab() -> None:
        """The embedded lab: simulated Proxmox, NIPAP and EdgeRouter on loopback."""

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
                  help="Start the systems from the seeds, not from what they saved when the lab last "
                       "stopped.")
    @click.option("--router", "routers", multiple=True, metavar="SITE=KIND",
                  help="Run a site's router as another router kind's simulator (site 1 is `home`, site 2 "
                       "`cabin`; README's lab section lists the kinds). Repeatable. Default: the default "
                       "router kind, or what the lab in --dir ran last time when --sites is not given "
                       "either.")
    def lab_up(workdir: str, guests: int, sites: int | None, fresh: bool, routers: tuple[str, ...]) -> None:
        from providers.lab import up

        _emit(up(Path(workdir), guests=guests, sites=sites, fresh=fresh, routers=routers or None))

    @lab.group("guest")
    def lab_guest() -> None:
        """Add, remove and change guests of the running lab (through the Proxmox API)."""

    @lab_guest.command("add")
    @click.argument("name")
    @click.option("--node", default=None, help="The node (default: the site's first).")
    @click.option("--mac", default=None, help="The NIC's MAC (default: the cluster picks one, BC:24:11:…).")
    @click.option("--network", default=None,
                  help="The lab network (lan, servers, cabin): its bridge and VLAN.")
    @click.option("--bridge", default=None, help="A bridge without a VLAN (e.g. one no network maps).")
    @click.option("--ip", default=None, metavar="CIDR",
                  help="A static address (default: DHCP, with a dynamic lease).")
    @click.option("--type", "gtype", type=click.Choice(["qemu", "lxc"]), default="qemu", show_default=True)
    @click.option("--tag", "tags", multiple=True, help="A Proxmox tag (repeatable), e.g. netsot-static.")
    @_lab_dir
    def lab_guest_add(name: str, node: str | None, mac: str | None, network: str | None, bridge: str | None,
                      ip: str | None, gtype: str, tags: tuple[str, ...], workdir: str, site: str) -> None:
        """A new running guest NAME (POST /nodes/{node}/qemu or /lxc)."""
        from providers.lab import guest

        _emit(guest(
            "add", Path(workdir), name, site=site, node=node, mac=mac, bridge=bridge, network=network, ip=ip,
            gtype=gtype, tags=tags))

    @lab_guest.command("rm")
    @click.argument("which", metavar="NAME|VMID")
    @_lab_dir
    def lab_guest_rm(which: str, workdir: str, site: str) -> None:
        """Stop and destroy a guest (DELETE /nodes/{node}/{type}/{vmid})."""
        from providers.lab import guest

        _emit(guest("rm", Path(workdir), which, site=site))

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
        from providers.lab import guest

        _emit(guest(
            "set", Path(workdir), which, site=site, name=name, mac=mac, bridge=bridge, network=network, ip=ip,
            nic=nic))

    @lab_guest.command("restart")
    @click.argument("which", metavar="NAME|VMID")
    @_lab_dir
    def lab_guest_restart(which: str, workdir: str, site: str) -> None:
        """Restart a guest through Proxmox: a stop and a start (POST …/status/stop, …/status/start). A VM
        boots from its rebuilt cloud-init drive, so it takes an address netsot wrote back (pending
        restart)."""
        from providers.lab import guest

        _emit(guest("restart", Path(workdir), which, site=site))

    @lab.command("ssh")
    @_lab_dir
    def lab_ssh(workdir: str, site: str) -> None:
        """Log in to the lab's router over SSH (commands on stdin work too: a hand edit in a
        here-document)."""
        from providers.lab import ssh

        _emit(int(ssh(Path(workdir), site=site)))

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
        from providers.lab import lease

        _emit(lease(Path(workdir), mac, site=site, hostname=hostname, ip=ip, network=network,
                    lease_time=lease_time))

    @lab.command("down", help="Stop the simulators.")
    @click.option("--dir", "workdir", type=click.Path(file_okay=False), default=LAB_DIR, show_default=True,
                  help="Where the lab keeps its config, state and logs.")
    def lab_down(workdir: str) -> None:
        from providers.lab import down

        _emit(down(Path(workdir)))

    @lab.command("status", help="Show whether the simulators are running and where.")
    @click.option("--dir", "workdir", type=click.Path(file_okay=False), default=LAB_DIR, show_default=True,
                  help="Where the lab keeps its config, state and logs.")
    def lab_status(workdir: str) -> None:
        from providers.lab import status

        _emit(status(Path(workdir)))

    @root.command()
    @click.option("--dir", "workdir", type=click.Path(file_okay=False), default=LAB_DIR, show_default=True)
    @click.option("--sites", type=click.IntRange(1, 2), default=2, show_default=True,
                  help="How many sites the demo's lab has (see `lab up --sites`).")
    @click.option("--fresh", is_flag=True,
                  help="Delete a lab an earlier run left in --dir (its state and config edits too) and start "
                       "from scratch; without it the demo continues that lab.")
    def demo(workdir: str, sites: int, fresh: bool) -> None:
        """Start the lab and walk through import, plan, apply and verify (what `make demo` runs)."""
        from providers.lab import demo

        _emit(demo(Path(workdir), echo=click.echo, sites=sites, fresh=fresh))

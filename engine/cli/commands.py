"""The core workflow commands: validate, version, plan, apply, show and force-unlock.

Owns: their options, prompts and exit codes. The root group and error boundary live in ``app``,
what is printed about plans and applies in ``output``, what plan, apply and graph share in
``planning``; ``main`` assembles the whole command line. Must not: hold engine logic — it wires
config → backend → providers → plan/apply → render.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from core.config import Config
from core.errors import NetsotError, StateError
from core.model import Address, Plan
from engine.cli.app import (
    EXIT_CHANGES,
    EXIT_CONFLICTS,
    EXIT_ERROR,
    EXIT_OK,
    App,
    app_of,
    cli,
    interactive,
    lock_timeout_option,
    parallelism_option,
    pass_app,
)
from engine.cli.output import CliObserver, apply_report, plan_actions, render_document, resource_text
from engine.cli.planning import make_document, note_running_apply, parse_targets, planned, stderr_is_tty
from engine.cli.setup import doctor as doctor
from engine.cli.state import state as state
from engine.cli.terraform import providers_command as providers_command
from engine.cli.tools import graph as graph
from engine.plan.document import plan_document, render_json
from engine.report.render import render_text
from engine.runtime import NETSOT_VERSION, open_providers

__all__ = ["CliObserver", "cli"]

CONFIRM_PROMPT = "Do you want to perform these actions? Only 'yes' will be accepted:"
UNLOCK_PROMPT = "Do you really want to force-unlock the state? Only 'yes' will be accepted:"


@cli.command()
@pass_app
def validate(app: App) -> None:
    """Check the configuration and that every secret reference resolves."""
    from engine.config.load import find_config

    path = find_config(app.config_option)
    config = app.config()
    app.warn_insecure(config)
    from providers import registry

    systems = ", ".join(registry.ordered(config.providers)) or "none"
    n, h = len(config.networks), len(config.hosts)
    click.echo(f"Configuration OK: {path} ({n} {_plural(n, 'network')}, {h} {_plural(h, 'host')}, "
               f"systems: {systems})")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON output (as `terraform version -json`).")
def version(as_json: bool) -> None:
    """Print the netsot version."""
    if as_json:
        from engine.cli.terraform import version_document

        click.echo(json.dumps(version_document(), indent=2, sort_keys=True))
        return
    click.echo(f"netsot {NETSOT_VERSION} (python {sys.version.split()[0]})")


# --------------------------------------------------------------------------- plan


@cli.command()
@click.option("--out", "out", metavar="FILE", type=click.Path(dir_okay=False),
              help="Save the plan to FILE for `netsot apply FILE`.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON plan document (same as --format json).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 no changes, 1 error, 2 changes, 3 conflicts.")
@click.option("--target", "targets", metavar="ADDR", multiple=True,
              help="Only plan this resource or address prefix (repeatable).")
@click.option("--replace", "replace_", metavar="ADDR", multiple=True,
              help="Delete this owned object and create it again (repeatable).")
@click.option("--force", is_flag=True, help="Lift the change-size thresholds of the safety policy.")
@click.option("--show-unmanaged", is_flag=True,
              help="List the objects netsot neither owns nor will touch (the text view counts them).")
@click.option("--show-discovered", is_flag=True,
              help="List the devices with a dynamic lease that no binding knows (the text view counts them).")
@click.option("--refresh-only", is_flag=True,
              help="Change nothing; record what the systems hold now as the expected state.")
@click.option("--adopt", "adopt", metavar="ADDR", multiple=True,
              help="Keep this object's hand-edited IP / host name: the other systems follow it.")
@click.option("--conflicts-exitcode", type=click.Choice(["2", "3"]), default="3", show_default=True,
              help="With --detailed-exitcode: the exit code when conflicts block some objects "
                   "(2 for wrappers that expect Terraform's 0/1/2; also NETSOT_CONFLICTS_EXITCODE).",
              envvar="NETSOT_CONFLICTS_EXITCODE")
@parallelism_option
@click.pass_context
def plan(ctx: click.Context, out: str | None, as_json: bool, fmt: str, detailed_exitcode: bool,
         targets: tuple[str, ...], replace_: tuple[str, ...], force: bool, show_unmanaged: bool,
         show_discovered: bool,
         refresh_only: bool, adopt: tuple[str, ...], conflicts_exitcode: str = "3") -> None:
    """Show what apply would change (and save it with --out)."""
    app = app_of(ctx)
    fmt = "json" if as_json else fmt
    config = app.config()
    app.warn_insecure(config)
    backend = app.backend(config)
    note_running_apply(backend)
    doc = make_document(app, config, backend, parse_targets(targets), force=force,
                         refresh_only=refresh_only, adopt=_parse_addresses("--adopt", adopt),
                         replace=_parse_addresses("--replace", replace_),
                         fingerprints=bool(out) or fmt == "json")  # only a saved or JSON plan shows them
    if out:
        from engine.plan import sign as plansign
        from engine.plan.document import sealed
        from engine.plan.saved import save_plan

        key = plansign.load_key(plansign.key_path(backend, config), create=True)
        save_plan(out, sealed(plansign.signed(doc, key)))
    warn_targeting(targets)
    click.echo(render_document(doc, fmt, app.color, show_unmanaged, show_discovered, width=output_width()),
               nl=False)
    if out:
        click.echo(f"\nSaved the plan to {out}. To apply exactly this plan, run: netsot apply {out}",
                   err=fmt != "text")
    if detailed_exitcode:
        code = _plan_exit_code(doc)
        ctx.exit(int(conflicts_exitcode) if code == EXIT_CONFLICTS else code)


TARGETING_WARNING = (
    "Warning: Resource targeting is in effect\n\n"
    "You are planning with --target {targets}: only the changes of these addresses and what they need "
    "are shown and applied, so the result may not be everything the configuration asks for. Use it for "
    "exceptional cases (recovering from a mistake, a change in steps), not routinely; a plan without "
    "--target shows the rest.\n"
)


INCOMPLETE_WARNING = (
    "\nWarning: Applied changes may be incomplete\n\n"
    "The plan was made with --target, so changes the configuration asks for outside the targets were "
    "left out. To see whether any are pending, run: netsot plan\n"
)


def warn_targeting(targets: Sequence[str]) -> None:
    """Terraform's "targeting is in effect" warning, on stderr, whenever --target is given."""
    if targets:
        click.echo(TARGETING_WARNING.format(targets=", ".join(targets)), err=True)


def output_width() -> int | None:
    """The width to wrap text output at: the terminal's when stdout is one, or ``$COLUMNS`` when set
    (a pipe into ``less``); otherwise None (files and CI logs keep their long lines for grep)."""
    import os
    import shutil

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(40, int(columns))
    try:
        if not sys.stdout.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return max(40, shutil.get_terminal_size().columns)


def _parse_addresses(option: str, texts: Sequence[str]) -> tuple[Address, ...]:
    out = []
    for text in texts:
        try:
            out.append(Address.parse(text))
        except ValueError:
            raise NetsotError(f"{option} {text!r} is not a resource address (TYPE.NAME or "
                              "TYPE[INSTANCE].NAME)") from None
    return tuple(out)


def _plan_exit_code(doc: Mapping[str, Any]) -> int:
    summary = doc["summary"]
    if summary["conflicts"]:
        return EXIT_CONFLICTS
    if doc["changes"] or summary["held"]:
        return EXIT_CHANGES
    return EXIT_OK


# --------------------------------------------------------------------------- apply


@cli.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for automation).")
@click.option("--target", "targets", metavar="ADDR", multiple=True,
              help="Only plan and apply this resource or address prefix (repeatable).")
@click.option("--replace", "replace_", metavar="ADDR", multiple=True,
              help="Delete this owned object and create it again (repeatable).")
@click.option("--force", is_flag=True, help="Lift the change-size thresholds of the safety policy.")
@click.option("--refresh-only", is_flag=True,
              help="Change nothing; record what the systems hold now as the expected state.")
@click.option("--adopt", "adopt", metavar="ADDR", multiple=True,
              help="Keep this object's hand-edited IP / host name: the other systems follow it.")
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable: one JSON line per change started and finished, and a summary "
                   "(needs --auto-approve or a saved plan).")
@lock_timeout_option
@parallelism_option
@click.pass_context
def apply(ctx: click.Context, planfile: str | None, auto_approve: bool, targets: tuple[str, ...],
          replace_: tuple[str, ...], force: bool, refresh_only: bool, adopt: tuple[str, ...],
          as_json: bool = False) -> None:
    """Apply a saved plan, or plan and apply after confirmation.

    A saved plan counts as approval; it is refused if anything it read changed since.
    """
    app = app_of(ctx)
    config = app.config()
    app.warn_insecure(config)
    doc = None
    if planfile:
        if refresh_only or adopt or targets or replace_:
            raise NetsotError("--refresh-only, --adopt, --target and --replace shape a new plan; a saved "
                              "plan already says what it does (make it with `netsot plan … --out FILE`)")
        from engine.plan.saved import load_plan

        doc = load_plan(planfile)
    elif not auto_approve and as_json:
        raise NetsotError("apply --json asks nothing: pass --auto-approve, or apply a saved plan "
                          "(netsot plan --out FILE)")
    elif not auto_approve and not app.input:
        raise NetsotError("refusing to apply without approval: -input=false means netsot asks nothing; "
                          "pass --auto-approve, or apply a saved plan (netsot plan --out FILE)")
    elif not auto_approve and not interactive():
        raise NetsotError("refusing to apply without approval: stdin is not a terminal, so netsot does not "
                          "ask; pass --auto-approve, or apply a saved plan (netsot plan --out FILE)")
    backend = app.backend(config)
    if doc is not None:
        from engine.plan import sign as plansign

        plansign.verify(doc, plansign.load_key(plansign.key_path(backend, config), create=False), planfile)
    parsed_targets = parse_targets(targets)
    with app.lock(backend, "apply"), open_providers(config) as providers:
        state = backend.load()
        if doc is not None:
            plan_ = _fresh_saved_plan(app, doc, config, providers, state)
        else:
            plan_, state = _plan_and_confirm(
                ctx, config, backend, providers, state, auto_approve=auto_approve, force=force,
                refresh_only=refresh_only, adopt=_parse_addresses("--adopt", adopt), targets=parsed_targets,
                replace=_parse_addresses("--replace", replace_), as_json=as_json)
        if as_json:
            code = _apply_json(plan_, providers, backend, state)
        else:
            report = _apply(app, plan_, providers, backend, state)
    if targets:
        click.echo(INCOMPLETE_WARNING, err=True)
    ctx.exit(code if as_json else apply_report(plan_, report))


def _apply_json(plan_: Plan, providers: Mapping[str, Any], backend: Any, state: Any) -> int:
    """``apply --json``: the planned changes, a line per change started and finished, the summary."""
    from engine.cli.terraform import JsonLinesObserver, apply_summary, planned_lines, version_line
    from engine.workflow import apply_run

    click.echo(version_line())
    for line in planned_lines(plan_):
        click.echo(line)
    observer = JsonLinesObserver(plan_actions(plan_))
    report = apply_run(plan_, providers, backend, state, observer)
    line, code = apply_summary(observer, report)
    click.echo(line)
    return code


def _fresh_saved_plan(app: App, doc: Mapping[str, Any], config: Config, providers: Mapping[str, Any],
                      state: Any) -> Plan:
    from engine.workflow import saved_plan_run

    with CliObserver(verbose_reads=stderr_is_tty(), color=app.color) as observer:
        return saved_plan_run(doc, config, providers, state, observer)


def _plan_and_confirm(ctx: click.Context, config: Config, backend: Any, providers: Mapping[str, Any],
                      state: Any, *, auto_approve: bool, force: bool, refresh_only: bool = False,
                      adopt: tuple[Address, ...] = (), targets: tuple[str, ...] = (),
                      replace: tuple[Address, ...] = (), as_json: bool = False) -> tuple[Plan, Any]:
    """Plan, show it, ask; on ``yes`` record the policy's orphan marks. Anything else exits 1."""
    from engine.workflow import record_approval

    app = app_of(ctx)
    result = planned(app, config, providers, state, targets=targets, force=force, refresh_only=refresh_only,
                      adopt=adopt, replace=replace)
    doc = plan_document(result.plan, netsot_version=NETSOT_VERSION, fingerprints=False)  # shown as text only
    warn_targeting(targets)
    if not as_json:
        click.echo(render_text(doc, color=app.color, width=output_width()))
    if doc["applyable"] and not auto_approve and not _confirmed(CONFIRM_PROMPT):
        click.echo("Apply cancelled.")
        ctx.exit(EXIT_ERROR)
    return result.plan, record_approval(backend, state, result)


def _apply(app: App, plan_: Plan, providers: Mapping[str, Any], backend: Any, state: Any) -> Any:
    from engine.workflow import apply_run

    with CliObserver(plan_actions(plan_), verbose_reads=stderr_is_tty(), color=app.color) as observer:
        return apply_run(plan_, providers, backend, state, observer)


# --------------------------------------------------------------------------- show / state


@cli.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.option("--show-unmanaged", is_flag=True, help="List a saved plan's unmanaged objects.")
@click.option("--show-discovered", is_flag=True, help="List a saved plan's discovered devices.")
@pass_app
def show(app: App, planfile: str | None, as_json: bool, show_unmanaged: bool, show_discovered: bool) -> None:
    """Show a saved plan, or the current state when no PLANFILE is given."""
    if planfile:
        from engine.plan.saved import load_plan

        doc = load_plan(planfile)
        text = render_json(doc) if as_json else render_text(
            doc, color=app.color, show_unmanaged=show_unmanaged, show_discovered=show_discovered,
            width=output_width())
        click.echo(text, nl=False)
        return
    backend = app.backend(app.config(secrets=False))
    state = backend.load()
    if as_json:
        click.echo(json.dumps(state.to_dict(), indent=2, sort_keys=True))
        return
    click.echo(f"# state: {backend.describe()} (lineage {state.lineage}, serial {state.serial})")
    if not state.resources:
        click.echo("The state is empty: netsot owns nothing yet.")
    for address in sorted(state.resources):
        click.echo("")
        click.echo(resource_text(state.resources[address]))


@cli.command("force-unlock")
@click.argument("lock_id", metavar="ID")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def force_unlock(ctx: click.Context, lock_id: str, force: bool) -> None:
    """Break the state lock ID left by a run that died.

    A lock whose holder is provably alive (on this host, still holding the lock) is never broken.
    """
    app = app_of(ctx)
    backend = app.backend(app.config(secrets=False))
    holder = backend.lock_info()
    if holder is None:
        raise StateError(f"the state {backend.describe()} is not locked; nothing to unlock")
    click.echo(f"Current {holder}")
    backend.check_unlockable(lock_id)  # a wrong id or a live holder is refused before asking
    if not force:
        if not app.input:
            raise NetsotError("refusing to force-unlock without confirmation: -input=false means netsot "
                              "asks nothing; pass --force")
        if not interactive():
            raise NetsotError("refusing to force-unlock without confirmation: stdin is not a terminal; "
                              "pass --force")
        click.echo("Only break the lock when no other netsot run is active: two applies at once can "
                   "corrupt the state and the systems.")
        if not _confirmed(UNLOCK_PROMPT):
            click.echo("Force-unlock cancelled.")
            ctx.exit(EXIT_ERROR)
    backend.force_unlock(lock_id)
    click.echo("The state has been unlocked.")


# --------------------------------------------------------------------------- helpers / entry point


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _confirmed(prompt: str) -> bool:
    """Ask once; only the exact answer ``yes`` counts (end of input counts as no)."""
    try:
        answer = click.prompt(prompt, default="", show_default=False, prompt_suffix=" ")
    except click.Abort:
        return False
    return answer == "yes"

"""The ``netsot`` command line: the only module that prints.

Owns: commands, options, prompts, exit codes and turning errors into one clear sentence.
Must not: hold engine logic — it wires config → backend → providers → plan/apply → render.
Commands other packages own (inventory, import, verify, serve, lab, demo) are dispatched
lazily to a ``run``-style function in their module, so a missing module is a clear message.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from engine.config import Config
from engine.errors import ConfigError, NetsotError, StateError
from engine.model import Address, Change, ChangeOutcome, Observation, Plan
from engine.render import plan_document, plan_from_document, render_json, render_markdown, render_text
from engine.runtime import NETSOT_VERSION, open_backend, open_providers

CONFIRM_PROMPT = "Do you want to perform these actions? Only 'yes' will be accepted:"
UNLOCK_PROMPT = "Do you really want to force-unlock the state? Only 'yes' will be accepted:"
EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_CONFLICTS, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
PAST = {"create": "Creation complete", "update": "Modifications complete", "delete": "Destruction complete"}


def _stdin_is_interactive() -> bool:
    """Whether a person can answer a prompt (a seam the tests replace)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


# --------------------------------------------------------------------------- app context


@dataclass
class App:
    """What the global options select, shared by every command through ``ctx.obj``."""

    config_option: str | None = None
    debug: bool = False
    color: bool = True
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


class CliObserver:
    """Prints apply results (stdout); on a terminal, live read/apply progress (stderr).

    Used as a context manager around reads and applies; without a terminal it prints
    plain lines only (nothing for reads), so CI logs and JSON output stay clean.
    """

    def __init__(self, actions: Mapping[str, str] | None = None, verbose_reads: bool = False) -> None:
        self.actions = dict(actions or {})
        self.live = None
        if verbose_reads:
            from engine.progress import TerminalProgress

            self.live = TerminalProgress()

    def __enter__(self) -> CliObserver:
        if self.live is not None:
            self.live.__enter__()
            if self.actions:
                self.live.apply_started(len(self.actions))
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def read_started(self, system: str) -> None:
        if self.live is not None:
            self.live.read_started(system)

    def read_finished(self, system: str, seconds: float) -> None:
        if self.live is not None:
            self.live.read_finished(system, seconds)

    def batch_started(self, system: str, changes: Sequence[Change]) -> None:
        self._line(f"{system}: applying {len(changes)} {'change' if len(changes) == 1 else 'changes'}...",
                   advance=False)

    def change_finished(self, outcome: ChangeOutcome) -> None:
        address = str(outcome.address)
        if outcome.status == "applied":
            self._line(f"{address}: {PAST.get(self.actions.get(address, ''), 'done')}")
        elif outcome.status == "failed":
            self._line(f"{address}: failed: {outcome.error}")
        else:
            self._line(f"{address}: skipped ({outcome.error or 'depends on a failed change'})")

    def _line(self, text: str, advance: bool = True) -> None:
        click.echo(text)
        if self.live is not None and advance:
            self.live.advance()

    def state_saved(self, serial: int) -> None:
        pass

    def message(self, text: str) -> None:
        click.echo(text)


# --------------------------------------------------------------------------- error handling


class NetsotGroup(click.Group):
    """Turns every error into one sentence on stderr and the documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
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
    """The sentence to show; a ConfigError made from one unlocated message shows just that message."""
    if isinstance(exc, ConfigError) and len(exc.problems) == 1:
        problem = exc.problems[0]
        if problem.file == "<config>" and problem.line is None and not problem.key:
            return problem.message
    return str(exc)


def _app(ctx: click.Context) -> App:
    return ctx.ensure_object(App)


pass_app = click.make_pass_decorator(App, ensure=True)


@click.group(cls=NetsotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_option", metavar="FILE",
              help="Config file (default: $NETSOT_CONFIG, ./netsot.yaml).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("--no-color", is_flag=True, help="Plain output without colours (also: NO_COLOR=1).")
@click.version_option(NETSOT_VERSION, "--version", prog_name="netsot", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, config_option: str | None, debug: bool, no_color: bool) -> None:
    """netsot keeps a homelab's IP space and DNS consistent: NIPAP, Proxmox VE and an EdgeRouter.

    \b
    Usual flow:  netsot validate  →  netsot plan --out tfplan  →  netsot apply tfplan
    Exit codes:  0 ok, 1 error, 130 interrupted; plan --detailed-exitcode adds
                 2 (changes) and 3 (conflicts block some changes).
    """
    color = not no_color and "NO_COLOR" not in os.environ
    ctx.obj = App(config_option=config_option, debug=debug, color=color)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


# --------------------------------------------------------------------------- validate / version


@cli.command()
@pass_app
def validate(app: App) -> None:
    """Check the configuration and that every secret reference resolves."""
    from engine.configload import find_config

    path = find_config(app.config_option)
    config = app.config()
    systems = ", ".join(config.providers.configured()) or "none"
    n, h = len(config.networks), len(config.hosts)
    click.echo(f"Configuration OK: {path} ({n} {_plural(n, 'network')}, {h} {_plural(h, 'host')}, "
               f"systems: {systems})")


@cli.command()
def version() -> None:
    """Print the netsot version."""
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
              help="Only plan this resource (repeatable).")
@click.option("--force", is_flag=True, help="Lift the change-size thresholds of the safety policy.")
@click.pass_context
def plan(ctx: click.Context, out: str | None, as_json: bool, fmt: str, detailed_exitcode: bool,
         targets: tuple[str, ...], force: bool) -> None:
    """Show what apply would change (and save it with --out)."""
    app = _app(ctx)
    fmt = "json" if as_json else fmt
    config = app.config()
    doc = _make_document(config, _parse_targets(targets), force=force)
    if out:
        from engine.saved import save_plan

        save_plan(out, doc)
    click.echo(_render(doc, fmt, app.color), nl=False)
    if out:
        click.echo(f"\nSaved the plan to {out}. To apply exactly this plan, run: netsot apply {out}",
                   err=fmt != "text")
    if detailed_exitcode:
        ctx.exit(_plan_exit_code(doc))


def _make_document(config: Config, targets: tuple[Address, ...], *, force: bool) -> dict[str, Any]:
    state = open_backend(config).load()
    with open_providers(config) as providers:
        result = _planned(config, providers, state, targets=targets, force=force)
    return plan_document(result.plan, netsot_version=NETSOT_VERSION)


def _planned(config: Config, providers: Mapping[str, Any], state: Any, *, targets: tuple[Address, ...] = (),
             force: bool = False) -> Any:
    """Read → plan → safety policy (interactive: no service-only gates). Returns the PolicyResult."""
    from engine.plan import make_plan, owned_from_state, read_all
    from engine.policy import apply_policy

    with CliObserver(verbose_reads=_stderr_is_tty()) as observer:
        observations = read_all(providers, observer)
    plan_ = make_plan(config, providers, state, targets=targets, observations=observations,
                      options=_options(force))
    return apply_policy(plan_, config.policy, owned_from_state(state), force=force, service=False)


def _options(force: bool) -> dict[str, Any]:
    return {"force": True} if force else {}


def _plan_exit_code(doc: Mapping[str, Any]) -> int:
    summary = doc["summary"]
    if summary["conflicts"]:
        return EXIT_CONFLICTS
    if doc["changes"] or summary["held"]:
        return EXIT_CHANGES
    return EXIT_OK


def _render(doc: Mapping[str, Any], fmt: str, color: bool) -> str:
    if fmt == "json":
        return render_json(doc)
    if fmt == "markdown":
        return render_markdown(doc)
    return render_text(doc, color=color)


def _parse_targets(texts: Sequence[str]) -> tuple[Address, ...]:
    out = []
    for text in texts:
        try:
            out.append(Address.parse(text))
        except ValueError:
            raise NetsotError(f"--target {text!r} is not a resource address (TYPE.NAME, "
                              "e.g. nipap_address.lan.web01)") from None
    return tuple(out)


# --------------------------------------------------------------------------- apply


@cli.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for automation).")
@click.option("--force", is_flag=True, help="Lift the change-size thresholds of the safety policy.")
@click.pass_context
def apply(ctx: click.Context, planfile: str | None, auto_approve: bool, force: bool) -> None:
    """Apply a saved plan, or plan and apply after confirmation.

    A saved plan counts as approval; it is refused if anything it read changed since.
    """
    app = _app(ctx)
    config = app.config()
    doc = None
    if planfile:
        from engine.saved import load_plan

        doc = load_plan(planfile)
    elif not auto_approve and not _stdin_is_interactive():
        raise NetsotError("refusing to apply without approval: stdin is not a terminal; "
                          "pass --auto-approve, or apply a saved plan (netsot plan --out FILE)")
    backend = open_backend(config)
    with backend.lock("apply"), open_providers(config) as providers:
        state = backend.load()
        if doc is not None:
            plan_ = _fresh_saved_plan(doc, config, providers, state)
        else:
            plan_, state = _plan_and_confirm(ctx, config, backend, providers, state,
                                             auto_approve=auto_approve, force=force)
        report = _apply(plan_, providers, backend, state)
    ctx.exit(_report(plan_, report))


def _fresh_saved_plan(doc: Mapping[str, Any], config: Config, providers: Mapping[str, Any],
                      state: Any) -> Plan:
    from engine.plan import read_all
    from engine.saved import check_fresh

    with CliObserver(verbose_reads=_stderr_is_tty()) as observer:
        observations: Mapping[str, Observation] = read_all(providers, observer)
    check_fresh(doc, config, observations, state)
    return plan_from_document(doc)


def _plan_and_confirm(ctx: click.Context, config: Config, backend: Any, providers: Mapping[str, Any],
                      state: Any, *, auto_approve: bool, force: bool) -> tuple[Plan, Any]:
    """Plan, show it, ask; on ``yes`` record the policy's orphan marks. Anything else exits 1."""
    from engine.policy import record_orphans

    result = _planned(config, providers, state, force=force)
    doc = plan_document(result.plan, netsot_version=NETSOT_VERSION)
    click.echo(render_text(doc, color=_app(ctx).color))
    if result.plan.has_changes and not auto_approve:
        try:
            answer = click.prompt(CONFIRM_PROMPT, default="", show_default=False, prompt_suffix=" ")
        except click.Abort:
            answer = ""
        if answer != "yes":
            click.echo("Apply cancelled.")
            ctx.exit(EXIT_ERROR)
    marked = record_orphans(state, result)
    return result.plan, (backend.save(marked) if marked.content() != state.content() else state)


def _apply(plan_: Plan, providers: Mapping[str, Any], backend: Any, state: Any) -> Any:
    from engine.apply import apply_plan

    actions = {str(c.address): c.action.value for c in plan_.changes}
    with CliObserver(actions, verbose_reads=_stderr_is_tty()) as observer:
        return apply_plan(plan_, providers, backend, observer, state=state)


def _report(plan_: Plan, report: Any) -> int:
    actions = {str(c.address): c.action.value for c in plan_.changes}
    done = {"create": 0, "update": 0, "delete": 0}
    for outcome in report.applied:
        done[actions.get(str(outcome.address), "update")] += 1
    counts = f"{done['create']} added, {done['update']} changed, {done['delete']} destroyed"
    if not report.failed and not report.skipped:
        click.echo(f"\nApply complete! Resources: {counts}.")
        return EXIT_OK
    click.echo(f"\nApply incomplete. Resources: {counts}; {len(report.failed)} failed, "
               f"{len(report.skipped)} skipped.", err=True)
    for outcome in report.failed:
        click.echo(f"  failed:  {outcome.address}: {outcome.error}", err=True)
    for outcome in report.skipped:
        why = outcome.error or "depends on a failed change"
        click.echo(f"  skipped: {outcome.address} ({why})", err=True)
    click.echo("The state records what was applied; run `netsot plan` to see what remains.", err=True)
    return EXIT_ERROR


# --------------------------------------------------------------------------- show / state


@cli.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@pass_app
def show(app: App, planfile: str | None, as_json: bool) -> None:
    """Show a saved plan, or the current state when no PLANFILE is given."""
    if planfile:
        from engine.saved import load_plan

        doc = load_plan(planfile)
        click.echo(render_json(doc) if as_json else render_text(doc, color=app.color), nl=False)
        return
    backend = open_backend(app.config(secrets=False))
    state = backend.load()
    if as_json:
        click.echo(json.dumps(state.to_dict(), indent=2, sort_keys=True))
        return
    click.echo(f"# state: {backend.describe()} (lineage {state.lineage}, serial {state.serial})")
    if not state.resources:
        click.echo("The state is empty: netsot owns nothing yet.")
    for address in sorted(state.resources):
        click.echo("")
        click.echo(_resource_text(state.resources[address]))


def _resource_text(resource: Any) -> str:
    lines = [f"# {resource.address}"]
    meta = {"provider": resource.provider, "provider_id": resource.provider_id, "origin": resource.origin,
            "status": resource.status}
    if resource.orphaned_since:
        meta["orphaned_since"] = resource.orphaned_since
    if resource.dependencies:
        meta["dependencies"] = ", ".join(resource.dependencies)
    width = max(len(k) for k in [*meta, *resource.attributes])
    lines += [f"  {k.ljust(width)} = {v}" for k, v in meta.items()]
    lines.append("  attributes:")
    lines += [f"    {k.ljust(width)} = {json.dumps(v) if not isinstance(v, str) else v}"
              for k, v in sorted(resource.attributes.items())]
    return "\n".join(lines)


@cli.group()
def state() -> None:
    """Inspect and edit the state (never touches a system)."""


@state.command("list")
@pass_app
def state_list(app: App) -> None:
    """List the addresses netsot owns."""
    for address in sorted(open_backend(app.config(secrets=False)).load().resources):
        click.echo(address)


@state.command("show")
@click.argument("address")
@pass_app
def state_show(app: App, address: str) -> None:
    """Show one owned object as recorded in the state."""
    resources = open_backend(app.config(secrets=False)).load().resources
    if address not in resources:
        raise StateError(f"{address} is not in the state (see `netsot state list`)")
    click.echo(_resource_text(resources[address]))


@state.command("rm")
@click.argument("addresses", nargs=-1, required=True)
@pass_app
def state_rm(app: App, addresses: tuple[str, ...]) -> None:
    """Forget objects: remove them from the state only; no system is changed."""
    backend = open_backend(app.config(secrets=False))
    with backend.lock("state rm"):
        current = backend.load()
        missing = [a for a in addresses if a not in current.resources]
        if missing:
            raise StateError(f"not in the state: {', '.join(missing)}; nothing was removed")
        new = current
        for address in dict.fromkeys(addresses):
            new = new.without(address)
        saved = backend.save(new)
    for address in dict.fromkeys(addresses):
        click.echo(f"Removed {address}")
    n = len(dict.fromkeys(addresses))
    click.echo(f"Successfully removed {n} {_plural(n, 'object')} from the state (serial {saved.serial}). "
               "No system was changed: the objects still exist and netsot no longer manages them.")


@cli.command("force-unlock")
@click.argument("lock_id", metavar="ID")
@click.option("--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def force_unlock(ctx: click.Context, lock_id: str, force: bool) -> None:
    """Break the state lock ID left by a run that died."""
    backend = open_backend(_app(ctx).config(secrets=False))
    holder = backend.lock_info()
    if holder is None:
        raise StateError(f"the state {backend.describe()} is not locked; nothing to unlock")
    click.echo(f"Current {holder}")
    if not force:
        if not _stdin_is_interactive():
            raise NetsotError("refusing to force-unlock without confirmation: stdin is not a terminal; "
                              "pass --force")
        click.echo("Only break the lock when no other netsot run is active: two applies at once can "
                   "corrupt the state and the systems.")
        try:
            answer = click.prompt(UNLOCK_PROMPT, default="", show_default=False, prompt_suffix=" ")
        except click.Abort:
            answer = ""
        if answer != "yes":
            click.echo("Force-unlock cancelled.")
            ctx.exit(EXIT_ERROR)
    backend.force_unlock(lock_id)
    click.echo("The state has been unlocked.")


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


SYSTEMS = ("proxmox", "nipap", "edgemax")


@cli.command()
@click.argument("system", required=False, type=click.Choice(SYSTEMS))
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False), help="Read a saved dump instead.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@pass_app
def inventory(app: App, system: str | None, from_file: str | None, as_json: bool) -> None:
    """List what a system holds (every configured system without SYSTEM)."""
    if from_file and not system:
        raise NetsotError("--from-file needs a SYSTEM "
                          "(e.g. netsot inventory edgemax --from-file config.boot)")
    config = app.optional_config() if from_file else app.config()
    if system:
        systems: Sequence[str] = (system,)
    else:
        assert config is not None
        systems = config.providers.configured()
        if not systems:
            raise NetsotError("no system is configured (providers: in the config)")
    for name in systems:
        run = _extension(f"providers.{name}.inventory", "run", f"inventory for {name}")
        _emit(run(config, from_file, as_json))


@cli.group("import")
def import_group() -> None:
    """Adopt existing objects so netsot manages them."""


@import_group.command("edgemax")
@click.option("--from-file", type=click.Path(exists=True, dir_okay=False),
              help="Import from a config.boot backup instead of the live router.")
@click.option("--dry-run", is_flag=True, help="Show what would be adopted; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@pass_app
def import_edgemax(app: App, from_file: str | None, dry_run: bool, as_json: bool) -> None:
    """Adopt the router's static mappings and host entries into the state."""
    run = _extension("engine.importing", "run", "import for edgemax")
    _emit(run(app.config(secrets=not from_file), from_file, dry_run, as_json))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@pass_app
def verify(app: App, as_json: bool) -> None:
    """Check the systems agree: DNS answers, router config, NIPAP, guest agents."""
    run = _extension("engine.verify", "run", "verify")
    _emit(run(app.config(), as_json))


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
@pass_app
def serve(app: App, once: bool, interval: float, jitter: float, listen: str | None, force: bool,
          stale_after: float | None, log_format: str) -> None:
    """Run the reconcile loop: plan and apply what the safety policy allows."""
    run = _extension("engine.service", "run", "serve")
    options_cls = _extension("engine.service", "ServiceOptions", "serve")
    options = options_cls(interval=interval, jitter=jitter, once=once, listen=listen, force=force,
                          stale_after=stale_after)
    _emit(run(app.config(), options, log_format))


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
              help="How many Proxmox guests the seeded homelab has.")
def lab_up(workdir: str, guests: int) -> None:
    _emit(_extension("providers.lab", "up", "lab up")(Path(workdir), guests=guests))


_lab_command("down", "Stop the simulators.")
_lab_command("status", "Show whether the simulators are running and where.")


@cli.command()
@click.option("--dir", "workdir", type=click.Path(file_okay=False), default=LAB_DIR, show_default=True)
def demo(workdir: str) -> None:
    """Start the lab and walk through validate, plan and apply (what `make demo` runs)."""
    _emit(_extension("providers.lab", "demo", "demo")(Path(workdir), echo=click.echo))


# --------------------------------------------------------------------------- helpers / entry point


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def main(argv: Sequence[str] | None = None) -> None:
    """The ``netsot`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="netsot")

"""``netsot graph`` and ``netsot schema``: the plan's dependency graph and the config's JSON Schema.

Owns: their options. ``graph`` plans (read-only, like ``plan``) or reads a saved plan and prints
DOT (``engine.report.dot``); ``schema config`` prints or writes the configuration schema editors use
(yaml-language-server: see README "Editor support").
Must not: change a system or the state.
"""

from __future__ import annotations

from pathlib import Path

import click

from core.errors import NetsotError
from engine.cli.app import App, app_of, cli, parallelism_option


@cli.command()
@click.option("--type", "graph_type", type=click.Choice(["plan"]), default="plan", show_default=True,
              help="Which graph: the changes of a plan and the order between them.")
@click.option("--plan", "planfile", metavar="FILE", type=click.Path(dir_okay=False, exists=True),
              help="Graph this saved plan instead of planning now.")
@click.option("--target", "targets", metavar="ADDR", multiple=True, help="Plan only this address prefix.")
@parallelism_option
@click.pass_context
def graph(ctx: click.Context, graph_type: str, planfile: str | None, targets: tuple[str, ...]) -> None:
    """Print the plan's dependency graph in Graphviz DOT (`netsot graph | dot -Tsvg > plan.svg`)."""
    from engine.cli.planning import make_document, note_running_apply, parse_targets
    from engine.report.dot import plan_dot

    app: App = app_of(ctx)
    if planfile:
        from engine.plan.saved import load_plan

        doc = load_plan(planfile)
    else:
        config = app.config()
        backend = app.backend(config)
        note_running_apply(backend)
        doc = make_document(app, config, backend, parse_targets(targets), force=False, fingerprints=False)
    click.echo(plan_dot(doc), nl=False)


@cli.group()
def schema() -> None:
    """JSON Schemas of netsot's files (for editors and CI)."""


@schema.command("config")
@click.option("--write", "write", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write it to FILE (e.g. netsot.schema.json next to netsot.yaml) instead of printing it.")
def schema_config(write: str | None) -> None:
    """The JSON Schema of netsot.yaml, with every registered system's settings."""
    from engine.config.schema import render

    text = render()
    if not write:
        click.echo(text, nl=False)
        return
    try:
        Path(write).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise NetsotError(f"cannot write {write}: {exc.strerror}") from None
    click.echo(f"Wrote the configuration schema to {write}. Point your editor at it with this first line in "
               f"netsot.yaml:\n# yaml-language-server: $schema={write}")

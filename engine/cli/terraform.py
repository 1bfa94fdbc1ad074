"""Terraform's machine-readable habits: ``netsot providers``, ``version --json`` and ``apply --json``.

Owns: the ``providers`` command (the registered kinds and the configured instances), the version
document, and ``JsonLinesObserver`` — apply's stream of JSON lines, one per change started and
finished and one summary, shaped like Terraform's machine-readable UI (``@level``, ``@message``,
``@module``, ``@timestamp``, ``type``, ``hook``/``changes``).
Must not: decide anything; it only reports what the engine did.
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import click

from core.model import Change, ChangeOutcome, Plan
from engine.cli.app import App, cli, pass_app
from engine.runtime import NETSOT_VERSION
from engine.safetext import visible

MODULE = "netsot.ui"


def version_document() -> dict[str, Any]:
    """``netsot version --json`` (Terraform's ``version -json`` has the same shape, netsot's names)."""
    from providers import registry

    return {
        "netsot_version": NETSOT_VERSION,
        "python_version": sys.version.split()[0],
        "platform": f"{sys.platform}_{platform.machine()}",
        "kinds": [kind.name for kind in registry.kinds()],
    }


# --------------------------------------------------------------------------- providers


@cli.command("providers")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@pass_app
def providers_command(app: App, as_json: bool) -> None:
    """List the system kinds netsot knows and the instances the configuration names.

    Without a configuration (none found) only the kinds are listed.
    """
    from providers import registry

    config = app.optional_config()
    kinds = [{"kind": k.name, "title": k.title,
              "resource_types": [t.name for t in k.resource_types]} for k in registry.kinds()]
    instances: list[dict[str, Any]] = []
    if config is not None:
        for key in registry.ordered(config.providers):
            instances.append({"instance": key, "kind": registry.kind_of(key).name,
                              "networks": [n.name for n in config.networks_of(key)]})
    if as_json:
        click.echo(json.dumps({"kinds": kinds, "instances": instances if config is not None else None},
                              indent=2, sort_keys=True))
        return
    click.echo("Kinds netsot knows (registered):")
    width = max(len(k["kind"]) for k in kinds) if kinds else 0
    for k in kinds:
        click.echo(f"  {k['kind']:<{width}}  {k['title']}  ({', '.join(k['resource_types'])})")
    if config is None:
        click.echo("\nNo configuration found (--config FILE, $NETSOT_CONFIG or ./netsot.yaml): no instances.")
        return
    click.echo("\nInstances in the configuration (providers:):")
    if not instances:
        click.echo("  none")
    width = max((len(i["instance"]) for i in instances), default=0)
    for i in instances:
        served = ", ".join(i["networks"]) or "no network"
        click.echo(f"  {i['instance']:<{width}}  {i['kind']}, serves {served}")


# --------------------------------------------------------------------------- apply --json


def _line(level: str, message: str, kind: str, **fields: Any) -> str:
    doc = {"@level": level, "@message": visible(message), "@module": MODULE,
           "@timestamp": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
           "type": kind, **fields}
    return json.dumps(doc, sort_keys=True)


def _resource(address: str, action: str) -> dict[str, Any]:
    return {"resource": {"addr": address}, "action": action}


def emit(text: str) -> None:
    click.echo(text)


def version_line() -> str:
    return _line("info", f"netsot {NETSOT_VERSION}", "version", netsot=NETSOT_VERSION, ui="1.0")


def planned_lines(plan_: Plan) -> list[str]:
    """One ``planned_change`` per change, then the plan's ``change_summary`` (operation ``plan``)."""
    out = [_line("info", f"{c.address}: Plan to {c.action.value}", "planned_change",
                 change={**_resource(str(c.address), c.action.value), "reason": visible(c.reason or "")})
           for c in plan_.changes]
    counts = _counts([(str(c.address), c.action.value) for c in plan_.changes])
    out.append(_summary("plan", counts, conflicts=len(plan_.conflicts)))
    return out


def _counts(pairs: Sequence[tuple[str, str]]) -> dict[str, int]:
    done = {"add": 0, "change": 0, "remove": 0}
    for _address, action in pairs:
        done[{"create": "add", "update": "change", "delete": "remove"}.get(action, "change")] += 1
    return done


def _summary(operation: str, counts: Mapping[str, int], **more: Any) -> str:
    add, change, remove = counts["add"], counts["change"], counts["remove"]
    if operation == "plan":
        message = f"Plan: {add} to add, {change} to change, {remove} to destroy."
    else:
        message = f"Apply complete! Resources: {add} added, {change} changed, {remove} destroyed."
    return _line("info", message, "change_summary", changes={**counts, "operation": operation, **more})


class JsonLinesObserver:
    """``apply --json``: one JSON line per change started (``apply_start``) and finished
    (``apply_complete``, ``apply_errored``, or ``apply_skipped``), and nothing else on stdout."""

    def __init__(self, actions: Sequence[tuple[str, str]]) -> None:
        self.actions: dict[str, list[str]] = {}
        for address, action in actions:
            self.actions.setdefault(address, []).append(action)
        self.started: dict[str, list[str]] = {a: list(q) for a, q in self.actions.items()}
        self.done: list[tuple[str, str]] = []

    def __enter__(self) -> JsonLinesObserver:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def read_started(self, system: str) -> None:
        pass

    def read_finished(self, system: str, seconds: float) -> None:
        pass

    def read_failed(self, system: str, error: BaseException) -> None:
        pass

    def batch_started(self, system: str, changes: Sequence[Change]) -> None:
        for change in changes:
            address = str(change.address)
            emit(_line("info", f"{address}: {change.action.value.capitalize()}...", "apply_start",
                       hook={**_resource(address, change.action.value), "system": system}))

    def change_finished(self, outcome: ChangeOutcome) -> None:
        address = str(outcome.address)
        queue = self.actions.get(address) or ["update"]
        action = queue.pop(0) if len(queue) > 1 else queue[0]
        hook = _resource(address, action)
        if outcome.status == "applied":
            self.done.append((address, action))
            emit(_line("info", f"{address}: {action.capitalize()} complete", "apply_complete", hook=hook))
        elif outcome.status == "failed":
            emit(_line("error", f"{address}: {action.capitalize()} errored: {outcome.error or ''}",
                       "apply_errored", hook={**hook, "error": visible(outcome.error or "")}))
        else:
            why = outcome.error or "depends on a failed change"
            emit(_line("warn", f"{address}: skipped ({why})", "apply_skipped",
                       hook={**hook, "reason": visible(why)}))

    def state_saved(self, serial: int) -> None:
        pass

    def message(self, text: str) -> None:
        emit(_line("info", text, "log"))


def apply_summary(observer: JsonLinesObserver, report: Any) -> tuple[str, int]:
    """The last line of ``apply --json`` and the exit code (1 when a change failed or was skipped)."""
    counts = _counts(observer.done)
    failed, skipped = len(report.failed), len(report.skipped)
    retries = dict(getattr(report, "retries", {}) or {})
    notes = [line.removeprefix("note: ") for lines in (getattr(report, "logs", None) or {}).values()
             for line in lines if line.startswith("note: ")]
    line = _summary("apply", counts, failed=failed, skipped=skipped, retries=retries,
                    notes=[visible(n) for n in notes])
    if failed or skipped:
        doc = json.loads(line)
        doc["@level"] = "error"
        doc["@message"] = (f"Apply incomplete. Resources: {counts['add']} added, {counts['change']} changed, "
                           f"{counts['remove']} destroyed; {failed} failed, {skipped} skipped.")
        return json.dumps(doc, sort_keys=True), 1
    return line, 0

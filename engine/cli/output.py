"""What the CLI prints about plans, applies and the state (stdout, live progress on stderr).

Owns: ``CliObserver`` (apply results, terminal read/apply progress), rendering a plan document
in the chosen format, the end-of-apply report (and its exit code) and one state resource as text.
Must not: decide anything, read config or touch a system.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click

from core.model import Change, ChangeOutcome, Plan
from engine.cli.app import EXIT_ERROR, EXIT_OK
from engine.plan.document import render_json
from engine.report.render import render_markdown, render_text
from engine.safetext import visible

NOTE = "note: "  # a provider's apply log line the user is shown after the apply
PAST = {"create": "Creation complete", "update": "Modifications complete", "delete": "Destruction complete"}


class CliObserver:
    """Prints apply results (stdout); on a terminal, live read/apply progress (stderr).

    Used as a context manager around reads and applies; without a terminal it prints
    plain lines only (nothing for reads), so CI logs and JSON output stay clean.
    """

    def __init__(self, actions: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
                 verbose_reads: bool = False, color: bool = True) -> None:
        # address -> its actions in plan order (a replaced object is deleted, then created)
        self.actions: dict[str, list[str]] = {}
        pairs = actions.items() if isinstance(actions, Mapping) else actions or ()
        for address, action in pairs:
            self.actions.setdefault(address, []).append(action)
        self.live = None
        if verbose_reads:
            from engine.cli.progress import TerminalProgress

            self.live = TerminalProgress(color=color)

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

    def read_failed(self, system: str, error: BaseException) -> None:
        pass  # the error itself is the one sentence the CLI prints

    def batch_started(self, system: str, changes: Sequence[Change]) -> None:
        self._line(f"{system}: applying {len(changes)} {'change' if len(changes) == 1 else 'changes'}...",
                   advance=False)

    def change_finished(self, outcome: ChangeOutcome) -> None:
        address = str(outcome.address)
        queue = self.actions.get(address) or [""]
        action = queue.pop(0) if len(queue) > 1 else queue[0]
        if outcome.status == "applied":
            self._line(f"{visible(address)}: {PAST.get(action, 'done')}")
        elif outcome.status == "failed":
            self._line(f"{visible(address)}: failed: {visible(outcome.error or '')}")
        else:
            why = outcome.error or "depends on a failed change"
            self._line(f"{visible(address)}: skipped ({visible(why)})")

    def _line(self, text: str, advance: bool = True) -> None:
        if self.live is None:
            click.echo(text)
            return
        self.live.echo(text)
        if advance:
            self.live.advance()

    def state_saved(self, serial: int) -> None:
        pass

    def message(self, text: str) -> None:
        self._line(visible(text), advance=False)


def render_document(doc: Mapping[str, Any], fmt: str, color: bool, show_unmanaged: bool = False,
                    show_discovered: bool = False, width: int | None = None) -> str:
    if fmt == "json":
        return render_json(doc)
    if fmt == "markdown":
        return render_markdown(doc)
    return render_text(doc, color=color, show_unmanaged=show_unmanaged, show_discovered=show_discovered,
                       width=width)


def plan_actions(plan_: Plan) -> list[tuple[str, str]]:
    """(address, action) of every change, in plan order."""
    return [(str(c.address), c.action.value) for c in plan_.changes]


def apply_report(plan_: Plan, report: Any) -> int:
    actions: dict[str, list[str]] = {}
    for address, action in plan_actions(plan_):
        actions.setdefault(address, []).append(action)
    done = {"create": 0, "update": 0, "delete": 0}
    for outcome in report.applied:
        queue = actions.get(str(outcome.address)) or ["update"]
        done[queue.pop(0) if len(queue) > 1 else queue[0]] += 1
    counts = f"{done['create']} added, {done['update']} changed, {done['delete']} destroyed"
    retried = getattr(report, "retries", {})
    notes = [line.removeprefix(NOTE) for lines in (getattr(report, "logs", None) or {}).values()
             for line in lines if line.startswith(NOTE)]
    if notes:  # what a provider says the user must know about what it did (a guest pending restart)
        click.echo("\nNotes:")
        for line in notes:
            click.echo(f"  - {visible(line)}")
    if not report.failed and not report.skipped:
        click.echo(f"\nApply complete! Resources: {counts}.")
        if retried:
            click.echo(retries_line(retried))
        return EXIT_OK
    click.echo(f"\nApply incomplete. Resources: {counts}; {len(report.failed)} failed, "
               f"{len(report.skipped)} skipped.", err=True)
    if retried:
        click.echo(retries_line(retried), err=True)
    for outcome in report.failed:
        click.echo(f"  failed:  {visible(str(outcome.address))}: {visible(outcome.error or '')}", err=True)
    for outcome in report.skipped:
        why = outcome.error or "depends on a failed change"
        click.echo(f"  skipped: {visible(str(outcome.address))} ({visible(why)})", err=True)
    click.echo("The state records what was applied; run `netsot plan` to see what remains.", err=True)
    return EXIT_ERROR


def retries_line(retried: Mapping[str, int]) -> str:
    """``Retries: nipap 3 (transient faults and lost races, each resent after a backoff).``"""
    parts = ", ".join(f"{system} {n}" for system, n in retried.items())
    return f"Retries: {parts} (calls resent after a transient fault or a lost race)."


def import_output(outcome: Any, dry_run: bool, as_json: bool) -> str:
    """What ``netsot import`` prints: the table (or JSON) of what is adopted, refused or kept."""
    from providers import registry

    plan = outcome.plan
    if as_json:
        doc = plan.to_dict()
        doc.update(dry_run=dry_run, written=outcome.written, notes=list(outcome.notes), system=outcome.system)
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
    title = registry.kind_of(outcome.system).title
    text = "".join(f"Note: {visible(n)}\n" for n in outcome.notes)
    text += _import_table(plan, f"Nothing to import: {outcome.system} ({title}) holds nothing to adopt.")
    if dry_run:
        return text + "Dry run: the state was not changed.\n"
    if outcome.written:
        return text + f"Recorded {outcome.written} object(s) in the state; netsot now manages them.\n"
    return text + "Nothing to do.\n"


def _import_table(plan: Any, empty: str) -> str:
    if not plan.items:
        return empty + "\n"
    rows = [(visible(i.address), i.status, visible(i.reason)) for i in plan.items]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'ADDRESS':<{width}}  {'ACTION':<8}  WHY"]
    lines += [f"{a:<{width}}  {st:<8}  {why}" for a, st, why in rows]
    d = plan.to_dict()["summary"]
    lines.append(
        f"\n{d['adopt']} to adopt, {d['conflict']} refused (conflict), {d['managed']} already managed, "
        f"{d['ignored']} ignored (outside the configured networks, or a binding's source)."
    )
    return "\n".join(lines) + "\n"


_OWNERSHIP = {
    "made": "made (netsot created it; it deletes it when its source goes)",
    "adopted": "adopted (netsot never deletes it on its own: `apply --replace` or `state rm`)",
    "unknown": "unknown (an older state cannot tell; read as adopted unless netsot's marker is on it)",
}


def resource_text(resource: Any) -> str:
    lines = [f"# {visible(resource.address)}"]
    meta = {"provider": resource.provider, "provider_id": resource.provider_id, "origin": resource.origin,
            "ownership": _OWNERSHIP.get(resource.ownership, resource.ownership), "status": resource.status}
    if resource.orphaned_since:
        meta["orphaned_since"] = resource.orphaned_since
    if resource.dependencies:
        meta["dependencies"] = ", ".join(resource.dependencies)
    width = max(len(k) for k in [*meta, *resource.attributes])
    lines += [f"  {k.ljust(width)} = {visible(str(v))}" for k, v in meta.items()]
    lines.append("  attributes:")
    lines += [f"    {visible(k).ljust(width)} = {visible(json.dumps(v) if not isinstance(v, str) else v)}"
              for k, v in sorted(resource.attributes.items())]
    return "\n".join(lines)

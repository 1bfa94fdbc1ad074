"""``netsot doctor``: is each configured system reachable, and may netsot do its job there?

Owns: running every configured instance's ``doctor`` hook (its descriptor names it), the result
(per system, per check), its text (one ✓ / ✗ line per check, each ✗ followed by its exact fix) and
JSON forms, and the exit code (0 when every needed check passes, 1 otherwise).
Must not: know any system (each one's checks live in its package) or change anything anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from core.config import Config
from core.errors import NetsotError
from providers import registry
from providers.base import DoctorCheck

OK, FAIL, ADVICE = "✓", "✗", "!"


@dataclass(frozen=True)
class SystemReport:
    key: str
    title: str
    checks: tuple[DoctorCheck, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok or not c.needed for c in self.checks)


def examine(config: Config, keys: Sequence[str] | None = None,
            progress: Callable[[str], None] | None = None) -> list[SystemReport]:
    """Every instance's checks (``keys``: only these), in the registry's order."""
    reports = []
    for key in registry.ordered(keys if keys is not None else config.providers):
        kind = registry.kind_of(key)
        if progress is not None:
            progress(key)
        run = registry.hook(kind.name, "doctor")
        if run is None:
            checks: tuple[DoctorCheck, ...] = (DoctorCheck("checks", True, "none defined for this system",
                                                           needed=False),)
        else:
            try:
                checks = tuple(run(config, key))
            except NetsotError as exc:
                checks = (DoctorCheck("checks ran", False, str(exc)),)
        reports.append(SystemReport(key, kind.title, checks))
    return reports


def passed(reports: Sequence[SystemReport]) -> bool:
    return all(r.ok for r in reports)


def _mark(check: DoctorCheck, color: bool) -> str:
    import click

    if check.ok:
        return click.style(OK, fg="green") if color else OK
    sign = FAIL if check.needed else ADVICE
    return click.style(sign, fg="red" if check.needed else "yellow") if color else sign


def render_text(reports: Sequence[SystemReport], color: bool = False) -> str:
    lines: list[str] = []
    for report in reports:
        lines.append(f"{report.key} ({report.title})")
        for check in report.checks:
            detail = f": {check.detail}" if check.detail else ""
            lines.append(f"  {_mark(check, color)} {check.what}{detail}")
            if not check.ok and check.fix:
                first, *rest = check.fix.splitlines()
                lines.append(f"      fix: {first}")
                lines += [f"           {line}" for line in rest]
        lines.append("")
    failed = [(r.key, c) for r in reports for c in r.checks if not c.ok and c.needed]
    if failed:
        lines.append(f"{len(failed)} {'check' if len(failed) == 1 else 'checks'} failed: "
                     + "; ".join(f"{key}: {c.what}" for key, c in failed))
    else:
        lines.append("Everything netsot needs passed. Next: netsot import SYSTEM, then netsot plan.")
    return "\n".join(lines) + "\n"


def render_json(reports: Sequence[SystemReport]) -> dict[str, Any]:
    return {"ok": passed(reports),
            "systems": [{"system": r.key, "title": r.title, "ok": r.ok,
                         "checks": [asdict(c) for c in r.checks]} for r in reports]}

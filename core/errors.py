"""The one exception tree of netsot.

This module is a leaf: it imports nothing from netsot, so every package
(``engine``, ``state``, ``providers``) may raise these errors.

NetsotError                      root; ``str(e)`` is one clear sentence for the user
├── ConfigError                  invalid configuration; ``problems`` lists every issue
│                                with file, line, column and key
├── SecretError                  a ``${env:…}`` / ``${file:…}`` reference cannot be resolved
├── StateError                   the state store
│   ├── StateLocked              another run holds the lock; ``holder`` describes it
│   ├── StateCorrupt             the state file cannot be parsed (never silently replaced)
│   ├── UnsupportedStateVersion  written by a newer netsot
│   ├── LineageMismatch          a state from another lineage
│   └── StateRegressed           the stored state is older than a copy netsot has seen (its
│                                backup): refused, so the newer copy is never overwritten
├── PlanError                    planning failed
│   ├── TargetError              a ``--target`` matches nothing; ``close`` lists near misses
│   ├── CycleError               the dependency graph has cycles; ``cycles`` lists them
│   └── StalePlan                a saved plan no longer matches what it read
├── PolicyError                  the safety policy refuses the plan (``gates``)
└── ProviderError                a system failed; ``system`` names it
    ├── ProviderUnavailable      connection refused, DNS failure, host down
    ├── ProviderTimeout          no answer within the configured timeout
    ├── ProviderAuthError        bad credentials or permission denied
    ├── ProviderDataError        the system sent something we cannot parse
    ├── ProviderRejected         the system refused a change (commit failed, fault…)
    └── ChangedUnderneath        the object changed between plan and apply
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class NetsotError(Exception):
    """Root of every error netsot raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a configuration file, with its location."""

    file: str
    line: int | None
    column: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class ConfigError(NetsotError):
    """The configuration is invalid. Carries every problem found, not only the first."""

    def __init__(self, problems: Sequence[ConfigProblem] | str) -> None:
        if isinstance(problems, str):
            problems = [ConfigProblem("<config>", None, None, "", problems)]
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        lines = [str(p) for p in self.problems]
        super().__init__("invalid configuration:\n  " + "\n  ".join(lines))


class SecretError(NetsotError):
    """A secret reference could not be resolved. Never contains the secret value."""


class StateError(NetsotError):
    """The state store failed."""


class StateLocked(StateError):
    """Another run holds the state lock."""

    def __init__(self, holder: Any, message: str | None = None) -> None:
        self.holder = holder
        super().__init__(message or f"the state is locked by {holder}")


class StateLockLost(StateError):
    """This run's state lock was lost (its session died, or it was broken): the run must stop before it
    writes the state or touches a system again, because another run may hold the lock now."""


class StateCorrupt(StateError):
    """The state file exists but cannot be read; the backup is offered, never used silently."""

    def __init__(self, message: str, backup: str | None = None) -> None:
        self.backup = backup
        super().__init__(message)


class UnsupportedStateVersion(StateError):
    """The state file was written by a newer netsot."""


class LineageMismatch(StateError):
    """A state (or saved plan) belongs to another lineage."""


class StateRegressed(StateError):
    """The stored state went backwards: a lower serial (or another lineage) than its backup, or
    than what this process read before. Refused unless forced; the newer copy is never overwritten."""


class PlanError(NetsotError):
    """Planning failed."""


class TargetError(PlanError):
    """A ``--target`` matches nothing netsot plans, reads or owns (Terraform errors on it too)."""

    def __init__(self, target: str, close: Sequence[str] = ()) -> None:
        self.target = target
        self.close = tuple(close)
        hint = f"; did you mean {' or '.join(self.close)}?" if self.close else \
            " (`netsot state list` shows what netsot owns, `netsot plan` what it would change)"
        super().__init__(f"--target {target} matches no planned change and no object netsot read or "
                         f"owns{hint}")


class CycleError(PlanError):
    """The dependency graph has one or more cycles."""

    def __init__(self, cycles: Sequence[Sequence[str]]) -> None:
        self.cycles = tuple(tuple(c) for c in cycles)
        text = "; ".join(" -> ".join([*c, c[0]]) for c in self.cycles)
        super().__init__(f"dependency cycle: {text}")


class StalePlan(PlanError):
    """A saved plan no longer matches the systems or the configuration it was made from."""

    def __init__(self, message: str, changed: Sequence[str] = ()) -> None:
        self.changed = tuple(changed)
        super().__init__(message)


class FieldError(PlanError):
    """A planned change holds a key its resource type does not declare, or a value of another type than
    the declared one (a misspelt key fails where it is written, not where it is read)."""


class DeclarationError(NetsotError):
    """A system's descriptor declares a resource type wrongly (identity and attributes overlap, a field
    of an unknown type): found when the type is made or registered, before any plan."""


class PolicyError(NetsotError):
    """The safety policy refuses to apply the plan."""

    def __init__(self, message: str, gates: Sequence[str] = ()) -> None:
        self.gates = tuple(gates)
        super().__init__(message)


class ProviderError(NetsotError):
    """A managed system failed. ``system`` is ``proxmox``, ``nipap`` or ``edgemax``."""

    def __init__(self, system: str, message: str) -> None:
        self.system = system
        super().__init__(f"{system}: {message}")


class ProviderUnavailable(ProviderError):
    """The system cannot be reached."""


class ProviderTimeout(ProviderError):
    """The system did not answer in time."""


class ProviderAuthError(ProviderError):
    """The system refused our credentials or our permissions."""


class ProviderDataError(ProviderError):
    """The system sent data we cannot parse."""


class ProviderRejected(ProviderError):
    """The system refused a change."""


class ChangedUnderneath(ProviderError):
    """The object changed between plan and apply; a new plan fixes it."""

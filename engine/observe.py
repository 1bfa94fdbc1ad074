"""Progress hooks for plan and apply: the Observer protocol and two small implementations.

Owns: the events the engine reports while it reads systems, applies batches and saves state.
Must not: format or print anything (the CLI's renderer implements an observer that does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from core.model import Change, ChangeOutcome


@runtime_checkable
class Observer(Protocol):
    def read_started(self, system: str) -> None: ...

    def read_finished(self, system: str, seconds: float) -> None: ...

    def read_failed(self, system: str, error: BaseException) -> None:
        """The read of ``system`` failed with ``error`` (reported before its ``read_finished``)."""
        ...

    def batch_started(self, system: str, changes: Sequence[Change]) -> None: ...

    def change_finished(self, outcome: ChangeOutcome) -> None: ...

    def state_saved(self, serial: int) -> None: ...

    def message(self, text: str) -> None: ...


class NullObserver:
    """Ignores every event (the default)."""

    def read_started(self, system: str) -> None:
        pass

    def read_finished(self, system: str, seconds: float) -> None:
        pass

    def read_failed(self, system: str, error: BaseException) -> None:
        pass

    def batch_started(self, system: str, changes: Sequence[Change]) -> None:
        pass

    def change_finished(self, outcome: ChangeOutcome) -> None:
        pass

    def state_saved(self, serial: int) -> None:
        pass

    def message(self, text: str) -> None:
        pass


@dataclass
class RecordingObserver:
    """Records every event as ``(name, payload)`` — for tests."""

    events: list[tuple[str, Any]] = field(default_factory=list)

    def read_started(self, system: str) -> None:
        self.events.append(("read_started", system))

    def read_finished(self, system: str, seconds: float) -> None:
        self.events.append(("read_finished", system))

    def read_failed(self, system: str, error: BaseException) -> None:
        self.events.append(("read_failed", system))

    def batch_started(self, system: str, changes: Sequence[Change]) -> None:
        self.events.append(("batch_started", (system, tuple(str(c.address) for c in changes))))

    def change_finished(self, outcome: ChangeOutcome) -> None:
        self.events.append(("change_finished", (str(outcome.address), outcome.status)))

    def state_saved(self, serial: int) -> None:
        self.events.append(("state_saved", serial))

    def message(self, text: str) -> None:
        self.events.append(("message", text))

    def named(self, name: str) -> list[Any]:
        """Payloads of every event called ``name``, in order."""
        return [payload for event, payload in self.events if event == name]

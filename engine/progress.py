"""Terminal progress for long reads and applies (rich), and nothing at all elsewhere.

Owns: the live display on stderr — one spinner per system while reading, one bar while
applying. It is used only when stderr is a terminal and the output is not JSON, so CI
logs and machine-readable output stay clean.
Must not: decide anything or print results (the CLI prints those).
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class TerminalProgress:
    """A context manager around one rich ``Progress``; safe to enter more than once."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._reads: dict[str, TaskID] = {}
        self._apply: TaskID | None = None
        self._depth = 0

    def __enter__(self) -> TerminalProgress:
        if self._depth == 0:
            self._progress.start()
        self._depth += 1
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._progress.stop()
            self._reads.clear()
            self._apply = None

    def read_started(self, system: str) -> None:
        self._reads[system] = self._progress.add_task(f"reading {system}", total=None)

    def read_finished(self, system: str, seconds: float) -> None:
        task = self._reads.pop(system, None)
        if task is not None:
            self._progress.remove_task(task)
        self._progress.console.print(f"[dim]{system}: read in {seconds:.1f}s[/dim]")

    def apply_started(self, total: int) -> None:
        self._apply = self._progress.add_task("applying", total=total)

    def advance(self, line: str | None = None) -> None:
        if self._apply is not None:
            self._progress.advance(self._apply)
        if line:
            self._progress.console.print(line, markup=False, highlight=False)

"""Terminal progress for long reads and applies (rich), and nothing at all elsewhere.

Owns: the live display on stderr — one spinner per system while reading, one bar while
applying — and printing result lines so they never mix with it. It is used only when stderr is a
terminal and the output is not JSON, so CI logs and machine-readable output stay clean. Without
colour (``--no-color``, ``NO_COLOR``) there is no live display at all: a plain line per read,
no escape code of any kind (a live display needs cursor-movement codes even without colour).
Must not: decide anything or print results of its own (the CLI hands it the lines).
"""

from __future__ import annotations

import os
import sys
from types import TracebackType

import click
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


def same_terminal() -> bool:
    """Whether stdout and stderr are one terminal (a result line on stdout would land inside the
    live display on stderr)."""
    try:
        if not (sys.stdout.isatty() and sys.stderr.isatty()):
            return False
        out, err = os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno())
    except (AttributeError, ValueError, OSError):
        return False
    return (out.st_rdev, out.st_ino) == (err.st_rdev, err.st_ino)


class TerminalProgress:
    """A context manager around one rich ``Progress``; safe to enter more than once.

    ``color=False`` is the plain mode: no live display, no escape codes, one line per read.
    """

    def __init__(self, console: Console | None = None, *, color: bool = True) -> None:
        self.color = color
        self.console = console or Console(stderr=True, no_color=not color)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,  # the display leaves nothing behind when it stops
        )
        self._reads: dict[str, TaskID] = {}
        self._apply: TaskID | None = None
        self._depth = 0

    def __enter__(self) -> TerminalProgress:
        if self._depth == 0 and self.color:
            self._progress.start()
        self._depth += 1
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth == 0:
            if self.color:
                self._progress.stop()
            self._reads.clear()
            self._apply = None

    @property
    def live(self) -> bool:
        return self.color and self._depth > 0

    def read_started(self, system: str) -> None:
        if self.live:
            self._reads[system] = self._progress.add_task(f"reading {system}", total=None)

    def read_finished(self, system: str, seconds: float) -> None:
        task = self._reads.pop(system, None)
        if task is not None:
            self._progress.remove_task(task)
        if self.live:
            self._progress.console.print(f"[dim]{system}: read in {seconds:.1f}s[/dim]")
        else:
            click.echo(f"{system}: read in {seconds:.1f}s", err=True)

    def apply_started(self, total: int) -> None:
        if self.live:
            self._apply = self._progress.add_task("applying", total=total)

    def advance(self) -> None:
        if self._apply is not None:
            self._progress.advance(self._apply)

    def echo(self, text: str) -> None:
        """A result line for stdout. While the display is live on the same terminal, it goes
        through the display's console, which clears the display first and redraws it below the
        line (written straight to stdout it would land in the middle of the bar)."""
        if self.live and same_terminal():
            self._progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text)

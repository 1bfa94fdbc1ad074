"""The one fault-injection seam, for crash tests only: named points that do nothing in normal runs.

Owns: :func:`point` — the only call product code makes (``faults.point("after-sent")``) — the
names of the points, the hook a test installs in process (:func:`installed`), and the crash hook
the crash suites (``tests/faults``, ``tests/engine/apply/test_apply.py``, ``tests/state``) switch on in a
netsot subprocess with ``NETSOT_FAULT_AT=<point>[:<n>]``: the process ends with ``os._exit`` at the
n-th time (default 1) it passes that point, with the point's exit code. TEST-ONLY: no user setting
and no product behaviour depends on it; unset (always, outside those tests) a point is one
``None`` check.
Must not: import anything of netsot, do I/O, or raise (a point never changes what a run does,
unless a test asked it to end the process there).

The points:
  ``after-intended``  apply saved the round's journal as intended          (exit 137, like SIGKILL)
  ``after-sent``      apply saved the journal as sent, before provider.apply (exit 137)
  ``after-batch``     apply saved the state after one system's batch        (exit 137)
  ``state-before-rename``  the file backend wrote and fsynced the new state to its temp
                      file, before the rename over the old one             (exit 86)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ENV = "NETSOT_FAULT_AT"
KILLED = 137  # what a SIGKILLed process reports: the crash suites expect it from apply's points
BEFORE_RENAME = "state-before-rename"
BEFORE_RENAME_EXIT = 86  # its own code, so a test knows the state write (not apply) ended the run
POINTS: dict[str, int] = {
    "after-intended": KILLED,
    "after-sent": KILLED,
    "after-batch": KILLED,
    BEFORE_RENAME: BEFORE_RENAME_EXIT,
}

Hook = Callable[[str], None]


def crash_at(spec: str, exit: Callable[[int], object] = os._exit) -> Hook | None:
    """The hook ``NETSOT_FAULT_AT=spec`` asks for: end the process at the n-th pass of the named point
    (None for an empty or unknown spec: then no point does anything)."""
    name, _, nth = spec.partition(":")
    if name not in POINTS or not (nth or "1").isdigit():
        return None
    target, seen = int(nth or 1), [0]

    def hook(at: str) -> None:
        if at == name:
            seen[0] += 1
            if seen[0] == target:
                exit(POINTS[name])

    return hook


_hook: Hook | None = crash_at(os.environ.get(ENV, ""))


def point(name: str) -> None:
    """Product code passes the fault point ``name`` (one of :data:`POINTS`); a no-op unless a test
    installed a hook."""
    if _hook is not None:
        _hook(name)


@contextmanager
def installed(hook: Hook | None) -> Iterator[None]:
    """Run the block with ``hook`` called at every point (None: none; tests in process), then the previous."""
    global _hook
    previous, _hook = _hook, hook
    try:
        yield
    finally:
        _hook = previous

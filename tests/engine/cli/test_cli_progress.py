"""Live progress on a real terminal (a pseudo-terminal): no fragments of the bar glued to the result
lines, and no escape code at all under ``--no-color`` / ``NO_COLOR``.

The CLI runs in a child process forked onto a pty (``pty.fork``), over the fake ``nipap`` provider
with a small delay per read and change, so the live display draws while lines are printed.
"""

from __future__ import annotations

import os
import pty
import re
import sys
import time
from pathlib import Path

import pytest

from providers.registry import register
from tests.engine._fake import CONFIG, PASSWORD, FakeSystem, fake_provider

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_a_pty(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    config = tmp_path / "netsot.yaml"
    config.write_text(CONFIG)
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        code = 1
        # pytest's capture replaced the streams; the child's are the terminal's file descriptors
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
        try:
            os.environ.update({"NETSOT_TEST_NIPAP_PASSWORD": PASSWORD, "TERM": "xterm", "COLUMNS": "100",
                               **(env or {})})
            os.environ.pop("NO_COLOR", None) if "NO_COLOR" not in (env or {}) else None
            os.chdir(tmp_path)
            register("nipap", fake_provider(FakeSystem(delay=0.15)))
            from engine.cli.main import main

            main(["--config", str(config), *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode(errors="replace")


def screen(raw: str) -> list[str]:
    """What a terminal shows after ``raw``: enough of one to follow rich's live display (carriage
    return, erase line, cursor up, hide/show cursor)."""
    lines, row, col = [""], 0, 0
    i = 0
    while i < len(raw):
        match = ESCAPE.match(raw, i)
        if match:
            code = match.group()
            if code.endswith("K"):
                lines[row] = lines[row][:col]
            elif code.endswith("A"):
                row = max(0, row - int(code[2:-1] or 1))
            i = match.end()
            continue
        ch = raw[i]
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            col = 0
            if row == len(lines):
                lines.append("")
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + ch + line[col + 1:]
            col += 1
        i += 1
    return [line.rstrip() for line in lines]


@pytest.mark.parametrize("how", [("--no-color",), ("apply", "--no-color"), ("NO_COLOR",)])
def test_no_color_means_no_escape_code_on_the_terminal(tmp_path, how):
    args = ["apply", "--auto-approve"]
    env = {}
    if how == ("--no-color",):
        args = ["--no-color", *args]
    elif how == ("NO_COLOR",):
        env = {"NO_COLOR": "1"}
    else:
        args = [*args, "--no-color"]
    code, raw = run_on_a_pty(tmp_path, *args, env=env)
    assert code == 0, raw
    assert "\x1b" not in raw, repr(raw[:400])
    assert "nipap: read in " in raw and "Apply complete! Resources: 2 added" in raw


def test_progress_ends_cleanly_before_every_result_line(tmp_path):
    code, raw = run_on_a_pty(tmp_path, "apply", "--auto-approve")
    assert code == 0, raw
    assert "\x1b[" in raw  # the live display did draw
    shown = screen(raw)
    results = [line for line in shown if "complete" in line or "applying" in line]
    assert "nipap: applying 2 changes..." in shown, shown
    assert "nipap_address.lan.nas: Creation complete" in shown and \
        "nipap_address.lan.printer: Creation complete" in shown, shown
    for line in results:  # nothing of the bar ("0/2 0:00:00", a spinner) glued in front or behind
        assert re.fullmatch(r"(nipap: applying 2 changes\.\.\.|nipap_address\.lan\.\w+: Creation complete|"
                            r"Apply complete! Resources: 2 added, 0 changed, 0 destroyed\.)", line), line
    assert not any(re.search(r"\d+/\d+ \d:\d\d:\d\d", line) for line in shown), shown


def test_plan_no_color_on_a_terminal_has_no_escape_code_but_colour_without_it(tmp_path):
    code, raw = run_on_a_pty(tmp_path, "plan", "--no-color")
    assert code == 0, raw
    assert "\x1b" not in raw and "Plan: 2 to add, 0 to change, 0 to destroy." in raw
    code, coloured = run_on_a_pty(tmp_path, "plan")
    assert code == 0 and "\x1b[1mPlan: 2 to add" in coloured  # the same plan in colour on a terminal

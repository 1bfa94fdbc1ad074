"""The console script's fast path: `version`, `--version` and `--help` without loading netsot."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from engine.cli import entry
from engine.cli.helptext import HELP
from engine.cli.main import cli


def test_the_stored_help_is_what_the_command_line_prints() -> None:
    real = CliRunner().invoke(cli, ["--help"], prog_name="netsot", terminal_width=entry.CLICK_MAX_WIDTH - 2)
    assert real.exit_code == 0
    assert real.output == HELP, "a command's help changed: run `python -m engine.cli.entry --write-help`"


def test_version_texts_match_the_command_line() -> None:
    for args in (["version"], ["--version"]):
        real = CliRunner().invoke(cli, args, prog_name="netsot")
        answer = entry.fast_answer(args)
        assert answer is not None and answer == (real.output, real.exit_code)


def test_the_fast_path_loads_neither_the_command_line_nor_pydantic() -> None:
    code = ("import sys\nfrom engine.cli.entry import main\ntry:\n    main(['version'])\nexcept SystemExit:\n"
            "    pass\nprint(sorted(m for m in ('engine.cli.main', 'engine.cli.commands', 'pydantic', "
            "'click', 'core.config') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")


def test_other_arguments_go_to_the_full_command_line() -> None:
    assert entry.fast_answer(["plan"]) is None
    assert entry.fast_answer(["version", "--help"]) is None
    assert entry.fast_answer([]) is None  # no command: the group's usage error, printed by click

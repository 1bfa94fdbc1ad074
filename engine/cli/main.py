"""The whole ``netsot`` command line, assembled: the engine's commands and the lab's.

Owns: ``cli`` with every command on it — the core workflow (``commands``), the commands whose work
lives in other rooms (``extra``), ``doctor`` / ``init`` (``setup``), ``state``, Terraform's habits
(``terraform``), ``graph`` / ``schema`` (``tools``) and the embedded lab's ``lab`` / ``demo``, which
``providers/lab/cli.py`` contributes through ``add_commands`` — and ``main``, the console script
``engine.cli.entry`` and ``python -m engine`` run.
Must not: define a command. This is the one engine module that imports outside the engine's
boundary, and only ``providers.lab.cli`` (tests/architecture/test_boundaries.py, ``ASSEMBLY``).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.cli import extra, setup, state, terraform, tools
from engine.cli.commands import cli
from providers.lab.cli import add_commands

__all__ = ["cli", "main"]

# the command modules register their commands on ``cli`` when imported
COMMAND_MODULES = (extra, setup, state, terraform, tools)
add_commands(cli)


def main(argv: Sequence[str] | None = None) -> None:
    """The ``netsot`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="netsot")

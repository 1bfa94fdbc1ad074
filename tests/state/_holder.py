"""Run in a child process by the tests: take a backend's lock and hold it until told to stop.

Usage: python -m tests.state._holder file PATH OPERATION
       python -m tests.state._holder postgres DSN OPERATION KEY
Prints the LockInfo as one JSON line once the lock is held; releases it when a line (or EOF)
arrives on stdin — so a dead parent never leaves it hanging.
"""

from __future__ import annotations

import json
import sys

from state import FileBackend, PostgresBackend, StateBackend


def main(argv: list[str]) -> int:
    kind, target, operation = argv[1:4]
    backend: StateBackend = FileBackend(target) if kind == "file" else PostgresBackend(target, key=argv[4])
    with backend.lock(operation) as info:
        print(json.dumps(info.to_dict()), flush=True)
        sys.stdin.readline()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

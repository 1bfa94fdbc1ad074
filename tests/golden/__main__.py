"""``python -m tests.golden --write``: write the golden plan documents again (see ``test_golden_plans``)."""

from __future__ import annotations

import sys

from tests.golden.test_golden_plans import write_all

if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.golden --write   (rewrites tests/golden/*.json from today's code)")
    for path in write_all():
        print(f"wrote {path}")

"""The provider contract: what every system's harness must offer the shared suite.

A system gets ``tests/providers/test_contract.py`` for free by adding ``contract.py`` to its test
package with a ``harness(tmp_path)`` context manager yielding a ``Harness``: its simulator
running, a config with the system configured, and the few knobs the suite needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.config import Config
from core.model import Address, Desired
from providers.base import Provider


@dataclass
class Harness:
    config: Config
    key: str  # the instance key under test
    provider: Callable[[], Provider]  # a fresh provider (construction does no I/O)
    desired: Desired  # bindings that make the system hold objects it does not hold yet
    writes: Callable[[], int]  # how many writing requests the simulator has served so far
    add_foreign: Callable[[], Address | None]  # an object made behind netsot's back (None: none exists)
    fail_writes: Callable[[], None]  # the next apply's writes are refused by the system

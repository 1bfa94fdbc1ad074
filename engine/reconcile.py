"""Reconcile: observations + config + ownership → desired bindings and conflicts.

(Placeholder with the final signature; the real implementation lands with the
reconcile work. It returns no bindings.)
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.config import Config
from engine.model import Address, Desired, ManagedResource, Observation


def reconcile(
    config: Config,
    observations: Mapping[str, Observation],
    owned: Mapping[Address, ManagedResource],
) -> Desired:
    return Desired()

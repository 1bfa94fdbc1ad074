"""`netsot verify` for a VyOS router: every managed DNS name resolves through the router's resolver
(the Vyatta family's check, ``providers.vyatta.dnscheck``, on this kind's host names). VyOS
answers its host names from /etc/hosts (PowerDNS)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.config import Config
from core.model import Check, Observation
from providers.vyatta import dnscheck
from providers.vyos.descriptor import HOST_TYPE


def checks(config: Config, key: str, observation: Observation | None,
           resources: Sequence[Any]) -> list[Check]:
    return dnscheck.checks(config, key, resources, HOST_TYPE)

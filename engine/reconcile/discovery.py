"""Discovery: the devices a DHCP server leased an address to that no binding and no system object knows.

Owns: ``find_discovered`` — every discovery fact (a lease) in a managed network whose MAC is in no
binding, no ``hosts:`` entry and no other fact of any system (a reservation, an IPAM host, a guest
NIC: those are bindings, conflicts or unmanaged objects already), one entry per (network, MAC),
with the hostname hint, IP, expiry and the vendor of the MAC's OUI.
Must not: do I/O (the OUI table is packaged), read a fact's ``extra``, or name a system.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.config import Config
from core.model import Binding, Discovered, Fact, Observation
from core.names import mac_or_text
from core.vendors import vendor_of
from providers import registry


def find_discovered(
    config: Config, observations: Mapping[str, Observation], bindings: Iterable[Binding]
) -> tuple[Discovered, ...]:
    """The plan's Discovered section, sorted by network, IP and MAC."""
    nets = {n.name for n in config.networks}
    keys = registry.ordered(observations)
    leases: list[tuple[str, Fact]] = [(key, fact) for key in keys for fact in observations[key].facts
                                      if fact.discovery and fact.mac and fact.network in nets]
    if not leases:  # nothing to look up: the MACs of every binding and fact need no normalising
        return ()
    known = {_mac(b.mac) for b in bindings} | {_mac(h.mac) for h in config.hosts}
    known.update(_mac(fact.mac) for key in keys for fact in observations[key].facts if not fact.discovery)
    found: dict[tuple[str, str], Discovered] = {}
    for key, fact in leases:
        mac = _mac(fact.mac)
        if not mac or mac in known:
            continue
        item = Discovered(
            network=fact.network,
            mac=mac,
            ip=fact.ip,
            hostname_hint=fact.hostname_hint or fact.hostname,
            expires=fact.lease_expires,
            system=key,
            vendor=vendor_of(mac),
            ref=fact.ref,
        )
        slot = (fact.network or "", mac)
        if slot not in found or (item.expires or "") > (found[slot].expires or ""):
            found[slot] = item  # the newest lease of a MAC wins
    return tuple(sorted(found.values(), key=_order))


def _mac(text: str | None) -> str:
    return mac_or_text(text) or ""


def _order(item: Discovered) -> tuple[str, tuple[int, ...], str]:
    parts = tuple(int(p) for p in (item.ip or "").split(".") if p.isdigit())
    return (item.network or "", parts, item.mac)

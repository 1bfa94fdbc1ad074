"""What every kind's lab seed shares: the IPAM's VRF, a router's leases and the lab's clock.

Owns: the VRF the lab's IPAM holds the networks in, a site's router leases in the lab's lease-file
format (``router-leases.json``: ``ip``, ``mac``, ``expires``, ``pool``, ``hostname``) and when a lease
runs out (the lab's clock), and the static mappings a homelab's router config holds (read with the
Vyatta library). Each kind's own seed format is in its ``sim/`` package (``LabSystem.seed``).
Must not: start processes or do I/O (the runner writes these to files and starts simulators).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.lab.homelab import Homelab

VRF_NAME, VRF_RT = "homelab", "65000:10"


# ----------------------------------------------------------------------------- router


LEASE_TIME = 86400  # seconds a dynamic lease runs: EdgeOS's default `lease` of a DHCP subnet


def lab_now() -> datetime:
    """The lab's clock (UTC): what its router's leases start and end by."""
    return datetime.now(UTC)


def lease_until(days: float = 1, *, seconds: float | None = None) -> str:
    """A lease's end ``days`` (or ``seconds``) from now, as EdgeOS prints it (``2026/12/03 16:00:46``,
    UTC)."""
    span = timedelta(seconds=seconds) if seconds is not None else timedelta(days=days)
    return (lab_now() + span).strftime("%Y/%m/%d %H:%M:%S")


_EXPIRY = re.compile(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})")


def lease_active(lease: Mapping[str, Any], now: datetime | None = None) -> bool:
    """Whether a lease (a row of the router's lease file) still runs: until its end (``YYYY/MM/DD
    HH:MM:SS``, UTC, as routers print it), as a router expires it; a lease without an end (``never``)
    runs for ever."""
    found = _EXPIRY.search(str(lease.get("expires") or ""))
    if found is None:
        return True
    end = datetime(*map(int, found.groups()), tzinfo=UTC)
    return end > (now or lab_now())


def router_leases(lab: Homelab) -> list[dict[str, Any]]:
    """The router's current DHCP leases in the EdgeOS simulator's JSON lease format (a lease without
    an expiry runs a day from now: `show dhcp leases` lists active leases only)."""
    tomorrow = lease_until()
    return [{"ip": lease.ip, "mac": lease.mac, "expires": lease.expires or tomorrow, "pool": lease.pool,
             "hostname": lease.hostname} for lease in lab.leases]


def static_mappings_by_mac(config_boot: str) -> dict[str, str]:
    """mac → ip of every active DHCP static mapping in a config.boot text."""
    from providers.vyatta.parse import parse_boot

    return static_from_tree(parse_boot(config_boot))


def static_from_tree(tree: Any) -> dict[str, str]:
    """mac → ip of every active DHCP static mapping in a Vyatta config tree (``mac-address`` or ``mac``;
    a deactivated or disabled one left out; the first mapping of a MAC wins)."""
    base = ["service", "dhcp-server", "shared-network-name"]
    out: dict[str, str] = {}
    for network in tree.tag_values(base):
        for subnet in tree.tag_values([*base, network.name, "subnet"]):
            if network.inactive or subnet.inactive:
                continue
            for m in tree.tag_values([*base, network.name, "subnet", subnet.name, "static-mapping"]):
                ip = tree.value([*base, network.name, "subnet", subnet.name, "static-mapping", m.name,
                                 "ip-address"])
                macs = [c.value for c in m.children if c.name in ("mac-address", "mac") and not c.inactive]
                mac = macs[0] if macs else None
                if ip and mac and not m.inactive and m.child("disable") is None:
                    out.setdefault(mac.lower(), ip)
    return out

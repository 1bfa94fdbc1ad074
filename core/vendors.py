"""The vendor of a MAC address, from the IEEE OUI registry packaged with ``netaddr`` (offline).

Owns: ``vendor_of(mac)`` — the organisation the IEEE registered the MAC's OUI (or MA-M/MA-S block)
to, "locally administered" for a MAC whose U/L bit is set (random, virtual or private addresses
carry no vendor), and "" when the registry has no entry or the text is no MAC.
Must not: touch the network (the registry ships inside the ``netaddr`` wheel: ``netaddr/eui/oui.txt``
and its index), or import anything of netsot.
"""

from __future__ import annotations

from functools import lru_cache

LOCAL = "locally administered"


@lru_cache(maxsize=4096)
def vendor_of(mac: str | None) -> str:
    """``"Proxmox Server Solutions GmbH"`` for ``bc:24:11:…``; ``LOCAL`` or "" (see the module)."""
    if not mac:
        return ""
    import netaddr  # imported on first use: the index is read lazily, once

    try:
        eui = netaddr.EUI(mac)
    except (netaddr.AddrFormatError, TypeError, ValueError):
        return ""
    if eui.version != 48:
        return ""
    if int(eui) >> 40 & 0x02:  # the U/L bit of the first octet
        return LOCAL
    return _registered(eui) or ""


def _registered(eui: object) -> str | None:
    import netaddr

    for getter in (_iab, _oui):
        try:
            found = getter(eui)
        except (netaddr.NotRegisteredError, IndexError, KeyError, ValueError):
            continue
        if found:
            return " ".join(found.split())
    return None


def _oui(eui: object) -> str:
    return str(eui.oui.registration().org)  # type: ignore[attr-defined]


def _iab(eui: object) -> str:
    if not eui.is_iab():  # type: ignore[attr-defined]
        return ""
    return str(eui.iab.registration().org)  # type: ignore[attr-defined]

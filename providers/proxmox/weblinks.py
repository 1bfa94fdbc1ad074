"""Links to a guest in the Proxmox VE web UI, for the status page.

Owns: the UI's URL of a guest: the same host and port as the API (pveproxy serves both), with the
UI's state in the fragment (``#v1:0:=qemu%2F101:4:::::::`` selects guest 101 in the resource tree).
Must not: do I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GUEST_TYPES = ("qemu", "lxc")


def base_url(settings: Any) -> str:
    host = str(settings.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"https://{host}:{int(settings.port)}/"


def web_link(settings: Any, what: str, details: Mapping[str, Any]) -> str | None:
    """The guest's page, for an origin (``guest``: its data names the type and the vmid); a write-back
    resource links through its guest, which the row knows as its origin."""
    gtype, vmid = details.get("type"), details.get("vmid")
    if what != "guest" or gtype not in GUEST_TYPES or not str(vmid or "").isdigit():
        return None
    return f"{base_url(settings)}#v1:0:={gtype}%2F{int(str(vmid))}:4:::::::"

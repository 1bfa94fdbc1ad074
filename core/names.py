"""Name and MAC rules every part of netsot shares.

Owns: MAC normalisation (one canonical form, ``aa:bb:cc:dd:ee:ff``), the host-name rule of the
names netsot itself creates (one DNS label, lower case), and the check for multicast MACs.
Must not: know a system's own naming rules (each provider declares those in its descriptor).
"""

from __future__ import annotations

import re

HOSTNAME_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
HOSTNAME_RULE = "one DNS label: a-z, 0-9 and inner '-', at most 63"
MAC_RE = re.compile(
    r"^[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}$"
    r"|^[0-9a-f]{12}$|^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$"
)


def normalize_mac(value: str) -> str:
    """``00-11-32-AA-BB-CC`` / ``0011.32aa.bbcc`` / ``0:11:32:aa:bb:cc`` → ``00:11:32:aa:bb:cc``."""
    text = str(value).strip().lower()
    if not MAC_RE.match(text):
        raise ValueError(f"{value!r} is not a MAC address")
    if ":" in text or "-" in text:
        parts = re.split(r"[:-]", text)
        return ":".join(p.zfill(2) for p in parts)
    digits = text.replace(".", "")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def validate_hostname(value: str) -> str:
    """A single DNS label: lower-case letters, digits and inner hyphens, at most 63."""
    text = str(value)
    if not HOSTNAME_RE.match(text):
        raise ValueError(f"{value!r} is not a valid host name ({HOSTNAME_RULE})")
    return text


def is_multicast_mac(mac: str) -> bool:
    """The group bit (least significant bit of the first octet) is set: no DHCP client has it."""
    try:
        return bool(int(mac.split(":", 1)[0], 16) & 1)
    except ValueError:
        return False

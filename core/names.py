"""Name and MAC rules every part of netsot shares.

Owns: MAC normalisation (one canonical form, ``aa:bb:cc:dd:ee:ff``; the only one — providers
read MACs through it and render their system's form from it), the rule of the host names
netsot itself creates — a DNS name: labels of ``a-z``, ``0-9`` and inner ``-`` (at most 63 each),
joined by ``.`` (a single label is the usual case; a guest or router entry whose name is an FQDN
outside its network's domain keeps that FQDN) — with a message naming the exact rule a name
breaks, the short name of an FQDN inside a domain, and the check for multicast MACs.
Must not: know a system's own naming rules (each provider declares those in its descriptor).
"""

from __future__ import annotations

import re

LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
HOSTNAME_RULE = "DNS labels of a-z, 0-9 and inner '-', at most 63 each, joined by '.'"
MAC_RE = re.compile(
    r"^[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}$"
    r"|^[0-9a-f]{12}$|^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$"
)
_BAD_CHAR = re.compile(r"[^a-z0-9-]")
_CANONICAL_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}")


def normalize_mac(value: str) -> str:
    """``00-11-32-AA-BB-CC`` / ``0011.32aa.bbcc`` / ``0:11:32:aa:bb:cc`` → ``00:11:32:aa:bb:cc``.

    The one MAC normalisation of netsot: every MAC a system or the user gives (a Proxmox NIC's
    ``BC:24:11:…``, a router's ``0:11:…`` as typed, a NIPAP avp, a ``hosts:`` entry) passes here on
    its way in; a kind whose system wants another form renders it from this one.
    """
    text = str(value).strip().lower()
    if _CANONICAL_MAC.fullmatch(text):
        return text  # already in the one form (most MACs a system gives, once lower-cased)
    if not MAC_RE.match(text):
        raise ValueError(f"{value!r} is not a MAC address")
    if ":" in text or "-" in text:
        parts = re.split(r"[:-]", text)
        return ":".join(p.zfill(2) for p in parts)
    digits = text.replace(".", "")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def mac_or_text(value: object) -> str | None:
    """A MAC as a system stores it, read leniently: :func:`normalize_mac`'s form when it is one, else
    the text as written (stripped, lower-cased) so a person's free text is kept and shown but never
    equals a MAC; nothing (None, blank) is None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return normalize_mac(text)
    except ValueError:
        return text.lower()


def hostname_problem(value: str) -> str | None:
    """None for a valid host name, else which part of :data:`HOSTNAME_RULE` it breaks (one line)."""
    text = str(value)
    if HOSTNAME_RE.fullmatch(text):  # fullmatch: `$` would let a trailing newline through
        return None
    if not text:
        return "is empty"
    if len(text) > 253:
        return f"is longer than 253 characters ({len(text)})"
    for label in text.split("."):
        if not label:
            return "has an empty label (a leading, trailing or doubled '.')"
        bad = _BAD_CHAR.search(label)
        if bad:
            return f"has {bad.group(0)!r} in label {label!r} (allowed: a-z, 0-9 and inner '-')"
        if len(label) > 63:
            return f"has a label longer than 63 characters ({len(label)})"
        if label.startswith("-") or label.endswith("-"):
            return f"has label {label!r} starting or ending with '-'"
    return f"is not a host name ({HOSTNAME_RULE})"  # a trailing newline, say


def validate_hostname(value: str) -> str:
    """A DNS name of lower-case labels (see :data:`HOSTNAME_RULE`); raises ValueError naming the rule."""
    text = str(value)
    problem = hostname_problem(text)
    if problem:
        raise ValueError(f"{value!r} is not a valid host name: it {problem} ({HOSTNAME_RULE})")
    return text


def short_name(name: str, domain: str | None) -> str:
    """``cloud.example.com`` in domain ``example.com`` → ``cloud``; any other name is kept whole.

    Only a single label before the domain is taken off (``a.b.example.com`` stays an FQDN, so does
    the domain itself). Case-insensitive on the domain; the result keeps ``name``'s case.
    """
    if not domain or "." not in name:
        return name
    tail = "." + domain.lower().strip(".")
    if name.lower().endswith(tail):
        head = name[: -len(tail)]
        if head and "." not in head:
            return head
    return name


def is_multicast_mac(mac: str) -> bool:
    """The group bit (least significant bit of the first octet) is set: no DHCP client has it."""
    try:
        return bool(int(mac.split(":", 1)[0], 16) & 1)
    except ValueError:
        return False

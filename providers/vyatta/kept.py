"""What a static mapping or host name holds besides what netsot manages, and the router's names.

Owns: the owned/kept split of a host name (the one IPv4 ``inet`` and the aliases that are DNS names
— the host's names, which netsot manages — are owned; every other value and child is kept), kept
data as `set`-line word paths (to copy it exactly when a node moves) and as one line per leaf for
people (``inet '2001:db8::5'``), and the DNS label netsot derives from a router name
(``ROOM_1_SWITCH`` → ``room-1-switch``).
Must not: validate values for the router (``commands`` does, before any line is sent) or decide
what to change (``planner``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from core.ipv4 import ip_int
from core.model import frozen_map
from core.names import hostname_problem
from providers.vyatta.render import quote_command_word


def derive_label(name: str) -> str:
    """The DNS name netsot derives from a router name: lower case, ``_`` → ``-`` (dots stay)."""
    return name.lower().replace("_", "-")


def derivation(name: str, label: str, what: str) -> str:
    """The provenance note when ``label`` is not ``name`` itself ("" when it is)."""
    return "" if label == name else f"{label} derived from {what} name {name}"


def is_ipv4(value: str) -> bool:
    # the usual dotted quad without ``ipaddress`` (imports and plans ask for thousands of host names);
    # ``ipaddress`` has the last word on anything else
    if isinstance(value, str) and ip_int(value) is not None:
        return True
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def is_dns_name(value: str) -> bool:
    """Whether a router alias is a DNS name (any case): a name of the host, which netsot manages."""
    return hostname_problem(value.lower()) is None


def split_host(
    inet: Iterable[str], aliases: Iterable[str], other: Mapping[str, Any], label: str | None,
    prefer: Iterable[str] = (),
) -> tuple[str | None, list[str], Mapping[str, Any]]:
    """(owned IPv4 inet, owned aliases, kept) of a host name.

    The owned inet is the first of ``prefer`` the host holds (what netsot wants or last wrote),
    else its first IPv4 value; the owned aliases are those that are DNS names (the binding's
    single-label name ``label`` and its extra names), as the router has them. Everything else is
    kept: other ``inet`` values (IPv6 too), aliases that are no DNS name (EdgeOS's alias is free
    text), other children.
    """
    values, names = list(inet), list(aliases)
    v4 = [v for v in values if is_ipv4(v)]
    owned_inet = next((p for p in prefer if p in v4), v4[0] if v4 else None)
    owned_aliases = [a for a in names if is_dns_name(a) or (label is not None and a.lower() == label.lower())]
    kept: dict[str, Any] = {}
    rest_inet = [v for v in values if v != owned_inet]
    rest_alias = [a for a in names if a not in owned_aliases]
    if rest_alias:
        kept["alias"] = rest_alias
    if rest_inet:
        kept["inet"] = rest_inet
    kept.update(other)
    return owned_inet, owned_aliases, frozen_map(kept)


def kept_paths(kept: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Kept data as the word paths of its `set` lines (relative to its node), in the router's order."""
    out: list[tuple[str, ...]] = []

    def walk(prefix: tuple[str, ...], data: Mapping[str, Any]) -> None:
        for key, value in data.items():
            here = (*prefix, str(key))
            if isinstance(value, Mapping):
                if value:
                    walk(here, value)
                else:
                    out.append(here)
            elif isinstance(value, list | tuple):
                out.extend((*here, str(v)) for v in value)
            else:
                out.append(here)

    walk((), kept)
    return out


def kept_lines(kept: Mapping[str, Any]) -> tuple[str, ...]:
    """One line per kept leaf value, quoted as `show configuration commands` quotes it."""
    return tuple(" ".join(quote_command_word(w) for w in path) for path in kept_paths(kept))


def holds(kept: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Whether ``kept`` holds every line of ``other`` (a successor already has it all)."""
    mine = set(kept_paths(kept))
    return all(path in mine for path in kept_paths(other))

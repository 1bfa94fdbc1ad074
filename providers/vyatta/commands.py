"""Planned changes of a Vyatta kind as `set`/`delete` lines — safely.

Owns: strict validation of every value that reaches the router (names, IPv4, subnets, MACs, the
values a node keeps) and the exact configuration lines for DHCP static mappings and static host
mappings: creates and deletes of whole nodes, updates of only the leaves netsot owns (one
``ip-address``, MAC, ``inet`` value or ``alias`` at a time), and exact copies of what a node holds
besides them when it moves; ``host_delta``, the values an update of a host name drops and adds
(what every Vyatta kind sends, as lines or as API operations). A change's records are read typed
(``records``: checked against the family's field rule, so a misspelt key fails, never reads None).
Nothing is emitted unless every value passed validation, and every word is quoted with the Vyatta
rule, so no value can inject a command or another path. ``Lines(kind, mac_leaf)`` holds what the
kind differs by (its name in errors, its product word, name rules, types, the MAC leaf).
Must not: talk to the router or decide what to change; import a kind or the provider boundary.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import ProviderRejected
from core.model import EMPTY, Action, Change
from core.names import hostname_problem, normalize_mac
from providers.vyatta import records
from providers.vyatta.family import VyattaKind, host_path, mapping_path
from providers.vyatta.kept import kept_paths
from providers.vyatta.records import HostRecord, MappingRecord
from providers.vyatta.render import render_command_line

SHARED_NETWORK_RE = re.compile(r"[-_a-zA-Z0-9.]{1,63}")
# edgeos.md §4.2, vyos.md §3: ^[[:alnum:]][-.[:alnum:]]*[[:alnum:]]$ (ASCII only: no homoglyphs)
HOST_NAME_RE = re.compile(r"[A-Za-z0-9][-.A-Za-z0-9]*[A-Za-z0-9]")
MAC_RE = re.compile(r"[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(?:\1[0-9a-f]{1,2}){4}")


def safe(value: object, limit: int = 40) -> str:
    """A value for an error message: repr (escapes control characters), truncated."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class HostDelta:
    """What an update of a host name changes: the owned ``inet`` value replaced (drop, add), the owned
    aliases removed and added one by one (compared without case); every other value stays."""

    drop_inet: str | None
    add_inet: str | None
    drop_aliases: tuple[str, ...]
    add_aliases: tuple[str, ...]


def host_delta(before: HostRecord | None, after: HostRecord) -> HostDelta:
    """What ``after`` changes of ``before`` (None: a new host name, everything is added)."""
    old_inet = before.inet if before is not None else None
    old_aliases = before.aliases if before is not None else ()
    changed = old_inet != after.inet
    lower_new = {a.lower() for a in after.aliases}
    lower_old = {a.lower() for a in old_aliases}
    return HostDelta(
        old_inet if changed and old_inet else None,
        after.inet if changed else None,
        tuple(a for a in old_aliases if a.lower() not in lower_new),
        tuple(a for a in after.aliases if a.lower() not in lower_old),
    )


@dataclass(frozen=True)
class Lines:
    """The validators and `set`/`delete` lines of one kind (``mac_leaf``: its MAC leaf's name)."""

    kind: VyattaKind
    mac_leaf: str = "mac-address"

    # -- validation -----------------------------------------------------------------------------

    def reject(self, what: str, value: object, rule: str) -> ProviderRejected:
        return ProviderRejected(self.kind.name, f"invalid {what} {safe(value)}: {rule}")

    def valid_mapping_name(self, value: object) -> str:
        if not isinstance(value, str) or not self.kind.mapping_name_re.fullmatch(value):
            raise self.reject("static-mapping name", value,
                              f"{self.kind.product} allows ASCII letters, digits, '-', '_' and '.'")
        return value

    def valid_new_name(self, value: str) -> str:
        """A name netsot gives a new mapping / host name: the kind's rule (DNS labels)."""
        problem = self.kind.name_rule(value)
        if problem:
            raise ProviderRejected(self.kind.name, f"{safe(value)} {problem}")
        return value

    def valid_kept_word(self, value: object) -> str:
        """A word of what a node holds besides netsot's leaves, copied as the router has it.

        The router never holds a quote or a newline in a value (`set` refuses them); a control
        character could drive the terminal. Anything else is sent single-quoted, so it stays one word.
        """
        if not isinstance(value, str) or "'" in value or '"' in value or not value.isprintable():
            raise self.reject("value to keep", value,
                              f"a quote or a control character, which {self.kind.product} never stores")
        return value

    def valid_shared_network(self, value: object) -> str:
        if not isinstance(value, str) or not SHARED_NETWORK_RE.fullmatch(value):
            raise self.reject("shared-network name", value, "use 1-63 ASCII letters, digits, '-', '_' or '.'")
        return value

    def valid_host_name(self, value: object) -> str:
        ok = isinstance(value, str) and len(value) <= 253 and HOST_NAME_RE.fullmatch(value)
        if not ok or any(len(label) > 63 for label in str(value).split(".")) or ".." in str(value):
            raise self.reject(
                "host name", value, "use ASCII letters, digits, '-' and '.', starting and ending alphanumeric"
            )
        return str(value)

    def valid_alias(self, value: object) -> str:
        """An alias netsot writes: the binding's DNS name (the router's `alias` is free text; netsot's
        own are names, and one letter is a name: the host-name rule's two characters do not apply)."""
        if not isinstance(value, str) or hostname_problem(value.lower()) is not None:
            raise self.reject("alias", value,
                              "netsot writes DNS names (letters, digits, inner '-', joined by '.')")
        return value

    def valid_ipv4(self, value: object) -> str:
        try:
            if not isinstance(value, str):
                raise ValueError
            addr = ipaddress.IPv4Address(value)
        except ValueError:
            raise self.reject("IPv4 address", value, "expected a dotted quad such as 192.168.1.10") from None
        if str(addr) != value:
            raise self.reject("IPv4 address", value, "expected a dotted quad such as 192.168.1.10")
        return value

    def valid_subnet(self, value: object) -> str:
        try:
            if not isinstance(value, str):
                raise ValueError
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError:
            raise self.reject("subnet", value, "expected a network address such as 192.168.1.0/24") from None
        if str(net) != value:
            raise self.reject("subnet", value, "expected a network address such as 192.168.1.0/24")
        return value

    def router_mac(self, value: object) -> str:
        """The MAC value the router gets: ``0:11:22:AA:bb:c`` / ``00-11-…`` → ``00:11:22:aa:bb:0c``
        (core's one normalisation; its form is the Vyatta one); anything but six hex groups is rejected."""
        if isinstance(value, str) and MAC_RE.fullmatch(value.lower()):
            return normalize_mac(value)
        raise self.reject("MAC address", value, "expected six hex groups such as 52:54:00:12:34:56")

    def action(self, action: Action | str) -> Action:
        try:
            return Action(action)
        except ValueError:
            raise ProviderRejected(self.kind.name, f"unknown action {safe(action)}") from None

    # -- lines ----------------------------------------------------------------------------------

    def kept_lines(self, path: tuple[str, ...], kept: Mapping[str, Any]) -> list[str]:
        """`set` lines that write ``kept`` (what a node holds besides netsot's leaves) below ``path``."""
        return [render_command_line((*path, *(self.valid_kept_word(w) for w in words)))
                for words in kept_paths(kept)]

    def mapping_lines(
        self,
        action: Action | str,
        shared_network: str,
        subnet: str,
        name: str,
        ip: str | None = None,
        mac: str | None = None,
        kept: Mapping[str, Any] = EMPTY,
    ) -> list[str]:
        """Lines that create / update (set both leaves in place) / delete one DHCP static mapping.

        A create also writes ``kept`` (what the node held at its old place) exactly.
        """
        act = self.action(action)
        path = mapping_path(self.valid_shared_network(shared_network), self.valid_subnet(subnet),
                            self.valid_mapping_name(name))
        if act is Action.DELETE:
            return [render_command_line(path, "delete")]
        ip_text = self.valid_ipv4(ip)
        mac_text = self.router_mac(mac)
        if ipaddress.IPv4Address(ip_text) not in ipaddress.IPv4Network(subnet):
            raise ProviderRejected(
                self.kind.name, f"IP address {ip_text} is outside subnet {subnet} of {shared_network}"
            )
        sets = [
            render_command_line((*path, "ip-address", ip_text)),
            render_command_line((*path, self.mac_leaf, mac_text)),
        ]
        return sets + self.kept_lines(path, kept) if act is Action.CREATE else sets

    def host_lines(
        self,
        action: Action | str,
        host_name: str,
        inet: str | None = None,
        aliases: Iterable[str] = (),
        kept: Mapping[str, Any] = EMPTY,
    ) -> list[str]:
        """Lines that create / delete one static host mapping (a create also writes ``kept``)."""
        act = self.action(action)
        path = host_path(self.valid_host_name(host_name))
        if act is Action.DELETE:
            return [render_command_line(path, "delete")]
        if act is Action.UPDATE:
            raise ProviderRejected(self.kind.name,
                                   "a host name is updated value by value (host_update_lines)")
        inet_text = self.valid_ipv4(inet)
        alias_list = [self.valid_alias(a) for a in aliases]
        sets = [render_command_line((*path, "alias", a)) for a in dict.fromkeys(alias_list)]
        sets.append(render_command_line((*path, "inet", inet_text)))
        return sets + self.kept_lines(path, kept)

    def mapping_update_lines(self, before: MappingRecord, after: MappingRecord,
                             kept: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """(deletes, sets) of an update: only the leaves that changed, each set in place (a single-value
        leaf is replaced); a move to another subnet writes the node anew, with ``kept``, then deletes it."""
        if before.place != after.place:
            deletes = self.mapping_lines(Action.DELETE, *before.place)
            return deletes, self.mapping_lines(Action.CREATE, *after.place, after.ip_address,
                                               after.mac_address, kept)
        ip_line, mac_line = self.mapping_lines(Action.UPDATE, *after.place, after.ip_address,
                                               after.mac_address)
        sets = []
        if before.ip_address != after.ip_address:
            sets.append(ip_line)
        if str(before.mac_address or "").lower() != self.router_mac(after.mac_address):
            sets.append(mac_line)
        return [], sets

    def host_update_lines(self, before: HostRecord, after: HostRecord,
                          kept: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """(deletes, sets) of an update: the one owned ``inet`` value replaced, owned aliases added or
        removed one by one; every other value of the node stays."""
        if before.host_name != after.host_name:
            deletes = self.host_lines(Action.DELETE, before.host_name)
            return deletes, self.host_lines(Action.CREATE, after.host_name, after.inet, after.aliases, kept)
        path = host_path(self.valid_host_name(after.host_name))
        new_inet = self.valid_ipv4(after.inet)
        for alias in after.aliases:
            self.valid_alias(alias)
        delta = host_delta(before, after)
        deletes: list[str] = []
        sets: list[str] = []
        if delta.add_inet is not None:
            if delta.drop_inet:
                old = self.valid_ipv4(delta.drop_inet)
                deletes.append(render_command_line((*path, "inet", old), "delete"))
            sets.append(render_command_line((*path, "inet", new_inet)))
        deletes += [render_command_line((*path, "alias", self.valid_kept_word(a)), "delete")
                    for a in delta.drop_aliases]
        sets += [render_command_line((*path, "alias", a)) for a in delta.add_aliases]
        return deletes, sets

    def _missing(self, change: Change, side: str, what: str) -> ProviderRejected:
        return ProviderRejected(self.kind.name, f"cannot apply {change.address}: its {side} holds no {what}")

    def _mapping_change(self, change: Change) -> tuple[list[str], list[str]]:
        before, after = records.mapping(change, before=True), records.mapping(change)
        if change.action is Action.DELETE:
            gone = before or after
            if gone is None:
                raise self._missing(change, "before", "static mapping")
            return self.mapping_lines(Action.DELETE, *gone.place), []
        if after is None:
            raise self._missing(change, "after", "static mapping")
        if change.action is Action.UPDATE:
            if before is None:
                raise self._missing(change, "before", "static mapping")
            return self.mapping_update_lines(before, after, change.kept)
        self.valid_new_name(after.name)
        return [], self.mapping_lines(Action.CREATE, *after.place, after.ip_address, after.mac_address,
                                      change.kept)

    def _host_change(self, change: Change) -> tuple[list[str], list[str]]:
        before, after = records.host(change, before=True), records.host(change)
        if change.action is Action.DELETE:
            gone = before or after
            if gone is None:
                raise self._missing(change, "before", "host name")
            return self.host_lines(Action.DELETE, gone.host_name), []
        if after is None:
            raise self._missing(change, "after", "host name")
        if change.action is Action.UPDATE:
            if before is None:
                raise self._missing(change, "before", "host name")
            return self.host_update_lines(before, after, change.kept)
        self.valid_new_name(after.host_name.lower())
        return [], self.host_lines(Action.CREATE, after.host_name, after.inet, after.aliases, change.kept)

    def change_lines(self, change: Change) -> tuple[list[str], list[str]]:
        """(delete lines, set lines) for one change: only the leaves netsot owns change; a node that
        moves (a new subnet, a new name) is written anew with everything else it held."""
        if change.address.type == self.kind.mapping_type:
            return self._mapping_change(change)
        if change.address.type == self.kind.host_type:
            return self._host_change(change)
        raise ProviderRejected(self.kind.name,
                               f"cannot apply {change.address} (not a resource of {self.kind.product})")

    def apply_script(self, changes: Sequence[Change]) -> list[str]:
        """All lines for one configure session: every delete first, then every set.

        Deterministic: changes are taken in address order. Validation happens for every change
        before any line is returned, so one bad value rejects the whole batch.
        """
        # dicts as ordered sets: first occurrence wins, membership is O(1) over ~20,000 lines
        deletes: dict[str, None] = {}
        sets: dict[str, None] = {}
        for change in sorted(changes, key=lambda c: (str(c.address), c.action.value)):
            if change.address.type == self.kind.config_type:
                continue  # the pseudo-resource "saved": the session saves, no line is needed
            d, s = self.change_lines(change)
            deletes.update(dict.fromkeys(d))
            sets.update(dict.fromkeys(s))
        return [*deletes, *sets]
